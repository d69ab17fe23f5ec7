"""Turn a Jupyter notebook into one importable module that runs its code cells in order.

Notebooks usually hold cells that cannot run in the sandbox (``%matplotlib inline``,
``!pip install``, ``import matplotlib``), so IPython syntax is dropped here and every cell
runs inside its own ``try``: a failing cell prints a one-line warning and the next cells
still run, as they would in Jupyter after an error. Each cell's source is registered in
``linecache`` under ``<notebook cell N>`` (N counts every cell, as the student scrolls), so
tracebacks show the student's own lines. The generated module imports nothing from
micrograde: it runs inside the sandbox on its own.
"""

from __future__ import annotations

import json
import re
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from grader.errors import SubmissionRejected
from grader.intake.locate import scan_text
from grader.intake.model import CLASS_NAMES

# The name of the generated module. The workspace comes last on sys.path, so an installed
# package of the same name (Jupyter's own "notebook", in a student's local environment)
# would win over it; the sandbox image has no such package.
NOTEBOOK_MODULE = "student_notebook"

# Dropped lines become `pass` at the same indentation, so every other line keeps its number
# (tracebacks then match the notebook) and a block whose only line was a magic stays valid.
# A "%" must be followed by a name ("% b" may continue a modulo expression) and "!" must not
# start "!=" (a continued comparison).
_LINE_MAGIC = re.compile(r"^([ \t]*)(%(?=[A-Za-z%])|!(?!=))")


def _nbformat() -> Any:
    # Imported on first use: nbformat (with jsonschema) costs a quarter of a second to
    # import, and most submissions are not notebooks.
    import nbformat

    return nbformat


@dataclass(frozen=True)
class Cell:
    """One code cell: its position among all cells (1-based) and its runnable source."""

    number: int
    source: str


@dataclass(frozen=True)
class NotebookModule:
    """The generated module's text, the classes its cells define, and notes for the student."""

    text: str
    classes: tuple[str, ...]
    notes: tuple[str, ...]


def build_notebook_module(data: bytes, label: str) -> NotebookModule:
    """Read a notebook and generate the module that replays it, or reject it as unreadable."""
    notebook, notes = _read(data, label)
    cells, ipython_notes = _drop_ipython(_code_cells(notebook, label), label)
    notes += ipython_notes
    found: set[str] = set()
    for cell in cells:
        scan = scan_text(cell.source, f"{label} cell {cell.number}")
        found.update(scan.classes)
        if scan.problem and scan.classes:
            notes.append(scan.problem)
    classes = tuple(name for name in CLASS_NAMES if name in found)
    return NotebookModule(render_module(cells, label), classes, tuple(notes))


def _read(data: bytes, label: str) -> tuple[Any, list[str]]:
    """Parse the notebook with nbformat, with a precise reason when it cannot be read.

    A notebook that reads but breaks the schema somewhere (a malformed output, an editor's
    odd metadata) is still graded: only its code cells matter, so it gets a note instead.
    """
    try:
        text = data.decode("utf-8-sig")
        shape = json.loads(text)
    except UnicodeDecodeError:
        raise SubmissionRejected(
            f"{label} is not a readable notebook: it is not UTF-8 text"
        ) from None
    except (ValueError, RecursionError) as error:
        raise SubmissionRejected(
            f"{label} is not a readable notebook: it is not valid JSON ({error})"
        ) from None
    if not isinstance(shape, dict) or "nbformat" not in shape:
        raise SubmissionRejected(
            f"{label} is JSON but not a Jupyter notebook (it has no nbformat version)"
        )
    with warnings.catch_warnings():
        # nbformat warns about benign things (missing cell ids) while normalising.
        warnings.simplefilter("ignore")
        try:
            reads: Callable[..., Any] = _nbformat().reads
            notebook = reads(text, as_version=4)
        except Exception as error:  # noqa: BLE001 - nbformat raises many kinds (ValidationError, TypeError...)
            raise SubmissionRejected(
                f"{label} is JSON but not a valid Jupyter notebook ({_first_line(error)})"
            ) from None
        try:
            _nbformat().validate(notebook)
        except Exception as error:  # noqa: BLE001 - any malformed notebook is the student's
            return notebook, [
                f"{label} does not fully follow the notebook format "
                f"({_first_line(error)}); its code cells were read anyway"
            ]
    return notebook, []


