"""Mutation operators: one small change to a solution's source, as a (find, replace) pair.

Generic operators work on any solution's syntax tree, line by line: an augmented
assignment made plain (``+=`` to ``=``), ``self`` and ``other`` swapped inside an
expression, an arithmetic operator replaced, a numeric constant changed, ``reversed(...)``
dropped, a slice bound moved by one, a comparison loosened, the two branches of a
conditional expression swapped, a string label changed, a method removed. Each candidate
is located (class, method, and whether it sits inside a nested ``_backward``), so the
staff who freeze a set can see which contract item it breaks. Exercise-specific mutants
(the power rule written ``(n*x)**(n-1)``, tanh's derivative as ``1 - t``, the overflowing
tanh formula...) are written by hand in the frozen set.

A candidate's ``find`` is a whole source line that occurs exactly once in its file, so
applying it later is a plain, checkable text replacement.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from grader import syntax

CLASSES = ("Value", "Neuron", "Layer", "MLP")


@dataclass(frozen=True)
class Candidate:
    """One generated mutation of one line."""

    operator: str
    file: str
    line: int
    find: str
    replace: str
    method: str  # e.g. "Value.__mul__"
    phase: str  # "forward" or "backward" (inside a nested _backward)


def candidates(source: str, file: str) -> list[Candidate]:
    """Every generic mutation of ``source`` whose line is unique in the file."""
    lines = source.splitlines()
    counts: dict[str, int] = {}
    for text in lines:
        counts[text] = counts.get(text, 0) + 1
    found: list[Candidate] = []
    tree = syntax.parse(source, file)
    for method, phase, node in _statements(tree):
        start, end = node.lineno, node.end_lineno or node.lineno
        if start != end or counts[lines[start - 1]] != 1:
            continue  # multi-line or repeated lines: not a unique, checkable replacement
        text = lines[start - 1]
        for name, mutate in GENERIC.items():
            for new in mutate(node, text):
                if new != text:
                    found.append(Candidate(name, file, start, text, new, method, phase))
    found += _removed_methods(tree, lines, file)
    return found


def _statements(tree: ast.Module) -> Iterator[tuple[str, str, ast.stmt]]:
    """(method, phase, statement) of every simple statement inside the exercise's classes."""
    for cls in tree.body:
        if not (isinstance(cls, ast.ClassDef) and cls.name in CLASSES):
            continue
        for func in cls.body:
            if isinstance(func, ast.FunctionDef):
                yield from _walk(func.body, f"{cls.name}.{func.name}", "forward")


def _walk(body: list[ast.stmt], method: str, phase: str) -> Iterator[tuple[str, str, ast.stmt]]:
    for stmt in body:
        if isinstance(stmt, ast.FunctionDef):
            inner = "backward" if stmt.name == "_backward" else phase
            yield from _walk(stmt.body, method, inner)
        elif isinstance(stmt, ast.If | ast.For | ast.While | ast.With):
            yield from _walk(list(getattr(stmt, "body", [])), method, phase)
            yield from _walk(list(getattr(stmt, "orelse", [])), method, phase)
        else:
            yield method, phase, stmt


def _removed_methods(tree: ast.Module, lines: list[str], file: str) -> list[Candidate]:
    """Each method of the exercise's classes deleted (its ``def`` line replaced by a no-op)."""
    found = []
    for cls in tree.body:
        if isinstance(cls, ast.ClassDef) and cls.name in CLASSES:
            for func in cls.body:
                if isinstance(func, ast.FunctionDef) and func.name != "__init__":
                    text = lines[func.lineno - 1]
                    indent = text[: len(text) - len(text.lstrip())]
                    new = f"{indent}def _removed_{func.name}{text.strip()[4 + len(func.name) :]}"
                    found.append(
                        Candidate(
                            "remove-method",
                            file,
                            func.lineno,
                            text,
                            new,
                            f"{cls.name}.{func.name}",
                            "forward",
                        )
                    )
    return found


# ------------------------------------------------------------------- the generic operators


def _aug_to_assign(node: ast.stmt, text: str) -> Iterator[str]:
    if isinstance(node, ast.AugAssign):
        for op in ("+=", "-=", "*="):
            if op in text:
                yield text.replace(op, "=", 1)


def _swap_self_other(node: ast.stmt, text: str) -> Iterator[str]:
    names = {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}
    if {"self", "other"} <= names:
        yield text.replace("self.", "\0").replace("other.", "self.").replace("\0", "other.")
        for target in ("self.data", "other.data"):
            swapped = "other.data" if target == "self.data" else "self.data"
            if text.count(target) == 1:
                yield text.replace(target, swapped)


