"""How long a lecture-style notebook takes to grade, and one whose training never ends.

    python benchmarks/endless_notebook.py [--sandbox local|docker] [--runs 3]

(a) the lecture-style notebook of tests/lecture_notebooks.py (plots, graphviz, ``!pip``,
    a %%time cell, training at the top level), the same classes as a plain package, and
(b) the same notebook with a training loop that never ends: the grader waits out the
    import limit once (the check's time plus ``import_seconds``, 15 + 20 s with the default
    settings), leaves that statement out and grades the classes.

Prints the wall time of each grading, its score and the diagnosis, with the default
settings (those a course would use). The machine is shared: the load average is printed
before and after; compare the figures of one run with each other.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from lecture_notebooks import lecture_notebook, plain_package  # noqa: E402

from grader.exercise import load_exercise  # noqa: E402
from grader.pipeline import GradeRequest, grade_submission  # noqa: E402
from grader.rubric import load_rubric  # noqa: E402
from grader.sandbox.base import Sandbox  # noqa: E402
from grader.sandbox.local import LocalSandbox  # noqa: E402
from grader.settings import load_settings  # noqa: E402


def _sandbox(name: str) -> Sandbox:
    exercise = load_exercise()
    if name == "docker":
        from grader.sandbox.docker import DockerSandbox

        return DockerSandbox.connect(exercise, load_settings())
    return LocalSandbox(exercise)


def _measure(label: str, make: Callable[[Path], Path], sandbox: Sandbox, runs: int) -> None:
    exercise, settings = load_exercise(), load_settings()
    times = []
    for run in range(runs):
        with tempfile.TemporaryDirectory(prefix="micrograde-bench-") as scratch:
            source = make(Path(scratch))
            started = time.monotonic()
            result = grade_submission(
                GradeRequest(source, seed=run),
                exercise=exercise,
                rubric=load_rubric(exercise),
                sandbox=sandbox,
                settings=settings,
            )
            times.append(time.monotonic() - started)
        said = result.diagnosis.message if result.diagnosis else "no diagnosis"
        print(f"  {label:<28} run {run + 1}: {times[-1]:6.1f} s  {result.score:g}/"
              f"{result.max_score:g}  {said[:90]}")  # fmt: skip
    print(f"{label:<30} median {statistics.median(times):6.1f} s over {runs} run(s)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sandbox", choices=("local", "docker"), default="local")
    parser.add_argument("--runs", type=int, default=3)
    options = parser.parse_args()
    settings = load_settings()
    print(
        f"{options.sandbox} sandbox; import limit {settings.time.check_seconds:g} + "
        f"{settings.time.import_seconds:g} s; load average {os.getloadavg()[0]:.2f}"
    )
    sandbox = _sandbox(options.sandbox)
    try:
        _measure("plain package", lambda d: plain_package(d / "package"), sandbox, options.runs)
        _measure(
            "lecture notebook", lambda d: lecture_notebook(d / "hw.ipynb"), sandbox, options.runs
        )
        _measure(
            "training that never ends",
            lambda d: lecture_notebook(d / "hw.ipynb", endless=True),
            sandbox,
            options.runs,
        )
    finally:
        sandbox.close()
    print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
