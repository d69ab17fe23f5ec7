"""grader.intake: every submission shape, module names, notebooks, broken code, rejections."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from intake_cases import (
    ALL,
    JUNK,
    SHAPES,
    VALUE,
    WRAPPINGS,
    accepted,
    assert_imports,
    mlp,
    notebook,
    python,
    rejected,
    write_tree,
    write_zip,
)

# ------------------------------------------------------------------ every shape, every wrapping


@pytest.mark.parametrize("wrapping", WRAPPINGS)
@pytest.mark.parametrize("shape", SHAPES)
def test_every_shape_in_every_wrapping(shape: str, wrapping: str, tmp_path: Path) -> None:
    case = SHAPES[shape]
    manifest, outcome = accepted(WRAPPINGS[wrapping](tmp_path, case.files), tmp_path)
    assert manifest.shape == case.shape
    assert dict(manifest.classes) == case.classes
    assert outcome.files() == case.workspace
    if "junk" in wrapping:
        assert any("__MACOSX/" in note and ".DS_Store" in note for note in manifest.notes)
    assert_imports(manifest, outcome.workspace)


@pytest.mark.parametrize("name", ["my_micrograd.py", "homework.ipynb"])
def test_single_file_handed_in_directly(name: str, tmp_path: Path) -> None:
    case = SHAPES["single_file" if name.endswith(".py") else "notebook"]
    source = write_tree(tmp_path / "in", case.files) / name
    manifest, outcome = accepted(source, tmp_path)
    assert (manifest.shape, dict(manifest.classes)) == (case.shape, case.classes)
    assert outcome.files() == case.workspace
    assert_imports(manifest, outcome.workspace)


def test_sources_are_copied_byte_for_byte_and_data_files_are_left_behind(tmp_path: Path) -> None:
    files = dict(SHAPES["package"].files) | {"data/train.csv": "1,2\n", "README.md": "# hi"}
    manifest, outcome = accepted(write_tree(tmp_path / "in", files), tmp_path)
    assert outcome.files() == SHAPES["package"].workspace
    assert (outcome.workspace / "micrograd/value.py").read_text() == VALUE
    assert any("README.md" in note and "data/train.csv" in note for note in manifest.notes)


def test_github_download_of_karpathys_repo(tmp_path: Path) -> None:
    files = {f"micrograd-main/{name}": text for name, text in SHAPES["karpathy"].files.items()}
    files |= {
        "micrograd-main/setup.py": "import setuptools\n",
        "micrograd-main/test/test_engine.py": "from micrograd.engine import Value\n",
    }
    manifest, outcome = accepted(write_zip(tmp_path / "in" / "main.zip", files), tmp_path)
    assert manifest.shape == "karpathy"
    assert manifest.classes["Value"] == "micrograd.engine"
    assert "test/test_engine.py" in outcome.files()
    assert_imports(manifest, outcome.workspace)


def test_package_without_init_gets_one(tmp_path: Path) -> None:
    files = {
        name: text
        for name, text in SHAPES["package"].files.items()
        if not name.endswith("__init__.py")
    }
    manifest, outcome = accepted(write_tree(tmp_path / "in", files), tmp_path)
    assert manifest.shape == "package"
    assert (outcome.workspace / "micrograd/__init__.py").read_bytes() == b""
    assert any("micrograd/__init__.py" in note for note in manifest.notes)
    assert_imports(manifest, outcome.workspace)


def test_zipped_package_contents_without_their_folder(tmp_path: Path) -> None:
    files = {"__init__.py": "", "value.py": VALUE, "mlp.py": mlp("from .value import Value")}
    manifest, outcome = accepted(write_zip(tmp_path / "in" / "sub.zip", files), tmp_path)
    assert dict(manifest.classes) == SHAPES["package"].classes
    assert any("placed them in a folder micrograd/" in note for note in manifest.notes)
    assert_imports(manifest, outcome.workspace)


def test_folder_holding_only_the_lms_zip(tmp_path: Path) -> None:
    write_zip(tmp_path / "in" / "alice" / "submission.zip", SHAPES["package"].files)
    manifest, outcome = accepted(tmp_path / "in" / "alice", tmp_path)
    assert manifest.shape == "package"
    assert outcome.files() == SHAPES["package"].workspace


def test_duplicates_prefer_the_canonical_layout(tmp_path: Path) -> None:
    files = dict(SHAPES["package"].files) | {
        "old/value.py": VALUE,
        "old/mlp.py": mlp(""),
        "scratch.py": VALUE,
    }
    manifest, outcome = accepted(write_tree(tmp_path / "in", files), tmp_path)
    assert dict(manifest.classes) == SHAPES["package"].classes
    notes = " | ".join(manifest.notes)
    assert "graded micrograd/value.py, ignored scratch.py, old/value.py" in notes
    assert "Neuron, Layer and MLP are defined in more than one file" in notes
    assert {"old/value.py", "scratch.py"} <= outcome.files()  # kept: the layout is theirs


def test_duplicates_prefer_karpathy_then_the_shallowest_path(tmp_path: Path) -> None:
    files = {"micrograd/engine.py": VALUE, "a/b/value.py": VALUE, "c/value.py": VALUE}
    manifest, _ = accepted(write_tree(tmp_path / "in" / "one", files), tmp_path / "one")
    assert manifest.classes["Value"] == "micrograd.engine"
    del files["micrograd/engine.py"]
    manifest, _ = accepted(write_tree(tmp_path / "in" / "two", files), tmp_path / "two")
    assert manifest.classes["Value"] == "c.value"


# --------------------------------------------------------------------------- module names


@pytest.mark.parametrize(
    ("name", "module"),
    [
        ("random.py", "student_random"),
        ("test.py", "student_test"),
        ("pytest.py", "student_pytest"),
        ("micrograde_answer.py", "student_micrograde_answer"),
        ("my value (1).py", "my_value_1"),
        ("2nd_try.py", "student_2nd_try"),
        ("Answer.PY", "Answer"),
    ],
)
def test_unimportable_or_shadowed_module_names_are_renamed(
    name: str, module: str, tmp_path: Path
) -> None:
    source = write_tree(tmp_path / "in", {name: VALUE + mlp("")}) / name
    manifest, outcome = accepted(source, tmp_path)
    # A single file runs through the generated module beside it, which runs the renamed file.
    assert dict(manifest.classes) == dict.fromkeys(ALL, "student_script")
    assert outcome.files() == {module + ".py", "student_script.py"}
    assert f"_MG_SCRIPT = '{module}.py'" in (outcome.workspace / "student_script.py").read_text()
    assert manifest.toplevel["student_script"].label == module + ".py"
    assert any(note.startswith(f"renamed {name} to {module}.py") for note in manifest.notes)
    assert_imports(manifest, outcome.workspace)


def test_renaming_never_overwrites_a_student_file(tmp_path: Path) -> None:
    files = {"random.py": VALUE, "student_random.py": "HELPER = 1\n"}
    manifest, outcome = accepted(write_tree(tmp_path / "in", files), tmp_path)
    assert manifest.toplevel["student_script"].label == "student_random_2.py"
    assert (outcome.workspace / "student_random.py").read_text() == "HELPER = 1\n"


# ------------------------------------------------------------------------------- notebooks

NOTEBOOK_CELLS = (
    "%matplotlib inline\nimport math\n!pip install numpy\n",  # cell 2: magic + shell left out
    "import matplotlib.pyplot as plt\nimport random\n",  # cell 3: line 1 fails, line 2 runs
    VALUE,  # cell 4
    "%%time\nthis is not ) python\n",  # cell 5: a %%time cell's body runs (and fails)
    "for _ in range(1):\n    %time y = 2\n" + mlp(""),  # cell 6: %time keeps its statement
    "def broken(:\n    pass\n",  # cell 7: a syntax error
    "after = Value(2.0)\nx = 1 / 0\nafter2 = Value(4.0)\n",  # cell 8: line 2 fails, line 3 runs
)

RUN_NOTEBOOK = """
import sys, traceback
sys.modules["matplotlib"] = None
sys.path.append(sys.argv[1])
import student_notebook as notebook
print("after", notebook.after.data, notebook.after2.data, type(notebook.MLP(2, [1])).__name__)
print("random", notebook.random.__name__, "y", notebook.y)
try:
    notebook.Value(1.0).boom()
