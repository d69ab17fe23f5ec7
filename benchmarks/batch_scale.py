"""How ``micrograde batch`` scales: 500 synthetic submissions, wall time and peak memory.

    python benchmarks/batch_scale.py                  # Docker, 500 submissions, --jobs 2
    python benchmarks/batch_scale.py --sandbox local  # where no Docker engine is ready

The class is written in Canvas naming from the reference solution: correct submissions in
every shape (each with a small harmless edit, so no two are the same), each kind of bug
the feedback should catch, submissions stopped after steps 1-4, and broken ones (a syntax
error, an empty file, an import loop). It is graded once with ``micrograde batch``, then
again (a resume that should grade nothing). Printed: total wall time, submissions per
minute, the grader's peak resident memory (its own process, read from /proc while it
runs), and the ratio of the batch's time per submission to one ``micrograde grade`` of a
single submission measured in the same run. Targets: 500 in under 5 minutes, peak memory
under 300 MB. Not a test: it takes minutes.
"""

from __future__ import annotations

import argparse
import csv
import io
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import zipfile
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
REFERENCE = REPO / "reference"
COMPLETE = REPO / "examples" / "complete"

MUL = ("other.grad += self.data * out.grad", "other.grad += other.data * out.grad")
# Each bug: (file, what the reference says, what the buggy copy says).
BUGS = {
    "mul_backward": ("value.py", *MUL),
    "rsub_reversed": ("value.py", "return other + (-self)", "return self + (-other)"),
    "power_rule": (
        "value.py",
        "self.grad += n * self.data ** (n - 1) * out.grad",
        "self.grad += (n * self.data) ** (n - 1) * out.grad",
    ),
    "assign_not_accumulate": (
        "value.py",
        "self.grad += out.grad\n            other.grad += out.grad",
        "self.grad = out.grad\n            other.grad = out.grad",
    ),
    "no_zero_grad": ("mlp.py", "            p.grad = 0", "            pass"),
    "relu_on_output": ("mlp.py", "nonlin=i != last", "nonlin=True"),
    "tanh_overflow": (
        "value.py",
        "t = math.tanh(self.data)",
        "t = (math.exp(2 * self.data) - 1) / (math.exp(2 * self.data) + 1)",
    ),
}
SHAPES = ("single_file", "loose_files", "package_zip", "notebook", "karpathy_zip")


def _zip(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in sorted(files.items()):
            archive.writestr(name, data)
    return buffer.getvalue()


def _folder(root: Path) -> dict[str, bytes]:
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and "__pycache__" not in p.parts
    }


def _package(step: int, edit: tuple[str, str, str] | None = None) -> dict[str, bytes]:
    files = _folder(REFERENCE / f"step_{step}")
    if edit is not None:
        name, before, after = edit
        key = f"micrograd/{name}"
        text = files[key].decode()
        assert before in text, f"the reference no longer contains {before!r}"
        files[key] = text.replace(before, after, 1).encode()
    return files


class Writer:
    """Writes Canvas-named uploads: lastfirst_userid_fileid_original."""

    def __init__(self, root: Path) -> None:
        self.root, self.user, self.file = root, 1000, 50_000
        self.kinds: dict[str, str] = {}

    def student(self, kind: str, uploads: dict[str, bytes], late: bool = False) -> None:
        self.user += 1
        name = f"student{self.user}"
        self.kinds[f"{name}_{self.user}"] = kind
        for original, data in uploads.items():
            self.file += 1
            marker = "_LATE" if late else ""
            (self.root / f"{name}{marker}_{self.user}_{self.file}_{original}").write_bytes(data)


def correct(index: int) -> dict[str, bytes]:
    """A complete solution in one of the usual shapes, with a harmless edit of its own."""
    stamp = f"\n# submitted by student {index}: thanks for the exercise\n".encode()
    shape = SHAPES[index % len(SHAPES)]
    if shape == "single_file":
        return {"micrograd.py": (COMPLETE / "single_file.py").read_bytes() + stamp}
    if shape == "loose_files":
        return {
            "value.py": (COMPLETE / "loose_files" / "value.py").read_bytes() + stamp,
            "mlp.py": (COMPLETE / "loose_files" / "mlp.py").read_bytes(),
        }
    if shape == "notebook":
        text = (
            (COMPLETE / "notebook.ipynb")
            .read_text()
            .replace("My autograd engine", f"Student {index}'s autograd engine")
        )
        return {"micrograd.ipynb": text.encode()}
    folder = COMPLETE / ("package" if shape == "package_zip" else "karpathy")
    files = _folder(folder)
    first = sorted(f for f in files if f.endswith(("value.py", "engine.py")))[0]
    files[first] += stamp
    return {"submission.zip": _zip(files)}


def build_class(root: Path, count: int) -> dict[str, str]:
    """Write ``count`` submissions; returns student id -> kind."""
    writer = Writer(root)
    plan = (
        ["correct"] * 40
        + [f"bug:{b}" for b in BUGS for _ in range(6)]
        + [f"partial:{k}" for k in (1, 2, 3, 4) for _ in range(3)]
        + ["syntax_error", "empty", "import_loop"] * 2
    )
    random.Random(2024).shuffle(plan)
    for index in range(count):
        kind = plan[index % len(plan)]
        late = index % 17 == 0
        if kind == "correct":
            writer.student(kind, correct(index), late)
        elif kind.startswith("bug:"):
            files = _package(5, BUGS[kind[4:]])
            writer.student(kind, {"micrograd.zip": _zip(files)}, late)
        elif kind.startswith("partial:"):
            writer.student(kind, {"micrograd.zip": _zip(_package(int(kind[8:])))}, late)
        else:
            writer.student(kind, broken(kind), late)
    return writer.kinds


