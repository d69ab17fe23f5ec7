"""Staff overrides: validated before grading, applied after, kept by a resume, shown in the
gradebooks and the student's report, and stale (not applied) once the student resubmits."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import pytest
from staff_class import build_class, patch_grading, run_class

from grader.batch.gradebook import HEADER
from grader.batch.overrides import read_overrides
from grader.errors import ConfigError
from grader.models import points

OVERRIDES = """student,check,points,reason
smithjohn_101,total,88.5,Regrade: late penalty waived <b>by the lecturer</b>
doejane_102,multiply_backward,2,Right idea; the typo was ours
"""


def _grader_score(out: Path, student: str) -> str:
    return points(json.loads((out / student / "results.json").read_text())["score"])


def _rows(path: Path) -> dict[str, dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return {row["submission"]: row for row in csv.DictReader(handle)}


@pytest.fixture
def graded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Path]:
    patch_grading(monkeypatch)
    folder = build_class(tmp_path / "class")
    (tmp_path / "overrides.csv").write_text(OVERRIDES)  # beside the class: found by default
    summary = run_class(folder, tmp_path / "out")
    assert summary.complete and summary.overrides == tmp_path / "overrides.csv"
    assert summary.warnings == ()
    return {"class": folder, "out": tmp_path / "out", "base": tmp_path}


def test_overrides_show_in_the_gradebooks(graded: dict[str, Path]) -> None:
    out = graded["out"]
    header = (out / "gradebook.csv").read_text().splitlines()[0].split(",")
    assert tuple(header) == HEADER and header[-3:] == ["message", "original_score", "cause"]
    rows = _rows(out / "gradebook.csv")
    smith, doe = rows["smithjohn_101"], rows["doejane_102"]
    assert smith["score"] == "88.5" and smith["original_score"] == _grader_score(
        out, "smithjohn_101"
    )
    original = float(doe["original_score"])
    assert float(doe["score"]) == original + 2  # the check had failed: 0 -> 2 points
    assert rows["alice"]["original_score"] == ""
    checks = _rows(out / "gradebook-checks.csv")
    assert checks["doejane_102"]["multiply_backward"] == "2"
    book = {
        s["submission"]: s for s in json.loads((out / "gradebook.json").read_text())["submissions"]
    }
    assert book["smithjohn_101"]["overrides"] == ["override applied: total set to 88.5 (line 2)"]


def test_the_students_report_shows_the_adjustment_and_its_reason(
    graded: dict[str, Path],
) -> None:
    folder = graded["out"] / "students" / "smithjohn_101"
    page = (folder / "index.html").read_text()
    original = _grader_score(graded["out"], "smithjohn_101")
    assert "88.5 / 100 points" in page and f"the grader gave {original}" in page
    assert "late penalty waived &lt;b&gt;by the lecturer&lt;/b&gt;" in page  # escaped
    step = (graded["out"] / "students" / "doejane_102" / "step-2.html").read_text()
    assert "Changed by course staff" in step and "Right idea; the typo was ours" in step
    data = json.loads((folder / "results.json").read_text())
    assert data["score"] == 88.5 and points(data["original_score"]) == original
    assert data["adjustments"][0]["check"] == "total"


def test_a_resume_keeps_the_overrides(graded: dict[str, Path]) -> None:
    before = (graded["out"] / "gradebook.csv").read_bytes()
    for student in ("smithjohn_101", "alice"):  # as if the run had stopped before them
        (graded["out"] / student / ".key").unlink()
    (graded["out"] / "gradebook.csv").unlink()
    summary = run_class(graded["class"], graded["out"])
    assert summary.graded_now == 2 and summary.warnings == ()
    assert (graded["out"] / "gradebook.csv").read_bytes() == before


def test_a_resubmission_makes_the_override_stale(graded: dict[str, Path]) -> None:
    entry = graded["class"] / "smithjohn_101_5001_micrograd.py"
    entry.write_text("# smithjohn_101, second version\n")
    summary = run_class(graded["class"], graded["out"])
    assert summary.graded_now == 1
    assert len(summary.warnings) == 1 and "smithjohn_101: override stale" in summary.warnings[0]
    row = _rows(graded["out"] / "gradebook.csv")["smithjohn_101"]
    assert row["original_score"] == ""  # not applied
    assert row["score"] == _grader_score(graded["out"], "smithjohn_101") != "88.5"
    page = (graded["out"] / "students" / "smithjohn_101" / "index.html").read_text()
    assert "lecturer" not in page
    # Staff edit the line: a new override, for the version graded now.
    text = (graded["base"] / "overrides.csv").read_text().replace("88.5", "90")
    (graded["base"] / "overrides.csv").write_text(text)
    summary = run_class(graded["class"], graded["out"])
    assert summary.graded_now == 0 and summary.warnings == ()
    assert _rows(graded["out"] / "gradebook.csv")["smithjohn_101"]["score"] == "90"


@pytest.mark.parametrize(
    ("line", "words"),
    [
        ("nobody_1,total,1,x", "line 2: no student 'nobody_1'"),
        ("smithjon_101,total,1,x", "did you mean 'smithjohn_101'"),
        ("alice,not_a_check,1,x", "line 2: no check 'not_a_check'"),
        ("alice,multiply_backward,99,x", "between 0 and 3 for multiply_backward"),
        ("alice,total,lots,x", "points must be a number"),
        ("alice,total,5,", "give a reason"),
        ("alice,total,5", "expected 4 cells"),
        ("alice,total,5,x\nalice,total,6,y", "line 3: alice total is already overridden on line 2"),
    ],
)
def test_mistakes_are_errors_naming_the_line(tmp_path: Path, line: str, words: str) -> None:
    path = tmp_path / "overrides.csv"
    path.write_text(f"student,check,points,reason\n{line}\n")
    with pytest.raises(ConfigError, match=words.replace("(", r"\(").replace(")", r"\)")):
        read_overrides(path, {"alice", "smithjohn_101"}, {"multiply_backward": 3.0})


def test_a_bad_overrides_file_stops_the_batch_before_grading(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    patch_grading(monkeypatch)
    bad = tmp_path / "mine.csv"
    bad.write_text("student,check,points,reason\nghost,total,1,x\n")
    with pytest.raises(ConfigError, match="mine.csv, line 2: no student 'ghost'"):
        run_class(build_class(tmp_path / "class"), tmp_path / "out", overrides=bad)
    assert not list((tmp_path / "out").glob("*/results.json"))
    shutil.rmtree(tmp_path / "out", ignore_errors=True)


def test_a_reason_may_span_lines_and_line_numbers_stay_right(tmp_path: Path) -> None:
    path = tmp_path / "overrides.csv"
    path.write_text('student,check,points,reason\nalice,total,5,"two\nlines"\nghost,total,1,x\n')
    with pytest.raises(ConfigError, match="line 4: no student 'ghost'"):
        read_overrides(path, {"alice"}, {})
