"""The same class graded by the thread pool and by a 2-worker Dask cluster, side by side.

    python benchmarks/cluster_vs_pool.py                  # Docker, 200 submissions
    python benchmarks/cluster_vs_pool.py --sandbox local  # where no Docker engine is ready

The class is batch_scale.py's (correct submissions in every shape, each kind of bug,
partial and broken ones). It is graded twice on this machine with the same seed: with
``micrograde batch --jobs N`` (the thread pool) and with ``micrograde batch --cluster
local:N`` (a LocalCluster of N process workers, started by the command itself, so its
start-up counts). Printed: each run's wall time and submissions per minute, the cluster's
cost relative to the pool (the issue's target: at most 10 % more), whether the two
gradebooks are byte-identical, and the scheduler's overhead per task, measured apart on
a LocalCluster of N workers with tasks that do nothing (submitted all at once, and one
after another). The machine may be shared: compare the figures of one run with each other.
Needs the `distributed` extra (`pip install -e '.[distributed]'`). Not a test: it takes
minutes.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from batch_scale import build_class  # noqa: E402 - a sibling script, not a package

GRADEBOOKS = ("gradebook.csv", "gradebook-checks.csv")


def _batch(classroom: Path, out: Path, args: argparse.Namespace, where: list[str]) -> float:
    command = [
        sys.executable,
        "-m",
        "grader",
        "batch",
        str(classroom),
        "--out",
        str(out),
        "--seed",
        str(args.seed),
        "--sandbox",
        args.sandbox,
        *where,
    ]
    started = time.monotonic()
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    seconds = time.monotonic() - started
    if done.returncode not in (0, 1):  # 1: some students' code failed, as expected
        sys.exit(f"{' '.join(command)} failed ({done.returncode}):\n{done.stderr[-2000:]}")
    return seconds


def _overhead(workers: int, tasks: int) -> tuple[float, float]:
    """Seconds per do-nothing task: submitted all at once, and one after another."""
    from distributed import Client, LocalCluster

    with (
        LocalCluster(
            n_workers=workers,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address=None,
        ) as cluster,
        Client(cluster) as client,
    ):
        client.gather(client.map(_nothing, range(workers * 4), pure=False))  # warm up
        started = time.monotonic()
        client.gather(client.map(_nothing, range(tasks), pure=False))
        batch = (time.monotonic() - started) / tasks
        rounds = max(1, tasks // 5)
        started = time.monotonic()
        for index in range(rounds):
            client.submit(_nothing, index, pure=False).result()
        serial = (time.monotonic() - started) / rounds
    return batch, serial


def _nothing(index: int) -> int:
    return index


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=200)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--sandbox", choices=("docker", "local"), default="docker")
    parser.add_argument("--seed", type=int, default=20261203)
    parser.add_argument("--tasks", type=int, default=1000, help="do-nothing tasks timed")
    args = parser.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="micrograde-cluster-bench-"))
    try:
        classroom = work / "class"
        classroom.mkdir()
        build_class(classroom, args.count)
        n = str(args.workers)
        pool = _batch(classroom, work / "pool", args, ["--jobs", n])
        cluster = _batch(classroom, work / "cluster", args, ["--cluster", f"local:{n}"])
        same = all(
            (work / "pool" / name).read_bytes() == (work / "cluster" / name).read_bytes()
            for name in GRADEBOOKS
        )
        batch, serial = _overhead(args.workers, args.tasks)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    rate = 60 * args.count
    print(f"{args.count} submissions, {args.sandbox} sandbox, {n} at a time, seed {args.seed}")
    for label, seconds in ((f"thread pool, --jobs {n}", pool), (f"--cluster local:{n}", cluster)):
        print(f"  {label:<24} {seconds:7.1f} s  {rate / seconds:6.1f} a minute")
    print(f"  the cluster costs {100 * (cluster / pool - 1):+.1f} % (target: at most +10 %)")
    print(f"  gradebooks byte-identical: {'yes' if same else 'NO'}")
    print(
        f"  scheduler overhead per task: {1000 * batch:.2f} ms submitted together, "
        f"{1000 * serial:.2f} ms one after another ({args.tasks} do-nothing tasks)"
    )
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
