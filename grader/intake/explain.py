"""What happened to a submission's top-level code, in the host's words.

The sandbox reports facts with checked fields only (``wire.py``: a module, a cell, a line,
an exception's type, a module name); the runner adds the statements it left out. Here each
fact is checked again against what intake knows (the statements it cut, the stand-in list,
the modules the submission imports) and turned into notes a student can read, grouped:
"cells 1 (line 1) and 4 (line 2): matplotlib is not available to the grader; plotting calls
were ignored". A fact that does not fit is dropped: a submission cannot make the grader say
something it did not check.

The one cause that explains failures, when there is one, becomes a ``Diagnosis`` instead of
a note (``diagnosis_sentence`` writes its sentence): a package the grader does not provide
that the graded code needs (an import that failed, then a ``NameError`` on a name it would
have bound, or ``No module named ...`` in a check), or top-level code that was left out for
running too long.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from grader.harness.standins import DEFAULT as DEFAULT_STANDINS
from grader.intake.model import Statement, TopLevel, join_and
from grader.models import Diagnosis

MAX_PLACES = 5
MAX_ERRORS = 6  # kinds of exception told apart; more are counted
_NAME_ERROR = re.compile(r"^name '([A-Za-z_]\w*)' is not defined")
_NO_MODULE = re.compile(r"^No module named '([A-Za-z_][\w.]*)'")
_WHAT_STANDS_IN = {
    "matplotlib": "plotting calls were ignored",
    "seaborn": "plotting calls were ignored",
    "graphviz": "graph drawing calls were ignored",
    "IPython": "display calls were ignored",
    "ipywidgets": "widgets were ignored",
    "tqdm": "progress bars were left out (the loops themselves still ran)",
    "google.colab": "Colab calls such as drive.mount did nothing",
}


@dataclass(frozen=True)
class Place:
    """Where in the submission: a notebook cell and line, or a file (or module) and line."""

    file: str
    cell: int
    line: int

    def __str__(self) -> str:
        return (
            f"cell {self.cell}, line {self.line}" if self.cell else f"{self.file}, line {self.line}"
        )


@dataclass(frozen=True)
class CheckError:
    """A failed check's exception, as the sandbox described it (type, message, cause)."""

    type: str
    message: str
    cause_type: str = ""
    cause_message: str = ""


@dataclass(frozen=True)
class Explained:
    notes: tuple[str, ...] = ()
    diagnosis: Diagnosis | None = None


@dataclass
class _Facts:
    standins: dict[str, list[Place]] = field(default_factory=dict)  # package -> places
    raised: dict[str, list[Place]] = field(default_factory=dict)  # exception type -> places
    missing: dict[str, list[Place]] = field(default_factory=dict)  # package -> its imports
    # Names lost to a missing package: those its import would have bound, and those bound
    # by later statements that failed on one of them (d = a * b, when __add__ needs np).
    lost: dict[str, str] = field(default_factory=dict)
    after: dict[str, int] = field(default_factory=dict)  # package -> statements that failed on it


def explain_toplevel(
    toplevel: Mapping[str, TopLevel],
    events: Sequence[Mapping[str, object]],
    cut: Sequence[tuple[str, int, int, str]],
    errors: Sequence[CheckError],
    *,
    imported: Iterable[str] = (),
    standins: Iterable[str] = (),
    import_seconds: float = 0.0,
) -> Explained:
    """Notes and the diagnosis for what the sandbox reported (see the module docstring).

    ``imported``: top-level modules the submission's own files import (for failures in
    modules that were imported whole); ``standins``: the extra names settings allow.
    """
    facts = _Facts()
    names = (*DEFAULT_STANDINS, *standins)
    for event in sorted(events, key=_order):
        _take(event, toplevel, names, facts)
    imported = set(imported) | {
        module for top in toplevel.values() for s in _statements(top) for module in s.modules
    }
    needed = _needed_package(facts, errors, imported)
    cuts = [_cut_place(toplevel, item) for item in cut]
    diagnosis = None
    if needed is not None:
        diagnosis = _missing_diagnosis(needed, facts.missing.get(needed, []))
    elif cuts:
        diagnosis = _long_diagnosis(*cuts[0], import_seconds)
    notes = _notes(facts, skip_package=needed)
    rest = cuts if needed is not None else cuts[1:]
    notes += [_cut_note(place, why, import_seconds) for place, why in rest if place is not None]
    return Explained(tuple(notes), diagnosis)


