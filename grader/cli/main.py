"""The ``micrograde`` command group and the console script's entry point.

Each command parses options, calls the library, prints a short summary and maps errors to
exit codes: 0 graded, 1 submission rejected (or a self-check difference), 2 usage or
configuration error, 3 infrastructure error (no Docker engine, broken exercise content).
"""

from __future__ import annotations

import sys

import click

from grader import __version__
from grader.cli.batch import batch
from grader.cli.grade import grade, selfcheck
from grader.cli.mutants import mutants
from grader.cli.platforms import export, gradescope
from grader.cli.sandbox import sandbox
from grader.cli.student import check, handout
from grader.errors import GraderError


@click.group()
@click.version_option(__version__, prog_name="micrograde")
def cli() -> None:
    """Grade the micrograd exercise: staged tests in a sandbox, verdicts made outside it."""


for _command in (grade, selfcheck, batch, sandbox, check, handout, gradescope, export, mutants):
    cli.add_command(_command)


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
