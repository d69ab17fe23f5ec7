"""Building submissions for the intake tests, and running intake on them.

Every fixture is built on the fly (real zips with zipfile or by hand where a hostile header
is the point, real notebooks with nbformat.v4). ``run_intake`` snapshots everything around
the workspace before and after, so every test also proves nothing was written outside it.
"""

from __future__ import annotations

import json
import os
import stat
import struct
import subprocess
import sys
import zipfile
import zlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nbformat

from grader.errors import SubmissionRejected
from grader.intake import IntakeLimits, Manifest, prepare_submission

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
    local = struct.pack(
        "<4s5H3L2H", b"PK\x03\x04", 20, flags, 8, 0, 0x21, crc, len(payload), size, len(encoded), 0
    )
    central = struct.pack(
        "<4s6H3L5H2L",
        b"PK\x01\x02",
        0x031E,
        20,
        flags,
        8,
        0,
        0x21,
        crc,
        len(payload),
        size,
        len(encoded),
        0,
        0,
        0,
        0,
        0o100644 << 16,
        0,
    )
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
        return {
            p.relative_to(self.workspace).as_posix()
            for p in self.workspace.rglob("*")
            if p.is_file()
        }


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


def accepted(
    source: Path, tmp_path: Path, limits: IntakeLimits | None = None
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
    return subprocess.run(
        [sys.executable, "-I", "-c", script, *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def assert_imports(manifest: Manifest, workspace: Path) -> None:
    """Import every class from the workspace the way the grader will, in a fresh process."""
    run = python(IMPORT_SCRIPT, str(workspace), json.dumps(dict(manifest.classes)))
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout) == {name: name for name in manifest.classes}


# Every shape a student hands in, and how intake must see it.


@dataclass(frozen=True)
class ShapeCase:
    files: dict[str, str]
    shape: str
    classes: dict[str, str]
    workspace: set[str]


SHAPES = {
    "package": ShapeCase(
        {
            "micrograd/__init__.py": "",
            "micrograd/value.py": VALUE,
            "micrograd/mlp.py": mlp("from micrograd.value import Value"),
        },
        "package",
        {"Value": "micrograd.value"} | dict.fromkeys(ALL[1:], "micrograd.mlp"),
        {"micrograd/__init__.py", "micrograd/value.py", "micrograd/mlp.py"},
    ),
    "karpathy": ShapeCase(
        {
            "micrograd/__init__.py": "",
            "micrograd/engine.py": VALUE,
            "micrograd/nn.py": mlp("from micrograd.engine import Value"),
        },
        "karpathy",
        {"Value": "micrograd.engine"} | dict.fromkeys(ALL[1:], "micrograd.nn"),
        {"micrograd/__init__.py", "micrograd/engine.py", "micrograd/nn.py"},
    ),
    "single_file": ShapeCase(
        {"my_micrograd.py": VALUE + mlp("")},
        "single_file",
        # the generated module beside the script runs its statements one by one
        dict.fromkeys(ALL, "student_script"),
        {"my_micrograd.py", "student_script.py"},
    ),
    "loose_files": ShapeCase(
        {"value.py": VALUE, "mlp.py": mlp("from value import Value")},
        "loose_files",
        {"Value": "value"} | dict.fromkeys(ALL[1:], "mlp"),
        {"value.py", "mlp.py"},
    ),
    "notebook": ShapeCase(
        {"homework.ipynb": notebook(VALUE, mlp(""))},
        "notebook",
        dict.fromkeys(ALL, "student_notebook"),
        {"student_notebook.py"},
    ),
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