def broken(kind: str) -> dict[str, bytes]:
    if kind == "syntax_error":
        return {"value.py": b"class Value(:\n    pass\n"}
    if kind == "empty":
        return {"value.py": b""}
    return {
        "value.py": b"from mlp import MLP\n\nclass Value:\n    pass\n",  # an import loop
        "mlp.py": b"from value import Value\n\nclass MLP:\n    pass\n",
    }


class PeakMemory(threading.Thread):
    """Polls a process's VmHWM (its own peak resident set) until it ends."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid, self.peak_kib, self.done = pid, 0, threading.Event()

    def run(self) -> None:
        status = Path(f"/proc/{self.pid}/status")
        while not self.done.is_set():
            try:
                for line in status.read_text().splitlines():
                    if line.startswith("VmHWM:"):
                        self.peak_kib = max(self.peak_kib, int(line.split()[1]))
            except (OSError, ValueError):
                return
            self.done.wait(0.2)


def timed(command: list[str]) -> tuple[float, int, str]:
    """Run ``command``; (seconds, its own peak RSS in KiB, stdout)."""
    started = time.monotonic()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    watcher = PeakMemory(process.pid)
    watcher.start()
    stdout, stderr = process.communicate()
    watcher.done.set()
    seconds = time.monotonic() - started
    if process.returncode != 0:
        sys.exit(f"{' '.join(command)} failed ({process.returncode}):\n{stderr[-2000:]}")
    return seconds, watcher.peak_kib, stdout


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=500)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--sandbox", choices=("docker", "local"), default="docker")
    parser.add_argument("--workdir", type=Path, help="keep the class and results here")
    args = parser.parse_args(argv)
    work = args.workdir or Path(tempfile.mkdtemp(prefix="micrograde-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        return run(args, work)
    finally:
        if args.workdir is None:
            shutil.rmtree(work, ignore_errors=True)


def run(args: argparse.Namespace, work: Path) -> int:
    classroom, out = work / "class", work / "out"
    shutil.rmtree(classroom, ignore_errors=True)
    shutil.rmtree(out, ignore_errors=True)
    classroom.mkdir()
    kinds = build_class(classroom, args.count)
    micrograde = [sys.executable, "-m", "grader"]
    single_dir = work / "single"
    shutil.copytree(COMPLETE / "package", single_dir, dirs_exist_ok=True)
    single, _, _ = timed(
        [
            *micrograde,
            "grade",
            str(single_dir),
            "--sandbox",
            args.sandbox,
            "--out",
            str(work / "single-out"),
        ]
    )
    batch = [
        *micrograde,
        "batch",
        str(classroom),
        "--out",
        str(out),
        "--jobs",
        str(args.jobs),
        "--sandbox",
        args.sandbox,
    ]
    total, peak_kib, _ = timed(batch)
    children_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    rerun, _, rerun_log = timed(batch)
    report(args, kinds, out, single, total, peak_kib, children_kib, rerun, rerun_log)
    return 0


def report(
    args: argparse.Namespace,
    kinds: dict[str, str],
    out: Path,
    single: float,
    total: float,
    peak_kib: int,
    children_kib: int,
    rerun: float,
    rerun_log: str,
) -> None:
    with (out / "gradebook.csv").open(newline="") as handle:
        rows = {r["submission"]: r for r in csv.DictReader(handle)}
    outcome: Counter[str] = Counter()
    for student, kind in kinds.items():
        row = rows[student]
        family = kind.split(":")[0]
        full = row["status"] == "graded" and row["score"] == row["max_score"]
        outcome[f"{family}: {'full marks' if full else row['status'] + ' below full'}"] += 1
    count = len(kinds)
    print(f"backend: {args.sandbox}, jobs: {args.jobs}, submissions: {count}")
    print(f"single submission (micrograde grade, wall): {single:.2f} s")
    print(f"batch wall time: {total:.1f} s ({total / 60:.2f} min; target < 5 min)")
    print(f"submissions per minute: {count / total * 60:.1f}")
    print(
        f"batch time per submission: {total / count:.3f} s = "
        f"{total / count / single:.2f} x the single-submission time "
        f"(one at a time would take {count * single / 60:.1f} min)"
    )
    print(f"grader peak RSS (its own process, VmHWM): {peak_kib / 1024:.1f} MiB (target < 300 MB)")
    print(
        f"largest process of the runs (RUSAGE_CHILDREN, includes local sandboxes): "
        f"{children_kib / 1024:.1f} MiB"
    )
    print(
        f"rerun (resume, nothing to grade): {rerun:.1f} s; "
        f"log: {rerun_log.splitlines()[0] if rerun_log else ''}"
    )
    for line, number in sorted(outcome.items()):
        print(f"  {line}: {number}")


if __name__ == "__main__":
    sys.exit(main())
