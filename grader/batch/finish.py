"""What a complete batch writes last, from the results on disk.

    DIR/<student>/results.json --overrides--> the adjusted result
        --> DIR/students/<student>/ (+ .zip)   what the student may see
        --> one gradebook row
    rows --> gradebook.csv, gradebook-checks.csv, gradebook.json, index.html

Results are read back one at a time, so a class of any size holds only its rows in memory,
and the same results and overrides always give the same files.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from grader import __version__
from grader.batch.gradebook import Row, read_row, row_from_results, write_gradebooks
from grader.batch.lms import Submission
from grader.batch.overrides import Override, Settled, apply, settle
from grader.batch.students import write_student_folder
from grader.exercise import Exercise
from grader.models import printable, result_from_json
from grader.report.overview import render_overview
from grader.rubric import Rubric

_UNREADABLE = (OSError, ValueError, KeyError, TypeError, AttributeError)


@dataclass(frozen=True)
class ClassInfo:
    """What finishing a batch needs to know about it."""

    exercise: Exercise
    rubric: Rubric
    out_dir: Path
    steps: tuple[int, ...]
    seed: int
    sandbox: str

    @property
    def total(self) -> float:
        return sum(e.points for s in self.steps for e in self.rubric.steps[s].entries.values())


@dataclass(frozen=True)
class Finished:
    rows: tuple[Row, ...]
    warnings: tuple[str, ...]  # overrides that were not applied, one sentence each


def finish_class(
    submissions: Sequence[Submission],
    info: ClassInfo,
    overrides: Mapping[str, tuple[Override, ...]],
    contents: Mapping[str, str],
    similarity: Sequence[Path] | None = None,
) -> Finished:
    """Write every student's folder, the gradebooks, the overview page and, when
    ``similarity`` is not None, the similarity screening (with those reference sources).

    ``contents``: each student's content digest (the version overrides and the similarity
    cache belong to). The submissions' files must still be there for the screening.
    """
    links = []
    if similarity is not None:
        from grader.batch.similarity import PAGE, screen_class

        screen_class(submissions, info.exercise, info.out_dir, contents, similarity)
        links.append((PAGE, "Similarity screening: the most similar pairs of submissions"))
    rows, warnings = [], []
    for submission in submissions:
        row = _student_row(submission, info, overrides.get(submission.student, ()), contents)
        rows.append(row)
        warnings += [f"{row.submission}: {note}" for note in row.overrides if _is_warning(note)]
    ids = [c.id for c in info.exercise.steps_checks(info.steps)]
    write_gradebooks(rows, info.out_dir, ids, _meta(info))
    render_overview(rows, info.out_dir, links)
    return Finished(tuple(rows), tuple(warnings))


def _student_row(
    submission: Submission,
    info: ClassInfo,
    overrides: tuple[Override, ...],
    contents: Mapping[str, str],
) -> Row:
    folder = info.out_dir / submission.student
    extra: dict[str, Any] = {
        "late": submission.late,
        "platform": submission.platform,
        "user_id": submission.user_id,
    }
    # File names read from disk may not be UTF-8: the gradebook must stay writable.
    downloads = tuple(printable(part.path.name) for part in submission.parts)
    try:
        result = result_from_json(json.loads((folder / "results.json").read_text("utf-8")))
    except _UNREADABLE:
        row = read_row(folder, submission.student, max_score=info.total, **extra)
        waiting = tuple(
            f"override not applied: {o.describe()}: this submission has no result yet "
            "(rerun the batch)"
            for o in overrides
        )
        return replace(row, downloads=downloads, overrides=waiting)
    settled = Settled()
    if overrides:
        settled = settle(overrides, folder, contents.get(submission.student, ""))
    result, settled = apply(result, settled)
    write_student_folder(result, submission.student, info.out_dir)
    row = row_from_results(result.to_json(), submission.student, info.total, extra)
    return replace(row, overrides=override_notes(settled), downloads=downloads)


def override_notes(settled: Settled) -> tuple[str, ...]:
    """Each override of one student in words: applied, stale or unused."""
    return (
        *(f"override applied: {o.describe()}" for o in settled.applied),
        *(
            f"override stale: {o.describe()} was written for an earlier version of this "
            "submission; the student has handed in another since: edit or remove the line"
            for o in settled.stale
        ),
        *(
            f"override not applied: {o.describe()}: this grading has no result for that check"
            for o in settled.unused
        ),
    )


def _is_warning(note: str) -> bool:
    return not note.startswith("override applied")


def _meta(info: ClassInfo) -> dict[str, Any]:
    checks = [
        {
            "id": c.id,
            "step": c.step,
            "title": info.rubric.entry(c.step, c.id).title,
            "max_score": info.rubric.entry(c.step, c.id).points,
            "visibility": info.rubric.entry(c.step, c.id).visibility,
        }
        for c in info.exercise.steps_checks(info.steps)
    ]
    return {
        "seed": info.seed,
        "grader_version": __version__,
        "sandbox": info.sandbox,
        "steps": list(info.steps),
        "checks": checks,
    }
