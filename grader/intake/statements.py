"""Cut top-level code into statements, and know what each one binds, reads and imports.

Notebook cells and single-file scripts are run one top-level statement at a time (see
``stepwise.py``), so that a statement that fails or runs forever costs only itself. The cut
is made here, on the host, from the syntax tree: the sandbox only receives line ranges.
Statements that share a line (``import a; import b``) stay together.

After a statement had to be left out because it ran too long, the rest of the code runs
only where it is *needed*: where it binds a name that the exercise's classes use, directly
or through other needed definitions (``import math`` for ``tanh``, a helper function, a
constant). ``mark_needed`` decides that for a whole notebook or script at once.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Sequence
from dataclasses import replace

from grader import syntax
from grader.intake.model import CLASS_NAMES, Statement

_FUNCTION = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)
_SCOPES = (*_FUNCTION, ast.ClassDef)


def split(text: str, label: str) -> tuple[Statement, ...] | None:
    """The top-level statements of ``text``, or None when it does not parse."""
    try:
        tree = syntax.parse(text, label)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    statements: list[Statement] = []
    for node in tree.body:
        found = _statement(node)
        if statements and found.first <= statements[-1].last:
            found = _merged(statements.pop(), found)
        statements.append(found)
    return tuple(statements)


def _statement(node: ast.stmt) -> Statement:
    decorators = getattr(node, "decorator_list", [])
    first = min([node.lineno] + [d.lineno for d in decorators])
    imports = _imports(node)
    future: tuple[str, ...] = ()
    if isinstance(node, ast.ImportFrom) and node.module == "__future__":
        future = tuple(alias.name for alias in node.names)
    return Statement(
        first=first,
        last=node.end_lineno or node.lineno,
        binds=frozenset(_binds(node)),
        reads=frozenset(_reads(node)),
        imports=imports,
        future=future,
    )


def _merged(a: Statement, b: Statement) -> Statement:
    return Statement(
        first=a.first,
        last=max(a.last, b.last),
        binds=a.binds | b.binds,
        reads=a.reads | b.reads,
        imports=a.imports + b.imports,
        future=a.future + b.future,
    )


def _imports(node: ast.stmt) -> tuple[tuple[str, str], ...]:
    if isinstance(node, ast.Import):
        return tuple(
            (alias.asname or alias.name.split(".")[0], alias.name.split(".")[0])
            for alias in node.names
        )
    if isinstance(node, ast.ImportFrom) and not node.level and node.module:
        top = node.module.split(".")[0]
        return tuple((alias.asname or alias.name, top) for alias in node.names)
    return ()


def _binds(node: ast.AST) -> set[str]:
    """Names a top-level statement binds in the module (not inside functions or classes)."""
    if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
        return {node.name}
    if isinstance(node, ast.Import | ast.ImportFrom):
        return {alias.asname or alias.name.split(".")[0] for alias in node.names}
    if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store | ast.Del):
        return {node.id}
    if isinstance(node, (*_FUNCTION, ast.comprehension)):
        return set()
    names: set[str] = set()
    for child in ast.iter_child_nodes(node):
        names |= _binds(child)
    return names


def _reads(node: ast.AST) -> set[str]:
    """Names read from the module's globals (approximately: a function's own names are not)."""
    if isinstance(node, _FUNCTION):
        return _function_reads(node)
    names = {node.id} if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load) else set()
    for child in ast.iter_child_nodes(node):
        names |= _reads(child)
    return names


def _function_reads(node: ast.AST) -> set[str]:
    loaded: set[str] = set()
    local: set[str] = set()
    for inner in ast.walk(node):
        if isinstance(inner, ast.Name):
            (loaded if isinstance(inner.ctx, ast.Load) else local).add(inner.id)
        elif isinstance(inner, ast.arg):
            local.add(inner.arg)
        elif isinstance(inner, _SCOPES) and inner is not node and not isinstance(inner, ast.Lambda):
            local.add(inner.name)
    return loaded - local


def mark_needed(
    sources: Sequence[tuple[Statement, ...] | None], classes: Iterable[str] = CLASS_NAMES
) -> list[tuple[Statement, ...] | None]:
    """Mark the statements that bind what the classes need, across every source at once."""
    everything = [s for statements in sources if statements for s in statements]
    wanted = set(classes)
    while True:
        grown = set(wanted)
        for statement in everything:
            if statement.binds & wanted:
                grown |= statement.reads
        if grown == wanted:
            break
        wanted = grown
    return [
        None
        if statements is None
        else tuple(replace(s, needed=bool(s.binds & wanted)) for s in statements)
        for statements in sources
    ]
