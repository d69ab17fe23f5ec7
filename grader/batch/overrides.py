"""Grades set by hand: ``overrides.csv``, checked before a batch grades, applied after.

    student,check,points,reason
    smithjohn_101,total,90,Regrade request: the relu hint was misleading
    doejane_102,multiply_backward,4,Right idea; a typo in the test input

``student`` is an id of gradebook.csv's ``submission`` column; ``check`` a check id (as in
gradebook-checks.csv) or ``total``; ``points`` the new value (absolute, not a bonus), from
0 to the check's points for a check, any value from 0 for the total; ``reason`` is shown to
the student in their report. Check overrides change those checks' points; a total override
replaces the sum. Mistakes (an unknown student or check, a bad number, a line given twice)
stop the batch before it grades anything, naming the line.

An override belongs to one version of a submission. The first run that applies it writes
down the submission's content digest beside the student's results
(``<student>/.overrides.json``); when the student hands in something else, the override
is *stale*: it is not applied, and the batch says so, until staff edit the line (an edited
line is a new override, for the version graded then) or remove it.
"""

from __future__ import annotations

import csv
import difflib
import io
import json
import math
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from grader.errors import ConfigError
from grader.files import dump_json, write_atomic
from grader.models import Adjustment, GradeResult, points

FILE_NAME = "overrides.csv"
HEADER = ("student", "check", "points", "reason")
TOTAL = "total"
LEDGER = ".overrides.json"


@dataclass(frozen=True)
class Override:
    """One line of overrides.csv (``line`` counts from 1, the header being line 1)."""

    line: int
    student: str
    target: str
    points: float
    reason: str

    @property
    def identity(self) -> str:
        """What makes two lines the same override (the line number does not)."""
        return json.dumps([self.target, self.points, self.reason])

    def describe(self) -> str:
        return f"{self.target} set to {points(self.points)} (line {self.line})"


@dataclass(frozen=True)
class Settled:
    """One student's overrides sorted out against the version graded now."""

    applied: tuple[Override, ...] = ()
    stale: tuple[Override, ...] = ()
    unused: tuple[Override, ...] = ()  # a check this grading has no result for


def read_overrides(
    path: Path, students: Collection[str], checks: Mapping[str, float]
) -> dict[str, tuple[Override, ...]]:
    """Student id -> their overrides, from ``path``; ConfigError names the first bad line.

    ``checks`` maps every check id of the graded steps to its points.
    """
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError(f"cannot read the overrides file {path}: {error}") from None
    reader = csv.reader(io.StringIO(text, newline=""))
    header = next(reader, [])
    if tuple(cell.strip().lower() for cell in header) != HEADER:
        raise ConfigError(f"{path}, line 1: the header must be {','.join(HEADER)}")
    found: dict[tuple[str, str], Override] = {}
    for cells in reader:
        number = reader.line_num  # a reason may hold a line break: count the file's lines
        if not any(cell.strip() for cell in cells):
            continue
        override = _parse(cells, (path.name, number), students, checks)
        earlier = found.get((override.student, override.target))
        if earlier is not None:
            raise ConfigError(
                f"{path}, line {number}: {override.student} {override.target} "
                f"is already overridden on line {earlier.line}; keep one of them"
            )
        found[(override.student, override.target)] = override
    grouped: dict[str, tuple[Override, ...]] = {}
    for override in found.values():
        grouped[override.student] = (*grouped.get(override.student, ()), override)
    return grouped


def _parse(
    cells: list[str],
    where: tuple[str, int],
    students: Collection[str],
    checks: Mapping[str, float],
) -> Override:
    def bad(why: str) -> ConfigError:
        return ConfigError(f"{where[0]}, line {where[1]}: {why}")

    if len(cells) != len(HEADER):
        raise bad(f"expected 4 cells ({','.join(HEADER)}), found {len(cells)}")
    student, target, value, reason = (cell.strip() for cell in cells)
    if student not in students:
        raise bad(f"no student {student!r} in this class{_did_you_mean(student, students)}")
    if target != TOTAL and target not in checks:
        raise bad(f"no check {target!r} in the graded steps{_did_you_mean(target, checks)}")
    try:
        amount = float(value)
    except ValueError:
        raise bad(f"points must be a number, not {value!r}") from None
    limit = math.inf if target == TOTAL else checks[target]
    if not math.isfinite(amount) or not 0 <= amount <= limit:
        raise bad(f"points must be between 0 and {points(limit)} for {target}, not {value}")
    if not reason:
        raise bad("give a reason (the student's report shows it)")
    return Override(where[1], student, target, amount, reason)


def _did_you_mean(word: str, known: Collection[str]) -> str:
    close = difflib.get_close_matches(word, list(known), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def settle(overrides: Sequence[Override], folder: Path, content: str) -> Settled:
    """Which overrides hold for the version whose digest is ``content``; records new ones.

    The ledger keeps the current lines only, so a line removed and later written again
    belongs to the version graded then.
    """
    ledger = _read_ledger(folder)
    kept: dict[str, str] = {}
    applied: list[Override] = []
    stale: list[Override] = []
    for override in overrides:
        version = ledger.get(override.identity, content)
        kept[override.identity] = version
        (applied if version == content else stale).append(override)
    if kept != ledger:
        write_atomic(folder / LEDGER, dump_json({"schema": 1, "versions": kept}))
    return Settled(tuple(applied), tuple(stale))


def _read_ledger(folder: Path) -> dict[str, str]:
    try:
        data = json.loads((folder / LEDGER).read_text(encoding="utf-8"))
        versions = data["versions"]
    except (OSError, ValueError, KeyError, TypeError):
        return {}
    if not isinstance(versions, dict):
        return {}
    return {str(k): str(v) for k, v in versions.items()}


def apply(result: GradeResult, settled: Settled) -> tuple[GradeResult, Settled]:
    """``result`` with the applied overrides in its scores and its ``adjustments``.

    A check override whose check has no result here (a rejected submission, a step not
    graded) moves to ``unused``.
    """
    wanted = {o.target: o for o in settled.applied if o.target != TOTAL}
    adjustments: list[Adjustment] = []
    steps = []
    for step in result.steps:
        checks = []
        for check in step.checks:
            override = wanted.pop(check.id, None) if step.graded else None
            if override is not None:
                adjustments.append(
                    Adjustment(check.id, override.points, check.score, override.reason)
                )
                check = replace(check, score=override.points)
            checks.append(check)
        steps.append(replace(step, checks=tuple(checks)))
    for total in (o for o in settled.applied if o.target == TOTAL):
        adjustments.append(Adjustment(TOTAL, total.points, result.checks_score, total.reason))
    unused = tuple(wanted.values())
    kept = tuple(o for o in settled.applied if o not in unused)
    adjusted = replace(result, steps=tuple(steps), adjustments=tuple(adjustments))
    return adjusted, replace(settled, applied=kept, unused=settled.unused + unused)