def diagnosis_sentence(diagnosis: Diagnosis) -> str:
    """The one sentence the result's message carries for ``diagnosis``."""
    return diagnosis.message


def _statements(top: TopLevel) -> Iterable[Statement]:
    for source in top.sources:
        yield from source.statements or ()


def _place(
    toplevel: Mapping[str, TopLevel], module: object, cell: object, line: object
) -> Place | None:
    """A place the host can vouch for: a cell or script line that exists, or None."""
    top = toplevel.get(module) if isinstance(module, str) else None
    if top is None or type(cell) is not int or type(line) is not int or line < 1:
        return None
    source = next((s for s in top.sources if s.cell == cell), None)
    if source is None or line > source.line_count:
        return None
    return Place(top.label, cell, line)


def _statement_at(top: TopLevel, place: Place) -> Statement | None:
    source = next(s for s in top.sources if s.cell == place.cell)
    return next((s for s in source.statements or () if s.first <= place.line <= s.last), None)


def _order(event: Mapping[str, object]) -> tuple[str, int, int]:
    """Events in the order their statements run (a rerun may repeat earlier ones)."""
    cell, line = event.get("cell"), event.get("line")
    return (
        str(event.get("module")),
        cell if type(cell) is int else 0,
        line if type(line) is int else 0,
    )


def _take(
    event: Mapping[str, object],
    toplevel: Mapping[str, TopLevel],
    names: Sequence[str],
    facts: _Facts,
) -> None:
    kind, module = event.get("event"), event.get("module")
    place = _place(toplevel, module, event.get("cell"), event.get("line"))
    if kind == "standin":
        package = _listed(str(event.get("name", "")), names)
        if package is not None:
            where = facts.standins.setdefault(package, [])
            if place is not None and place not in where:
                where.append(place)
        return
    if kind != "raised" or place is None or not isinstance(module, str):
        return
    error, name = str(event.get("error", "")), event.get("name")
    statement = _statement_at(toplevel[module], place)
    binds = statement.binds if statement is not None else frozenset()
    lost = facts.lost.get(name) if error == "NameError" and isinstance(name, str) else None
    missing = _missing_module(error, name, statement)
    if lost is not None:  # a consequence of a missing package, told with it
        facts.lost.update({bound: lost for bound in binds if bound not in facts.lost})
        facts.after[lost] = facts.after.get(lost, 0) + 1
    elif statement is not None and missing is not None:
        facts.missing.setdefault(missing, []).append(place)
        facts.lost.update({bound: missing for bound, m in statement.imports if m == missing})
    else:
        facts.raised.setdefault(error, []).append(place)


def _listed(name: str, names: Sequence[str]) -> str | None:
    for listed in names:
        if name == listed or name.startswith(listed + "."):
            return listed
    return None


def _missing_module(error: str, name: object, statement: Statement | None) -> str | None:
    """The package an import statement failed to find, if the statement imports it."""
    if error not in ("ModuleNotFoundError", "ImportError") or statement is None:
        return None
    modules = statement.modules
    top = name.split(".")[0] if isinstance(name, str) else None
    if top in modules:
        return top
    outside = sorted(m for m in modules if not _in_stdlib(m))
    return outside[0] if len(outside) == 1 else None


def _in_stdlib(name: str) -> bool:
    return name in sys.stdlib_module_names or name in sys.builtin_module_names


def _needed_package(facts: _Facts, errors: Sequence[CheckError], imported: set[str]) -> str | None:
    """The missing package a failed check needed: by a name its import would have bound,
    or by ``No module named ...`` (for imports of whole modules, or inside methods)."""
    for error in errors:
        for kind, message in ((error.type, error.message), (error.cause_type, error.cause_message)):
            name = _NAME_ERROR.match(message) if kind == "NameError" else None
            if name and name.group(1) in facts.lost:
                return facts.lost[name.group(1)]
            module = _NO_MODULE.search(message) if kind == "ModuleNotFoundError" else None
            if module is None:
                module = _NO_MODULE.search(message.rpartition("ModuleNotFoundError: ")[2])
            top = module.group(1).split(".")[0] if module else None
            if top and top in imported and not _in_stdlib(top):
                return top
    return None


