"""The commands around hand-outs: ``micrograde handout`` (instructors), ``micrograde check``.

``handout`` writes what students receive for one step. ``check`` is the students' own
grading (``grader.handout.check``): the public checks of their hand-out, run on their own
computer and judged by the hand-out's answer key. Its exit code is 0 when every check it
ran passed.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from grader.cli.options import seed_option, settings_option
from grader.cli.summary import print_check_summary
from grader.exercise import STEPS, load_exercise
from grader.handout.answer_key import PUBLIC_SEED
from grader.handout.build import build_handout
from grader.handout.check import check_handout
from grader.rubric import load_rubric
from grader.settings import load_settings


@click.command()
@click.option(
    "--step",
    type=click.IntRange(min(STEPS), max(STEPS)),
    required=True,
    help="The step (1-5) the hand-out is for.",
)
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    required=True,
    help="A new (or empty) folder to write the hand-out into.",
)
@seed_option("The public seed the answer key is made with.", default=PUBLIC_SEED)
def handout(step: int, out_dir: Path, seed: int) -> None:
    """Write what students receive for one step: skeleton, public tests, answer key, README."""
    exercise = load_exercise()
    build_handout(exercise, load_rubric(exercise), step, out_dir, seed)
    click.echo(f"hand-out for step {step} written to {out_dir}")


@click.command()
@click.argument("path", default=".", type=click.Path(exists=True, file_okay=False, path_type=Path))
@settings_option()
def check(path: Path, settings_path: Path | None) -> None:
    """Check your work in the hand-out folder PATH (default: here) with its public checks.

    Exit status 0 when every check passed, 1 otherwise.
    """
    result, out_dir = check_handout(path, load_settings(settings_path))
    print_check_summary(result)
    report = out_dir / "index.html"
    shown = report if report.exists() else out_dir / "results.json"
    # An address a terminal can open with a click, as `micrograde grade` prints it.
    click.echo(f"report: {shown.resolve().as_uri()}")
    graded = [c for s in result.steps if s.graded for c in s.checks]
    ok = result.status == "graded" and all(c.status == "passed" for c in graded)
    sys.exit(0 if ok else 1)
