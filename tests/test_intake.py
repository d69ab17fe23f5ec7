"""Tests for grader.intake: every submission shape, every rejection, and no write outside.

Every fixture is built on the fly in tmp_path (real zips with zipfile or by hand where a
hostile header is the point, real notebooks with nbformat.v4). Each intake run snapshots
everything around the workspace before and after, so any test also proves that nothing
was written outside it.
"""

from __future__ import annotations

import io
import itertools
import json
import os
import re
import stat
import struct
import subprocess
import sys
import zipfile
import zlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, cast

import nbformat
import pytest

from grader.errors import SubmissionRejected
from grader.intake import IntakeLimits, Manifest, prepare_submission
from grader.intake.paths import member_path, read_capped

MIB = 1024 * 1024
ALL = ("Value", "Neuron", "Layer", "MLP")

VALUE = """\
class Value:
    def __init__(self, data, _children=(), _op=''):
        self.data = data
        self.grad = 0
        self._prev = set(_children)
        self._op = _op

    def boom(self):
        raise RuntimeError('student boom')
"""

MLP_BODY = """
class Neuron:
    def __init__(self, nin):
        self.w = [Value(0.5) for _ in range(nin)]
        self.b = Value(0.0)


class Layer:
    def __init__(self, nin, nout):
        self.neurons = [Neuron(nin) for _ in range(nout)]


class MLP:
    def __init__(self, nin, nouts):
        sizes = [nin] + nouts
        self.layers = [Layer(sizes[i], sizes[i + 1]) for i in range(len(nouts))]
"""


def mlp(import_line: str) -> str:
    return import_line + "\n" + MLP_BODY


# ----------------------------------------------------------------------------- helpers

Files = Mapping[str, str | bytes]


def as_bytes(content: str | bytes) -> bytes:
    return content.encode("utf-8") if isinstance(content, str) else content


def write_tree(root: Path, files: Files) -> Path:
    for name, content in files.items():
        target = root / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(as_bytes(content))
    root.mkdir(parents=True, exist_ok=True)
    return root


def write_zip(path: Path, files: Files) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in files.items():
            # A ZipInfo keeps the name exactly as given (hostile names are the point).
            info = zipfile.ZipInfo(name)
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, as_bytes(content))
    return path


def notebook(*cells: str) -> str:
    """A real v4 notebook: a markdown cell (so code cell N is notebook cell N + 1), then code."""
    v4: Any = nbformat.v4  # nbformat has no annotations
    made = [v4.new_markdown_cell("# My micrograd homework")]
    made += [v4.new_code_cell(source) for source in cells]
    writes: Any = nbformat.writes
    return str(writes(v4.new_notebook(cells=made)))


def raw_zip(name: str, payload: bytes, *, crc: int, size: int, flags: int = 0) -> bytes:
    """A one-entry deflate zip written by hand, so its headers can say anything."""
    encoded = name.encode()
    local = struct.pack("<4s5H3L2H", b"PK\x03\x04", 20, flags, 8, 0, 0x21, crc,
                        len(payload), size, len(encoded), 0)
    central = struct.pack("<4s6H3L5H2L", b"PK\x01\x02", 0x031E, 20, flags, 8, 0, 0x21, crc,
                          len(payload), size, len(encoded), 0, 0, 0, 0, 0o100644 << 16, 0)
    body = local + encoded + payload
    directory = central + encoded
    end = struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, 1, 1, len(directory), len(body), 0)
    return body + directory + end


def deflated_zeros(mebibytes: int) -> tuple[bytes, int]:
    """A raw deflate stream of N MiB of zeros, built without compressing N MiB.

    A full flush resets the compressor, so one compressed MiB can be repeated as is.
    """
    block = bytes(MIB)
    packer = zlib.compressobj(9, zlib.DEFLATED, -15)
    segment = packer.compress(block) + packer.flush(zlib.Z_FULL_FLUSH)
    stream = segment * mebibytes + zlib.compressobj(9, zlib.DEFLATED, -15).flush()
    crc = 0
    for _ in range(mebibytes):
        crc = zlib.crc32(block, crc)
    return stream, crc


def snapshot(root: Path, skip: Path) -> dict[str, tuple[bool, int]]:
    """Every entry under root except the workspace, without following links."""
    seen: dict[str, tuple[bool, int]] = {}
    for directory, folders, files in os.walk(root):
        if Path(directory) == skip:
            folders[:] = []
            continue
        for name in folders + files:
            path = Path(directory, name)
            if path != skip:
                info = path.lstat()
                seen[str(path.relative_to(root))] = (stat.S_ISDIR(info.st_mode), info.st_size)
    return seen


