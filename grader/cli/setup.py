"""The grading setup every grading command shares, written once.

Settings, exercise and rubric are read, the sandbox is opened, the warning about a sandbox
that is not a security boundary is printed the same way for every command, and the
sandbox is closed whatever happens.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path

import click

from grader.errors import ConfigError
from grader.exercise import Exercise, load_exercise
from grader.rubric import Rubric, load_rubric
from grader.sandbox.base import Sandbox
from grader.sandbox.local import LocalSandbox
from grader.sandbox.select import open_sandbox, packages_warning, sandbox_warning
from grader.sandbox.users import Private
from grader.settings import LocalSettings, Settings, load_settings


@dataclass(frozen=True)
class Grading:
    settings: Settings
    exercise: Exercise
    rubric: Rubric
    sandbox: Sandbox


@contextmanager
def grading(
    sandbox_choice: str,
    settings_path: Path | None,
    *,
    trusted_code: bool = False,
    private: Sequence[Private] = (),
    out_dir: Path | None = None,
) -> Iterator[Grading]:
    """Everything a grading command needs; the sandbox is closed on the way out.

    ``trusted_code``: the code graded is the exercise's own (``selfcheck``), so the local
    sandbox is fine, as micrograde's own user, and only a fallback from Docker is worth a
    word. ``private`` (the submissions) and ``out_dir`` must be unreadable by sandbox users;
    with sandbox users a new ``out_dir`` is made private from the start.
    """
    settings = load_settings(settings_path)
    if trusted_code:
        settings = replace(settings, local=LocalSettings())
    if settings.local.users and out_dir is not None:
        out_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        private = (*private, Private(out_dir.resolve(), "the output folder"))
    exercise = load_exercise()
    rubric = load_rubric(exercise)
    opened = open_sandbox(sandbox_choice, exercise, settings, private)
    warning = opened.warning
    if warning is None and not trusted_code:
        warning = sandbox_warning(opened.sandbox)
    for said in (warning, packages_warning(opened.sandbox, settings)):
        if said:
            click.secho(f"warning: {said}", fg="yellow", err=True)
    try:
        yield Grading(settings, exercise, rubric, opened.sandbox)
    finally:
        opened.sandbox.close()


def job_slots(sandbox: Sandbox, jobs: int, chosen: bool) -> int:
    """How many submissions may run at once: one per sandbox user, when there are users.

    A ``--jobs`` left at its default is lowered to the number of users; one asked for
    that exceeds it is refused (two jobs must never share a user).
    """
    users = sandbox.users if isinstance(sandbox, LocalSandbox) else ()
    if not users or jobs <= len(users):
        return jobs
    if not chosen:
        return len(users)
    raise ConfigError(
        f"--jobs {jobs} needs {jobs} sandbox users, but settings name {len(users)} "
        f"([local] users): name one per job, or pass --jobs {len(users)}"
    )
