"""Options and argument parsing shared by the commands: one definition of each."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from grader.exercise import STEPS
from grader.sandbox.select import CHOICES

F = TypeVar("F", bound=Callable[..., Any])
MAX_SEED = 2**31 - 1


def parse_steps(value: str | None) -> tuple[int, ...]:
    """``"1,3"`` -> ``(1, 3)``; nothing -> every step."""
    if not value:
        return STEPS
    try:
        steps = tuple(sorted({int(part) for part in value.split(",") if part.strip()}))
    except ValueError:
        raise click.BadParameter("use step numbers separated by commas, e.g. 1,2,3") from None
    if not steps or any(step not in STEPS for step in steps):
        raise click.BadParameter("steps are numbered 1 to 5")
    return steps


sandbox_option = click.option(
    "--sandbox",
    type=click.Choice(CHOICES),
    default="auto",
    show_default=True,
    help="Where student code runs: docker (isolated), local (a subprocess, not a security "
    "boundary), or auto (docker when an engine and the image are there, else local "
    "with a warning).",
)
steps_option = click.option(
    "--steps", "steps_text", metavar="1,2,...", help="Grade only these steps (default: all five)."
)


def seed_option(
    help: str = "Replay a grading with this seed (see results.json); default: a new one.",
    default: int | None = None,
) -> Callable[[F], F]:
    return click.option(
        "--seed",
        type=click.IntRange(0, MAX_SEED),
        default=default,
        show_default=default is not None,
        help=help,
    )


def settings_option(what: str = "limits and time budgets") -> Callable[[F], F]:
    return click.option(
        "--settings",
        "settings_path",
        type=click.Path(exists=True, dir_okay=False, path_type=Path),
        help=f"A TOML file overriding {what}: the [limits], [time], [docker], [local] and "
        "[sandbox] tables of the defaults, same keys (the settings page of the "
        "documentation lists them).",
    )


def seeds_option(help: str) -> Callable[[F], F]:
    """``--seed`` given any number of times (commands that grade over several seeds)."""
    return click.option(
        "seeds", "--seed", type=click.IntRange(0, MAX_SEED), multiple=True, help=help
    )