@dataclass(frozen=True)
class Outcome:
    manifest: Manifest | None
    reason: str | None
    workspace: Path

    def files(self) -> set[str]:
        return {p.relative_to(self.workspace).as_posix()
                for p in self.workspace.rglob("*") if p.is_file()}


def run_intake(source: Path, tmp_path: Path, limits: IntakeLimits | None = None) -> Outcome:
    """Run intake and prove nothing was written outside the workspace (nor, on rejection, in it)."""
    workspace = tmp_path / "out" / "workspace"
    workspace.mkdir(parents=True)
    before, around = snapshot(tmp_path, workspace), sorted(os.listdir(tmp_path.parent))
    manifest, reason = None, None
    try:
        manifest = prepare_submission(source, workspace, limits or IntakeLimits())
    except SubmissionRejected as rejected:
        reason = rejected.reason
        assert not any(workspace.iterdir()), "a rejected submission left files behind"
    assert snapshot(tmp_path, workspace) == before
    assert sorted(os.listdir(tmp_path.parent)) == around
    for path in workspace.rglob("*"):
        assert not path.is_symlink()
    return Outcome(manifest, reason, workspace)


def accepted(source: Path, tmp_path: Path, limits: IntakeLimits | None = None
             ) -> tuple[Manifest, Outcome]:
    outcome = run_intake(source, tmp_path, limits)
    assert outcome.manifest is not None, outcome.reason
    return outcome.manifest, outcome


def rejected(source: Path, tmp_path: Path, limits: IntakeLimits | None = None) -> str:
    outcome = run_intake(source, tmp_path, limits)
    assert outcome.reason is not None, f"accepted: {outcome.manifest}"
    return outcome.reason


IMPORT_SCRIPT = """
import importlib, json, sys
sys.modules["matplotlib"] = None  # the sandbox has no matplotlib
sys.path.append(sys.argv[1])      # the grader puts the workspace last
classes = json.loads(sys.argv[2])
found = {name: getattr(importlib.import_module(module), name).__name__
         for name, module in classes.items()}
if "MLP" in classes:
    getattr(importlib.import_module(classes["MLP"]), "MLP")(3, [4, 1])
print(json.dumps(found))
"""


def python(script: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-I", "-c", script, *args],
                          capture_output=True, text=True, timeout=60, check=False)


def assert_imports(manifest: Manifest, workspace: Path) -> None:
    """Import every class from the workspace the way the grader will, in a fresh process."""
    run = python(IMPORT_SCRIPT, str(workspace), json.dumps(dict(manifest.classes)))
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout) == {name: name for name in manifest.classes}


# ------------------------------------------------------------------ every shape, every wrapping

@dataclass(frozen=True)
class ShapeCase:
    files: dict[str, str]
    shape: str
    classes: dict[str, str]
    workspace: set[str]


SHAPES = {
    "package": ShapeCase(
        {"micrograd/__init__.py": "", "micrograd/value.py": VALUE,
         "micrograd/mlp.py": mlp("from micrograd.value import Value")},
        "package", {"Value": "micrograd.value"} | dict.fromkeys(ALL[1:], "micrograd.mlp"),
        {"micrograd/__init__.py", "micrograd/value.py", "micrograd/mlp.py"}),
    "karpathy": ShapeCase(
        {"micrograd/__init__.py": "", "micrograd/engine.py": VALUE,
         "micrograd/nn.py": mlp("from micrograd.engine import Value")},
        "karpathy", {"Value": "micrograd.engine"} | dict.fromkeys(ALL[1:], "micrograd.nn"),
        {"micrograd/__init__.py", "micrograd/engine.py", "micrograd/nn.py"}),
    "single_file": ShapeCase(
        {"my_micrograd.py": VALUE + mlp("")}, "single_file",
        dict.fromkeys(ALL, "my_micrograd"), {"my_micrograd.py"}),
    "loose_files": ShapeCase(
        {"value.py": VALUE, "mlp.py": mlp("from value import Value")}, "loose_files",
        {"Value": "value"} | dict.fromkeys(ALL[1:], "mlp"), {"value.py", "mlp.py"}),
    "notebook": ShapeCase(
        {"homework.ipynb": notebook(VALUE, mlp(""))}, "notebook",
        dict.fromkeys(ALL, "student_notebook"), {"student_notebook.py"}),
}

