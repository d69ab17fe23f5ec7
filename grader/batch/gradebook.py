"""The class gradebook: one small row per student, read back from their ``results.json``.

    gradebook.csv          the contract (docs/batch.md): submission,status,score,max_score,
                           step_1..step_5, then seed,late,message,original_score,cause;
                           empty step cells for steps that were not graded; score is
                           staff's when they overrode it, original_score the grader's
                           then (else empty); cause says whose fault a rejection is
                           ("submission" or "grader"), empty when graded
    gradebook-checks.csv   for staff: the points of every check, then every check's status
    gradebook.json         the same rows with durations and platform ids, plus the columns

Rows are built from the files on disk, not from memory, so a resumed batch and an
uninterrupted one write the same gradebook, and the grader holds only these summaries.
Nothing time-dependent goes into the CSV files: the same results give the same bytes.
"""

from __future__ import annotations

import csv
import io
import json
import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from grader.exercise import STEPS
from grader.files import dump_json, write_atomic
from grader.models import inert, points

HEADER = (
    "submission",
    "status",
    "score",
    "max_score",
    *(f"step_{k}" for k in STEPS),
    "seed",
    "late",
    "message",
    "original_score",
    "cause",
)
_NUMBER = re.compile(r"(?<![A-Za-z_])[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")
MAX_FAILURE = 240
# A cell starting with one of these is a formula to a spreadsheet; hostile text must not be.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class CheckOutcome:
    """One check of one student, as much as the class overview needs."""

    id: str
    step: int
    title: str
    status: str
    score: float
    max_score: float
    blame: str | None
    failure: str  # the feedback with its numbers taken out ("" when it passed)


@dataclass(frozen=True)
class Row:
    """One student in the gradebook."""

    submission: str
    status: str
    score: float
    max_score: float
    steps: tuple[float | None, ...]  # per step; None when the step was not graded
    seed: int | None
    duration: float
    message: str
    late: bool = False
    platform: str = "plain"
    user_id: str | None = None
    checks: tuple[CheckOutcome, ...] = ()
    cause: str = ""  # for a rejected row: "submission" or "grader"
    staff_notes: tuple[str, ...] = ()  # evidence of tampering with the grader
    original_score: float | None = None  # the grader's score when staff overrode it
    overrides: tuple[str, ...] = ()  # staff overrides: applied, stale or unused, in words
    downloads: tuple[str, ...] = ()  # the names of the student's entries in the download


def read_row(
    folder: Path,
    student: str,
    *,
    late: bool = False,
    platform: str = "plain",
    user_id: str | None = None,
    max_score: float = 0.0,
) -> Row:
    """The row of ``folder/results.json``; a missing or unreadable file gives a rejected row.

    ``max_score`` is the batch's total, shown for a rejected submission (0 of 100, not 0 of 0).
    """
    extra: dict[str, Any] = {"late": late, "platform": platform, "user_id": user_id}
    try:
        data = json.loads((folder / "results.json").read_text(encoding="utf-8"))
        return row_from_results(data, student, max_score, extra)
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as error:
        message = f"no readable results.json ({type(error).__name__}): rerun the batch"
        return Row(
            student,
            "rejected",
            0.0,
            max_score,
            (None,) * len(STEPS),
            None,
            0.0,
            message,
            cause="grader",
            **extra,
        )


def row_from_results(
    data: dict[str, Any], student: str, max_score: float, extra: dict[str, Any]
) -> Row:
    """The row of one results.json (already read); ``extra``: the other fields of ``Row``."""
    graded = {s["step"]: s for s in data["steps"] if s.get("graded", True)}
    steps = tuple(float(graded[k]["score"]) if k in graded else None for k in STEPS)
    checks = tuple(
        _outcome(step["step"], check) for step in graded.values() for check in step["checks"]
    )
    rejected = data["status"] != "graded"
    return Row(
        student,
        str(data["status"]),
        float(data["score"]),
        max_score if rejected else float(data["max_score"]),
        steps,
        data.get("seed"),
        float(data.get("duration", 0.0)),
        str(data["message"]),
        checks=checks,
        cause=str(data.get("cause", "submission")) if rejected else "",
        staff_notes=tuple(str(note) for note in data.get("staff_notes", [])),
        original_score=float(data["original_score"]) if "adjustments" in data else None,
        **extra,
    )


