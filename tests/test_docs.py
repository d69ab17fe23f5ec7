"""Docs are part of the product: they must cover every command and stay current."""

from __future__ import annotations

import subprocess
import sys

import click
from exercise_paths import REPO

from grader.cli import cli


def all_commands(command: click.Command, path: str = "micrograde") -> list[str]:
    found = [path]
    if isinstance(command, click.Group):
        context = click.Context(command)
        for name in command.list_commands(context):
            sub = command.get_command(context, name)
            assert sub is not None
            found.extend(all_commands(sub, f"{path} {name}"))
    return found


def test_every_command_has_help_and_appears_in_the_readme() -> None:
    readme = (REPO / "README.md").read_text()
    for path in all_commands(cli):
        if path == "micrograde":
            continue
        command = cli
        for part in path.split()[1:]:
            command = command.get_command(click.Context(command), part)  # type: ignore[union-attr,assignment]
        assert command.help, f"{path} has no help text"
        if not isinstance(command, click.Group):
            assert f"`{path}" in readme, f"README.md does not mention {path}"


def test_cli_reference_is_fresh() -> None:
    done = subprocess.run(
        [sys.executable, "scripts/make_cli_docs.py", "--check"],
        cwd=REPO,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_readme_links_to_existing_docs() -> None:
    import re

    readme = (REPO / "README.md").read_text()
    for target in re.findall(r"\]\((docs/[^)#]+)", readme):
        assert (REPO / target).exists(), f"README links to missing {target}"
