"""IPython's own syntax in notebook cells, turned into plain Python line for line.

Every line keeps its number, so tracebacks and notes point at the student's lines:

- ``%magic`` and ``!shell`` lines become ``pass`` at the same indentation (``x = !ls`` and
  ``x = %who`` too), and so do help lines (``Value?``). ``%time``, ``%timeit`` and ``%prun``
  followed by a statement keep the statement: ``%time loss = train()`` runs ``loss = train()``.
- A ``%%time``, ``%%timeit``, ``%%capture`` or ``%%prun`` cell is Python underneath: its
  first line is blanked and the body runs (a ``%%time`` cell that defines ``Value`` still
  defines it).
- A ``%%writefile PATH`` cell is not run: it writes a file, which becomes part of the
  submission (``%%writefile micrograd/engine.py``; ``-a`` appends).
- Any other ``%%`` cell (``%%bash``, ``%%html``, ...) is not Python and is not run.

Line endings are made ``\\n`` first (a notebook saved on Windows may hold ``\\r\\n``).
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass

_PYTHON_CELLS = frozenset({"time", "timeit", "capture", "prun"})
_WRITE_CELLS = frozenset({"writefile", "file"})
_STATEMENT_MAGICS = frozenset({"time", "timeit", "prun"})
# A "%" must be followed by a name ("% b" may continue a modulo expression) and "!" must not
# start "!=" (a continued comparison).
_LINE_MAGIC = re.compile(r"^([ \t]*)(%(?=[A-Za-z%])|!(?!=))")
_ASSIGNED_MAGIC = re.compile(r"^([ \t]*)[A-Za-z_][\w.,\[\] \t]*=[ \t]*(%(?=[A-Za-z])|!(?!=))")
_HELP = re.compile(r"^([ \t]*)(\?{1,2}[A-Za-z_][\w.]*|[A-Za-z_][\w.]*\?{1,2})[ \t]*$")
# The options of %timeit and %prun, some with a value ("-n 3", "-n3", "-s cumulative").
_STATEMENT = re.compile(
    r"^([ \t]*)%(time|timeit|prun)((?:[ \t]+-(?:[nrpslTD][ \t]*\S+|\S+))*)[ \t]+(?=\S)"
)


@dataclass(frozen=True)
class Written:
    """A file a ``%%writefile`` cell writes (its path as the student typed it)."""

    path: str
    text: str
    append: bool


@dataclass(frozen=True)
class CleanCell:
    """A cell made Python: what runs, the file it writes, and what was dropped."""

    source: str
    written: Written | None = None
    not_run: str | None = None  # the %% magic of a cell that is not Python
    magic_lines: int = 0
    shell_lines: int = 0


def normalise_newlines(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")


def clean_cell(source: str) -> CleanCell:
    """Plain Python for one cell (same number of lines), see the module's docstring."""
    source = normalise_newlines(source)
    stripped = source.lstrip()
    if stripped.startswith("%%"):
        header, _, body = stripped.partition("\n")
        name, _, arguments = header[2:].partition(" ")
        blank = "\n" * (source[: len(source) - len(stripped)].count("\n") + 1)
        if name in _PYTHON_CELLS:
            return _clean_lines(blank + body)
        if name in _WRITE_CELLS:
            return CleanCell("", written=_written(arguments, body))
        return CleanCell("", not_run=f"%%{name}")
    return _clean_lines(source)


def _written(arguments: str, body: str) -> Written | None:
    try:
        words = shlex.split(arguments)
    except ValueError:
        return None
    append = "-a" in words or "--append" in words
    paths = [word for word in words if not word.startswith("-")]
    return Written(paths[0], body, append) if len(paths) == 1 else None


def _clean_lines(source: str) -> CleanCell:
    lines = source.splitlines(keepends=True)
    magic = shell = 0
    for index, line in enumerate(lines):
        kept = _STATEMENT.match(line)
        if kept:
            lines[index] = kept.group(1) + line[kept.end() :]
            continue
        found = _LINE_MAGIC.match(line) or _ASSIGNED_MAGIC.match(line)
        helped = None if found else _HELP.match(line)
        if found or helped:
            indent = (found or helped).group(1)  # type: ignore[union-attr]
            if found and found.group(2) == "!":
                shell += 1
            else:
                magic += 1
            lines[index] = f"{indent}pass  # IPython line left out by the grader\n"
    return CleanCell("".join(lines), magic_lines=magic, shell_lines=shell)
