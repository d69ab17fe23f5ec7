"""Where a check that hung or crashed was: the student's method, read from a stack dump.

A check still running after ``watch`` seconds has its stack dumped by ``faulthandler`` in the
sandbox, again every ``watch`` seconds (grader/harness/plugin.py), on the process's real
stderr; a crash (a segmentation fault) dumps it too. After killing the run, the host reads
the last dump in the tail of stderr. The dump is text the student's process wrote, so it is
a claim: it only chooses which method a timeout or a crash is evidence about, and which
method later runs refuse to call (``guard``). A forged dump changes no verdict: the check
that hung still times out, and an excuse still needs a counterfactual run that passes.

``faulthandler`` names functions, not methods (``_spin``, ``backward``), so the method comes
from the submission's own source, on the host: the function whose body holds that line, in
a class of the contract, or a module-level function the module assigns to one
(``Value.backward = _spin``); a ``_backward`` closure counts as its operator's backward.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from grader import syntax

CLASSES = ("Value", "Neuron", "Layer", "MLP")
_FRAME = re.compile(
    r'^\s*File "(?P<file>[^"]{1,1000})", line (?P<line>\d{1,9}) in (?P<fn>[\w<>.]{1,200})'
)
_START = ("Timeout (", "Fatal Python error")


@dataclass(frozen=True)
class Place:
    method: str  # "Value.backward"
    phase: str | None  # "backward" for a _backward closure, else None
    file: str  # relative to the submission
    line: int


def dump_frames(stderr: str) -> list[tuple[str, int, str]]:
    """The frames of the last stack dump in ``stderr``, innermost first, of the thread that
    ran the check (the block that reaches a staged test function)."""
    lines = stderr.splitlines()
    # pytest's progress dots may share the line where the dump starts.
    starts = [i for i, line in enumerate(lines) if any(mark in line for mark in _START)]
    if not starts:
        return []
    blocks: list[list[tuple[str, int, str]]] = [[]]
    for line in lines[starts[-1] + 1 :]:
        found = _FRAME.match(line)
        if found:
            blocks[-1].append((found["file"], int(found["line"]), found["fn"]))
        elif blocks[-1]:
            blocks.append([])
    for block in blocks:
        if any(fn.startswith("test_") for _, _, fn in block):
            return block
    return next((block for block in blocks if block), [])


def locate(stderr: str, workspace: Path) -> Place | None:
    """The student's method the last dump shows running, or None."""
    files = {str(p.relative_to(workspace)): p for p in sorted(workspace.rglob("*.py"))}
    for path, line, function in dump_frames(stderr):
        relative = next(
            (rel for rel in sorted(files, key=len, reverse=True) if path.endswith("/" + rel)),
            None,
        )
        if relative is None:
            continue
        place = _method_at(files[relative], line, function)
        if place is not None:
            return Place(place[0], place[1], relative, line)
    return None


def place_frame(workspace: Path, file: str, line: int) -> Place | None:
    """The student's method at ``line`` of ``file`` (relative to ``workspace``), or None."""
    path = (workspace / file).resolve()
    if not path.is_relative_to(workspace.resolve()) or not path.is_file():
        return None
    place = _method_at(path, line, "")
    return Place(place[0], place[1], file, line) if place is not None else None


def _method_at(path: Path, line: int, function: str) -> tuple[str, str | None] | None:
    tree = _tree(path, path.stat().st_mtime_ns)
    if tree is None:
        return None
    chain = _enclosing(tree, line)
    if not chain:
        return None
    phase = "backward" if chain[-1].name == "_backward" else None
    for index, node in enumerate(chain):
        if isinstance(node, ast.ClassDef) and node.name in CLASSES and index + 1 < len(chain):
            return f"{node.name}.{chain[index + 1].name}", phase
    outer = chain[0]
    if isinstance(outer, ast.FunctionDef | ast.AsyncFunctionDef):
        method = _assigned_to(tree, outer.name)
        if method is not None:
            return method, phase
    return None


@lru_cache(maxsize=64)
def _tree(path: Path, mtime_ns: int) -> ast.Module | None:
    """The syntax tree of a submission's file, parsed once per version of the file (every
    errored check of a grading asks for it)."""
    try:
        return syntax.parse(path.read_text(encoding="utf-8", errors="replace"), path.name)
    except SyntaxError:
        return None


def _enclosing(
    tree: ast.Module, line: int
) -> list[ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef]:
    """The classes and functions whose bodies hold ``line``, outermost first."""
    chain: list[ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef] = []
    body: list[ast.stmt] = tree.body
    while True:
        inside = next(
            (
                node
                for node in body
                if isinstance(node, ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
                and node.lineno <= line <= (node.end_lineno or node.lineno)
            ),
            None,
        )
        if inside is None:
            return chain
        chain.append(inside)
        body = inside.body


def _assigned_to(tree: ast.Module, function: str) -> str | None:
    """``Value.backward`` for ``Value.backward = function`` at the top of the module, or for
    ``backward = function`` in the body of class ``Value``."""
    for node in tree.body:
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Name):
            if node.value.id != function:
                continue
            for target in node.targets:
                if (
                    isinstance(target, ast.Attribute)
                    and isinstance(target.value, ast.Name)
                    and target.value.id in CLASSES
                ):
                    return f"{target.value.id}.{target.attr}"
        if isinstance(node, ast.ClassDef) and node.name in CLASSES:
            for member in node.body:
                if (
                    isinstance(member, ast.Assign)
                    and isinstance(member.value, ast.Name)
                    and member.value.id == function
                    and isinstance(member.targets[0], ast.Name)
                ):
                    return f"{node.name}.{member.targets[0].id}"
    return None