def _outcome(step: int, check: dict[str, Any]) -> CheckOutcome:
    passed = check["status"] == "passed"
    return CheckOutcome(
        sys.intern(str(check["id"])),
        step,
        sys.intern(str(check["title"])),
        sys.intern(str(check["status"])),
        float(check["score"]),
        float(check["max_score"]),
        sys.intern(check["blame"]) if isinstance(check.get("blame"), str) else None,
        "" if passed else normalize_failure(str(check.get("feedback", ""))),
    )


def normalize_failure(feedback: str) -> str:
    """The feedback with its inputs and numbers taken out, so that failures group.

    "expected 1.23, got 4.5" and "expected 2.2, got 1.0" both become "expected #, got #".
    """
    text = feedback.split(" Inputs: ", 1)[0].strip()
    text = _NUMBER.sub("#", text)
    text = re.sub(r"\s+", " ", text)
    if len(text) > MAX_FAILURE:
        text = text[: MAX_FAILURE - 1] + "…"
    return sys.intern(text)


def _text_cell(text: str) -> str:
    """A cell of text from a submission: one inert line, never a spreadsheet formula."""
    text = inert(text, one_line=True)
    return f"'{text}" if text.startswith(_FORMULA_START) else text


def gradebook_csv(rows: Sequence[Row]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(HEADER)
    for row in rows:
        writer.writerow(
            [
                _text_cell(row.submission),
                row.status,
                points(row.score),
                points(row.max_score),
                *(points(s) for s in row.steps),
                "" if row.seed is None else row.seed,
                "yes" if row.late else "",
                _text_cell(row.message),
                points(row.original_score),
                row.cause,
            ]
        )
    return out.getvalue().encode("utf-8")


def checks_csv(rows: Sequence[Row], ids: Sequence[str]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(
        ["submission", "status", "score", "max_score", *ids, *(f"{cid}:status" for cid in ids)]
    )
    for row in rows:
        by_id = {c.id: c for c in row.checks}
        scores = [points(by_id[c].score) if c in by_id else "" for c in ids]
        statuses = [by_id[c].status if c in by_id else "" for c in ids]
        writer.writerow(
            [
                _text_cell(row.submission),
                row.status,
                points(row.score),
                points(row.max_score),
                *scores,
                *statuses,
            ]
        )
    return out.getvalue().encode("utf-8")


def gradebook_json(rows: Sequence[Row], meta: dict[str, Any]) -> bytes:
    submissions = [
        {
            "submission": r.submission,
            "status": r.status,
            "score": r.score,
            "max_score": r.max_score,
            "steps": {str(k): s for k, s in zip(STEPS, r.steps, strict=True)},
            "seed": r.seed,
            "duration": round(r.duration, 3),
            "late": r.late,
            "platform": r.platform,
            "user_id": r.user_id,
            "message": r.message,
            "cause": r.cause or None,
            "staff_notes": list(r.staff_notes),
            "original_score": r.original_score,
            "overrides": list(r.overrides),
            "downloads": list(r.downloads),
            "report": f"{r.submission}/index.html",
        }
        for r in rows
    ]
    return dump_json({"schema": 1, **meta, "submissions": submissions})


def write_gradebooks(
    rows: Sequence[Row], out_dir: Path, check_ids: Sequence[str], meta: dict[str, Any]
) -> None:
    """Write the three gradebook files into ``out_dir`` (each atomically).

    ``check_ids``: the columns of gradebook-checks.csv, in the staged files' order.
    """
    write_atomic(out_dir / "gradebook.csv", gradebook_csv(rows))
    write_atomic(out_dir / "gradebook-checks.csv", checks_csv(rows, check_ids))
    write_atomic(out_dir / "gradebook.json", gradebook_json(rows, meta))
