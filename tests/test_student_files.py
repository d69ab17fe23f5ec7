"""Files safe to hand back: DIR/students/<student>/ and its zip hold only what a student may
see. A class whose hidden checks (passing and failing) carry canaries everywhere is graded,
and every student-facing file, inside zips too, is scanned for them."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest
from results_schema import problems
from staff_class import CANARY, CANVAS, MOODLE, PLAIN, build_class, patch_grading, run_class

from grader.batch.students import HIDDEN_KEYS, STUDENTS_DIR

STUDENTS = [*CANVAS, *MOODLE, PLAIN]


@pytest.fixture(scope="module")
def graded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("students")
    with pytest.MonkeyPatch.context() as monkeypatch:
        patch_grading(monkeypatch)
        summary = run_class(build_class(base / "class"), base / "out")
    assert summary.complete and summary.graded_now == len(STUDENTS)
    return base / "out"


def texts(root: Path) -> dict[str, str]:
    """Every file under ``root``, and every member of every zip there, as text."""
    found = {}
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        found[str(path)] = path.read_bytes().decode("utf-8", "replace")
        if path.suffix == ".zip":
            with zipfile.ZipFile(path) as archive:
                for name in archive.namelist():
                    found[f"{path}!{name}"] = archive.read(name).decode("utf-8", "replace")
    return found


def test_the_canaries_were_planted_in_the_staff_files(graded: Path) -> None:
    # The scan below can fail: staff results hold canaries of passing and failing checks.
    data = json.loads((graded / "doejane_102" / "results.json").read_text())
    hidden = [c for s in data["steps"] for c in s["checks"] if c["visibility"] == "hidden"]
    assert {c["status"] for c in hidden} >= {"passed", "failed"}
    assert all(CANARY in json.dumps(c) for c in hidden)


def test_no_student_facing_file_holds_a_canary(graded: Path) -> None:
    files = texts(graded / STUDENTS_DIR)
    assert len(files) >= 4 * len(STUDENTS)  # pages, results, zip and the zip's members
    leaks = [name for name, text in files.items() if CANARY in text]
    assert leaks == []


def test_one_folder_and_one_zip_per_student(graded: Path) -> None:
    root = graded / STUDENTS_DIR
    assert sorted(p.name for p in root.iterdir()) == sorted(
        [*STUDENTS, *(f"{s}.zip" for s in STUDENTS)]
    )
    folder = root / "smithjohn_101"
    names = sorted(p.name for p in folder.iterdir())
    assert names == ["index.html", "results.json", *(f"step-{k}.html" for k in range(1, 6))]
    with zipfile.ZipFile(root / "smithjohn_101.zip") as archive:
        assert sorted(archive.namelist()) == [f"smithjohn_101/{n}" for n in names]
        assert archive.read("smithjohn_101/index.html") == (folder / "index.html").read_bytes()


def test_a_hidden_check_carries_exactly_its_id_title_points_score_and_status(
    graded: Path,
) -> None:
    for student in STUDENTS:
        data = json.loads((graded / STUDENTS_DIR / student / "results.json").read_text())
        assert problems(data) == []
        staff = json.loads((graded / student / "results.json").read_text())
        for mine, full in zip(data["steps"], staff["steps"], strict=True):
            for check, original in zip(mine["checks"], full["checks"], strict=True):
                if original["visibility"] == "hidden":
                    assert tuple(check) == HIDDEN_KEYS
                    assert check["status"] in ("passed", "failed")
                else:
                    assert check == original  # visible checks keep their feedback
        assert data["score"] == staff["score"]


def test_the_staff_files_stay_apart(graded: Path) -> None:
    assert (graded / "gradebook.csv").is_file()
    assert not list((graded / STUDENTS_DIR).rglob("gradebook*"))


def test_notes_for_staff_never_reach_the_students_copy() -> None:
    from grader.batch.students import student_files, student_results
    from grader.models import GradeResult

    flagged = GradeResult(
        submission="s",
        status="graded",
        message="m",
        seed=1,
        sandbox="local",
        staff_notes=(
            "during check add_two_values: the harness found "
            "observe.Observer.given replaced or patched",
        ),
    )
    assert "staff_notes" in flagged.to_json()
    assert "staff_notes" not in student_results(flagged)
    assert not any(b"Observer.given" in data for data in student_files(flagged).values())
