"""The ``micrograde`` command line: a thin layer over the library.

Each command parses options, calls the library, prints a short summary and maps errors to
exit codes: 0 graded, 1 submission rejected (or a self-check difference), 2 usage or
configuration error, 3 infrastructure error (no Docker engine, broken exercise content).
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from grader import __version__
from grader.cli_options import parse_steps, sandbox_option, settings_option, steps_option
from grader.cli_sandbox import sandbox as sandbox_group
from grader.errors import GraderError
from grader.exercise import load_exercise
from grader.output import write_results
from grader.pipeline import GradeRequest, grade_submission
from grader.rubric import load_rubric
from grader.sandbox.select import open_sandbox
from grader.settings import load_settings
from grader.summary import print_summary


@click.group()
@click.version_option(__version__, prog_name="micrograde")
def cli() -> None:
    """Grade the micrograd exercise: staged tests in a sandbox, verdicts made outside it."""


@cli.command()
@click.argument("submission", type=click.Path(exists=True, path_type=Path))
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path),
              default=Path("micrograde-out"), show_default=True,
              help="Folder for results.json and the HTML report.")
@sandbox_option
@steps_option
@click.option("--seed", type=click.IntRange(0, 2**31 - 1),
              help="Replay a grading with this seed (see results.json); default: a new one.")
@settings_option()
def grade(submission: Path, out_dir: Path, sandbox: str, steps_text: str | None,
          seed: int | None, settings_path: Path | None) -> None:
    """Grade one SUBMISSION: a folder, a .py file, a .zip or an .ipynb notebook."""
    steps = parse_steps(steps_text)
    settings = load_settings(settings_path)
    exercise = load_exercise()
    rubric = load_rubric(exercise)
    opened = open_sandbox(sandbox, exercise, settings)
    if opened.warning:
        click.secho(f"warning: {opened.warning}", fg="yellow", err=True)
    try:
        result = grade_submission(GradeRequest(submission, steps, seed), exercise=exercise,
                                  rubric=rubric, sandbox=opened.sandbox, settings=settings)
    finally:
        opened.sandbox.close()
    path = write_results(result, out_dir)
    print_summary(result, out_dir)
    click.echo(f"results: {path}")
    sys.exit(0 if result.status == "graded" else 1)


@cli.command()
@sandbox_option
@click.option("--seed", type=click.IntRange(0, 2**31 - 1), help="Seed for every grading.")
@settings_option()
def selfcheck(sandbox: str, seed: int | None, settings_path: Path | None) -> None:
    """Check the exercise: each reference step gets full marks, each skeleton fails its step."""
    from grader.selfcheck import print_table, run_selfcheck

    settings = load_settings(settings_path)
    exercise = load_exercise()
    opened = open_sandbox(sandbox, exercise, settings)
    if opened.warning:
        click.secho(f"warning: {opened.warning}", fg="yellow", err=True)
    try:
        rows = run_selfcheck(exercise, load_rubric(exercise), opened.sandbox, settings, seed)
    finally:
        opened.sandbox.close()
    ok = print_table(rows)
    sys.exit(0 if ok else 1)


cli.add_command(sandbox_group)

from grader.cli_student import check, handout  # noqa: E402 - after cli, which they join

cli.add_command(check)
cli.add_command(handout)

from grader.cli_batch import batch, export, gradescope  # noqa: E402 - after cli, which they join

cli.add_command(batch)
cli.add_command(gradescope)
cli.add_command(export)


def main() -> None:
    """Entry point of the console script: library errors become messages and exit codes."""
    try:
        cli.main(standalone_mode=False)
    except click.exceptions.Exit as done:
        sys.exit(done.exit_code)
    except click.ClickException as usage:
        usage.show()
        sys.exit(usage.exit_code)
    except click.Abort:
        click.echo("Aborted.", err=True)
        sys.exit(130)
    except GraderError as error:
        click.secho(f"error: {error}", fg="red", err=True)
        sys.exit(error.exit_code)
