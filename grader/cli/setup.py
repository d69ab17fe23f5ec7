"""The grading setup every grading command shares, written once.

Settings, exercise and rubric are read, the sandbox is opened, the warning about a sandbox
that is not a security boundary is printed the same way for every command, and the
sandbox is closed whatever happens.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import click

from grader.exercise import Exercise, load_exercise
from grader.rubric import Rubric, load_rubric
from grader.sandbox.base import Sandbox
from grader.sandbox.select import LOCAL_WARNING, open_sandbox
from grader.settings import Settings, load_settings


@dataclass(frozen=True)
class Grading:
    settings: Settings
    exercise: Exercise
    rubric: Rubric
    sandbox: Sandbox


@contextmanager
def grading(
    sandbox_choice: str, settings_path: Path | None, *, trusted_code: bool = False
) -> Iterator[Grading]:
    """Everything a grading command needs; the sandbox is closed on the way out.

    ``trusted_code``: the code graded is the exercise's own (``selfcheck``), so the local
    sandbox is fine and only a fallback from Docker is worth a word.
    """
    settings = load_settings(settings_path)
    exercise = load_exercise()
    rubric = load_rubric(exercise)
    opened = open_sandbox(sandbox_choice, exercise, settings)
    warning = opened.warning
    if warning is None and not trusted_code and not opened.sandbox.is_security_boundary:
        warning = LOCAL_WARNING
    if warning:
        click.secho(f"warning: {warning}", fg="yellow", err=True)
    try:
        yield Grading(settings, exercise, rubric, opened.sandbox)
    finally:
        opened.sandbox.close()
