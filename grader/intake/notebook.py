"""Turn a Jupyter notebook into one importable module that runs its code cells in order.

IPython's syntax is made plain Python line for line (``magics.py``: ``%matplotlib inline``
and ``!pip install`` lines left out, a ``%%time`` cell's body kept, a ``%%writefile`` cell's
file added to the submission), each cell is cut into its top-level statements
(``statements.py``), and the generated module (``stepwise.py``) runs them one by one: a
statement that fails is reported and the next one runs, so a missing plotting library
costs its own import line and nothing else. Tracebacks name ``<notebook cell N>`` (N counts
every cell, as the student scrolls) and the student's own line numbers. The generated
module imports nothing from micrograde: it runs inside the sandbox on its own.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import PurePosixPath
from typing import Any

from grader.errors import SubmissionRejected
from grader.intake.locate import scan_text
from grader.intake.magics import CleanCell, Written, clean_cell
from grader.intake.model import CLASS_NAMES, Source
from grader.intake.statements import mark_needed, split
from grader.intake.stepwise import render

# The name of the generated module. The workspace comes last on sys.path, so an installed
# package of the same name (Jupyter's own "notebook", in a student's local environment)
# would win over it; the sandbox image has no such package.
NOTEBOOK_MODULE = "student_notebook"


def _nbformat() -> Any:
    # Imported on first use: nbformat (with jsonschema) costs a quarter of a second to
    # import, and most submissions are not notebooks.
    import nbformat

    return nbformat


@dataclass(frozen=True)
class Cell:
    """One code cell: its position among all cells (1-based), source and saved run number."""

    number: int
    source: str
    execution_count: int | None = None


@dataclass(frozen=True)
class NotebookModule:
    """The generated module's text, the classes its cells define, the files its
    ``%%writefile`` cells write, the cells as run (for the host's notes), and notes."""

    text: str
    classes: tuple[str, ...]
    notes: tuple[str, ...]
    written: dict[PurePosixPath, str]
    sources: tuple[Source, ...] = ()


def build_notebook_module(data: bytes, label: str) -> NotebookModule:
    """Read a notebook and generate the module that replays it, or reject it as unreadable."""
    notebook, notes = _read(data, label)
    cells = _code_cells(notebook, label)
    notes += _order_notes(cells, label)
    cleaned = [(cell.number, clean_cell(cell.source)) for cell in cells]
    written, write_notes = _written_files(cleaned, label)
    notes += write_notes + _ipython_notes(label, cleaned)
    sources = [
        Source(number, clean.source, split(clean.source, f"{label} cell {number}"))
        for number, clean in cleaned
        if clean.written is None and clean.not_run is None
    ]
    marked = mark_needed([source.statements for source in sources])
    sources = [replace(source, statements=m) for source, m in zip(sources, marked, strict=True)]
    found: set[str] = set()
    for source in sources:
        scan = scan_text(source.text, f"{label} cell {source.cell}")
        found.update(scan.classes)
        if scan.problem and scan.classes:
            notes.append(scan.problem)
    classes = tuple(name for name in CLASS_NAMES if name in found)
    return NotebookModule(render(label, sources), classes, tuple(notes), written, tuple(sources))


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
            count = cell.get("execution_count")
            cells.append(Cell(number, source, count if type(count) is int else None))
    return cells


def _order_notes(cells: list[Cell], label: str) -> list[str]:
    """Say when the saved execution counts show another run order than the document's."""
    ran = [(cell.execution_count, cell.number) for cell in cells if cell.execution_count]
    for index, (count, number) in enumerate(ran):
        earlier = [later for later_count, later in ran[index + 1 :] if later_count < count]
        if earlier:
            return [
                f"notebook {label}: the saved execution counts show that its cells were "
                f"last run in another order than they appear (cell {earlier[0]} ran before "
                f"cell {number}); the grader ran them from top to bottom, as a fresh kernel "
                "would"
            ]
    return []


def _written_files(
    cleaned: list[tuple[int, CleanCell]], label: str
) -> tuple[dict[PurePosixPath, str], list[str]]:
    """The files ``%%writefile`` cells write, in cell order (``-a`` appends)."""
    files: dict[PurePosixPath, str] = {}
    notes: list[str] = []
    for number, clean in cleaned:
        if clean.written is None:
            continue
        path = _safe_path(clean.written)
        if path is None:
            notes.append(
                f"notebook {label}: cell {number} writes a file with %%writefile whose path "
                "is not a relative path inside the notebook's folder; it was left out"
            )
            continue
        text = clean.written.text
        files[path] = files.get(path, "") + text if clean.written.append else text
    if files:
        names = ", ".join(str(path) for path in files)
        notes.append(f"notebook {label}: added the file(s) its %%writefile cells write: {names}")
    return files, notes


def _safe_path(written: Written) -> PurePosixPath | None:
    path = PurePosixPath(written.path.replace("\\", "/"))
    if path.is_absolute() or ".." in path.parts or not path.parts or path.name in ("", "."):
        return None
    return PurePosixPath(*[part for part in path.parts if part != "."])


def _ipython_notes(label: str, cleaned: list[tuple[int, CleanCell]]) -> list[str]:
    magic = sum(clean.magic_lines for _, clean in cleaned)
    shell = sum(clean.shell_lines for _, clean in cleaned)
    not_run = [f"{number} ({clean.not_run})" for number, clean in cleaned if clean.not_run]
    notes: list[str] = []
    if magic:
        notes.append(f"notebook {label}: left out {_lines(magic)} of IPython magic (%...)")
    if shell:
        notes.append(f"notebook {label}: left out {_lines(shell)} of shell commands (!...)")
    if not_run:
        noun = "cell" if len(not_run) == 1 else "cells"
        notes.append(
            f"notebook {label}: did not run {noun} {', '.join(not_run)}: "
            "a %% cell magic whose body is not Python"
        )
    return notes


def _lines(count: int) -> str:
    return "1 line" if count == 1 else f"{count} lines"
