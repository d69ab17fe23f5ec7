"""The commands around hand-outs: ``micrograde handout`` (instructors), ``micrograde check``.

``handout`` writes what students receive for one step. ``check`` is the students' own
grading: it runs the public checks of their hand-out on this computer (the ``local``
backend: their own code, their own machine) and judges them with the hand-out's answer key,
as they have no reference solution. Its exit code is 0 when every check it ran passed.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

import click

from grader.answer_key import (
    KEY_FILE,
    PUBLIC_SEED,
    AnswerKeyExpectations,
    read_answer_key,
    restrict_to_key,
)
from grader.cli_options import settings_option
from grader.errors import ConfigError
from grader.exercise import HANDOUT_MARKER, STEPS, load_exercise
from grader.handout import build_handout
from grader.models import GradeResult
from grader.output import write_results
from grader.pipeline import GradeRequest, grade_submission
from grader.rubric import load_rubric
from grader.sandbox.local import LocalSandbox
from grader.settings import Settings, load_settings
from grader.summary import print_check_summary

REPORT_DIR = ".micrograde"


@click.command()
@click.option("--step", type=click.IntRange(min(STEPS), max(STEPS)), required=True,
              help="The step (1-5) the hand-out is for.")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path),
              required=True, help="A new (or empty) folder to write the hand-out into.")
@click.option("--seed", type=click.IntRange(0, 2**31 - 1), default=PUBLIC_SEED,
              show_default=True, help="The public seed the answer key is made with.")
def handout(step: int, out_dir: Path, seed: int) -> None:
    """Write what students receive for one step: skeleton, public tests, answer key, README."""
    exercise = load_exercise()
    build_handout(exercise, load_rubric(exercise), step, out_dir, seed)
    click.echo(f"hand-out for step {step} written to {out_dir}")


@click.command()
@click.argument("path", default=".", type=click.Path(exists=True, file_okay=False,
                                                     path_type=Path))
@settings_option()
def check(path: Path, settings_path: Path | None) -> None:
    """Check your work in the hand-out folder PATH (default: here) with its public checks.

    Exit status 0 when every check passed, 1 otherwise.
    """
    result, out_dir = check_handout(path, load_settings(settings_path))
    print_check_summary(result)
    report = out_dir / "index.html"
    shown = report if report.exists() else out_dir / "results.json"
    click.echo(f"report: {_relative(shown)}")
    graded = [c for s in result.steps if s.graded for c in s.checks]
    ok = result.status == "graded" and all(c.status == "passed" for c in graded)
    sys.exit(0 if ok else 1)


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
            shutil.copytree(root / "micrograd", source / "micrograd", symlinks=True,
                            ignore=shutil.ignore_patterns("__pycache__"))
            request = GradeRequest(source, exercise.steps, seed, name=root.name)
            result = grade_submission(request, exercise=keyed, rubric=rubric, sandbox=sandbox,
                                      settings=settings, expectations=expectations)
    finally:
        sandbox.close()
    out_dir = root / REPORT_DIR
    write_results(result, out_dir)
    return result, out_dir


def _require_handout(root: Path) -> None:
    missing = [name for name in (HANDOUT_MARKER, KEY_FILE, "micrograd", "tests", "rubrics")
               if not (root / name).exists()]
    if missing:
        raise ConfigError(
            f"{root} is not a micrograd hand-out folder (it has no {', '.join(missing)}): run "
            "`micrograde check` in the folder you were given for your step, the one that "
            "holds micrograd/, tests/ and answer_key.json, or give that folder's path")


def _relative(path: Path) -> str:
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)
