"""``micrograde gradescope`` (inside Gradescope's container) and ``micrograde export``."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import click

from grader.cli.options import seed_option, settings_option
from grader.exercise import load_exercise
from grader.files import write_atomic
from grader.integrations.canvas import canvas_feedback_zip, canvas_grades
from grader.integrations.gradescope import RESULTS_PATH, SUBMISSION_DIR, run_gradescope
from grader.integrations.gradescope_export import export_gradescope as build_zip
from grader.integrations.lms_export import Filled, read_batch
from grader.integrations.moodle import moodle_feedback_zip, moodle_grades
from grader.models import points
from grader.settings import load_settings


@click.command()
@click.option(
    "--submission",
    type=click.Path(path_type=Path),
    default=SUBMISSION_DIR,
    show_default=True,
    help="The student's files, as Gradescope provides them.",
)
@click.option(
    "--results",
    type=click.Path(dir_okay=False, path_type=Path),
    default=RESULTS_PATH,
    show_default=True,
    help="Where Gradescope reads the results.",
)
@seed_option()
@settings_option()
def gradescope(
    submission: Path, results: Path, seed: int | None, settings_path: Path | None
) -> None:
    """Grade inside Gradescope's container (local backend) and write its results.json."""
    code = run_gradescope(submission, results, seed, settings_path)
    click.echo(f"results: {results}")
    sys.exit(code)


@click.group()
def export() -> None:
    """Package the grader, or a batch's grades and feedback, for a course platform."""


@export.command("gradescope")
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=Path("autograder.zip"),
    show_default=True,
    help="The zip to upload as the assignment's autograder.",
)
@settings_option("limits, time budgets and the packages student code may import")
def export_gradescope(out: Path, settings_path: Path | None) -> None:
    """Write the autograder zip for Gradescope (setup.sh, run_autograder, the grader)."""
    names = build_zip(load_exercise(), out, load_settings(settings_path))
    click.echo(f'{out}: {len(names)} files; upload it in Gradescope\'s "Configure Autograder" page')


def _batch_option(command: Callable[..., None]) -> Callable[..., None]:
    return click.option(
        "--batch",
        "batch_dir",
        type=click.Path(exists=True, file_okay=False, path_type=Path),
        required=True,
        help="The --out folder of a finished `micrograde batch`.",
    )(command)


def _lms_options(command: Callable[..., None]) -> Callable[..., None]:
    command = click.option(
        "--feedback-zip",
        type=click.Path(dir_okay=False, path_type=Path),
        default=None,
        help="Also write the zip of every student's report folder, named for the platform's "
        "bulk feedback upload.",
    )(command)
    command = click.option(
        "--no-scale",
        is_flag=True,
        help="Refuse, instead of scaling, when the assignment's points differ from the "
        "rubric's total.",
    )(command)
    return click.option(
        "--out",
        type=click.Path(dir_okay=False, path_type=Path),
        required=True,
        help="The file to import into the platform.",
    )(command)


@export.command("canvas")
@_batch_option
@click.option(
    "--gradebook",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    required=True,
    help="The gradebook CSV exported from Canvas (Grades > Export).",
)
@click.option(
    "--assignment",
    required=True,
    help='The assignment\'s column, with or without its id: "micrograd" or "micrograd (12345)".',
)
@_lms_options
def export_canvas(
    batch_dir: Path,
    gradebook: Path,
    assignment: str,
    out: Path,
    no_scale: bool,
    feedback_zip: Path | None,
) -> None:
    """Fill one assignment's column of Canvas's gradebook export, for Grades > Import."""
    grades = read_batch(batch_dir)
    filled = canvas_grades(gradebook, grades, assignment, scale=not no_scale)
    _report_filled(filled, out, "Canvas: Grades > Import")
    if feedback_zip is not None:
        content, left_out = canvas_feedback_zip(batch_dir, grades)
        _report_zip(content, left_out, feedback_zip, 'Canvas: the assignment\'s "Re-upload"')


@export.command("moodle")
@_batch_option
@click.option(
    "--worksheet",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    required=True,
    help="The assignment's grading worksheet (View all submissions > \"Download grading "
    'worksheet").',
)
@_lms_options
def export_moodle(
    batch_dir: Path, worksheet: Path, out: Path, no_scale: bool, feedback_zip: Path | None
) -> None:
    """Fill Moodle's grading worksheet (grades and comments), for "Upload grading worksheet"."""
    grades = read_batch(batch_dir)
    filled = moodle_grades(worksheet, grades, scale=not no_scale)
    _report_filled(filled, out, 'Moodle: "Upload grading worksheet"')
    if feedback_zip is not None:
        content, left_out = moodle_feedback_zip(batch_dir, grades)
        _report_zip(
            content, left_out, feedback_zip, 'Moodle: "Upload multiple feedback files in a zip"'
        )


def _report_filled(filled: Filled, out: Path, where: str) -> None:
    write_atomic(out, filled.content)
    if filled.scale.changes:
        click.echo(
            f"scores scaled from {points(filled.scale.total)} to "
            f"{points(filled.scale.possible)} points (the assignment's points)"
        )
    click.echo(f"{out}: {len(filled.written)} grades in {filled.column!r}; import it in {where}")
    if filled.not_in_export:
        click.secho(
            f"not in the platform's file (no grade written): {', '.join(filled.not_in_export)}",
            fg="yellow",
            err=True,
        )
    if filled.not_exported:
        click.secho(
            "left alone (the grader failed on them; rerun the batch): "
            + ", ".join(filled.not_exported),
            fg="yellow",
            err=True,
        )


def _report_zip(content: bytes, left_out: list[str], out: Path, where: str) -> None:
    write_atomic(out, content)
    click.echo(f"{out}: feedback files; upload it in {where}")
    if left_out:
        click.secho(
            f"no feedback file (no platform name or no report): {', '.join(left_out)}",
            fg="yellow",
            err=True,
        )
