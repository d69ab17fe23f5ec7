"""Compare what the student's code produced with what the reference produced.

Both sides are in the encoded form of ``encode``: the comparison never touches a live
object, so nothing the student wrote can take part in it. Numbers are compared with a
stated tolerance (``math.isclose``); everything else must be equal. A gradient graph gets
its own comparison (``compare_graph``) that says *which node* went wrong first.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from .encode import as_float, describe, is_number

DEFAULT_TOL = (1e-6, 1e-9)  # (relative, absolute)


@dataclass(frozen=True)
class Mismatch:
    """Where two encoded values part ways, in words a student can act on."""

    path: str
    expected: Any
    actual: Any
    reason: str

    def sentence(self, name: str) -> str:
        where = f"{name}{self.path}"
        return f"{where}: expected {describe(self.expected)}, got {describe(self.actual)}" + (
            f" ({self.reason})" if self.reason else ""
        )


def compare(
    expected: Any, actual: Any, tol: tuple[float, float] = DEFAULT_TOL, path: str = ""
) -> Mismatch | None:
    """The first difference between ``expected`` and ``actual``, or None when they agree."""
    if is_number(expected):
        return _compare_numbers(expected, actual, tol, path)
    if type(expected) is list:
        return _compare_lists(expected, actual, tol, path)
    if type(expected) is dict and "$map" in expected:
        return _compare_maps(expected, actual, tol, path)
    if type(expected) is not type(actual) or expected != actual:
        return Mismatch(path, expected, actual, _type_note(expected, actual))
    return None


def _compare_numbers(
    expected: Any, actual: Any, tol: tuple[float, float], path: str
) -> Mismatch | None:
    if not is_number(actual):
        return Mismatch(path, expected, actual, _type_note(expected, actual))
    want, got = as_float(expected), as_float(actual)
    if math.isnan(want) or math.isnan(got):
        if math.isnan(want) and math.isnan(got):
            return None
        return Mismatch(path, expected, actual, "not a number (NaN)")
    if want == got or math.isclose(want, got, rel_tol=tol[0], abs_tol=tol[1]):
        return None
    return Mismatch(path, expected, actual, f"tolerance: relative {tol[0]:g}, absolute {tol[1]:g}")


def _compare_lists(
    expected: list[Any], actual: Any, tol: tuple[float, float], path: str
) -> Mismatch | None:
    if type(actual) is not list:
        return Mismatch(path, expected, actual, "expected a list")
    if len(actual) != len(expected):
        return Mismatch(
            path, expected, actual, f"expected {len(expected)} items, got {len(actual)}"
        )
    for index, (want, got) in enumerate(zip(expected, actual, strict=True)):
        found = compare(want, got, tol, f"{path}[{index}]")
        if found:
            return found
    return None


def _compare_maps(
    expected: dict[str, Any], actual: Any, tol: tuple[float, float], path: str
) -> Mismatch | None:
    if type(actual) is not dict or type(actual.get("$map")) is not list:
        return Mismatch(path, expected, actual, "expected a mapping")
    got = {
        str(pair[0]): pair[1] for pair in actual["$map"] if type(pair) is list and len(pair) == 2
    }
    for key, want in expected["$map"]:
        if key not in got:
            return Mismatch(f"{path}[{key!r}]", want, None, "missing")
        found = compare(want, got[key], tol, f"{path}[{key!r}]")
        if found:
            return found
    return None


def _type_note(expected: Any, actual: Any) -> str:
    if type(actual) is dict and "$obj" in actual:
        return f"a {actual['$obj']} object is not a plain {_kind(expected)}"
    if is_number(expected) and type(actual) is bool:
        return "a bool is not a number"
    return ""


def _kind(value: Any) -> str:
    if is_number(value):
        return "number"
    return {list: "list", str: "string", bool: "bool"}.get(type(value), "value")
