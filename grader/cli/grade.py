"""``micrograde grade`` (one submission) and ``micrograde selfcheck`` (the exercise itself)."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from grader.cli.options import (
    parse_steps,
    sandbox_option,
    seed_option,
    settings_option,
    steps_option,
)
from grader.cli.setup import grading
from grader.cli.summary import print_summary
from grader.output import write_results
from grader.pipeline import GradeRequest, grade_submission
from grader.sandbox.users import Private


@click.command()
@click.argument("submission", type=click.Path(exists=True, path_type=Path))
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("micrograde-out"),
    show_default=True,
    help="Folder for results.json and the HTML report.",
)
@sandbox_option
@steps_option
@seed_option()
@settings_option()
def grade(
    submission: Path,
    out_dir: Path,
    sandbox: str,
    steps_text: str | None,
    seed: int | None,
    settings_path: Path | None,
) -> None:
    """Grade one SUBMISSION: a folder, a .py file, a .zip or an .ipynb notebook."""
    steps = parse_steps(steps_text)
    private = (Private(submission.resolve(), "the submission"),)
    with grading(sandbox, settings_path, private=private, out_dir=out_dir) as setup:
        result = grade_submission(
            GradeRequest(submission, steps, seed),
            exercise=setup.exercise,
            rubric=setup.rubric,
            sandbox=setup.sandbox,
            settings=setup.settings,
        )
    path = write_results(result, out_dir)
    print_summary(result, out_dir)
    click.echo(f"results: {path}")
    sys.exit(0 if result.status == "graded" else 1)


@click.command()
@sandbox_option
@seed_option("Seed for every grading; default: a new one.")
@settings_option()
def selfcheck(sandbox: str, seed: int | None, settings_path: Path | None) -> None:
    """Check the exercise: each reference step gets full marks, each skeleton fails its step."""
    from grader.selfcheck import run_selfcheck

    with grading(sandbox, settings_path, trusted_code=True) as setup:
        rows = run_selfcheck(setup.exercise, setup.rubric, setup.sandbox, setup.settings, seed)
    click.echo(f"{'solution':<22} {'scores by step':<40} verdict")
    for row in rows:
        verdict = click.style("ok", fg="green") if row.ok else click.style("DIFFERS", fg="red")
        click.echo(f"{row.name:<22} {row.summary:<40} {verdict}")
        for problem in row.problems:
            click.echo(f"    {problem}")
    ok = all(row.ok for row in rows)
    click.secho(
        f"selfcheck {'passed' if ok else 'FAILED'} (seed {rows[0].seed if rows else 0})",
        fg="green" if ok else "red",
        bold=True,
    )
    sys.exit(0 if ok else 1)
