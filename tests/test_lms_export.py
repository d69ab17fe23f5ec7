"""Grades and feedback files back into Canvas and Moodle, round-tripped on files shaped as
those platforms export them (tests/data/lms), read back the way their importers read them."""

from __future__ import annotations

import contextlib
import csv
import io
import json
import re
import sys
import zipfile
from pathlib import Path

import pytest
from exercise_paths import REPO
from staff_class import CANARY, build_class, patch_grading, run_class
from test_student_files import texts

from grader.cli import main

DATA = REPO / "tests" / "data" / "lms"
CANVAS_EXPORT = DATA / "canvas-gradebook-export.csv"
MOODLE_SHEET = DATA / "moodle-grading-worksheet.csv"
CANVAS_USERS = {"101": "smithjohn_101", "102": "doejane_102", "103": "leeann_103"}
MOODLE_USERS = {"201": "John_Smith_201", "202": "Ann_Lee_202"}


@pytest.fixture(scope="module")
def batch(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("lms")
    (base / "overrides.csv").write_text(
        "student,check,points,reason\nleeann_103,total,55,Oral exam\n"
    )
    with pytest.MonkeyPatch.context() as monkeypatch:
        patch_grading(monkeypatch)
        assert run_class(build_class(base / "class"), base / "out").complete
    return base / "out"


def _scores(batch: Path) -> dict[str, float]:
    book = json.loads((batch / "gradebook.json").read_text())
    return {row["submission"]: row["score"] for row in book["submissions"]}


def _csv(data: bytes, separator: str = ",") -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline=""), delimiter=separator))


def _export(*args: str) -> tuple[int, str]:
    """``micrograde export ...`` through the real entry point: (exit status, all output)."""
    out, err = io.StringIO(), io.StringIO()
    with (
        pytest.MonkeyPatch.context() as patch,
        contextlib.redirect_stdout(out),
        contextlib.redirect_stderr(err),
    ):
        patch.setattr(sys, "argv", ["micrograde", "export", *args])
        try:
            main()
            code = 0
        except SystemExit as done:
            code = int(done.code or 0)
    return code, out.getvalue() + err.getvalue()


def test_canvas_round_trip(batch: Path, tmp_path: Path) -> None:
    out = tmp_path / "import.csv"
    code, output = _export(
        "canvas", "--batch", str(batch), "--gradebook", str(CANVAS_EXPORT),
        "--assignment", "micrograd", "--out", str(out),
    )  # fmt: skip
    assert code == 0, output
    assert "scores scaled from 100 to 20 points" in output
    assert "3 grades in 'micrograd (12345)'" in output
    assert "not in the platform's file" in output and "John_Smith_201" in output
    before, after = _csv(CANVAS_EXPORT.read_bytes()), _csv(out.read_bytes())
    column = before[0].index("micrograd (12345)")
    scores = _scores(batch)
    assert len(after) == len(before)
    for old, new in zip(before, after, strict=True):
        student = CANVAS_USERS.get(old[1]) if len(old) > 1 else None
        if student is None:
            assert new == old  # headers, manual posting, points possible, other students
            continue
        assert new[:column] + new[column + 1 :] == old[:column] + old[column + 1 :]
        assert float(new[column]) == pytest.approx(scores[student] * 20 / 100, abs=0.005)
    assert float(after[[r[1] for r in after].index("103")][column]) == 11  # 55 of 100, staff's


def test_canvas_assignment_by_full_name_and_refusals(batch: Path, tmp_path: Path) -> None:
    base = ["canvas", "--batch", str(batch), "--gradebook", str(CANVAS_EXPORT)]
    out = ["--out", str(tmp_path / "x.csv")]
    assert _export(*base, "--assignment", "micrograd (12345)", *out)[0] == 0
    code, output = _export(*base, "--assignment", "micrograd", "--no-scale", *out)
    assert code == 2 and "worth 20 points on the platform but the rubric's total is 100" in output
    code, output = _export(*base, "--assignment", "autograd", *out)
    assert code == 2 and "'Homework 1 (12001)', 'micrograd (12345)', 'Quiz 1 (12002)'" in output


