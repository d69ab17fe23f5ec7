"""Regenerate docs/cli.md from the commands' own --help text.

python scripts/make_cli_docs.py          # rewrite docs/cli.md
python scripts/make_cli_docs.py --check  # exit 1 if docs/cli.md is stale (CI runs this)
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from grader.cli import cli

TARGET = Path(__file__).resolve().parents[1] / "docs" / "cli.md"
HEADER = """# Command line reference

Generated from each command's `--help` by `scripts/make_cli_docs.py`; do not edit by hand.
Exit codes for every command: 0 success, 1 a rejected submission (or a self-check that
found a difference), 2 a usage or configuration error, 3 an infrastructure error (no Docker
engine or image when Docker was asked for, broken exercise content), 130 interrupted.
"""


def sections(command: click.Command, path: list[str]) -> list[str]:
    context = click.Context(
        command, info_name=" ".join(path), terminal_width=100, max_content_width=100
    )
    text = [f"\n## `{' '.join(path)}`\n\n```\n{command.get_help(context).rstrip()}\n```\n"]
    if isinstance(command, click.Group):
        for name in sorted(command.list_commands(context)):
            sub = command.get_command(context, name)
            if sub is not None and not sub.hidden:
                text.extend(sections(sub, [*path, name]))
    return text


def render() -> str:
    return HEADER + "".join(sections(cli, ["micrograde"]))


def main() -> int:
    text = render()
    if "--check" in sys.argv:
        fresh = TARGET.exists() and TARGET.read_text() == text
        if not fresh:
            print("docs/cli.md is stale: run python scripts/make_cli_docs.py")
        return 0 if fresh else 1
    TARGET.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