def _first_line(error: Exception) -> str:
    detail = str(error).strip()
    return detail.splitlines()[0] if detail else type(error).__name__


def _code_cells(notebook: Any, label: str) -> list[Cell]:
    """The code cells, numbered among all cells; refuse cells that have no readable source."""
    cells: list[Cell] = []
    for number, cell in enumerate(notebook.get("cells", []), start=1):
        kind = cell.get("cell_type") if isinstance(cell, dict) else None
        source = cell.get("source") if isinstance(cell, dict) else None
        if isinstance(source, list) and all(isinstance(part, str) for part in source):
            source = "".join(source)
        if not isinstance(kind, str) or not isinstance(source, str):
            raise SubmissionRejected(
                f"{label} is JSON but not a valid Jupyter notebook "
                f"(cell {number} has no readable source)"
            )
        if kind == "code":
            cells.append(Cell(number, source))
    return cells


def _drop_ipython(cells: list[Cell], label: str) -> tuple[list[Cell], list[str]]:
    """Drop %% cell magics whole, and %magic and !shell lines one by one (counted for notes)."""
    kept: list[Cell] = []
    dropped_cells: list[int] = []
    counts = {"%": 0, "!": 0}
    for cell in cells:
        if cell.source.lstrip().startswith("%%"):
            dropped_cells.append(cell.number)
            continue
        lines = cell.source.splitlines(keepends=True)
        for index, line in enumerate(lines):
            match = _LINE_MAGIC.match(line)
            if match:
                counts[match.group(2)] += 1
                lines[index] = f"{match.group(1)}pass  # IPython line dropped by the grader\n"
        kept.append(Cell(cell.number, "".join(lines)))
    return kept, _ipython_notes(label, counts, dropped_cells)


def _ipython_notes(label: str, counts: dict[str, int], dropped_cells: list[int]) -> list[str]:
    notes: list[str] = []
    if counts["%"]:
        notes.append(f"notebook {label}: dropped {_lines(counts['%'])} of IPython magic (%...)")
    if counts["!"]:
        notes.append(f"notebook {label}: dropped {_lines(counts['!'])} of shell commands (!...)")
    if dropped_cells:
        numbers = ", ".join(str(number) for number in dropped_cells)
        noun = "cell" if len(dropped_cells) == 1 else "cells"
        notes.append(f"notebook {label}: skipped {noun} {numbers}, run by a %% cell magic")
    return notes


def _lines(count: int) -> str:
    return "1 line" if count == 1 else f"{count} lines"


_TEMPLATE = '''"""Generated by micrograde from the notebook {label}: runs its code cells in order.

Each cell runs on its own; a cell that raises prints a one-line warning and the next
cells still run, as in Jupyter. Tracebacks name cells as <notebook cell N>.
"""

import linecache as _notebook_linecache
import sys as _notebook_sys

_NOTEBOOK_CELLS = [
{cells}]


def _notebook_run_cells():
    for number, source in _NOTEBOOK_CELLS:
        filename = "<notebook cell %d>" % number
        lines = source.splitlines(True)
        # mtime None marks the entry as not backed by a file, so checkcache keeps it.
        _notebook_linecache.cache[filename] = (len(source), None, lines, filename)
        try:
            exec(compile(source, filename, "exec"), globals())
        except Exception as error:
            message = (str(error).strip().splitlines() or [""])[0]
            print("warning: notebook cell %d failed and was skipped: %s: %s"
                  % (number, type(error).__name__, message),
                  file=_notebook_sys.stderr, flush=True)


_notebook_run_cells()
del _notebook_run_cells, _NOTEBOOK_CELLS, _notebook_linecache, _notebook_sys
'''


def render_module(cells: list[Cell], label: str) -> str:
    """The text of the generated module; sources are embedded as ASCII-only literals."""
    body = "".join(f"    ({cell.number}, {ascii(cell.source)}),\n" for cell in cells)
    return _TEMPLATE.format(label=ascii(label)[1:-1].replace('"""', "'''"), cells=body)
