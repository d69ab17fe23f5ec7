"""Grades and feedback files back into a Moodle assignment, in Moodle's own formats.

Grades. The assignment's "Download grading worksheet" is a CSV:

    Identifier,Full name,Email address,Status,Grade,Maximum Grade,Grade can be changed,
        Last modified (submission),Last modified (grade),Feedback comments
    Participant 201,John Smith,js@example.edu,Submitted for grading,,100.00,Yes,...

Moodle's "Upload grading worksheet" reads ``Identifier`` (``Participant N``), ``Grade``,
``Last modified (grade)`` and a column per feedback plugin (``Feedback comments``).
``moodle_grades`` writes the grade and a short comment for each graded student and leaves
every other cell as it was. The participant number N is also the number in Moodle's
download names (``John Smith_201_assignsubmission_file_``), which is how students match.

Feedback files. "Upload multiple feedback files in a zip" takes files whose name starts
``<full name>_<participant>_<plugin type>_<plugin name>_``; each student gets their folder
(``students/<id>.zip``) as ``John Smith_201_assignfeedback_file_micrograde-feedback.zip``.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from pathlib import Path

from grader.errors import ConfigError
from grader.integrations.lms_export import (
    FEEDBACK_NAME,
    BatchGrade,
    Filled,
    Scale,
    Sheet,
    download_names,
    feedback_zip,
    parse_number,
    scale_for,
)
from grader.models import points

IDENTIFIER, GRADE, MAXIMUM, COMMENTS = "Identifier", "Grade", "Maximum Grade", "Feedback comments"
PARTICIPANT = "Participant "


def moodle_grades(worksheet: Path, grades: Sequence[BatchGrade], *, scale: bool = True) -> Filled:
    """Moodle's grading worksheet with the grade and a comment of each graded student."""
    sheet = Sheet.read(worksheet, (IDENTIFIER,))
    header = [name.strip() for name in sheet.rows[0]]
    if GRADE not in header:
        raise ConfigError(f"{worksheet} has no {GRADE} column: download the worksheet again")
    grade_col = header.index(GRADE)
    comment_col = header.index(COMMENTS) if COMMENTS in header else None
    maximum = _maximum(sheet, header)
    the_scale = scale_for(maximum, grades, scale)
    by_user = {g.user_id: g for g in grades if g.platform == "moodle" and g.user_id}
    written, listed = [], set()
    for row in sheet.rows[1:]:
        if len(row) <= grade_col or not row[0].startswith(PARTICIPANT):
            continue
        grade = by_user.get(row[0].removeprefix(PARTICIPANT).strip())
        if grade is None:
            continue
        listed.add(grade.student)
        if not grade.exported:
            continue
        row[grade_col] = f"{the_scale.apply(grade.score):.2f}"
        if comment_col is not None and len(row) > comment_col:
            row[comment_col] = comment(grade, the_scale)
        written.append(grade.student)
    return Filled(
        sheet.to_bytes(),
        GRADE,
        tuple(written),
        tuple(g.student for g in grades if g.exported and g.student not in listed),
        tuple(g.student for g in grades if not g.exported),
        the_scale,
    )


def _maximum(sheet: Sheet, header: list[str]) -> float | None:
    """The assignment's maximum grade, as the worksheet's rows give it (the same in each)."""
    if MAXIMUM not in header:
        return None
    column = header.index(MAXIMUM)
    values = {parse_number(r[column]) for r in sheet.rows[1:] if len(r) > column}
    values.discard(None)
    return values.pop() if len(values) == 1 else None


def comment(grade: BatchGrade, scale: Scale) -> str:
    """The short feedback text: the score, the grader's one-line message, where to read more.

    Moodle stores the comment as HTML, so the text (which may quote a file name) is escaped.
    """
    score = f"{points(scale.apply(grade.score))} of {points(scale.possible)} points"
    text = f"micrograde: {score}. {grade.message} The full report is in your feedback files."
    return html.escape(text, quote=False)


def moodle_feedback_name(grade: BatchGrade) -> str | None:
    """``<full name>_<participant>_assignfeedback_file_micrograde-feedback.zip``."""
    for _, name, user, _ in download_names(grade, "moodle"):
        return f"{name}_{user}_assignfeedback_file_{FEEDBACK_NAME}"
    return None


def moodle_feedback_zip(batch_dir: Path, grades: Sequence[BatchGrade]) -> tuple[bytes, list[str]]:
    """The zip for Moodle's "Upload multiple feedback files in a zip"; also who is left out."""
    return feedback_zip(batch_dir, grades, moodle_feedback_name)