def test_canvas_keeps_its_separator_bom_and_decimal_comma(batch: Path, tmp_path: Path) -> None:
    rows = _csv(CANVAS_EXPORT.read_bytes())
    semicolons = io.StringIO()
    csv.writer(semicolons, delimiter=";", lineterminator="\r\n").writerows(
        [[cell.replace(".", ",") if re.fullmatch(r"\d+\.\d+", cell) else cell for cell in row]
         for row in rows]
    )  # fmt: skip
    source = tmp_path / "export.csv"
    source.write_bytes(("\ufeff" + semicolons.getvalue()).encode())
    out = tmp_path / "import.csv"
    code, output = _export(
        "canvas", "--batch", str(batch), "--gradebook", str(source),
        "--assignment", "micrograd", "--out", str(out),
    )  # fmt: skip
    assert code == 0, output
    data = out.read_bytes()
    assert data.startswith("\ufeff".encode()) and b"\r\n" in data
    after = _csv(data, ";")
    column = after[0].index("micrograd (12345)")
    assert after[[r[1] for r in after].index("103")][column] == "11"
    assert after[2][column] == "20,00"  # points possible, untouched


def _canvas_reads(name: str) -> tuple[str, str]:
    """Canvas's re-upload: the first two all-digit parts are the user and the file id."""
    user, file_id = [part for part in name.split("_") if part.isdigit()][:2]
    return user, file_id


def test_canvas_feedback_zip(batch: Path, tmp_path: Path) -> None:
    target = tmp_path / "feedback.zip"
    code, output = _export(
        "canvas", "--batch", str(batch), "--gradebook", str(CANVAS_EXPORT),
        "--assignment", "micrograd", "--out", str(tmp_path / "g.csv"),
        "--feedback-zip", str(target),
    )  # fmt: skip
    assert code == 0, output
    with zipfile.ZipFile(target) as archive:
        names = sorted(archive.namelist())
        assert names == [
            "doejane_LATE_102_5002_micrograde-feedback.zip",
            "leeann_103_5003_micrograde-feedback.zip",
            "smithjohn_101_5001_micrograde-feedback.zip",
        ]
        for name in names:
            user, file_id = _canvas_reads(name)
            student = CANVAS_USERS[user]
            download = json.loads((batch / "gradebook.json").read_text())
            row = next(r for r in download["submissions"] if r["submission"] == student)
            assert any(f"_{user}_{file_id}_" in d for d in row["downloads"])
            assert archive.read(name) == (batch / "students" / f"{student}.zip").read_bytes()
    assert not [n for n, text in texts(tmp_path).items() if CANARY in text]


def test_moodle_round_trip_and_feedback_zip(batch: Path, tmp_path: Path) -> None:
    out, target = tmp_path / "worksheet.csv", tmp_path / "feedback.zip"
    code, output = _export(
        "moodle", "--batch", str(batch), "--worksheet", str(MOODLE_SHEET),
        "--out", str(out), "--feedback-zip", str(target),
    )  # fmt: skip
    assert code == 0, output
    assert "2 grades in 'Grade'" in output and "scaled" not in output
    before, after = _csv(MOODLE_SHEET.read_bytes()), _csv(out.read_bytes())
    header = after[0]
    grade, comments = header.index("Grade"), header.index("Feedback comments")
    scores = _scores(batch)
    for old, new in zip(before, after, strict=True):
        student = MOODLE_USERS.get(old[0].removeprefix("Participant "))
        if student is None:
            assert new == old
            continue
        changed = {grade, comments}
        assert [c for i, c in enumerate(new) if i not in changed] == [
            c for i, c in enumerate(old) if i not in changed
        ]
        assert new[grade] == f"{scores[student]:.2f}"
        assert new[comments].startswith(f"micrograde: {new[grade].removesuffix('.00')} of 100")
    with zipfile.ZipFile(target) as archive:
        names = sorted(archive.namelist())
    assert names == [
        "Ann Lee_202_assignfeedback_file_micrograde-feedback.zip",
        "John Smith_201_assignfeedback_file_micrograde-feedback.zip",
    ]
    for name in names:  # Moodle's importer: fullname_participant_plugintype_pluginname_file
        _, participant, kind, plugin, filename = name.split("_", 4)
        assert participant in MOODLE_USERS and (kind, plugin) == ("assignfeedback", "file")
        assert filename == "micrograde-feedback.zip"
    assert not [n for n, text in texts(tmp_path).items() if CANARY in text]
