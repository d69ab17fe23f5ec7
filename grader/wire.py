"""Read the sandbox's record stream, trusting nothing about it.

Each line must be one JSON object of a known ``kind`` with fields of the right types; any
other line is counted and ignored. JSON is parsed strictly: no NaN or Infinity literals,
no duplicate keys, bounded nesting. Nothing is ever unpickled, evaluated or imported.
``CheckRun`` collects what the records said about one check (the runner fills it in, the
judge reads it).
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from grader.exercise import Check

MAX_DEPTH = 40
ROLES = frozenset({"value", "given", "expect", "graph"})


RunState = Literal["finished", "timeout", "crashed", "not_run"]


@dataclass
class CheckRun:
    """What the sandbox reported about one check (untrusted: the judge decides)."""

    check: Check
    state: RunState = "not_run"
    observations: list[dict[str, Any]] = field(default_factory=list)
    end: dict[str, Any] | None = None
    message: str = ""
    duration: float = 0.0

    @property
    def givens(self) -> dict[str, Any]:
        return {o["name"]: o["value"] for o in self.observations if o["role"] == "given"}


class BadRecord(ValueError):
    """A line that is not a well-formed record."""


def _no_constants(name: str) -> Any:
    raise BadRecord(f"JSON constant {name} is not allowed")


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise BadRecord(f"duplicate key {key!r}")
        result[key] = value
    return result


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):  # 1e999 is a legal JSON number that overflows to inf
        raise BadRecord(f"number {text[:20]} is out of range")
    return value


def parse_record(line: bytes) -> dict[str, Any]:
    """One validated record, or ``BadRecord``."""
    try:
        # Decode strictly first: json.loads would let lone surrogates through.
        record = json.loads(
            line.decode("utf-8"),
            parse_constant=_no_constants,
            parse_float=_finite,
            object_pairs_hook=_no_duplicates,
        )
    except (ValueError, RecursionError) as exc:
        raise BadRecord(str(exc)[:200]) from None
    if type(record) is not dict:
        raise BadRecord("not a JSON object")
    _check_depth(record, 0)
    kind = record.get("kind")
    validator: Callable[[dict[str, Any]], None] | None = (
        _VALIDATORS.get(kind) if type(kind) is str else None
    )
    if validator is None:
        raise BadRecord(f"unknown kind {kind!r}")
    validator(record)
    return record


def _check_depth(value: Any, depth: int) -> None:
    """Bounded nesting, and strings that can be written back out as UTF-8."""
    if depth > MAX_DEPTH:
        raise BadRecord("nested too deeply")
    if type(value) is str:
        _encodable(value)
    elif type(value) is dict:
        for key, item in value.items():
            _encodable(key)
            _check_depth(item, depth + 1)
    elif type(value) is list:
        for item in value:
            _check_depth(item, depth + 1)


def _encodable(text: str) -> None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate escape such as "\ud800"
        raise BadRecord("a string is not valid Unicode") from None


def _need(record: dict[str, Any], key: str, kind: type | tuple[type, ...]) -> Any:
    value = record.get(key)
    kinds = kind if isinstance(kind, tuple) else (kind,)
    if type(value) not in kinds:
        raise BadRecord(f"{record.get('kind')}: {key} must be {kinds}")
    return value


def _check_name(record: dict[str, Any]) -> None:
    if len(_need(record, "check", str)) > 200:
        raise BadRecord("check name too long")


def _obs(record: dict[str, Any]) -> None:
    _check_name(record)
    if _need(record, "role", str) not in ROLES:
        raise BadRecord("unknown role")
    if len(_need(record, "name", str)) > 500:
        raise BadRecord("observation name too long")
    if record["role"] == "expect":
        _need(record, "ok", bool)
    elif "value" not in record:
        raise BadRecord("observation without a value")


def _end(record: dict[str, Any]) -> None:
    _check_name(record)
    _need(record, "outcome", str)
    _need(record, "duration", (int, float))
    for stream in ("stdout", "stderr"):
        _need(record, stream, str)
    if "error" in record:
        error = _need(record, "error", dict)
        _need(error, "type", str)
        _need(error, "message", str)
        frames = _need(error, "frames", list)
        if any(type(f) is not dict for f in frames):
            raise BadRecord("frames must be objects")


def _module(record: dict[str, Any]) -> None:
    _need(record, "module", str)


def _nothing(record: dict[str, Any]) -> None:
    return None


def _done(record: dict[str, Any]) -> None:
    _need(record, "exitstatus", int)


_VALIDATORS: dict[str, Callable[[dict[str, Any]], None]] = {
    "hello": _nothing,
    "start": _check_name,
    "loading": _module,
    "loaded": _module,
    "obs": _obs,
    "end": _end,
    "done": _done,
}
