"""Turn one check's ``details`` (untrusted JSON, every key optional) into what a page shows.

Everything here may have come from student code: names, messages, printed output, lines
of their source. None of it is trusted to have the right type or a sane size, so each
reader checks shapes, caps lengths again (the sandbox side already did, but a report must
not depend on that) and returns plain strings for the autoescaping templates.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from grader.harness.compare import compare
from grader.report.text import cap, spell

MAX_OUTPUT = 4000
MAX_FRAMES = 25
MAX_ROWS = 40
# Looser than any check's tolerance: the table only flags a value that is plainly wrong, so
# it never calls a value "different" that the check itself accepted.
TABLE_TOL = (1e-4, 1e-8)


@dataclass(frozen=True)
class Row:
    name: str
    value: str


@dataclass(frozen=True)
class ValueRow:
    name: str
    expected: str
    actual: str
    differs: bool


@dataclass(frozen=True)
class MismatchView:
    where: str
    expected: str
    actual: str
    reason: str
    tolerance: str
    expected_whole: str
    actual_whole: str


@dataclass(frozen=True)
class ErrorView:
    """A traceback trimmed to the student's own frames, as the lines of a ``<pre>``."""

    lines: tuple[str, ...]
    headline: str


@dataclass(frozen=True)
class OutputView:
    stream: str
    text: str
    cut: bool


def inputs(raw: Any) -> tuple[Row, ...]:
    if type(raw) is not list:
        return ()
    pairs = [item for item in raw if type(item) is list and len(item) == 2]
    return tuple(Row(cap(name, 200), spell(value, 300)) for name, value in pairs[:MAX_ROWS])


def values(raw: Any) -> tuple[ValueRow, ...]:
    if type(raw) is not list:
        return ()
    rows = [item for item in raw if type(item) is dict and "name" in item]
    return tuple(
        ValueRow(
            cap(row["name"], 200),
            spell(row.get("expected"), 300),
            spell(row.get("actual"), 300),
            compare(row.get("expected"), row.get("actual"), TABLE_TOL) is not None,
        )
        for row in rows[:MAX_ROWS]
    )


def mismatch(raw: Any) -> MismatchView | None:
    if type(raw) is not dict:
        return None
    path = cap(raw.get("path", ""), 200)
    expected, actual = raw.get("expected"), raw.get("actual")
    tol = raw.get("tolerance")
    tolerance = (
        f"relative {tol[0]:g}, absolute {tol[1]:g}"
        if type(tol) is list and len(tol) == 2 and all(type(t) in (int, float) for t in tol)
        else ""
    )
    return MismatchView(
        where=cap(raw.get("name", ""), 200) + path,
        expected=spell(_at(expected, path), 300),
        actual=spell(_at(actual, path), 300),
        reason=_reason(raw.get("reason")),
        tolerance=tolerance,
        expected_whole=spell(expected, 400) if path else "",
        actual_whole=spell(actual, 400) if path else "",
    )


def _reason(raw: Any) -> str:
    # compare() spells a plain numeric miss as the tolerance, which has its own line.
    reason = cap(raw or "", 300)
    return "outside the tolerance" if reason.startswith("tolerance:") else reason


_INDEX = re.compile(r"\[(\d+)\]")


def _at(value: Any, path: str) -> Any:
    """The item at a path like ``[4]`` or ``[2][0]``; the whole value for any other path."""
    if not path or _INDEX.sub("", path):
        return value
    for index in (int(i) for i in _INDEX.findall(path)):
        if type(value) is not list or index >= len(value):
            return None
        value = value[index]
    return value


def error(raw: Any) -> ErrorView | None:
    if type(raw) is not dict:
        return None
    headline = f"{cap(raw.get('type'), 100)}: {cap(raw.get('message'))}"
    frames = [f for f in raw.get("frames") or [] if type(f) is dict][-MAX_FRAMES:]
    lines = ["Traceback (only the lines of your code):"] if frames else []
    for frame in frames:
        lines.append(
            f'  File "{cap(frame.get("file"), 200)}", line {cap(frame.get("line"), 12)}'
            f", in {cap(frame.get('function'), 200)}"
        )
        if frame.get("code"):
            lines.append(f"    {cap(frame['code'], 300)}")
    lines.append(headline)
    cause = raw.get("cause")
    if type(cause) is dict:
        lines.append(f"caused by {cap(cause.get('type'), 100)}: {cap(cause.get('message'))}")
    return ErrorView(tuple(lines), headline)


def outputs(details: Mapping[str, Any]) -> tuple[OutputView, ...]:
    shown = []
    for stream in ("stdout", "stderr"):
        raw = details.get(stream)
        if raw:
            text = raw if type(raw) is str else str(raw)
            shown.append(OutputView(stream, text[:MAX_OUTPUT], len(text) > MAX_OUTPUT))
    return tuple(shown)