JUNK: dict[str, str | bytes] = {
    "__MACOSX/alice/._value.py": b"\x00\x05\x16\x07 resource fork",
    "alice/.DS_Store": b"\x00\x00\x00\x01Bud1",
    "alice/._homework.ipynb": b"\x00\x05\x16\x07",
    "alice/__pycache__/value.cpython-311.pyc": b"\x00" * 32,
    "alice/.ipynb_checkpoints/homework-checkpoint.ipynb": "{}",
}


def nested(files: Files) -> dict[str, str | bytes]:
    return {f"alice/{name}": content for name, content in files.items()} | JUNK


WRAPPINGS: dict[str, Callable[[Path, Files], Path]] = {
    "folder": lambda tmp, files: write_tree(tmp / "in" / "sub", files),
    "nested_folder_with_junk": lambda tmp, files: write_tree(tmp / "in", nested(files)),
    "zip": lambda tmp, files: write_zip(tmp / "in" / "sub.zip", files),
    "nested_zip_with_junk": lambda tmp, files: write_zip(tmp / "in" / "sub.zip", nested(files)),
}


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
    files |= {"micrograd-main/setup.py": "import setuptools\n",
              "micrograd-main/test/test_engine.py": "from micrograd.engine import Value\n"}
    manifest, outcome = accepted(write_zip(tmp_path / "in" / "main.zip", files), tmp_path)
    assert manifest.shape == "karpathy"
    assert manifest.classes["Value"] == "micrograd.engine"
    assert "test/test_engine.py" in outcome.files()
    assert_imports(manifest, outcome.workspace)


def test_package_without_init_gets_one(tmp_path: Path) -> None:
    files = {name: text for name, text in SHAPES["package"].files.items()
             if not name.endswith("__init__.py")}
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
    files = dict(SHAPES["package"].files) | {"old/value.py": VALUE, "old/mlp.py": mlp(""),
                                             "scratch.py": VALUE}
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

@pytest.mark.parametrize(("name", "module"), [
    ("random.py", "student_random"),
    ("test.py", "student_test"),
    ("pytest.py", "student_pytest"),
    ("micrograde_answer.py", "student_micrograde_answer"),
    ("my value (1).py", "my_value_1"),
    ("2nd_try.py", "student_2nd_try"),
    ("Answer.PY", "Answer"),
])
def test_unimportable_or_shadowed_module_names_are_renamed(
    name: str, module: str, tmp_path: Path
) -> None:
    source = write_tree(tmp_path / "in", {name: VALUE + mlp("")}) / name
    manifest, outcome = accepted(source, tmp_path)
    assert dict(manifest.classes) == dict.fromkeys(ALL, module)
    assert outcome.files() == {module + ".py"}
    assert any(note.startswith(f"renamed {name} to {module}.py") for note in manifest.notes)
    assert_imports(manifest, outcome.workspace)


def test_renaming_never_overwrites_a_student_file(tmp_path: Path) -> None:
    files = {"random.py": VALUE, "student_random.py": "HELPER = 1\n"}
    manifest, outcome = accepted(write_tree(tmp_path / "in", files), tmp_path)
    assert manifest.classes["Value"] == "student_random_2"
    assert (outcome.workspace / "student_random.py").read_text() == "HELPER = 1\n"


# ------------------------------------------------------------------------------- notebooks

NOTEBOOK_CELLS = (
    "%matplotlib inline\nimport math\n!pip install numpy\n",   # cell 2: magic + shell dropped
    "import matplotlib.pyplot as plt\n",                         # cell 3: fails in the sandbox
    VALUE,                                                       # cell 4
    "%%time\nthis is not python\n",                              # cell 5: cell magic, skipped
    "for _ in range(1):\n    %time y = 2\n" + mlp(""),           # cell 6: indented magic
    "def broken(:\n    pass\n",                                  # cell 7: a syntax error
    "after = Value(2.0)\n",                                      # cell 8: still runs
)

RUN_NOTEBOOK = """
import sys, traceback
sys.modules["matplotlib"] = None
sys.path.append(sys.argv[1])
import student_notebook as notebook
print("after", notebook.after.data, type(notebook.MLP(2, [1])).__name__)
try:
    notebook.Value(1.0).boom()
except RuntimeError:
    traceback.print_exc(file=sys.stdout)
"""


