"""How long a submission whose ``backward()`` never returns takes to grade.

    python benchmarks/looping_backward.py [--sandbox docker|local] [--runs 3]

The reference solution with ``Value.backward`` replaced by an endless loop, graded with
the default settings (those a course would use), one job. Two loops: ``spin`` loops in
``backward()`` itself; ``around`` loops around the nodes' ``_backward()`` calls, which
return at once (a stack dumped at one instant is then most often inside an operator: the
sandbox's loop watcher names the frame that stays). The first check that calls
``backward()`` waits out its time limit; the method found looping is ``Value.backward``,
and every later run refuses it at once instead of waiting again. The issue's target: at
most 60 s in Docker. For comparison, ``spin`` with the refusal switched off (every
gradient check waits out its own limit), as it was before.

Prints each grading's wall time, score and how many checks timed out. The machine is
shared: compare the figures of one run with each other.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

from grader.exercise import load_exercise
from grader.pipeline import GradeRequest, grade_submission
from grader.rubric import load_rubric
from grader.runner import Runner
from grader.sandbox.base import Sandbox
from grader.sandbox.local import LocalSandbox
from grader.settings import load_settings

REFERENCE = Path(__file__).resolve().parents[1] / "reference" / "step_5" / "micrograd"
LOOPS = {
    "spin": """

def _spin(self):
    while True:
        pass


Value.backward = _spin
""",
    "around": """

def _again(self):
    order = self.topo_sort()
    self.grad = 1
    while True:
        for node in reversed(order):
            node._backward()


Value.backward = _again
""",
}


def _sandbox(name: str) -> Sandbox:
    exercise = load_exercise()
    if name == "docker":
        from grader.sandbox.docker import DockerSandbox

        return DockerSandbox.connect(exercise, load_settings())
    return LocalSandbox(exercise)


def _looping(scratch: Path, loop: str) -> Path:
    root = scratch / "looping"
    shutil.copytree(REFERENCE, root / "micrograd")
    value = root / "micrograd" / "value.py"
    value.write_text(value.read_text() + LOOPS[loop])
    return root


def _measure(label: str, sandbox: Sandbox, runs: int, loop: str = "spin") -> list[float]:
    exercise, settings = load_exercise(), load_settings()
    times = []
    for run in range(runs):
        with tempfile.TemporaryDirectory(prefix="micrograde-bench-") as scratch:
            source = _looping(Path(scratch), loop)
            started = time.monotonic()
            result = grade_submission(
                GradeRequest(source, seed=run),
                exercise=exercise,
                rubric=load_rubric(exercise),
                sandbox=sandbox,
                settings=settings,
            )
            times.append(time.monotonic() - started)
        timeouts = sum(c.status == "timeout" for s in result.steps for c in s.checks)
        blamed = sorted({c.blame or "-" for s in result.steps for c in s.checks if c.blame})
        print(
            f"  {label:<32} run {run + 1}: {times[-1]:6.1f} s, score {result.score:g}, "
            f"{timeouts} check(s) timed out, pointing at {', '.join(blamed)}"
        )
    return times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sandbox", choices=("docker", "local"), default="docker")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    sandbox = _sandbox(args.sandbox)
    limit = load_settings().time.check_seconds
    print(f"backward() never returns; {args.sandbox} sandbox, one job, check limit {limit:g} s")
    refused = _measure("spin, refused after one wait", sandbox, args.runs)
    around = _measure("around, refused after one wait", sandbox, args.runs, "around")
    # The refusal off: the runner forgets every method it located, so each check waits.
    remember = Runner._locate
    Runner._locate = lambda self, run, stderr, workspace: None  # type: ignore[method-assign]
    try:
        waited = _measure("spin, without the refusal", sandbox, 1)
    finally:
        Runner._locate = remember  # type: ignore[method-assign]
    print(
        f"median {statistics.median(refused):.1f} s (spin) and "
        f"{statistics.median(around):.1f} s (around) with the refusal, "
        f"{statistics.median(waited):.1f} s without: "
        f"{statistics.median(waited) / statistics.median(refused):.1f}x"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
