"""A student's own check of their hand-out: its public checks, judged by its answer key.

It runs on the student's machine with the ``local`` backend (their own code, their own
computer) and, having no reference solution, judges with the hand-out's answer key.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from grader.errors import ConfigError
from grader.exercise import HANDOUT_MARKER, load_exercise
from grader.handout.answer_key import (
    KEY_FILE,
    AnswerKeyExpectations,
    read_answer_key,
    restrict_to_key,
)
from grader.models import GradeResult
from grader.output import write_results
from grader.pipeline import GradeRequest, grade_submission
from grader.rubric import load_rubric
from grader.sandbox.local import LocalSandbox
from grader.settings import Settings

REPORT_DIR = ".micrograde"


def check_handout(root: Path, settings: Settings) -> tuple[GradeResult, Path]:
    """Grade the hand-out at ``root`` against its answer key; write ``root/.micrograde/``."""
    root = root.resolve()
    _require_handout(root)
    exercise = load_exercise(root)
    expectations = AnswerKeyExpectations(read_answer_key(root / KEY_FILE))
    keyed, rubric = restrict_to_key(exercise, load_rubric(exercise), expectations)
    seed = int(expectations.key["seed"])
    sandbox = LocalSandbox(keyed)
    try:
        with tempfile.TemporaryDirectory(prefix="micrograde-check-") as scratch:
            # Only the student's package is graded, not the tests and harness beside it.
            source = Path(scratch) / root.name
            shutil.copytree(
                root / "micrograd",
                source / "micrograd",
                symlinks=True,
                ignore=shutil.ignore_patterns("__pycache__"),
            )
            request = GradeRequest(source, exercise.steps, seed, name=root.name)
            result = grade_submission(
                request,
                exercise=keyed,
                rubric=rubric,
                sandbox=sandbox,
                settings=settings,
                expectations=expectations,
            )
    finally:
        sandbox.close()
    out_dir = root / REPORT_DIR
    write_results(result, out_dir)
    return result, out_dir


def _require_handout(root: Path) -> None:
    missing = [
        name
        for name in (HANDOUT_MARKER, KEY_FILE, "micrograd", "tests", "rubrics")
        if not (root / name).exists()
    ]
    if missing:
        raise ConfigError(
            f"{root} is not a micrograd hand-out folder (it has no {', '.join(missing)}): run "
            "`micrograde check` in the folder you were given for your step, the one that "
            "holds micrograd/, tests/ and answer_key.json, or give that folder's path"
        )
