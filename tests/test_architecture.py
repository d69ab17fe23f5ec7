"""The shape of the package, enforced: no import circles, a small core, clean boundaries.

The import graph is read from the source (every import statement, including those inside
functions and under ``TYPE_CHECKING``: a circle drawn for type names is still a circle).
An import of a package that contains the importing module is left out: Python imports a
module's parent packages before the module anyway, so such an edge says nothing about
dependencies (``from grader import __version__`` is one).

What docs/architecture.md describes is checked here:
- no import circles anywhere in ``grader``;
- ``grader/harness`` imports nothing from the rest of ``grader`` (it runs in the sandbox and
  in students' hand-outs, where only the standard library and pytest exist);
- only ``grader/cli`` uses click, and nothing outside it imports it (the library never needs
  the command line);
- the report does not depend on the batch, the judge not on the runner;
- at most 16 modules at the top level of ``grader``;
- ``ast.parse`` is called only by ``grader/syntax.py`` (see its docstring for why);
- the public API (``grader.__all__``) names what ``grader`` really exports.
"""

from __future__ import annotations

import ast
import importlib
import sys
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import pytest

import grader

PACKAGE = Path(grader.__file__).resolve().parent
MAX_TOP_LEVEL = 16


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


@cache
def modules() -> dict[str, Path]:
    return {module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def is_package(name: str) -> bool:
    return modules()[name].name == "__init__.py"


def _imported(name: str, node: ast.AST) -> Iterator[str]:
    """The modules (of any package) one import statement of module ``name`` refers to."""
    if isinstance(node, ast.Import):
        yield from (alias.name for alias in node.names)
    elif isinstance(node, ast.ImportFrom):
        base = node.module or ""
        if node.level:
            package = name if is_package(name) else name.rpartition(".")[0]
            for _ in range(node.level - 1):
                package = package.rpartition(".")[0]
            base = f"{package}.{base}" if base else package
        for alias in node.names:
            submodule = f"{base}.{alias.name}"
            yield submodule if submodule in modules() else base


@cache
def imports_of(name: str) -> frozenset[str]:
    tree = ast.parse(modules()[name].read_text(encoding="utf-8"))
    found = set()
    for node in ast.walk(tree):
        for target in _imported(name, node):
            found.add(target)
    return frozenset(found)


def internal_edges(name: str) -> set[str]:
    """The grader modules ``name`` depends on (its own parent packages left out)."""
    ancestors = {name.rsplit(".", n)[0] for n in range(1, name.count(".") + 1)}
    return {
        target
        for target in imports_of(name)
        if target in modules() and target not in ancestors and target != name
    }


def cycles() -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(internal_edges(node)):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(modules()):
        if node not in index:
            visit(node)
    return found


def test_the_package_has_no_import_circles() -> None:
    assert cycles() == []


def test_the_cycle_finder_finds_a_circle() -> None:
    # The finder itself must be able to fail: two modules that import each other.
    imports_of.cache_clear()
    real = imports_of
    fake = {
        "grader.judge": frozenset({"grader.runner"}),
        "grader.runner": frozenset({"grader.judge"}),
    }
    try:
        globals()["imports_of"] = lambda name: fake.get(name, frozenset())
        assert cycles() == [["grader.judge", "grader.runner"]]
    finally:
        globals()["imports_of"] = real


def test_the_harness_imports_only_the_standard_library_and_pytest() -> None:
    allowed = set(sys.stdlib_module_names) | {"pytest", "_pytest", "mg_harness"}
    for name in modules():
        if not name.startswith("grader.harness"):
            continue
        for target in imports_of(name):
            top = target.split(".")[0]
            assert target.startswith("grader.harness") or top in allowed, (name, target)


def test_only_the_command_line_uses_click() -> None:
    for name in modules():
        inside = name in ("grader.cli", "grader.__main__") or name.startswith("grader.cli.")
        for target in imports_of(name):
            if target.split(".")[0] == "click" or target.startswith("grader.cli"):
                assert inside, f"{name} imports {target}: the library must not need the CLI"


@pytest.mark.parametrize(
    ("importer", "forbidden"),
    [
        ("grader.report", "grader.batch"),
        ("grader.judge", "grader.runner"),
        ("grader.intake", "grader.sandbox"),
        ("grader.sandbox", "grader.pipeline"),
    ],
)
def test_layers(importer: str, forbidden: str) -> None:
    for name in modules():
        if name == importer or name.startswith(importer + "."):
            bad = [
                t for t in internal_edges(name) if t == forbidden or t.startswith(forbidden + ".")
            ]
            assert not bad, f"{name} imports {bad}"


def test_the_top_level_stays_small() -> None:
    top = sorted(p.stem for p in PACKAGE.glob("*.py") if not p.stem.startswith("__"))
    assert len(top) <= MAX_TOP_LEVEL, top


def test_only_the_syntax_module_parses_python() -> None:
    for name, path in modules().items():
        if name == "grader.syntax":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "parse"
                and isinstance(node.func.value, ast.Name)
                and node.func.value.id == "ast"
            ):
                raise AssertionError(f"{name} calls ast.parse: use grader.syntax.parse")


def test_the_public_api_is_what_the_package_exports() -> None:
    homes = grader._HOMES  # type: ignore[attr-defined]
    exported = {name for names in homes.values() for name in names}
    assert set(grader.__all__) == exported | {"__version__"}
    for module, names in homes.items():
        for name in names:
            assert getattr(grader, name) is getattr(importlib.import_module(module), name)
    with pytest.raises(AttributeError):
        grader.not_a_thing  # type: ignore[attr-defined]  # noqa: B018
