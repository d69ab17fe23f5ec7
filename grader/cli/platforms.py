"""``micrograde gradescope`` (inside Gradescope's container) and ``micrograde export``."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from grader.cli.options import seed_option, settings_option
from grader.exercise import load_exercise
from grader.integrations.gradescope import RESULTS_PATH, SUBMISSION_DIR, run_gradescope
from grader.integrations.gradescope_export import export_gradescope as build_zip
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
    """Package the grader for a course platform."""


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
