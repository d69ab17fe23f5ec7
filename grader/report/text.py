"""Spell untrusted encoded values as short strings, never failing on a malformed one.

Values in a check's details come from the student's side of the sandbox, and code running
there can replace the encoder: a marker such as ``{"$map": 5}`` is possible. The report
must still render, so every spelling here falls back to a capped ``repr``.
"""

from __future__ import annotations

import math
from typing import Any

from grader.harness.encode import describe


def clip(value: str, limit: int) -> str:
    """``value`` cut to ``limit`` characters, marked with an ellipsis when cut."""
    return value if len(value) <= limit else value[: limit - 1] + "…"


def cap(value: Any, limit: int = 1000) -> str:
    """Any value as text of at most ``limit`` characters."""
    return clip(value if type(value) is str else str(value), limit)


def spell(value: Any, limit: int = 200) -> str:
    """``describe`` of an encoded value, or its capped ``repr`` when it is malformed."""
    try:
        return describe(value, limit)
    except (TypeError, ValueError, KeyError, AttributeError, RecursionError):
        return clip(repr(value), limit)


def short_number(value: Any, digits: int = 4) -> str:
    """An encoded value in a few characters: ``1.733``, ``nan``, ``obj:Value``."""
    if type(value) is float:
        return f"{value:.{digits}g}"
    if type(value) is int:
        return clip(str(value), 12)
    if type(value) is dict and "$obj" in value:
        return clip(f"obj:{value['$obj']}", 14)
    if value is None:
        return "none"
    return spell(value, 14)


def distinct_numbers(expected: Any, actual: Any) -> tuple[str, str]:
    """Both values spelt with just enough digits that two different numbers look different."""
    for digits in (4, 6, 8, 10, 17):
        pair = short_number(expected, digits), short_number(actual, digits)
        if pair[0] != pair[1]:
            return pair
    return pair


def finite(value: Any) -> float | None:
    """The float of an encoded number when it is finite, else None (a gap in a chart)."""
    if type(value) in (int, float):
        number = float(value)
        return number if math.isfinite(number) else None
    return None
