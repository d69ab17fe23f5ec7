"""Grades and feedback files back into Canvas, in the shapes Canvas itself imports.

Grades. Canvas's gradebook export (Grades > Export) is a CSV:

    Student,ID,SIS User ID,SIS Login ID,Section,micrograd (12345),...,Current Score,...
    ,,,,,Manual Posting,...                 only when an assignment posts grades by hand
        Points Possible,,,,,100.00,...,(read only),...
    "Smith, John",101,s101,jsmith,Section A,,...

``canvas_grades`` fills one assignment's column of that very file and changes nothing
else, so Grades > Import sees exactly the new scores. Students are matched by the Canvas
user id, which is the ``ID`` column and also the number in Canvas's download names
(``smithjohn_101_5001_value.py``). The separator, byte-order mark and line endings of the
file are kept (Canvas can export with ``;`` where a decimal comma is the custom).

Feedback files. Canvas's "Re-upload submissions" takes a zip of files named like the
download (``lastfirst_userid_fileid_...``): it reads the first two all-digit parts of a name
as the user id and the id of one of that student's submitted files, and attaches the file
to that submission as a comment. Each student gets their folder (``students/<id>.zip``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

from grader.errors import ConfigError
from grader.integrations.lms_export import (
    FEEDBACK_NAME,
    BatchGrade,
    Filled,
    Sheet,
    download_names,
    feedback_zip,
    parse_number,
    scale_for,
)

POINTS_POSSIBLE = "Points Possible"
_WITH_ID = re.compile(r"^(?P<name>.*) \((?P<id>\d+)\)$")


def find_column(header: list[str], assignment: str) -> int:
    """The column of ``assignment``: its exact header, or its name without ``(id)``."""
    exact = [i for i, name in enumerate(header) if name.strip() == assignment.strip()]
    if exact:
        return exact[0]
    named = [
        i
        for i, name in enumerate(header)
        if (m := _WITH_ID.match(name.strip())) and m["name"] == assignment.strip()
    ]
    if len(named) == 1:
        return named[0]
    assignments = [name for name in header if _WITH_ID.match(name.strip())]
    if named:
        choices = ", ".join(repr(header[i]) for i in named)
        raise ConfigError(f"several assignments are called {assignment!r}: pass one of {choices}")
    raise ConfigError(
        f"no assignment {assignment!r} in the gradebook export; its assignments: "
        f"{', '.join(repr(a) for a in assignments) or 'none'}"
    )


def canvas_grades(
    export: Path, grades: Sequence[BatchGrade], assignment: str, *, scale: bool = True
) -> Filled:
    """Canvas's gradebook export with ``assignment``'s column filled from ``grades``."""
    sheet = Sheet.read(export, ("Student", "LastName"))
    header = sheet.rows[0]
    if "ID" not in header:
        raise ConfigError(f"{export} has no ID column: export the gradebook from Canvas again")
    id_col, column = header.index("ID"), find_column(header, assignment)
    possible_row = next((r for r in sheet.rows[1:] if r and r[0].strip() == POINTS_POSSIBLE), None)
    possible = parse_number(possible_row[column]) if possible_row else None
    the_scale = scale_for(possible, grades, scale)
    by_user = {g.user_id: g for g in grades if g.platform == "canvas" and g.user_id}
    written, listed = [], set()
    for row in sheet.rows[1:]:
        if len(row) <= max(id_col, column) or row is possible_row:
            continue
        grade = by_user.get(row[id_col].strip())
        if grade is None:
            continue
        listed.add(grade.student)
        if grade.exported:
            row[column] = sheet.number(the_scale.apply(grade.score))
            written.append(grade.student)
    return Filled(
        sheet.to_bytes(),
        header[column],
        tuple(written),
        tuple(g.student for g in grades if g.exported and g.student not in listed),
        tuple(g.student for g in grades if not g.exported),
        the_scale,
    )


def canvas_feedback_name(grade: BatchGrade) -> str | None:
    """The name Canvas's re-upload matches: the download's ``lastfirst_[LATE_]user_file_``."""
    for download, _, user, file_id in download_names(grade, "canvas"):
        marker = f"_{user}_{file_id}_"
        return download[: download.index(marker) + len(marker)] + FEEDBACK_NAME
    return None


def canvas_feedback_zip(batch_dir: Path, grades: Sequence[BatchGrade]) -> tuple[bytes, list[str]]:
    """The zip for Canvas's "Re-upload submissions"; also the students it leaves out."""
    return feedback_zip(batch_dir, grades, canvas_feedback_name)
