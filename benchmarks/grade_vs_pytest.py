"""Grading one complete submission with the local backend, against a bare pytest run.

    python benchmarks/grade_vs_pytest.py [--runs 7]

All three are measured side by side in one run, interleaved, on the same submission (the
bundled examples/complete/package solution, dropped into a step-5 hand-out):

  bare pytest        `python -m pytest` in the hand-out: the public staged tests, judged
                     at home against the answer key (50 checks, no sandbox, no report)
  micrograde check   the same public checks through the grader: intake, local sandbox,
                     key-judged, HTML report
  micrograde grade   a real grading: all 55 checks (hidden ones too), the trusted reference
                     run, the judge, results.json and the HTML report

The goal (issue: grading costs no more than 2x the bare run) is about `grade`.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def timed(command: list[str], cwd: Path) -> float:
    started = time.perf_counter()
    done = subprocess.run(command, cwd=cwd, capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        sys.exit(f"{' '.join(command)} failed ({done.returncode}):\n{done.stdout}{done.stderr}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    runs = parser.parse_args().runs
    with tempfile.TemporaryDirectory() as scratch:
        handout = Path(scratch) / "handout"
        subprocess.run(
            [sys.executable, "-m", "grader", "handout", "--step", "5", "--out", str(handout)],
            check=True,
            capture_output=True,
        )
        shutil.rmtree(handout / "micrograd")
        shutil.copytree(
            REPO / "examples" / "complete" / "package" / "micrograd", handout / "micrograd"
        )
        commands = {
            "bare pytest": [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
            "micrograde check": [sys.executable, "-m", "grader", "check", "."],
            "micrograde grade": [
                sys.executable,
                "-m",
                "grader",
                "grade",
                str(handout),
                "--sandbox",
                "local",
                "--out",
                str(Path(scratch) / "out"),
            ],
        }
        times: dict[str, list[float]] = {name: [] for name in commands}
        for _ in range(runs):  # interleaved, so load on the machine hits all three alike
            for name, command in commands.items():
                times[name].append(timed(command, handout))
    bare = statistics.median(times["bare pytest"])
    print(f"{'':18} {'median':>8} {'min':>8} {'ratio to bare pytest':>22}   ({runs} runs each)")
    for name, values in times.items():
        median = statistics.median(values)
        print(f"{name:18} {median:7.2f}s {min(values):7.2f}s {median / bare:21.2f}x")


if __name__ == "__main__":
    main()