def test_notebook_runs_cell_by_cell_despite_failures(tmp_path: Path) -> None:
    source = write_tree(tmp_path / "in", {"hw.ipynb": notebook(*NOTEBOOK_CELLS)}) / "hw.ipynb"
    manifest, outcome = accepted(source, tmp_path)
    assert manifest.shape == "notebook"
    assert dict(manifest.classes) == dict.fromkeys(ALL, "student_notebook")
    assert "notebook hw.ipynb: dropped 2 lines of IPython magic (%...)" in manifest.notes
    assert "notebook hw.ipynb: dropped 1 line of shell commands (!...)" in manifest.notes
    assert "notebook hw.ipynb: skipped cell 5, run by a %% cell magic" in manifest.notes
    generated = (outcome.workspace / "student_notebook.py").read_text()
    assert not re.search(r"^\s*(import|from)\s+(grader|micrograde)", generated, re.MULTILINE)
    run = python(RUN_NOTEBOOK, str(outcome.workspace))
    assert run.returncode == 0, run.stderr
    assert "after 2.0 MLP" in run.stdout
    assert 'File "<notebook cell 4>", line 9, in boom' in run.stdout
    assert "raise RuntimeError('student boom')" in run.stdout
    warnings = run.stderr.splitlines()
    assert warnings[0].startswith("warning: notebook cell 3 failed and was skipped: "
                                  "ModuleNotFoundError")
    assert warnings[1].startswith("warning: notebook cell 7 failed and was skipped: SyntaxError")
    assert len(warnings) == 2


def test_notebook_beside_helper_modules_keeps_them(tmp_path: Path) -> None:
    files = {"hw/helpers.py": "SCALE = 2\n",
             "hw/hw.ipynb": notebook("from helpers import SCALE\n", VALUE)}
    manifest, outcome = accepted(write_zip(tmp_path / "in" / "hw.zip", files), tmp_path)
    assert manifest.shape == "notebook"
    assert outcome.files() == {"helpers.py", "student_notebook.py"}
    assert_imports(manifest, outcome.workspace)


@pytest.mark.parametrize(("content", "expected"), [
    ("this is { not json", "hw.ipynb is not a readable notebook: it is not valid JSON"),
    ('{"cells": []}', "hw.ipynb is JSON but not a Jupyter notebook"),
    ("[1, 2, 3]", "hw.ipynb is JSON but not a Jupyter notebook"),
    ('{"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [{"cell_type": "code"}]}',
     "hw.ipynb is JSON but not a valid Jupyter notebook"),
    ('{"nbformat": 4, "nbformat_minor": 5, "cells": "x", "metadata": {}}',
     "hw.ipynb is JSON but not a valid Jupyter notebook"),
    (b'{"nbformat": "\xff"}', "hw.ipynb is not a readable notebook: it is not UTF-8 text"),
])
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
    assert any(note.startswith("micrograd/value.py does not parse (line 11")
               for note in manifest.notes)


def test_non_utf8_source_is_noted_and_copied_as_is(tmp_path: Path) -> None:
    latin = b"# caf\xe9 au lait\n" + VALUE.encode()
    manifest, outcome = accepted(write_tree(tmp_path / "in", {"value.py": latin}), tmp_path)
    assert manifest.classes["Value"] == "value"
    assert "value.py is not UTF-8 text (first bad byte on line 1)" in manifest.notes[0]
    assert (outcome.workspace / "value.py").read_bytes() == latin


def test_declared_latin1_source_is_fine(tmp_path: Path) -> None:
    declared = b"# -*- coding: latin-1 -*-\n# caf\xe9\n" + VALUE.encode()
    manifest, _ = accepted(write_tree(tmp_path / "in", {"value.py": declared}), tmp_path)
    assert manifest.classes["Value"] == "value"
    assert manifest.notes == ()


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
    assert "the archive empty.zip is empty" in rejected(tmp_path / "in" / "empty.zip",
                                                        tmp_path / "z")


def test_folder_without_python(tmp_path: Path) -> None:
    source = write_tree(tmp_path / "in", {"README.md": "hi", "notes.txt": "x"})
    reason = rejected(source, tmp_path)
    assert reason == ("no Python source (.py) or notebook (.ipynb) was found in in; "
                      "it holds only: README.md, notes.txt")


def test_no_value_class_anywhere(tmp_path: Path) -> None:
    files = {"a.py": "x = 1\n", "b.py": mlp("")}
    reason = rejected(write_tree(tmp_path / "in", files), tmp_path)
    assert reason == "no class named Value was found in: a.py, b.py"


# ------------------------------------------------------------------------ hostile archives

