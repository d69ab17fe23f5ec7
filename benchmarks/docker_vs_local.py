"""Grading speed of the docker backend next to the local one, measured in one run.

    python benchmarks/docker_vs_local.py [--runs 10] [--gradings 40] [--profile]

(a) one complete five-step submission (examples/complete/package), graded N times in a
    row by each backend: the medians and their ratio (target: docker <= 1.5 x local);
(b) throughput with two gradings at a time (ThreadPoolExecutor(2)) in submissions per
    minute (target: >= 120/min on a 2-core machine), next to the same figure for the
    local backend and for bare ``docker run ... python -m pytest`` of a test file of the
    same size, with the same hardened flags (the floor of what any container costs);
(c) with --profile, where the time of one docker grading goes (engine calls, time to the
    harness's first record, to its last, process exit, removal, the host's judging).

The machine is shared: the load average is printed before and after; compare the
figures of one run with each other, not with another run's. Needs an engine and the
image (``micrograde sandbox build``).
"""

from __future__ import annotations

import argparse
import collections
import os
import resource
import shutil
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from grader.exercise import load_exercise
from grader.pipeline import GradeRequest, grade_submission
from grader.rubric import load_rubric
from grader.sandbox.base import Sandbox
from grader.sandbox.docker import DockerSandbox
from grader.sandbox.local import LocalSandbox
from grader.settings import load_settings

SUBMISSION = Path(__file__).resolve().parents[1] / "examples" / "complete" / "package"
BARE_FLAGS = [
    "--rm",
    "--network",
    "none",
    "--read-only",
    "--tmpfs",
    "/tmp:rw,nosuid,nodev,noexec,size=64m",
    "--memory",
    "512m",
    "--memory-swap",
    "512m",
    "--pids-limit",
    "128",
    "--cpus",
    "1",
    "--user",
    "10001:10001",
    "--cap-drop",
    "ALL",
    "--security-opt",
    "no-new-privileges",
    "--init",
    "--ulimit",
    "core=0",
    "--ulimit",
    "nofile=256:256",
    "--log-driver",
    "none",
]
BARE_TESTS = 55  # as many tests as the five steps have checks
DAEMONS = ("dockerd", "containerd")
ENGINE_CALLS = (
    "create_container",
    "attach",
    "start",
    "wait",
    "inspect_container",
    "remove_container",
)


def grade_once(sandbox: Sandbox) -> float:
    exercise = load_exercise()
    started = time.perf_counter()
    result = grade_submission(
        GradeRequest(SUBMISSION),
        exercise=exercise,
        rubric=load_rubric(exercise),
        sandbox=sandbox,
        settings=load_settings(),
    )
    seconds = time.perf_counter() - started
    if result.score != result.max_score:
        raise SystemExit(f"{sandbox.name}: {result.score}/{result.max_score}: {result.message}")
    return seconds


def per_minute(task: Callable[[], Any], count: int) -> float:
    started = time.perf_counter()
    with ThreadPoolExecutor(2) as pool:
        list(pool.map(lambda _: task(), range(count)))
    return count / (time.perf_counter() - started) * 60


@contextmanager
def bare_pytest(image: str) -> Iterator[Callable[[], None]]:
    """One hardened ``docker run`` of pytest on a file of BARE_TESTS trivial tests."""
    folder = Path(tempfile.mkdtemp(prefix="micrograde-bench-"))
    tests = "".join(
        f"def test_{i}():\n    assert {i} + 1 == {i + 1}\n\n" for i in range(BARE_TESTS)
    )
    (folder / "test_bare.py").write_text(tests)
    folder.chmod(0o755)
    (folder / "test_bare.py").chmod(0o644)
    command = [
        "docker",
        "run",
        *BARE_FLAGS,
        "-v",
        f"{folder}:/workspace:ro",
        image,
        "/opt/venv/bin/python3",
        "-I",
        "-B",
        "-m",
        "pytest",
        "-q",
        "-p",
        "no:cacheprovider",
        "-p",
        "pytest_jsonreport.plugin",
        "--json-report",
        "--json-report-file=none",
        "/workspace/test_bare.py",
    ]

    def run() -> None:
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL)

    try:
        yield run
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def single(docker: Sandbox, local: Sandbox, runs: int) -> None:
    times: dict[str, list[float]] = {"docker": [], "local": []}
    cpu: dict[str, float] = {"docker": 0.0, "local": 0.0}
    for _ in range(runs):  # interleaved, so both see the same background load
        for sandbox in (docker, local):
            before = cpu_seconds()
            times[sandbox.name].append(grade_once(sandbox))
            cpu[sandbox.name] += cpu_seconds() - before
    medians = {name: statistics.median(values) for name, values in times.items()}
    for name, values in times.items():
        print(
            f"  {name:6} median {medians[name]:.3f} s  "
            f"(min {min(values):.3f}, max {max(values):.3f}, n={len(values)});  "
            f"CPU {cpu[name] / runs:.3f} s per grading"
        )
    print(f"  ratio docker/local: {medians['docker'] / medians['local']:.2f} (target <= 1.5)")
    ceiling = {name: 2 * 60 / (total / runs) for name, total in cpu.items()}
    print(
        f"  CPU-bound ceiling on 2 idle cores: docker {ceiling['docker']:.0f}/min, "
        f"local {ceiling['local']:.0f}/min"
    )


