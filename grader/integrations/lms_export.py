"""What the Canvas and Moodle exports share: a batch's grades, scaling, feedback zips.

A batch folder is read through its files (``gradebook.json`` and ``students/<id>.zip``),
never by regrading, so an export always says what the gradebook says, overrides included.

Which students get a grade: every graded one; a rejected one whose rejection is the
submission's (nothing gradable was handed in: 0 points, as in the gradebook); any student
whose grade staff set by hand. A rejection that is the grader's fault is not exported: the
batch should be rerun for it, and the platform keeps what it had.
"""

from __future__ import annotations

import csv
import io
import json
import zipfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from grader.batch.lms import parse_entry
from grader.batch.students import STUDENTS_DIR
from grader.errors import ConfigError
from grader.models import points

FEEDBACK_NAME = "micrograde-feedback.zip"
_SEPARATORS = (",", ";", "\t")
_ZIP_TIME = (2020, 1, 1, 0, 0, 0)


@dataclass(frozen=True)
class BatchGrade:
    """One student of a batch, as the exports need them."""

    student: str
    platform: str
    user_id: str | None
    score: float
    max_score: float
    exported: bool  # False: the grader failed on it, the platform's cell is left alone
    message: str
    downloads: tuple[str, ...]


def read_batch(batch_dir: Path) -> list[BatchGrade]:
    """The students of the batch written into ``batch_dir`` (its gradebook.json)."""
    path = batch_dir / "gradebook.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return [_grade(row) for row in data["submissions"]]
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise ConfigError(
            f"cannot read {path} ({type(error).__name__}): pass the --out folder of a "
            "finished `micrograde batch`"
        ) from None


def _grade(row: dict[str, object]) -> BatchGrade:
    overridden = row.get("original_score") is not None
    grader_failed = row["status"] != "graded" and row.get("cause") == "grader"
    return BatchGrade(
        student=str(row["submission"]),
        platform=str(row["platform"]),
        user_id=None if row["user_id"] is None else str(row["user_id"]),
        score=float(row["score"]),  # type: ignore[arg-type]
        max_score=float(row["max_score"]),  # type: ignore[arg-type]
        exported=overridden or not grader_failed,
        message=str(row["message"]),
        downloads=tuple(str(d) for d in row.get("downloads", ())),  # type: ignore[attr-defined]
    )


@dataclass(frozen=True)
class Scale:
    """Points on the platform = points of the rubric x ``factor``."""

    possible: float
    total: float

    @property
    def factor(self) -> float:
        return self.possible / self.total if self.total else 1.0

    @property
    def changes(self) -> bool:
        return abs(self.possible - self.total) > 1e-9

    def apply(self, score: float) -> float:
        return round(score * self.factor, 2)


def scale_for(possible: float | None, grades: Iterable[BatchGrade], allowed: bool) -> Scale:
    """The scale from the rubric's total to the platform's points (``--no-scale``: none)."""
    total = max((g.max_score for g in grades), default=0.0)
    scale = Scale(total if possible is None else possible, total)
    if scale.changes and not allowed:
        raise ConfigError(
            f"the assignment is worth {points(scale.possible)} points on the platform but "
            f"the rubric's total is {points(total)}: leave out --no-scale to scale the "
            "scores, or change the assignment's points"
        )
    return scale


def parse_number(text: str) -> float | None:
    """A number as a platform writes it ("10", "10.00", "10,5"), or None."""
    cleaned = text.strip()
    if "," in cleaned and "." not in cleaned:
        cleaned = cleaned.replace(",", ".")
    try:
        return float(cleaned)
    except ValueError:
        return None


def feedback_zip(
    batch_dir: Path, grades: Iterable[BatchGrade], name_for: Callable[[BatchGrade], str | None]
) -> tuple[bytes, list[str]]:
    """A zip of each student's folder (``students/<id>.zip``) under the platform's name.

    ``name_for`` gives the name the platform matches on, or None for a student it cannot
    take. Returns the zip's bytes and the students left out.
    """
    buffer, left_out = io.BytesIO(), []
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        for grade in grades:
            source = batch_dir / STUDENTS_DIR / f"{grade.student}.zip"
            name = name_for(grade)
            if name is None or not source.is_file():
                left_out.append(grade.student)
                continue
            info = zipfile.ZipInfo(name, date_time=_ZIP_TIME)
            info.external_attr = 0o644 << 16
            archive.writestr(info, source.read_bytes())
    return buffer.getvalue(), left_out


def download_names(grade: BatchGrade, platform: str) -> list[tuple[str, str, str, int]]:
    """(entry, student's name, user id, file id) of each of the student's download entries."""
    found = []
    for download in grade.downloads:
        entry = parse_entry(Path(download))
        if entry.platform == platform and entry.user_id is not None:
            found.append((download, entry.name, entry.user_id, entry.file_id))
    return found


@dataclass(frozen=True)
class Filled:
    """A platform's file with one assignment's grades written in, and what happened."""

    content: bytes
    column: str
    written: tuple[str, ...]  # students whose cell got a score
    not_in_export: tuple[str, ...]  # graded students the platform's file does not list
    not_exported: tuple[str, ...]  # the grader failed on them: their cell is left alone
    scale: Scale


@dataclass(frozen=True)
class Sheet:
    """A CSV file as read, with what is needed to write it back the same way."""

    rows: list[list[str]]
    separator: str
    bom: bool
    newline: str

    @classmethod
    def read(cls, path: Path, first_cells: Sequence[str]) -> Sheet:
        try:
            raw = path.read_bytes().decode("utf-8")
        except (OSError, UnicodeDecodeError) as error:
            raise ConfigError(f"cannot read {path}: {error}") from None
        bom = raw.startswith("\ufeff")
        text = raw.removeprefix("\ufeff")
        newline = "\r\n" if "\r\n" in text else "\n"
        for separator in _SEPARATORS:
            rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=separator))
            if rows and rows[0] and rows[0][0].strip() in first_cells:
                return cls(rows, separator, bom, newline)
        raise ConfigError(
            f"{path} does not start with a {' or '.join(first_cells)} column: pass the file "
            "exactly as the platform exported it"
        )

    def to_bytes(self) -> bytes:
        out = io.StringIO()
        writer = csv.writer(out, delimiter=self.separator, lineterminator=self.newline)
        writer.writerows(self.rows)
        return (("\ufeff" if self.bom else "") + out.getvalue()).encode("utf-8")

    def number(self, value: float) -> str:
        """``value`` as this file writes numbers (a decimal comma in a ``;`` file)."""
        text = points(value)
        return text.replace(".", ",") if self.separator == ";" else text