except RuntimeError:
    traceback.print_exc(file=sys.stdout)
"""


def test_notebook_runs_statement_by_statement_despite_failures(tmp_path: Path) -> None:
    source = write_tree(tmp_path / "in", {"hw.ipynb": notebook(*NOTEBOOK_CELLS)}) / "hw.ipynb"
    manifest, outcome = accepted(source, tmp_path)
    assert manifest.shape == "notebook"
    assert dict(manifest.classes) == dict.fromkeys(ALL, "student_notebook")
    assert "notebook hw.ipynb: left out 1 line of IPython magic (%...)" in manifest.notes
    assert "notebook hw.ipynb: left out 1 line of shell commands (!...)" in manifest.notes
    generated = (outcome.workspace / "student_notebook.py").read_text()
    assert not re.search(r"^\s*(import|from)\s+(grader|micrograde)", generated, re.MULTILINE)
    run = python(RUN_NOTEBOOK, str(outcome.workspace))
    assert run.returncode == 0, run.stderr
    assert "after 2.0 4.0 MLP" in run.stdout
    assert "random random y 2" in run.stdout
    assert 'File "<notebook cell 4>", line 9, in boom' in run.stdout
    assert "raise RuntimeError('student boom')" in run.stdout
    # Imported without the grader, the module warns about each statement that raised.
    assert run.stderr.splitlines() == [
        "warning: cell 3, line 1 raised ModuleNotFoundError and was skipped",
        "warning: cell 5, line 2 raised SyntaxError and was skipped",
        "warning: cell 7, line 1 raised SyntaxError and was skipped",
        "warning: cell 8, line 2 raised ZeroDivisionError and was skipped",
    ]


def test_notebook_beside_helper_modules_keeps_them(tmp_path: Path) -> None:
    files = {
        "hw/helpers.py": "SCALE = 2\n",
        "hw/hw.ipynb": notebook("from helpers import SCALE\n", VALUE),
    }
    manifest, outcome = accepted(write_zip(tmp_path / "in" / "hw.zip", files), tmp_path)
    assert manifest.shape == "notebook"
    assert outcome.files() == {"helpers.py", "student_notebook.py"}
    assert_imports(manifest, outcome.workspace)


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("this is { not json", "hw.ipynb is not a readable notebook: it is not valid JSON"),
        ('{"cells": []}', "hw.ipynb is JSON but not a Jupyter notebook"),
        ("[1, 2, 3]", "hw.ipynb is JSON but not a Jupyter notebook"),
        (
            '{"nbformat": 4, "nbformat_minor": 5, "metadata": {}, '
            '"cells": [{"cell_type": "code"}]}',
            "hw.ipynb is JSON but not a valid Jupyter notebook",
        ),
        (
            '{"nbformat": 4, "nbformat_minor": 5, "cells": "x", "metadata": {}}',
            "hw.ipynb is JSON but not a valid Jupyter notebook",
        ),
        (b'{"nbformat": "\xff"}', "hw.ipynb is not a readable notebook: it is not UTF-8 text"),
    ],
)
def test_unreadable_notebooks_are_rejected(
    content: str | bytes, expected: str, tmp_path: Path
) -> None:
    source = write_tree(tmp_path / "in", {"hw.ipynb": content}) / "hw.ipynb"
    assert rejected(source, tmp_path).startswith(expected)


def test_notebook_that_breaks_the_schema_elsewhere_is_still_read(tmp_path: Path) -> None:
    content = json.loads(notebook(VALUE))
    content["cells"][1]["outputs"] = [{"bogus": 1}]
    source = write_tree(tmp_path / "in", {"hw.ipynb": json.dumps(content)}) / "hw.ipynb"
    manifest, _ = accepted(source, tmp_path)
    assert manifest.classes["Value"] == "student_notebook"
    assert "its code cells were read anyway" in manifest.notes[0]


# --------------------------------------------------------------------- broken student code


def test_syntax_error_still_points_at_the_module(tmp_path: Path) -> None:
    broken = VALUE + "\n    def relu(self:\n        return self\n"
    files = dict(SHAPES["package"].files) | {"micrograd/value.py": broken}
    manifest, _ = accepted(write_tree(tmp_path / "in", files), tmp_path)
    assert dict(manifest.classes) == SHAPES["package"].classes
    assert any(
        note.startswith("micrograd/value.py does not parse (line 11") for note in manifest.notes
    )


def test_non_utf8_source_is_noted_and_copied_as_is(tmp_path: Path) -> None:
    latin = b"# caf\xe9 au lait\n" + VALUE.encode()
    manifest, outcome = accepted(write_tree(tmp_path / "in", {"value.py": latin}), tmp_path)
    assert manifest.classes["Value"] == "value"
    assert "value.py is not UTF-8 text (first bad byte on line 1)" in manifest.notes[0]
    assert (outcome.workspace / "value.py").read_bytes() == latin


def test_declared_latin1_source_is_fine(tmp_path: Path) -> None:
    declared = b"# -*- coding: latin-1 -*-\n# caf\xe9\n" + VALUE.encode()
    manifest, outcome = accepted(write_tree(tmp_path / "in", {"value.py": declared}), tmp_path)
    assert manifest.toplevel["student_script"].label == "value.py"
    assert manifest.notes == ()
    assert_imports(manifest, outcome.workspace)


# ----------------------------------------------------------------------------- rejections


def test_missing_path_and_unsupported_types(tmp_path: Path) -> None:
    assert rejected(tmp_path / "nope.zip", tmp_path) == "nope.zip does not exist"
    for name in ("answer.txt", "answer.tar.gz"):
        source = write_tree(tmp_path / "in", {name: "x"}) / name
        assert "cannot be graded" in rejected(source, tmp_path / name)


def test_symlinked_submission_is_rejected(tmp_path: Path) -> None:
    real = write_tree(tmp_path / "in", SHAPES["package"].files)
    (tmp_path / "link").symlink_to(real)
    assert "symbolic link" in rejected(tmp_path / "link", tmp_path)


def test_empty_and_junk_only_folders(tmp_path: Path) -> None:
    (tmp_path / "in" / "empty").mkdir(parents=True)
    assert "is empty" in rejected(tmp_path / "in" / "empty", tmp_path)
    junk_only = write_tree(tmp_path / "in" / "junk", JUNK)
    assert "is empty" in rejected(junk_only, tmp_path / "j")
    write_zip(tmp_path / "in" / "empty.zip", {})
    assert "the archive empty.zip is empty" in rejected(
        tmp_path / "in" / "empty.zip", tmp_path / "z"
    )


def test_folder_without_python(tmp_path: Path) -> None:
    source = write_tree(tmp_path / "in", {"README.md": "hi", "notes.txt": "x"})
    reason = rejected(source, tmp_path)
    assert reason == (
        "no Python source (.py) or notebook (.ipynb) was found in in; "
        "it holds only: README.md, notes.txt"
    )


def test_no_value_class_anywhere(tmp_path: Path) -> None:
    files = {"a.py": "x = 1\n", "b.py": mlp("")}
    reason = rejected(write_tree(tmp_path / "in", files), tmp_path)
    assert reason == "no class named Value was found in: a.py, b.py"
