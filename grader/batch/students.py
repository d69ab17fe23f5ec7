"""The files a batch writes for each student: only what that student may see.

    DIR/students/<student>/index.html, step-<k>.html   their report
    DIR/students/<student>/results.json                their results, hidden checks reduced
    DIR/students/<student>.zip                         the same folder, zipped

Staff files stay where they were (``DIR/<student>/results.json`` keeps everything, and the
gradebooks sit in DIR). A hidden check appears here as its id, title, status, score and
points (``max_score``) and nothing else: its feedback, hint, blamed method and details
(inputs, expected and actual values, output, traceback) are dropped before anything is
written, and the report is rendered from that reduced result, so no template can show what
is not there. Staff overrides and their reasons are kept: they were written for the student;
notes for staff (evidence of tampering) are not.
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import replace
from pathlib import Path
from typing import Any

from grader.files import dump_json, write_atomic
from grader.models import CheckResult, GradeResult

STUDENTS_DIR = "students"
HIDDEN_KEYS = ("id", "title", "status", "score", "max_score")
# A fixed time in the zip entries: the same result always gives the same bytes.
_ZIP_TIME = (2020, 1, 1, 0, 0, 0)


def redacted(result: GradeResult) -> GradeResult:
    """``result`` with every hidden check stripped to its title, status and points, and
    without the notes meant for staff only."""
    steps = tuple(
        replace(step, checks=tuple(_strip(check) for check in step.checks)) for step in result.steps
    )
    return replace(result, steps=steps, staff_notes=())


def _strip(check: CheckResult) -> CheckResult:
    if check.visibility != "hidden":
        return check
    # As in the report: an error or a timeout would say more than "failed" about the check.
    status = check.status if check.status in ("passed", "not_run") else "failed"
    return CheckResult(check.id, check.title, status, check.score, check.max_score, "hidden", "")


def student_results(result: GradeResult) -> dict[str, Any]:
    """The student's ``results.json``: hidden checks carry exactly ``HIDDEN_KEYS``."""
    data = redacted(result).to_json()
    for step in data["steps"]:
        step["checks"] = [
            {key: check[key] for key in HIDDEN_KEYS} if check["visibility"] == "hidden" else check
            for check in step["checks"]
        ]
    return data


def student_files(result: GradeResult) -> dict[str, bytes]:
    """File name -> bytes of everything the student gets (report pages and results)."""
    from grader.report import render_pages  # Jinja2 loads only when pages are written

    safe = redacted(result)
    files = {name: html.encode("utf-8") for name, html in render_pages(safe).items()}
    files["results.json"] = dump_json(student_results(result))
    return files


def write_student_folder(result: GradeResult, student: str, out_dir: Path) -> Path:
    """Write ``out_dir/students/<student>/`` and its zip; returns the zip's path.

    Files of an earlier version that this one does not have (a step page) are removed.
    """
    files = student_files(result)
    folder = out_dir / STUDENTS_DIR / student
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.iterdir():
        if old.is_file() and old.name not in files:
            old.unlink()
    for name, data in files.items():
        write_atomic(folder / name, data)
    archive = out_dir / STUDENTS_DIR / f"{student}.zip"
    write_atomic(archive, zip_folder(student, files))
    return archive


def zip_folder(top: str, files: dict[str, bytes]) -> bytes:
    """A zip holding ``top/<name>`` for each file, the same bytes for the same files."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name in sorted(files):
            info = zipfile.ZipInfo(f"{top}/{name}", date_time=_ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, files[name])
    return buffer.getvalue()