_ARITH = {" + ": " - ", " - ": " + ", " * ": " + ", " / ": " * ", " ** ": " * "}


def _arith(node: ast.stmt, text: str) -> Iterator[str]:
    if not any(isinstance(n, ast.BinOp) for n in ast.walk(node)):
        return
    code, comment = _split_comment(text)
    for old, new in _ARITH.items():
        if code.count(old) == 1:
            yield code.replace(old, new) + comment


def _constant(node: ast.stmt, text: str) -> Iterator[str]:
    code, comment = _split_comment(text)
    numbers: set[int | float] = set()
    for sub in ast.walk(node):
        if isinstance(sub, ast.Constant) and type(sub.value) in (int, float):
            numbers.add(sub.value)  # type: ignore[arg-type]  # checked just above
    for value in sorted(numbers, key=str):
        spelled = repr(value)
        if code.count(spelled) == 1 and not code.strip().startswith(("def ", "class ")):
            yield code.replace(spelled, repr(value + 1)) + comment


def _drop_reversed(node: ast.stmt, text: str) -> Iterator[str]:
    if "reversed(" in text:
        start = text.index("reversed(")
        depth, end = 0, start + len("reversed(")
        for end in range(start + len("reversed("), len(text)):
            depth += {"(": 1, ")": -1}.get(text[end], 0)
            if depth < 0:
                break
        yield text[:start] + text[start + len("reversed(") : end] + text[end + 1 :]


def _slice_by_one(node: ast.stmt, text: str) -> Iterator[str]:
    for sub in ast.walk(node):
        if isinstance(sub, ast.Slice):
            for bound in (sub.lower, sub.upper):
                if isinstance(bound, ast.Constant) and type(bound.value) is int:
                    old = repr(bound.value)
                    if text.count(f"[{old}:") == 1:
                        yield text.replace(f"[{old}:", f"[{bound.value + 1}:")
                    if text.count(f":{old}]") == 1:
                        yield text.replace(f":{old}]", f":{bound.value - 1}]")


_COMPARE = {" > ": " >= ", " < ": " <= ", " == ": " != ", " != ": " == ", " >= ": " > "}


def _compare(node: ast.stmt, text: str) -> Iterator[str]:
    if not any(isinstance(n, ast.Compare) for n in ast.walk(node)):
        return
    code, comment = _split_comment(text)
    for old, new in _COMPARE.items():
        if code.count(old) == 1:
            yield code.replace(old, new) + comment


def _swap_branches(node: ast.stmt, text: str) -> Iterator[str]:
    for sub in ast.walk(node):
        if isinstance(sub, ast.IfExp):
            body, other = ast.get_source_segment(text.strip(), sub.body), None
            segment = ast.get_source_segment(text.strip(), sub)
            if segment is None or body is None:
                return
            other = ast.get_source_segment(text.strip(), sub.orelse)
            test = ast.get_source_segment(text.strip(), sub.test)
            if other is not None and test is not None:
                yield text.replace(segment, f"{other} if {test} else {body}")


def _label(node: ast.stmt, text: str) -> Iterator[str]:
    for sub in ast.walk(node):
        if isinstance(sub, ast.Constant) and sub.value in ("+", "*", "tanh", "ReLU"):
            yield text.replace(repr(sub.value), repr(f" {sub.value}"), 1)


def _split_comment(text: str) -> tuple[str, str]:
    """The code of a line and its trailing comment (kept as is)."""
    index = text.find("  #")
    return (text, "") if index < 0 else (text[:index], text[index:])


# Statements are re-read from one line, so segments are taken relative to the stripped line.
def _reparsed(
    mutate: Callable[[ast.stmt, str], Iterator[str]],
) -> Callable[[ast.stmt, str], Iterator[str]]:
    def wrapper(node: ast.stmt, text: str) -> Iterator[str]:
        try:
            line_node = syntax.parse(text.strip()).body[0]
        except (SyntaxError, IndexError):
            return iter(())
        return mutate(line_node, text)

    return wrapper


GENERIC: dict[str, Callable[[ast.stmt, str], Iterator[str]]] = {
    "aug-to-assign": _aug_to_assign,
    "swap-self-other": _swap_self_other,
    "arith-op": _arith,
    "constant": _constant,
    "drop-reversed": _drop_reversed,
    "slice-by-one": _slice_by_one,
    "compare-op": _compare,
    "swap-branches": _reparsed(_swap_branches),
    "label": _label,
}
