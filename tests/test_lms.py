"""LMS download names: who handed in what (Canvas, Moodle, plain folders), safe unique ids."""

from __future__ import annotations

from pathlib import Path

import pytest

from grader.batch.input import staged
from grader.batch.lms import RESERVED_NAMES, Submission, discover, safe_id, strip_resubmission


def _touch(folder: Path, name: str, text: str = "x = 1\n") -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def _by_id(folder: Path) -> dict[str, Submission]:
    return {s.student: s for s in discover(folder)}


def test_canvas_name_gives_name_and_user_id_and_the_original_file(tmp_path: Path) -> None:
    _touch(tmp_path, "smithjohn_12345_987654_value.py")
    (sub,) = discover(tmp_path)
    assert sub.student == "smithjohn_12345"
    assert sub.platform == "canvas" and sub.user_id == "12345" and not sub.late
    assert [(p.path.name, p.name) for p in sub.parts] == [
        ("smithjohn_12345_987654_value.py", "value.py")
    ]


def test_canvas_late_marker_is_understood(tmp_path: Path) -> None:
    _touch(tmp_path, "smithjohn_LATE_12345_987654_value.py")
    (sub,) = discover(tmp_path)
    assert sub.student == "smithjohn_12345" and sub.late
    assert sub.parts[0].name == "value.py"


def test_canvas_resubmissions_keep_the_newest_under_the_original_name(tmp_path: Path) -> None:
    _touch(tmp_path, "smithjohn_12345_100_value.py", "old")
    _touch(tmp_path, "smithjohn_12345_300_value-2.py", "newest")
    _touch(tmp_path, "smithjohn_12345_200_value-1.py", "middle")
    (sub,) = discover(tmp_path)
    assert len(sub.parts) == 1
    assert sub.parts[0].name == "value.py"
    assert sub.parts[0].path.read_text() == "newest"
    assert "uploaded 3 times" in sub.notes[0]


def test_resubmission_suffix_number_breaks_a_file_id_tie(tmp_path: Path) -> None:
    _touch(tmp_path, "smithjohn_1_50_mlp-1.py", "one")
    _touch(tmp_path, "smithjohn_1_50_mlp-2.py", "two")
    (sub,) = discover(tmp_path)
    assert sub.parts[0].path.read_text() == "two"


@pytest.mark.parametrize(
    ("name", "stripped"),
    [
        ("value-1.py", "value.py"),
        ("value-12.ipynb", "value.ipynb"),
        ("notes-2", "notes"),
        ("value.py", "value.py"),
        ("step-3-notebook.ipynb", "step-3-notebook.ipynb"),
    ],
)
def test_strip_resubmission(name: str, stripped: str) -> None:
    assert strip_resubmission(name) == stripped


def test_canvas_student_with_several_files_becomes_one_folder(tmp_path: Path) -> None:
    _touch(tmp_path, "doejane_7_11_value.py", "class Value: pass\n")
    _touch(tmp_path, "doejane_7_12_mlp.py", "from value import Value\n")
    (sub,) = discover(tmp_path)
    assert sorted(p.name for p in sub.parts) == ["mlp.py", "value.py"]
    assert sub.direct is None
    with staged(sub) as folder:
        assert folder.is_dir()
        assert sorted(p.name for p in folder.iterdir()) == ["mlp.py", "value.py"]
        assert (folder / "mlp.py").read_text() == "from value import Value\n"


def test_a_single_renamed_canvas_file_is_staged_under_its_original_name(tmp_path: Path) -> None:
    _touch(tmp_path, "doejane_7_11_solution.py")
    (sub,) = discover(tmp_path)
    with staged(sub) as path:
        assert path.name == "solution.py" and path.is_file()
    assert not path.exists()  # the copy is temporary


def test_moodle_folders_and_flat_files(tmp_path: Path) -> None:
    _touch(tmp_path, "John Smith_123456_assignsubmission_file_/micrograd/value.py")
    _touch(tmp_path, "Ann Lee_654321_assignsubmission_file_value.py")
    _touch(tmp_path, "Ann Lee_654321_assignsubmission_file_mlp.py")
    _touch(tmp_path, "Ann Lee_654321_assignsubmission_onlinetext_onlinetext.html")
    found = _by_id(tmp_path)
    assert set(found) == {"John_Smith_123456", "Ann_Lee_654321"}
    john, ann = found["John_Smith_123456"], found["Ann_Lee_654321"]
    assert john.platform == "moodle" and john.user_id == "123456"
    assert john.direct == tmp_path / "John Smith_123456_assignsubmission_file_"
    # Only file uploads are graded; the online text is left out.
    assert sorted(p.name for p in ann.parts) == ["mlp.py", "value.py"]


def test_plain_entries_use_their_own_name(tmp_path: Path) -> None:
    _touch(tmp_path, "alice/value.py")
    _touch(tmp_path, "bob.py")
    _touch(tmp_path, "carol.zip")
    _touch(tmp_path, "dave.ipynb")
    _touch(tmp_path, "eve.txt")
    _touch(tmp_path, ".DS_Store")
    _touch(tmp_path, "__MACOSX/._bob.py")
    found = _by_id(tmp_path)
    assert list(found) == ["alice", "bob", "carol", "dave", "eve.txt"]
    assert all(s.platform == "plain" for s in found.values())
    assert found["bob"].direct == tmp_path / "bob.py"


def test_collisions_are_disambiguated_in_a_fixed_order(tmp_path: Path) -> None:
    _touch(tmp_path, "alice.py")
    _touch(tmp_path, "alice.zip")
    _touch(tmp_path, "Alice/value.py")  # differs only in case: one folder on macOS/Windows
    first = [(s.student, s.parts[0].path.name) for s in discover(tmp_path)]
    assert first == [("Alice", "Alice"), ("alice-2", "alice.py"), ("alice-3", "alice.zip")]
    assert [(s.student, s.parts[0].path.name) for s in discover(tmp_path)] == first


def test_reserved_names_never_become_student_folders(tmp_path: Path) -> None:
    _touch(tmp_path, "index.html/value.py")
    _touch(tmp_path, "gradebook.csv/value.py")
    ids = [s.student for s in discover(tmp_path)]
    assert not set(ids) & RESERVED_NAMES
    assert sorted(ids) == ["gradebook.csv_", "index.html_"]


@pytest.mark.parametrize(
    "raw",
    [
        "..",
        ".",
        "../../etc",
        "a/b",
        "a\\b",
        ".hidden",
        "",
        '=HYPERLINK("x")',
        "tab\there",
        "nul\x00byte",
        "é" * 200,
        "   ",
        "-rf",
    ],
)
def test_safe_id_is_always_one_harmless_path_component(raw: str) -> None:
    student = safe_id(raw)
    assert student and student not in (".", "..")
    assert "/" not in student and "\\" not in student and "\x00" not in student
    assert not student.startswith((".", "=", "+", "-", "@"))
    assert len(student.encode()) <= 120
    assert not any(ch.isspace() for ch in student)


def test_hostile_names_stay_readable(tmp_path: Path) -> None:
    _touch(tmp_path, "O'Brien & <b>Co</b>_77_assignsubmission_file_value.py".replace("/", ""))
    (sub,) = discover(tmp_path)
    assert sub.student == "O'Brien_&_<b>Co<b>_77"