def _missing_diagnosis(package: str, places: list[Place]) -> Diagnosis:
    place = places[0] if places else None
    where = f" ({place})" if place else ""
    return Diagnosis(
        kind="missing_package",
        message=(
            f"your code imports {package}{where}, which this course's grader does not "
            "provide: ask course staff whether it may be used, or write that part with "
            "Python's standard library"
        ),
        package=package,
        file=place.file if place else None,
        cell=place.cell if place and place.cell else None,
        line=place.line if place else None,
    )


def _cut_place(
    toplevel: Mapping[str, TopLevel], item: tuple[str, int, int, str]
) -> tuple[Place | None, str]:
    module, cell, line, why = item
    return _place(toplevel, module, cell, line), why


def _ran(why: str, seconds: float) -> str:
    if why == "crash":
        return "stopped the grader's test process"
    return f"ran longer than the grader allows for top-level code ({seconds:g} s)"


def _long_diagnosis(place: Place | None, why: str, seconds: float) -> Diagnosis:
    where = str(place) if place else "top-level code"
    return Diagnosis(
        kind="long_running",
        message=(
            f"{where} {_ran(why, seconds)}, so the grader left it out, with the top-level "
            "code after it that defines nothing your classes need, and graded your classes "
            "without them"
        ),
        file=place.file if place else None,
        cell=place.cell if place and place.cell else None,
        line=place.line if place else None,
    )


def _cut_note(place: Place, why: str, seconds: float) -> str:
    return f"{place} {_ran(why, seconds)} and was left out"


def _notes(facts: _Facts, skip_package: str | None) -> list[str]:
    notes = []
    for package, places in facts.standins.items():
        what = _WHAT_STANDS_IN.get(package, "calls to it did nothing")
        prefix = f"{_places(places)}: " if places else ""
        notes.append(f"{prefix}{package} is not available to the grader; {what}")
    for package, places in facts.missing.items():
        if package != skip_package:
            after = facts.after.get(package, 0)
            left = f"{_that(places)} left out"
            if after:
                left = (
                    f"{'it' if len(places) == 1 else 'they'} and {after} later "
                    f"statement{'s' * (after > 1)} that used it were left out,"
                )
            notes.append(
                f"{_places(places)}: your code imports {package}, which this course's grader "
                f"does not provide; {left} and the rest ran"
            )
    for error, places in list(facts.raised.items())[:MAX_ERRORS]:
        notes.append(
            f"{_places(places)}: raised {error}; {_that(places)} left out and the rest ran"
        )
    more = len(facts.raised) - MAX_ERRORS
    if more > 0:
        notes.append(f"statements raised {more} more kinds of exception and were left out")
    return notes


def _that(places: Sequence[Place]) -> str:
    return "that statement was" if len(places) == 1 else "those statements were"


def _places(places: Sequence[Place]) -> str:
    """'cell 1, line 1', 'cell 7, lines 4 and 5', 'cell 2 (line 1) and cell 7 (lines 4
    and 5)', 'homework.py, lines 3 and 9': grouped by cell (or file), at most a few."""
    groups: dict[tuple[str, int], list[int]] = {}
    for place in places:
        lines = groups.setdefault((place.file, place.cell), [])
        if place.line not in lines:
            lines.append(place.line)
    said = []
    for (file, cell), lines in list(groups.items())[:MAX_PLACES]:
        where = f"cell {cell}" if cell else file
        numbers = f"line{'s' if len(lines) > 1 else ''} {join_and([str(n) for n in sorted(lines)])}"
        said.append((where, numbers))
    if len(said) == 1:
        return f"{said[0][0]}, {said[0][1]}"
    more = len(groups) - len(said)
    parts = [f"{where} ({numbers})" for where, numbers in said]
    return join_and(parts + ([f"{more} more"] if more else []))