@pytest.mark.parametrize("name", [
    "../evil.py", "ok/../../evil.py", "/evil.py", "C:/evil.py", "C:evil.py", "..\\evil.py",
])
def test_escaping_archive_entries_reject_the_archive(name: str, tmp_path: Path) -> None:
    files = dict(SHAPES["package"].files) | {name: VALUE}
    reason = rejected(write_zip(tmp_path / "in" / "sub.zip", files), tmp_path)
    assert "absolute path" in reason or "points outside the archive" in reason


def test_backslash_separators_are_read_as_folders(tmp_path: Path) -> None:
    files = {name.replace("/", "\\"): text for name, text in SHAPES["package"].files.items()}
    manifest, outcome = accepted(write_zip(tmp_path / "in" / "win.zip", files), tmp_path)
    assert manifest.shape == "package"
    assert outcome.files() == SHAPES["package"].workspace


def test_symlink_entries_in_an_archive_are_skipped(tmp_path: Path) -> None:
    path = write_zip(tmp_path / "in" / "sub.zip", SHAPES["package"].files)
    with zipfile.ZipFile(path, "a") as archive:
        link = zipfile.ZipInfo("micrograd/secret.py")
        link.create_system = 3
        link.external_attr = (stat.S_IFLNK | 0o777) << 16
        archive.writestr(link, "/etc/passwd")
    manifest, outcome = accepted(path, tmp_path)
    assert outcome.files() == SHAPES["package"].workspace
    assert any("symbolic link (micrograd/secret.py)" in note for note in manifest.notes)


def test_symlinks_in_a_folder_are_never_followed(tmp_path: Path) -> None:
    outside = write_tree(tmp_path / "outside", {"secret.py": VALUE})
    source = write_tree(tmp_path / "in", {"value.py": VALUE})
    (source / "secret.py").symlink_to(outside / "secret.py")
    (source / "loop").symlink_to(source, target_is_directory=True)
    manifest, outcome = accepted(source, tmp_path)
    assert outcome.files() == {"value.py"}
    assert any("2 symbolic links (loop, secret.py)" in note for note in manifest.notes)


def test_zip_bomb_of_one_gib_of_zeros(tmp_path: Path) -> None:
    stream, crc = deflated_zeros(1024)
    path = tmp_path / "in" / "bomb.zip"
    path.parent.mkdir()
    path.write_bytes(raw_zip("value.py", stream, crc=crc, size=1024 * MIB))
    assert rejected(path, tmp_path) == (
        "value.py would unpack to 1024 MiB, over the 5 MiB limit for one file")


def test_highly_compressed_entry_is_a_bomb_even_under_the_size_limits(tmp_path: Path) -> None:
    stream, crc = deflated_zeros(3)
    path = tmp_path / "in" / "bomb.zip"
    path.parent.mkdir()
    path.write_bytes(raw_zip("value.py", stream, crc=crc, size=3 * MIB))
    assert "looks like a zip bomb" in rejected(path, tmp_path)


def test_raw_zip_helper_builds_a_readable_archive() -> None:
    stream, crc = deflated_zeros(2)
    with zipfile.ZipFile(io.BytesIO(raw_zip("z.bin", stream, crc=crc, size=2 * MIB))) as archive:
        assert archive.read("z.bin") == bytes(2 * MIB)


def test_declared_size_that_lies_is_caught_while_reading(tmp_path: Path) -> None:
    data = (VALUE * 2000).encode()  # about 500 KiB that really unpack
    packer = zlib.compressobj(9, zlib.DEFLATED, -15)
    stream = packer.compress(data) + packer.flush()
    path = tmp_path / "in" / "liar.zip"
    path.parent.mkdir()
    path.write_bytes(raw_zip("value.py", stream, crc=zlib.crc32(data), size=1000))
    reason = rejected(path, tmp_path)
    assert reason.startswith("the archive is corrupt: value.py cannot be read back intact")


def test_total_size_limit(tmp_path: Path) -> None:
    limits = IntakeLimits(max_total_bytes=100_000, max_file_bytes=60_000)
    files = {f"m{index}.py": "#" * 40_000 for index in range(3)} | {"value.py": VALUE}
    reason = rejected(write_zip(tmp_path / "in" / "sub.zip", files), tmp_path, limits)
    assert reason.startswith("the archive would unpack to")
    reason = rejected(write_tree(tmp_path / "in" / "dir", files), tmp_path / "d", limits)
    assert reason.startswith("the sources in the folder add up to more than")


