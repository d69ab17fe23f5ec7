"""Parse Python source into a syntax tree (and compile a tree) from any thread, safely.

CPython 3.11 keeps one recursion counter for converting syntax trees between C and Python
in a global, not per thread: two threads doing it at once (a batch's workers reading
submissions, a mutation run) can make one of them fail with ``SystemError: AST constructor
recursion depth mismatch``. Every conversion in micrograde goes through this module, under
one lock; tests/test_architecture.py checks that nothing else calls ``ast.parse``.
"""

from __future__ import annotations

import ast
import threading
from types import CodeType

_lock = threading.Lock()


def parse(source: str | bytes, filename: str = "<unknown>") -> ast.Module:
    """``ast.parse(source, filename)``, one thread at a time."""
    with _lock:
        return ast.parse(source, filename=filename)


def compile_tree(tree: ast.Module, filename: str) -> CodeType:
    """``compile(tree, filename, "exec")``, one thread at a time."""
    with _lock:
        return compile(tree, filename, "exec")
