"""Read the sandbox's record stream, trusting nothing about it.

Each line must be one JSON object of a known ``kind`` with fields of the right types; any
other line is refused (the runner charges it to the check that was running, which then
fails saying so). JSON is parsed strictly: no NaN or Infinity literals, no duplicate keys,
and structural caps that keep every later step cheap and safe: nesting depth, items in a
list or object, characters in a string, digits in an integer (the harness writes integers
beyond 64 bits as ``{"$int": hex}``, so a longer literal is never honest; and Python's own
``int``/``float`` conversions of one can raise or take quadratic time). Nothing is ever
unpickled, evaluated or imported. ``CheckRun`` collects what the records said about one
check (the runner fills it in, the judge reads it).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from grader.exercise import Check

MAX_DEPTH = 32  # the harness nests at most 12 encoded levels inside a record
MAX_ITEMS = 10_000  # in one list or object (the harness encodes at most 5,000)
MAX_STRING = 20_000  # characters of one string (the harness caps output at 4,000)
MAX_INT_DIGITS = 20  # a 64-bit integer has at most 19 digits and a sign
MAX_UNREADABLE = 3  # reasons kept per check for the feedback

# What the host keeps of a run, whatever the sandbox sends (restarts included): the rest is
# read, counted and dropped, and the result says so.
KEEP_CHECK_BYTES = 512_000  # observations of one check
KEEP_TOTAL_BYTES = 8_000_000  # observations of one submission
KEEP_STREAM = 4_000  # characters of a check's stdout, and of its stderr
KEEP_TEXT = 1_000  # characters of an error message, and of a frame's fields
KEEP_FRAMES = 12
ROLES = frozenset({"value", "given", "expect", "graph", "item"})


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
    # Lines sent while this check ran that were not well-formed records (first reasons).
    unreadable: list[str] = field(default_factory=list)
    unreadable_count: int = 0
    kept_bytes: int = 0
    cut_bytes: int = 0  # what the host did not keep of what this check sent
    # Evidence for staff: what the harness found patched while this check ran, and
    # records on the channel that the honest harness never sends at that point.
    tampering: list[str] = field(default_factory=list)
    # The student's method a timeout or crash happened in, as the host located it from the
    # stack dump (grader/fairness/location.py): "Value.backward", and "backward" for a
    # _backward closure.
    stuck_in: str | None = None
    stuck_phase: str | None = None
    # The names of the observations this check sent (kept or cut): each may come once.
    names: set[str] = field(default_factory=set, init=False, repr=False)

    def suspect(self, what: str) -> None:
        if len(self.tampering) < 20 and what not in self.tampering:
            self.tampering.append(what)

    def keep(self, record: dict[str, Any], size: int, budget: KeepBudget) -> None:
        """Keep an observation of ``size`` bytes if this check and the submission have room."""
        name = record["name"]
        if name in self.names:
            # The harness sends each name once per check: this one was written past it.
            self.suspect(f"two records named {name[:80]!r} arrived; the second was ignored")
            return
        self.names.add(name)
        if self.kept_bytes + size > KEEP_CHECK_BYTES or not budget.take(size):
            self.cut_bytes += size
            return
        self.kept_bytes += size
        self.observations.append(record)

    def restart(self) -> None:
        """The check runs again from nothing (its statement was left out): forget what it
        sent."""
        self.state, self.message, self.duration = "not_run", "", 0.0
        self.observations, self.names, self.kept_bytes = [], set(), 0

    def finish(self, record: dict[str, Any]) -> None:
        """The ``end`` record, with its output, message and frames cut to what is kept."""
        end = dict(record)
        for stream in ("stdout", "stderr"):
            end[stream], cut = _clip(end[stream], KEEP_STREAM)
            self.cut_bytes += cut
        if "error" in end:
            end["error"] = _kept_error(end["error"])
        self.state, self.end = "finished", end

    def refuse(self, reason: str) -> None:
        self.unreadable_count += 1
        if len(self.unreadable) < MAX_UNREADABLE:
            self.unreadable.append(reason)

    @property
    def current_item(self) -> str | None:
        """The item the check said it was on last (a hang or a crash is charged to it)."""
        for record in reversed(self.observations):
            if record["role"] == "item" and type(record.get("value")) is str:
                return str(record["value"])[:200]
        return None

    @property
    def givens(self) -> dict[str, Any]:
        return {o["name"]: o["value"] for o in self.observations if o["role"] == "given"}


@dataclass
class KeepBudget:
    """The bytes of observations one submission may still have kept, across its runs."""

    left: int = field(default_factory=lambda: KEEP_TOTAL_BYTES)

    def take(self, size: int) -> bool:
        if size > self.left:
            self.left = 0
            return False
        self.left -= size
        return True


def _clip(text: str, limit: int) -> tuple[str, int]:
    if len(text) <= limit:
        return text, 0
    cut = len(text) - limit
    return text[:limit] + f"\n… ({cut} more characters were not kept)", cut


def _kept_error(error: dict[str, Any]) -> dict[str, Any]:
    kept = dict(error)
    kept.pop(
        "guarded_why", None
    )  # the runner's own words about a refused method, never the sandbox's
    kept["message"] = _clip(error["message"], KEEP_TEXT)[0]
    frames = error["frames"][-KEEP_FRAMES:]
    kept["frames"] = [
        {k: _clip(v, KEEP_TEXT)[0] if type(v) is str else v for k, v in frame.items()}
        for frame in frames
    ]
    return kept


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


def _bounded_int(text: str) -> int:
    digits = len(text) - (text[0] == "-")
    if digits > MAX_INT_DIGITS:
        raise BadRecord(f"an integer of {digits} digits (more than {MAX_INT_DIGITS})")
    return int(text)


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
            parse_int=_bounded_int,
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
    """Bounded nesting, lengths and strings that can be written back out as UTF-8."""
    if depth > MAX_DEPTH:
        raise BadRecord("nested too deeply")
    if type(value) is str:
        _check_string(value)
    elif type(value) is dict:
        if len(value) > MAX_ITEMS:
            raise BadRecord(f"an object of {len(value)} keys (more than {MAX_ITEMS})")
        for key, item in value.items():
            _check_string(key)
            _check_depth(item, depth + 1)
    elif type(value) is list:
        if len(value) > MAX_ITEMS:
            raise BadRecord(f"a list of {len(value)} items (more than {MAX_ITEMS})")
        for item in value:
            _check_depth(item, depth + 1)


def _check_string(text: str) -> None:
    if len(text) > MAX_STRING:
        raise BadRecord(f"a string of {len(text)} characters (more than {MAX_STRING})")
    _encodable(text)


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
        if "item" in error and (type(error["item"]) is not str or len(error["item"]) > 200):
            raise BadRecord("end: error item must be a short string")
        if "guarded" in error and (
            type(error["guarded"]) is not str or not _GUARDED.match(error["guarded"])
        ):
            raise BadRecord("end: guarded must name a method")


def _module(record: dict[str, Any]) -> None:
    _need(record, "module", str)


def _nothing(record: dict[str, Any]) -> None:
    return None


def _done(record: dict[str, Any]) -> None:
    _need(record, "exitstatus", int)


def _tamper(record: dict[str, Any]) -> None:
    _check_name(record)
    what = _need(record, "what", list)
    if len(what) > 20 or any(type(item) is not str or len(item) > 300 for item in what):
        raise BadRecord("tamper: what must be at most 20 short strings")


_DOTTED = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,99}(\.[A-Za-z_][A-Za-z0-9_]{0,99}){0,9}$")
_GUARDED = re.compile(r"^[A-Za-z_]\w{0,99}\.[A-Za-z_]\w{0,99}( backward)?$")
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,99}$")
TOPLEVEL_EVENTS = frozenset({"run", "raised", "standin"})
MAX_CELL = 100_000
MAX_LINE = 10_000_000


def _toplevel(record: dict[str, Any]) -> None:
    """What top-level code did: a statement began (``run``), raised (``raised``, with the
    exception's type and, for an import, the module's ``name``), or imported a stand-in
    (``standin``). Only checked fields: names, numbers in range, nothing free-form."""
    if _need(record, "event", str) not in TOPLEVEL_EVENTS:
        raise BadRecord("toplevel: unknown event")
    module = _need(record, "module", str)
    if module and not _DOTTED.match(module):
        raise BadRecord("toplevel: module is not a module name")
    if not 0 <= _need(record, "cell", int) <= MAX_CELL:
        raise BadRecord("toplevel: cell out of range")
    if not 0 <= _need(record, "line", int) <= MAX_LINE:
        raise BadRecord("toplevel: line out of range")
    if record["event"] == "raised" and not _IDENTIFIER.match(_need(record, "error", str)):
        raise BadRecord("toplevel: error is not an exception's name")
    if (record["event"] == "standin" or "name" in record) and not _DOTTED.match(
        _need(record, "name", str)
    ):
        raise BadRecord("toplevel: name is not a module name")
    if set(record) - {"kind", "event", "module", "cell", "line", "error", "name"}:
        raise BadRecord("toplevel: unknown fields")


_VALIDATORS: dict[str, Callable[[dict[str, Any]], None]] = {
    "hello": _nothing,
    "start": _check_name,
    "loading": _module,
    "loaded": _module,
    "obs": _obs,
    "end": _end,
    "done": _done,
    "hidden": _nothing,
    "tamper": _tamper,
    "toplevel": _toplevel,
}
