"""The harness bundle: everything the sandbox needs besides the student's code.

    mg_run.py        entry point (grader/harness/entry.py)
    mg_unpack.py     unpacks the workspace from stdin, then runs a command (unpack.py)
    mg_harness/      the relocatable harness package (grader/harness/*.py)
    steps/           the staged test files (tests/steps/test_step*.py), public checks only
    pytest.ini       a fixed configuration, so nothing in the submission can supply one

The reference solution and rubrics are never part of it, and neither is the code of hidden
checks: the staged test files are cut down to their public checks (``public_source``). The
hidden checks' code reaches the sandbox only after every visible check of a run has
finished, on the sandbox's standard input (``hidden_frame``), when the harness asks for it.
``bundle_digest`` hashes exactly the bundle's files, so a Docker image built from a
different harness is never used by mistake.
"""

from __future__ import annotations

import ast
import hashlib
import json
import re
import struct
from collections.abc import Set
from pathlib import Path

from grader import syntax
from grader.errors import ExerciseError
from grader.exercise import Exercise
from grader.rubric import load_rubric

HARNESS_DIR = Path(__file__).resolve().parents[1] / "harness"
PYTEST_INI = "[pytest]\npython_files = test_step*.py\npython_functions = test_*\n"
FRAME_HEADER = struct.Struct(">Q")  # the length of a frame sent on the sandbox's stdin


def hidden_ids(exercise: Exercise) -> frozenset[str]:
    """The ids of the checks whose rubric entry is hidden."""
    return load_rubric(exercise).hidden()


def bundle_files(exercise: Exercise) -> dict[str, bytes]:
    """Relative path in the bundle -> content."""
    files = {
        "pytest.ini": PYTEST_INI.encode(),
        "mg_run.py": (HARNESS_DIR / "entry.py").read_bytes(),
        "mg_unpack.py": (HARNESS_DIR / "unpack.py").read_bytes(),
    }
    for source in sorted(HARNESS_DIR.glob("*.py")):
        files[f"mg_harness/{source.name}"] = source.read_bytes()
    hidden = hidden_ids(exercise)
    for step_file in sorted(exercise.step_files.values()):
        public = public_source(step_file.read_text(encoding="utf-8"), hidden)
        files[f"steps/{step_file.name}"] = public.encode("utf-8")
    return files


def bundle_digest(exercise: Exercise) -> str:
    digest = hashlib.sha256()
    for name, content in sorted(bundle_files(exercise).items()):
        digest.update(name.encode() + b"\0" + hashlib.sha256(content).digest())
    return digest.hexdigest()


def write_bundle(exercise: Exercise, destination: Path) -> Path:
    """Write the bundle into ``destination`` (created; must not exist yet)."""
    destination.mkdir(parents=True)
    for name, content in bundle_files(exercise).items():
        target = destination / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content)
    return destination


def hidden_frame(exercise: Exercise, steps: set[int]) -> bytes:
    """The full staged test files of ``steps``, framed for the sandbox's standard input."""
    files = {
        exercise.step_files[step].name: exercise.step_files[step].read_text(encoding="utf-8")
        for step in sorted(steps)
    }
    payload = json.dumps({"files": files}).encode("utf-8")
    return FRAME_HEADER.pack(len(payload)) + payload


# -- hidden checks cut out of the staged tests ------------------------------------------


def public_source(source: str, hidden: Set[str]) -> str:
    """``source`` without the ``test_<id>`` functions of ``hidden`` checks (helpers stay).

    Works on lines, guided by the syntax tree, so every comment and blank line of what
    remains is kept as written; imports that only the removed tests used go too.
    """
    tree = syntax.parse(source)
    removed = [
        node
        for node in tree.body
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        and node.name.startswith("test_")
        and node.name[5:] in hidden
    ]
    lines = source.splitlines(keepends=True)
    for node in sorted(removed, key=lambda n: n.lineno, reverse=True):
        start = min([node.lineno] + [d.lineno for d in node.decorator_list]) - 1
        while start > 0 and lines[start - 1].lstrip().startswith("#"):
            start -= 1  # a comment right above a test belongs to it
        del lines[start : node.end_lineno]
    stripped = _drop_unused_imports("".join(lines), _used_names(tree))
    _require_sound(stripped, {node.name for node in removed})
    return tidy_blank_lines(stripped)


def _used_names(tree: ast.AST) -> set[str]:
    return {node.id for node in ast.walk(tree) if isinstance(node, ast.Name)}


def _drop_unused_imports(source: str, used_before: set[str]) -> str:
    """Drop the imports that were used before the cut and are not used any more."""
    tree = syntax.parse(source)
    used = _used_names(tree)
    lines = source.splitlines(keepends=True)
    for node in reversed(tree.body):
        if not isinstance(node, ast.Import | ast.ImportFrom):
            continue
        kept = [
            alias
            for alias in node.names
            if _bound(alias) in used or _bound(alias) not in used_before
        ]
        if len(kept) == len(node.names):
            continue
        end = node.end_lineno or node.lineno
        node.names = kept
        lines[node.lineno - 1 : end] = [ast.unparse(node) + "\n"] if kept else []
    return "".join(lines)


def _bound(alias: ast.alias) -> str:
    return alias.asname or alias.name.split(".")[0]


def _require_sound(source: str, removed: set[str]) -> None:
    """The cut must leave a module that compiles and no longer mentions what it removed."""
    try:
        tree = syntax.parse(source)
        syntax.compile_tree(tree, "<hand-out test file>")
    except SyntaxError as exc:
        raise ExerciseError(f"cutting hidden checks out left a broken test file: {exc}") from exc
    still = removed & _used_names(tree)
    if still:
        raise ExerciseError(f"public code uses hidden test function(s) {sorted(still)}")


def tidy_blank_lines(source: str) -> str:
    return re.sub(r"\n{4,}", "\n\n\n", source).rstrip("\n") + "\n"