CONTAINER_CPU = [0.0]  # seconds used by the containers this process removed


def count_container_cpu(api: Any) -> None:
    """Read each container's CPU time from its cgroup (v1) just before it is removed."""
    remove = api.remove_container

    def counted(container: str, **kwargs: Any) -> Any:
        usage = Path(f"/sys/fs/cgroup/cpuacct/docker/{container}/cpuacct.usage")
        try:
            CONTAINER_CPU[0] += int(usage.read_text()) / 1e9
        except (OSError, ValueError):
            pass  # another cgroup layout: the containers' CPU is not counted
        return remove(container, **kwargs)

    api.remove_container = counted


def cpu_seconds() -> float:
    """CPU time of this process, its children, its containers and the engine's daemons.

    The daemons' share is read from /proc and includes work for anyone else's containers;
    containerd-shim and runc, which come and go, are missed."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    total = own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime
    return total + CONTAINER_CPU[0] + sum(_process_cpu(p) for p in _daemons())


def _daemons() -> list[Path]:
    found = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and (entry / "comm").read_text().strip() in DAEMONS:
                found.append(entry)
        except OSError:
            continue
    return found


def _process_cpu(entry: Path) -> float:
    try:
        fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def throughput(docker: DockerSandbox, local: Sandbox, gradings: int, bare: bool) -> None:
    print(
        f"  docker, 2 at a time: {per_minute(lambda: grade_once(docker), gradings):6.1f}"
        f" submissions/min over {gradings} (target >= 120)"
    )
    print(
        f"  local,  2 at a time: {per_minute(lambda: grade_once(local), gradings):6.1f}"
        f" submissions/min over {gradings}"
    )
    if bare:
        with bare_pytest(docker.image) as run:
            print(
                f"  bare `docker run ... pytest` ({BARE_TESTS} trivial tests), 2 at a time: "
                f"{per_minute(run, gradings):6.1f} runs/min over {gradings}"
            )


def profile(docker: DockerSandbox, runs: int) -> None:
    """Wrap the engine calls and the execution to see where one grading's time goes."""
    spent: dict[str, list[float]] = collections.defaultdict(list)
    api = docker.api
    saved = {name: vars(api).get(name) for name in ENGINE_CALLS}
    for name in ENGINE_CALLS:
        setattr(api, name, _timed(getattr(api, name), spent[name]))
    original = docker.start

    def start(job: Any) -> Any:
        began = time.perf_counter()
        execution = original(job)
        spent["start() total"].append(time.perf_counter() - began)
        _watch(execution, began, spent)
        return execution

    docker.start = start  # type: ignore[method-assign]
    try:
        totals = [grade_once(docker) for _ in range(runs)]
    finally:
        del docker.start
        for name, call in saved.items():  # back to the methods (or our CPU counter)
            if call is None:
                delattr(api, name)
            else:
                setattr(api, name, call)
    for name, values in spent.items():
        if not values:
            continue  # e.g. wait: not called when the harness said "done"
        print(f"  {name:34} median {statistics.median(values) * 1000:7.1f} ms")
    print(f"  {'whole grading':34} median {statistics.median(totals) * 1000:7.1f} ms")


def _timed(call: Callable[..., Any], into: list[float]) -> Callable[..., Any]:
    def timed(*args: Any, **kwargs: Any) -> Any:
        began = time.perf_counter()
        try:
            return call(*args, **kwargs)
        finally:
            into.append(time.perf_counter() - began)

    return timed


def _watch(execution: Any, began: float, spent: dict[str, list[float]]) -> None:
    next_line, finish = execution.next_line, execution.finish
    seen: set[str] = set()

    def watched(timeout: float) -> Any:
        line = next_line(timeout)
        now = time.perf_counter() - began
        if line and "first record" not in seen:
            seen.add("first record")
            spent["start -> first record"].append(now)
        if line and b'"kind":"done"' in line:
            spent["start -> last record (done)"].append(now)
        return line

    def finished() -> Any:
        t = time.perf_counter()
        status = finish()
        spent["finish() (exit, wait, remove)"].append(time.perf_counter() - t)
        return status

    execution.next_line, execution.finish = watched, finished


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=10, help="single gradings per backend")
    parser.add_argument("--gradings", type=int, default=40, help="gradings per throughput")
    parser.add_argument("--no-bare", action="store_true", help="skip the bare docker run")
    parser.add_argument("--profile", action="store_true", help="also profile one grading")
    args = parser.parse_args()
    exercise, settings = load_exercise(), load_settings()
    docker = DockerSandbox.connect(exercise, settings)
    count_container_cpu(docker.api)
    local = LocalSandbox(exercise)
    print(
        f"image {docker.image}; {os.cpu_count()} CPUs; load average before "
        f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}"
    )
    try:
        grade_once(docker), grade_once(local)  # warm up: imports, caches, the reference
        print(f"(a) one grading of {SUBMISSION.relative_to(Path.cwd())}, {args.runs} times:")
        single(docker, local, args.runs)
        print("(b) throughput:")
        throughput(docker, local, args.gradings, not args.no_bare)
        if args.profile:
            print("(c) where one docker grading's time goes:")
            profile(docker, args.runs)
    finally:
        docker.close()
        local.close()
    print(f"load average after {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
