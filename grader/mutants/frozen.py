"""The frozen set of mutants, and turning one into a submission folder or file.

``frozen.json`` (beside this module) lists each mutant: which source shape it changes (the
reference, Karpathy's layout, one file, a notebook), the line it replaces and with what,
and the step, method and phase it breaks. A mutant applies only where its line still reads
exactly as frozen: a changed source is an error that names the mutant, never a silently
different mutant.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path

from grader.errors import ExerciseError

FROZEN = Path(__file__).with_name("frozen.json")


@dataclass(frozen=True)
class Mutant:
    id: str
    step: int
    method: str
    phase: str  # "forward", "backward", "label", "children" or "nonlin"
    operator: str
    source: str
    file: str
    line: int
    find: str
    replace: str
    note: str = ""


@dataclass(frozen=True)
class MutantSet:
    mutants: tuple[Mutant, ...]
    excluded: dict[str, str]  # mutant id -> why it is left out of the measurements
    sources: dict[str, str]  # source shape -> path in a checkout


def load_set(path: Path = FROZEN) -> MutantSet:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        mutants = tuple(Mutant(**row) for row in data["mutants"])
        excluded = {row["id"]: row["reason"] for row in data.get("excluded", [])}
        sources = dict(data["sources"])
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ExerciseError(f"the mutant set {path} cannot be read: {exc}") from exc
    ids = [m.id for m in mutants]
    if len(set(ids)) != len(ids):
        raise ExerciseError(f"{path}: mutant ids must be unique")
    return MutantSet(mutants, excluded, sources)


def materialize(mutant: Mutant, sources: dict[str, str], root: Path, target: Path) -> Path:
    """Write ``mutant``'s submission at ``target`` (a folder, or a file with the source's
    suffix); ``root`` is the checkout that holds the sources. Returns what was written."""
    original = root / sources[mutant.source]
    if original.is_dir():
        shutil.copytree(original, target, ignore=shutil.ignore_patterns("__pycache__"))
        _replace_in(target / mutant.file, mutant)
        return target
    written = target.with_suffix(original.suffix)
    shutil.copy(original, written)
    if original.suffix == ".ipynb":
        _replace_in_notebook(written, mutant)
    else:
        _replace_in(written, mutant)
    return written


def apply_to(mutant: Mutant, folder: Path) -> None:
    """Apply ``mutant`` to its file in ``folder``, a copy of its (folder) source: a second
    fault on top of another (the later line first, within one file)."""
    _replace_in(folder / mutant.file, mutant)


def _replace_in(path: Path, mutant: Mutant) -> None:
    lines = path.read_text(encoding="utf-8").split("\n")
    path.write_text("\n".join(_replaced(lines, mutant)), encoding="utf-8")


def _replaced(lines: list[str], mutant: Mutant) -> list[str]:
    count = mutant.find.count("\n") + 1
    start = mutant.line - 1
    if "\n".join(lines[start : start + count]) != mutant.find:
        raise ExerciseError(
            f"mutant {mutant.id}: line {mutant.line} of {mutant.file} no longer reads "
            f"{mutant.find!r}: the source changed since the set was frozen"
        )
    return lines[:start] + mutant.replace.split("\n") + lines[start + count :]


def _replace_in_notebook(path: Path, mutant: Mutant) -> None:
    """A notebook's code cells, read as one text (the frozen line numbers count that way)."""
    notebook = json.loads(path.read_text(encoding="utf-8"))
    cells = [c for c in notebook["cells"] if c["cell_type"] == "code"]
    texts = ["".join(c["source"]) for c in cells]
    lines = "\n".join(texts).split("\n")
    changed = _replaced(lines, mutant)
    # Cut the changed text back into cells: each keeps its number of lines, but the one
    # that holds the mutated line, which gains or loses what the replacement does.
    delta = len(changed) - len(lines)
    old_at = new_at = 0
    for cell, text in zip(cells, texts, strict=True):
        size = len(text.split("\n"))
        new_size = size + delta if old_at <= mutant.line - 1 < old_at + size else size
        cell["source"] = "\n".join(changed[new_at : new_at + new_size]).splitlines(keepends=True)
        old_at, new_at = old_at + size, new_at + new_size
    path.write_text(json.dumps(notebook, indent=1), encoding="utf-8")
