"""Bad submissions are results with a clear message: never a crash, never a stray file."""

from __future__ import annotations

import json
import tempfile
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from grading import REPO, checks, grade, local_sandbox, quick_settings

VALUE = (REPO / "reference" / "step_5" / "micrograd" / "value.py").read_text()


@pytest.fixture(autouse=True)
def private_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Point every temporary file of the grader at one folder, which must end up empty."""
    local_sandbox()  # its cached bundle lives elsewhere, created before the snapshot
    scratch = tmp_path / "grader-tmp"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    yield scratch
    assert list(scratch.iterdir()) == [], "the grader left temporary files behind"


def package(tmp_path: Path, value: str | bytes, mlp: str | None = None) -> Path:
    root = tmp_path / "submission"
    (root / "micrograd").mkdir(parents=True)
    (root / "micrograd" / "__init__.py").write_text("")
    target = root / "micrograd" / "value.py"
    target.write_bytes(value if isinstance(value, bytes) else value.encode())
    if mlp is not None:
        (root / "micrograd" / "mlp.py").write_text(mlp)
    return root


def assert_rejected(source: Path, *words: str) -> None:
    result = grade(source, steps=(1,))
    assert result.status == "rejected"
    assert result.steps == ()
    for word in words:
        assert word in result.message.lower()


def test_empty_folder(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    assert_rejected(tmp_path / "empty", "is empty")


def test_no_value_class(tmp_path: Path) -> None:
    assert_rejected(package(tmp_path, "class Scalar:\n    pass\n"), "value")


def test_syntax_error_is_graded_with_the_line(tmp_path: Path) -> None:
    broken = VALUE.replace("def __mul__(self, other):", "def __mul__(self, other)", 1)
    result = grade(package(tmp_path, broken), steps=(1,))
    assert result.status == "graded" and result.score == 0
    first = next(iter(checks(result).values()))
    assert first.status == "error"
    assert "SyntaxError" in first.feedback
    # Said once, as the diagnosis (not again as a note), with the line.
    assert result.diagnosis is not None and result.diagnosis.kind == "syntax_error"
    assert "value.py does not parse (line" in result.diagnosis.message
    assert not any("does not parse" in note for note in result.notes)


def test_non_utf8_source(tmp_path: Path) -> None:
    latin1 = (VALUE + '\nGREETING = "caf\xe9"\n').encode("latin-1")
    result = grade(package(tmp_path, latin1), steps=(1,))
    assert result.status == "graded" and result.score == 0
    assert "SyntaxError" in next(iter(checks(result).values())).feedback
    assert any("not UTF-8" in note for note in result.notes)


def test_exception_at_import_names_the_line(tmp_path: Path) -> None:
    result = grade(package(tmp_path, VALUE + "\nratio = 1 / 0\n"), steps=(1,))
    first = checks(result)["add_two_values"]
    assert first.status == "error"
    assert "ZeroDivisionError" in first.feedback
    frames = first.details["error"]["frames"]
    assert frames[-1]["code"] == "ratio = 1 / 0"
    assert frames[-1]["file"] == "micrograd/value.py"


def test_endless_loop_at_import_costs_one_timeout_not_one_per_check(tmp_path: Path) -> None:
    settings = quick_settings(check_seconds=2.0, import_seconds=2.0)
    started = time.monotonic()
    result = grade(
        package(tmp_path, VALUE + "\nwhile True:\n    pass\n"), steps=(1, 2), settings=settings
    )
    elapsed = time.monotonic() - started
    statuses = [c.status for c in checks(result).values() if c.status != "not_run"]
    assert statuses[0] == "timeout"
    assert "importing micrograd.value did not finish" in checks(result)["add_two_values"].feedback
    assert set(statuses[1:]) == {"error"}
    assert elapsed < 20, f"took {elapsed:.1f} s"


@pytest.mark.parametrize(
    "content, words",
    [
        ("this is not json", ("json",)),
        (json.dumps({"cells": "nope", "metadata": {}}), ("notebook",)),
        (json.dumps([1, 2, 3]), ("notebook",)),
    ],
)
def test_broken_notebooks_are_rejected(
    tmp_path: Path, content: str, words: tuple[str, ...]
) -> None:
    path = tmp_path / "homework.ipynb"
    path.write_text(content)
    assert_rejected(path, *words)


def test_zip_with_parent_directory_entry(tmp_path: Path) -> None:
    archive = tmp_path / "evil.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("micrograd/value.py", VALUE)
        zf.writestr("../../escaped.py", "print('outside')")
    assert_rejected(archive)
    assert not (tmp_path.parent / "escaped.py").exists()


def test_zip_with_symlink_entry_skips_it(tmp_path: Path) -> None:
    archive = tmp_path / "links.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("micrograd/__init__.py", "")
        zf.writestr("micrograd/value.py", VALUE)
        link = zipfile.ZipInfo("micrograd/mlp.py")
        link.external_attr = 0o120777 << 16
        zf.writestr(link, "/etc/passwd")
    result = grade(archive, steps=(1,))
    assert result.status == "graded" and result.score == 20
    assert any("link" in note.lower() for note in result.notes)


def test_zip_bomb_is_rejected(tmp_path: Path) -> None:
    archive = tmp_path / "bomb.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("micrograd/value.py", VALUE)
        zf.writestr("micrograd/padding.py", "#" * (50 << 20))
    assert archive.stat().st_size < 1 << 20
    assert_rejected(archive)


def test_not_a_zip(tmp_path: Path) -> None:
    fake = tmp_path / "homework.zip"
    fake.write_bytes(b"PK\x03\x04 definitely not a zip")
    assert_rejected(fake)


def test_unsupported_file_type(tmp_path: Path) -> None:
    doc = tmp_path / "answers.docx"
    doc.write_bytes(b"\x00" * 10)
    assert_rejected(doc)


def test_file_names_that_are_not_utf8(tmp_path: Path) -> None:
    import os

    folder = os.fsdecode(bytes(tmp_path) + b"/caf\xe9")
    package(Path(folder).parent, VALUE)
    os.rename(Path(folder).parent / "submission", folder)
    result = grade(Path(folder), steps=(1,))
    assert result.status == "graded" and result.score == 20
    assert result.submission == "caf\N{REPLACEMENT CHARACTER}"