def test_single_file_limit_counts_the_bytes_of_a_folder(tmp_path: Path) -> None:
    source = write_tree(tmp_path / "in", {"value.py": VALUE + "#" * 2000})
    reason = rejected(source, tmp_path, IntakeLimits(max_file_bytes=1000))
    assert reason == "value.py is larger than 1000 bytes, the limit for one file"


def test_entry_limit(tmp_path: Path) -> None:
    files = {f"m{index}.py": "" for index in range(5)} | {"value.py": VALUE}
    limits = IntakeLimits(max_entries=5)
    reason = rejected(write_zip(tmp_path / "in" / "sub.zip", files), tmp_path, limits)
    assert "more than the limit of 5" in reason
    reason = rejected(write_tree(tmp_path / "in" / "dir", files), tmp_path / "d", limits)
    assert "more than 5 files and folders" in reason


def test_zip_inside_the_zip_is_not_opened(tmp_path: Path) -> None:
    inner = write_zip(tmp_path / "inner" / "inner.zip", {"value.py": VALUE}).read_bytes()
    files = dict(SHAPES["package"].files) | {"extra/inner.zip": inner}
    manifest, outcome = accepted(write_zip(tmp_path / "in" / "sub.zip", files), tmp_path)
    assert outcome.files() == SHAPES["package"].workspace
    assert any("extra/inner.zip: an archive inside the archive" in n for n in manifest.notes)
    only = write_zip(tmp_path / "in" / "only.zip", {"inner.zip": inner})
    assert rejected(only, tmp_path / "o").endswith("it holds only: inner.zip")


@pytest.mark.parametrize("damage", ["text", "truncated", "encrypted"])
def test_corrupt_archives(damage: str, tmp_path: Path) -> None:
    path = write_zip(tmp_path / "in" / "sub.zip", SHAPES["package"].files)
    if damage == "text":
        path.write_text("not a zip at all")
    elif damage == "truncated":
        path.write_bytes(path.read_bytes()[:-30])
    else:
        data = VALUE.encode()
        path.write_bytes(raw_zip("value.py", zlib.compress(data)[2:-4], crc=zlib.crc32(data),
                                 size=len(data), flags=0x1))
    reason = rejected(path, tmp_path)
    expected = {"text": "sub.zip is not a readable zip archive",
                "truncated": "sub.zip is not a readable zip archive",
                "encrypted": "value.py is password-protected"}[damage]
    assert reason.startswith(expected)


def test_repeated_archive_entries_keep_the_last(tmp_path: Path) -> None:
    path = write_zip(tmp_path / "in" / "sub.zip", {"value.py": "x = 1\n"})
    with zipfile.ZipFile(path, "a") as archive, pytest.warns(UserWarning, match="Duplicate"):
        archive.writestr("value.py", VALUE)
    manifest, outcome = accepted(path, tmp_path)
    assert (outcome.workspace / "value.py").read_text() == VALUE
    assert any("more than once" in note for note in manifest.notes)


def test_workspace_must_be_an_empty_folder(tmp_path: Path) -> None:
    source = write_tree(tmp_path / "in", {"value.py": VALUE})
    (tmp_path / "ws").mkdir()
    (tmp_path / "ws" / "left.txt").write_text("x")
    with pytest.raises(ValueError, match="must be empty"):
        prepare_submission(source, tmp_path / "ws")


# ------------------------------------------------------------------------------ the helpers

def test_read_capped_counts_bytes_instead_of_trusting_sizes() -> None:
    assert read_capped(io.BytesIO(b"x" * 100), 100) == b"x" * 100
    assert read_capped(io.BytesIO(b"x" * 101), 100) is None

    class Endless(io.RawIOBase):
        def readable(self) -> bool:
            return True

        def readinto(self, buffer: bytearray) -> int:  # type: ignore[override]
            buffer[:] = b"\0" * len(buffer)
            return len(buffer)

    assert read_capped(cast(IO[bytes], io.BufferedReader(Endless())), 10 * MIB) is None


def test_member_path_is_always_relative_and_inside() -> None:
    # Every name of up to 5 characters over the alphabet that path tricks are made of.
    names = ["".join(chars) for length in range(6)
             for chars in itertools.product("./\\C:a", repeat=length)]
    for name in names:
        try:
            path = member_path(name)
        except SubmissionRejected:
            continue
        assert not path.is_absolute(), name
        assert ".." not in path.parts and "\\" not in str(path), name
        assert not path.parts or not re.match(r"[A-Za-z]:", path.parts[0]), name
