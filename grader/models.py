"""The results of grading, as plain frozen data, and their ``results.json`` form.

The schema (version 1) is documented in docs/results-schema.md and checked by
tests/test_results_schema.py; ``to_json`` is the only place that produces it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from typing import Any, Literal

SCHEMA_VERSION = 1
CheckStatus = Literal["passed", "failed", "error", "timeout", "not_run"]
# Whose fault a rejection is: nothing gradable in the submission, or the grader failing on
# it (the batch then says "not the student's fault: report it").
Cause = Literal["submission", "grader"]


def points(value: float | None) -> str:
    """A score as people write it: ``20``, ``16.5``, never ``20.0`` or ``1e-07``."""
    if value is None:
        return ""
    return f"{value:.6f}".rstrip("0").rstrip(".") or "0"


# Characters that change how a terminal, a log viewer or an editor shows the text around
# them: C0 controls but tab and newline, DEL, C1 controls, bidirectional overrides and
# isolates, zero-width characters, and the Unicode line and paragraph separators.
_UNSAFE = frozenset(
    [
        *range(0x09),  # C0 before tab
        *range(0x0B, 0x20),
        0x7F,
        *range(0x80, 0xA0),
        0x061C,
        0x200B,
        0x200C,
        0x200D,
        0x200E,
        0x200F,
        *range(0x202A, 0x202F),
        0x2028,
        0x2029,
        0x2060,
        *range(0x2066, 0x206A),
        0xFEFF,
    ]
)


def inert(text: str, *, one_line: bool = False) -> str:
    """``text`` with every character that could act on a terminal escaped as its code point.

    Text from a submission (messages, file names, output) passes through this before a
    terminal, a log line or a CSV cell shows it: an escape sequence becomes ``\\x1b[2J``,
    an override ``\\u202e``, and letters of every script stay as they are ("Ł" is Ł).
    ``one_line``: newlines are escaped too, so one line of output stays one line.
    """
    out = []
    for char in printable(text):
        code = ord(char)
        if char in "\r\n" and (one_line or char == "\r"):
            out.append("\\n" if char == "\n" else "\\r")
        elif code in _UNSAFE:
            out.append(f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")
        else:
            out.append(char)
    return "".join(out)


def printable(text: str) -> str:
    """``text`` as valid Unicode: undecodable bytes become U+FFFD."""
    return text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


@dataclass(frozen=True)
class CheckResult:
    """The verdict on one check, with everything the feedback shows."""

    id: str
    title: str
    status: CheckStatus
    score: float
    max_score: float
    visibility: Literal["visible", "hidden"]
    feedback: str
    hint: str = ""
    blame: str | None = None
    duration: float = 0.0
    details: dict[str, Any] = field(default_factory=dict)
    # Passed because its only differences came from a fault charged elsewhere: which one.
    excused: str = ""

    def to_json(self) -> dict[str, Any]:
        extra = {"excused": self.excused} if self.excused else {}
        return {
            **extra,
            "id": self.id,
            "title": self.title,
            "status": self.status,
            "score": self.score,
            "max_score": self.max_score,
            "visibility": self.visibility,
            "feedback": self.feedback,
            "hint": self.hint,
            "blame": self.blame,
            "duration": round(self.duration, 4),
            "details": self.details,
        }


@dataclass(frozen=True)
class StepResult:
    step: int
    title: str
    checks: tuple[CheckResult, ...]
    graded: bool = True

    @property
    def score(self) -> float:
        return round(sum(c.score for c in self.checks), 6)

    @property
    def max_score(self) -> float:
        return round(sum(c.max_score for c in self.checks), 6)

    def to_json(self) -> dict[str, Any]:
        return {
            "step": self.step,
            "title": self.title,
            "graded": self.graded,
            "score": self.score,
            "max_score": self.max_score,
            "checks": [c.to_json() for c in self.checks],
        }


@dataclass(frozen=True)
class Adjustment:
    """A grade set by course staff: a check's points or the total, and why.

    ``target`` is a check id or ``"total"``; ``points`` is the value staff set, ``original``
    what the grader gave. The reason is written for the student: their report shows it.
    """

    target: str
    points: float
    original: float
    reason: str

    def to_json(self) -> dict[str, Any]:
        return {
            "check": self.target,
            "points": self.points,
            "original": self.original,
            "reason": self.reason,
        }


@dataclass(frozen=True)
class Diagnosis:
    """The one cause behind what went wrong, as facts the host checked and one sentence.

    ``kind`` is ``missing_package`` (the code imports a package the grader does not
    provide; ``package`` names it), ``long_running`` (top-level code ran past the
    import limit, or stopped the test process, and was left out), ``syntax_error`` (a
    file holding the exercise's classes does not parse), ``missing_class`` (checks could
    not run because classes they need are not defined yet) or ``one_method`` (most failed
    checks point at one method, ``method``). ``file`` is the notebook, script or module,
    ``cell`` (notebooks) and ``line`` where it happened, when known. ``message`` is
    written by the host from those facts alone.
    """

    kind: Literal["missing_package", "long_running", "syntax_error", "missing_class", "one_method"]
    message: str
    package: str | None = None
    file: str | None = None
    cell: int | None = None
    line: int | None = None
    method: str | None = None

    def to_json(self) -> dict[str, Any]:
        facts = {
            "package": self.package,
            "file": self.file,
            "cell": self.cell,
            "line": self.line,
            "method": self.method,
        }
        return {
            "kind": self.kind,
            "message": self.message,
            **{key: value for key, value in facts.items() if value is not None},
        }


@dataclass(frozen=True)
class GradeResult:
    """Everything known about one graded (or rejected) submission."""

    submission: str
    status: Literal["graded", "rejected"]
    message: str
    seed: int
    sandbox: str
    steps: tuple[StepResult, ...] = ()
    started_at: str = ""
    duration: float = 0.0
    grader_version: str = ""
    notes: tuple[str, ...] = ()
    shape: str = ""
    cause: Cause | None = None  # set for a rejected result: whose fault it is
    # Evidence that the submission tampered with the grader (staff only: not in reports).
    staff_notes: tuple[str, ...] = ()
    adjustments: tuple[Adjustment, ...] = ()  # staff overrides, already applied to the scores
    diagnosis: Diagnosis | None = None  # the one cause of what went wrong, when one is known

    def __post_init__(self) -> None:
        # Names and notes can quote file names read from disk, which reach Python (through
        # os.fsdecode) with lone surrogates when they are not UTF-8: no JSON or HTML file
        # can hold those, so every result is made writable here, whoever built it.
        object.__setattr__(self, "submission", printable(self.submission))
        object.__setattr__(self, "message", printable(self.message))
        object.__setattr__(self, "notes", tuple(printable(n) for n in self.notes))
        object.__setattr__(self, "staff_notes", tuple(printable(n) for n in self.staff_notes))

    @property
    def score(self) -> float:
        for adjustment in self.adjustments:
            if adjustment.target == "total":
                return adjustment.points
        return self.checks_score

    @property
    def checks_score(self) -> float:
        """The sum of the graded steps' checks (with staff's check overrides, if any)."""
        return round(sum(s.score for s in self.steps if s.graded), 6)

    @property
    def original_score(self) -> float:
        """The score the grader gave, before any staff override."""
        changed = sum(a.points - a.original for a in self.adjustments if a.target != "total")
        return round(self.checks_score - changed, 6)

    @property
    def max_score(self) -> float:
        return round(sum(s.max_score for s in self.steps if s.graded), 6)

    def to_json(self) -> dict[str, Any]:
        cause = {"cause": self.cause or "submission"} if self.status == "rejected" else {}
        return {
            "schema": SCHEMA_VERSION,
            "submission": self.submission,
            "status": self.status,
            **cause,
            "message": self.message,
            "score": self.score,
            "max_score": self.max_score,
            "seed": self.seed,
            "sandbox": self.sandbox,
            "grader_version": self.grader_version,
            "started_at": self.started_at,
            "duration": round(self.duration, 3),
            "shape": self.shape,
            "notes": list(self.notes),
            **({"staff_notes": list(self.staff_notes)} if self.staff_notes else {}),
            **({"diagnosis": self.diagnosis.to_json()} if self.diagnosis else {}),
            "steps": [s.to_json() for s in self.steps],
            **self._adjustments_json(),
        }

    def _adjustments_json(self) -> dict[str, Any]:
        if not self.adjustments:
            return {}
        return {
            "original_score": self.original_score,
            "adjustments": [a.to_json() for a in self.adjustments],
        }


def result_from_json(data: dict[str, Any]) -> GradeResult:
    """A ``GradeResult`` read back from its ``results.json`` form (``to_json``'s inverse).

    Raises KeyError, TypeError or ValueError when ``data`` is not a results.json.
    """
    return GradeResult(
        submission=str(data["submission"]),
        status=data["status"],
        message=str(data["message"]),
        seed=int(data["seed"]),
        sandbox=str(data["sandbox"]),
        steps=tuple(_step_from_json(step) for step in data["steps"]),
        started_at=str(data.get("started_at", "")),
        duration=float(data.get("duration", 0.0)),
        grader_version=str(data.get("grader_version", "")),
        notes=tuple(str(n) for n in data.get("notes", ())),
        shape=str(data.get("shape", "")),
        cause=data.get("cause") if data["status"] == "rejected" else None,
        staff_notes=tuple(str(n) for n in data.get("staff_notes", ())),
        adjustments=tuple(
            Adjustment(str(a["check"]), float(a["points"]), float(a["original"]), str(a["reason"]))
            for a in data.get("adjustments", ())
        ),
        diagnosis=_diagnosis_from_json(data.get("diagnosis")),
    )


def _diagnosis_from_json(data: dict[str, Any] | None) -> Diagnosis | None:
    if data is None:
        return None
    return Diagnosis(
        kind=data["kind"],
        message=str(data["message"]),
        package=data.get("package"),
        file=data.get("file"),
        cell=data.get("cell"),
        line=data.get("line"),
        method=data.get("method"),
    )


def _step_from_json(data: dict[str, Any]) -> StepResult:
    checks = tuple(
        CheckResult(
            id=str(c["id"]),
            title=str(c["title"]),
            status=c["status"],
            score=float(c["score"]),
            max_score=float(c["max_score"]),
            visibility=c["visibility"],
            feedback=str(c["feedback"]),
            hint=str(c.get("hint", "")),
            blame=c.get("blame"),
            duration=float(c.get("duration", 0.0)),
            details=dict(c.get("details", {})),
            excused=str(c.get("excused", "")),
        )
        for c in data["checks"]
    )
    return StepResult(int(data["step"]), str(data["title"]), checks, bool(data.get("graded", True)))


# A results.json stays under 1 MB whatever the submission did: the checks' details together
# are fitted under this, dropping the largest parts first (the verdicts stay whole).
MAX_DETAILS_BYTES = 600_000
_DROP_ORDER = ("graph", "plots", "stdout", "stderr", "values", "mismatch", "error", "inputs")


def fit_details(
    steps: tuple[StepResult, ...], limit: int = MAX_DETAILS_BYTES
) -> tuple[tuple[StepResult, ...], int]:
    """``steps`` with the largest details cut until all fit in ``limit`` bytes of JSON;
    also how many bytes were cut."""
    sizes = {
        (s.step, c.id): len(json.dumps(c.details, ensure_ascii=False))
        for s in steps
        for c in s.checks
    }
    total, cut = sum(sizes.values()), 0
    replaced: dict[tuple[int, str], dict[str, Any]] = {}
    for key in sorted(sizes, key=lambda k: -sizes[k]):
        if total <= limit:
            break
        check = next(c for s in steps if s.step == key[0] for c in s.checks if c.id == key[1])
        details = dict(check.details)
        for part in _DROP_ORDER:
            if part in details and sizes[key] > limit // 100:
                details.pop(part)
                size = len(json.dumps(details, ensure_ascii=False))
                total, cut, sizes[key] = total - sizes[key] + size, cut + sizes[key] - size, size
        details["cut"] = "left out of these results, which keep at most 1 MB per submission"
        replaced[key] = details
    if not replaced:
        return steps, 0
    return tuple(
        replace(
            s,
            checks=tuple(
                replace(c, details=replaced.get((s.step, c.id), c.details)) for c in s.checks
            ),
        )
        for s in steps
    ), cut
