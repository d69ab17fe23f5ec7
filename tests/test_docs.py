"""Docs are part of the product: they must cover every command and stay current."""

from __future__ import annotations

import re
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


# ------------------------------------------------- every path, command and option cited exists

DOC_FILES = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
_CODE = re.compile(r"`([^`\n]+)`")
_LINK = re.compile(r"\]\(([^)#\s]+)")
_PATH = re.compile(
    r"(?<![\w./-])(?:\.ci|benchmarks|docs|examples|grader|reference|rubrics|scripts|"
    r"skeletons|tests)/[\w./<>*{}-]*"
)
_DOTTED = re.compile(r"(?<![\w./-])grader(?:\.[A-Za-z_]\w*)+")
_COMMAND = re.compile(r"(?:^|\s|\.venv/bin/)micrograde((?:\s+[a-z][\w-]*)*)((?:\s+\S+)*)")
_OPTION = re.compile(r"(?<![\w-])(--[a-z][\w-]*)")


def _cited(pattern: re.Pattern[str]) -> list[tuple[str, str]]:
    """(document, text) of every code span, fenced line and link target in the docs.

    A section whose heading says "planned" names what does not exist yet: it is skipped, and
    so is a whole page whose status line says so.
    """
    found = []
    for doc in DOC_FILES:
        if "\nStatus: planned" in doc.read_text(encoding="utf-8")[:400]:
            continue
        text = re.sub(
            r"(?ms)^(#+) [^\n]*[Pp]lanned[^\n]*\n.*?(?=^#+ |\Z)",
            "",
            doc.read_text(encoding="utf-8"),
        )
        spans = _CODE.findall(text) + _LINK.findall(text)
        fenced = [
            line
            for block in re.findall(r"```[a-z]*\n(.*?)```", text, re.S)
            for line in block.splitlines()
        ]
        for span in spans + fenced:
            found += [(doc.name, match) for match in pattern.findall(span)]
    return found


def _exists(path: str, doc: str) -> bool:
    base = (REPO / "docs") if doc != "README.md" and not path.startswith(_ROOTS) else REPO
    path = path.rstrip(".,:;)").removesuffix("/")
    path = re.sub(r"step_k\b|step_<k>", "step_1", path)
    pattern = re.sub(r"<[^>]+>|\{[^}]+\}", "*", path)
    return any(base.glob(pattern)) or any(REPO.glob(pattern))


_ROOTS = (
    ".ci",
    "benchmarks",
    "docs",
    "examples",
    "grader",
    "reference",
    "rubrics",
    "scripts",
    "skeletons",
    "tests",
)


def test_every_cited_path_exists() -> None:
    missing = sorted({f"{doc}: {path}" for doc, path in _cited(_PATH) if not _exists(path, doc)})
    assert missing == []


def test_every_cited_module_and_name_exists() -> None:
    import importlib

    missing = set()
    for doc, dotted in _cited(_DOTTED):
        parts = dotted.split(".")
        for cut in range(len(parts), 0, -1):
            try:
                target = importlib.import_module(".".join(parts[:cut]))
            except ImportError:
                continue
            try:
                for name in parts[cut:]:
                    target = getattr(target, name)
            except AttributeError:
                missing.add(f"{doc}: {dotted}")
            break
        else:
            missing.add(f"{doc}: {dotted}")
    assert sorted(missing) == []


def _command(words: list[str]) -> tuple[click.Command, list[str]] | None:
    """The deepest command ``words`` names, and the words left after it."""
    command: click.Command = cli
    used = 0
    for word in words:
        if not isinstance(command, click.Group):
            break
        sub = command.get_command(click.Context(command), word)
        if sub is None:
            break
        command, used = sub, used + 1
    return command, words[used:]


def test_every_cited_command_and_option_exists() -> None:
    problems = set()
    for doc, (names, rest) in _cited(_COMMAND):
        words = names.split()
        found = _command(words)
        assert found is not None
        command, left = found
        if left and isinstance(command, click.Group):
            problems.add(f"{doc}: micrograde {names.strip()}: no such command")
            continue
        known = {opt for param in command.params for opt in getattr(param, "opts", [])}
        known |= {"--help", "--version"}
        for option in _OPTION.findall(rest):
            if option not in known:
                problems.add(f"{doc}: micrograde {names.strip()}: no option {option}")
    assert sorted(problems) == []


def test_the_citation_finders_find_what_is_cited() -> None:
    # The finders themselves must see citations, or the three tests above prove nothing.
    paths = {path for _, path in _cited(_PATH)}
    assert {"docs/batch.md", "grader/harness/"} & paths or len(paths) > 20
    commands = {names.strip() for _, (names, _) in _cited(_COMMAND)}
    assert {"grade", "batch", "sandbox build"} <= commands
    assert _exists("grader/sandbox/bundle.py", "README.md")
    assert not _exists("grader/bundle.py", "README.md")
