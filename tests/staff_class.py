"""A class for the course-staff tests, graded in-process by a fake grading function.

The fake gives each student a fixed pattern of passed and failed checks, and plants a
unique canary (``CANARY-...``) in everything a hidden check carries that a student must
never see: feedback, hint, blamed method and every kind of detail, for hidden checks that
pass and for those that fail. Visible checks carry no canary, so a student-facing file
that holds one leaked it.

The class is named as Canvas and Moodle download it (``CANVAS``, ``MOODLE``), plus one
plain entry, so the exports have ids to match.
"""

from __future__ import annotations

import functools
import zlib
from pathlib import Path
from typing import Any

from grader.batch import run as batch_module
from grader.batch.run import BatchRequest, BatchSummary, Done, run_batch
from grader.batch.stop import stoppable
from grader.exercise import STEPS, load_exercise
from grader.models import CheckResult, GradeResult, StepResult
from grader.pipeline import GradeRequest
from grader.rubric import Rubric, load_rubric
from grader.sandbox.local import LocalSandbox
from grader.settings import load_settings

CANARY = "CANARY"
SEED = 7
# student id -> the entry of the download (Canvas: lastfirst_userid_fileid_name)
CANVAS = {
    "smithjohn_101": "smithjohn_101_5001_micrograd.py",
    "doejane_102": "doejane_LATE_102_5002_value.py",
    "leeann_103": "leeann_103_5003_package.zip",
}
MOODLE = {
    "John_Smith_201": "John Smith_201_assignsubmission_file_",
    "Ann_Lee_202": "Ann Lee_202_assignsubmission_file_value.py",
}
PLAIN = "alice"
# Checks each student fails, by the position of the check in the exercise (every 7th...).
FAILING_EVERY = {"smithjohn_101": 0, "doejane_102": 3, "leeann_103": 5, PLAIN: 2}
# ... and checks a student fails whatever their position (the overrides tests adjust them).
ALWAYS_FAILS = {"doejane_102": {"multiply_backward"}}


def build_class(root: Path) -> Path:
    """The class folder: three Canvas students, two Moodle students, one plain entry."""
    root.mkdir(parents=True)
    for student, entry in {**CANVAS, **MOODLE}.items():
        path = root / entry
        if entry.endswith("_"):
            path.mkdir()
            (path / "value.py").write_text(f"# {student}\n")
        else:
            path.write_bytes(f"# {student}\n".encode())
    (root / f"{PLAIN}.py").write_text("# alice\n")
    return root


@functools.cache
def _rubric() -> Rubric:
    return load_rubric(load_exercise())


def canary(student: str, check: str, what: str) -> str:
    return f"{CANARY}-{zlib.crc32(f'{student}/{check}/{what}'.encode()):08x}"


def _hidden_details(student: str, cid: str) -> dict[str, Any]:
    def c(what: str) -> str:
        return canary(student, cid, what)

    return {
        "inputs": [["x", c("input")]],
        "values": [{"name": c("name"), "expected": c("expected"), "actual": c("actual")}],
        "mismatch": {
            "name": c("m-name"),
            "path": c("m-path"),
            "expected": c("m-expected"),
            "actual": c("m-actual"),
            "reason": c("m-reason"),
            "tolerance": [1e-6, 1e-9],
        },
        "error": {"type": c("e-type"), "message": c("e-message"), "frames": []},
        "stdout": c("stdout"),
        "stderr": c("stderr"),
    }


def _check(student: str, index: int, step: int, cid: str) -> CheckResult:
    entry = _rubric().entry(step, cid)
    every = FAILING_EVERY.get(student, 4)
    hidden = entry.visibility == "hidden"
    # Hidden checks pass and fail in turn, each student differently; visible ones by pattern.
    passed = (index + len(student)) % 2 == 0 if hidden else every == 0 or index % every != 1
    passed = passed and cid not in ALWAYS_FAILS.get(student, set())
    # A hidden check's failure says only "failed" to the student, whatever the kind.
    status = (
        "passed" if passed else "failed" if hidden else ("failed", "error", "timeout")[index % 3]
    )
    if not hidden:
        return CheckResult(
            cid,
            entry.title,
            status,
            entry.points if passed else 0.0,
            entry.points,
            "visible",
            "Passed." if passed else f"Look at Value.__add__. expected 1, got {index}.",
            hint=entry.hint,
            blame=None if passed else "Value.__add__",
            details={"inputs": [["a", index]]},
        )
    return CheckResult(
        cid,
        entry.title,
        status,
        entry.points if passed else 0.0,
        entry.points,
        "hidden",
        canary(student, cid, "feedback"),
        hint=canary(student, cid, "hint"),
        blame=canary(student, cid, "blame"),
        details=_hidden_details(student, cid),
    )


def fake_grade(request: GradeRequest, **_: Any) -> GradeResult:
    """A result with the student's pattern of failures and canaries in the hidden checks."""
    exercise, rubric = load_exercise(), _rubric()
    student = request.name or ""
    ids = [(c.step, c.id) for c in exercise.steps_checks(STEPS)]
    steps = tuple(
        StepResult(
            step,
            rubric.steps[step].title,
            tuple(_check(student, i, s, cid) for i, (s, cid) in enumerate(ids) if s == step),
        )
        for step in STEPS
    )
    return GradeResult(
        submission=student,
        status="graded",
        message="fake grading",
        seed=request.seed or 0,
        sandbox="local",
        steps=steps,
        duration=0.01,
    )


class Quiet:
    def planned(self, to_grade: int, up_to_date: int, reasons: dict[str, int]) -> None:
        self.plan = (to_grade, up_to_date)

    def finished(self, done: Done) -> None:
        pass


def run_class(folder: Path, out: Path, **request: Any) -> BatchSummary:
    """Run the batch in-process with ``fake_grade`` (callers patch ``grade_submission``)."""
    exercise = load_exercise()
    sandbox = stoppable(LocalSandbox(exercise))
    try:
        return run_batch(
            BatchRequest(folder, out, 2, SEED, **request),
            exercise=exercise,
            rubric=load_rubric(exercise),
            sandbox=sandbox,
            settings=load_settings(),
            progress=Quiet(),
        )
    finally:
        sandbox.close()


def patch_grading(monkeypatch: Any) -> None:
    monkeypatch.setattr(batch_module, "grade_submission", fake_grade)
