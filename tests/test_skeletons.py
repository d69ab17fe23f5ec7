"""The skeletons and the reference are one source of truth.

Step k+1's skeleton is step k's reference plus stubs for the new work, so everything a
student is given is exactly what the reference does. This is checked on the syntax trees:
comments and docstrings inside functions may differ, nothing else may.
"""

import ast
import copy
import difflib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from exercise_paths import REPO, STEPS, load_solution, package_dir

MODULES = ("__init__.py", "value.py", "mlp.py")

STEP_1_OPERATORS = (
    "__add__",
    "__mul__",
    "__pow__",
    "__neg__",
    "__radd__",
    "__sub__",
    "__rsub__",
    "__rmul__",
    "__truediv__",
    "__rtruediv__",
)

# ---------------------------------------------------------------------------------------
# The AST comparison
# ---------------------------------------------------------------------------------------

Definition = ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef


@dataclass
class Outline:
    """A module or class body: its named definitions and every other statement."""

    definitions: dict[str, Definition] = field(default_factory=dict)
    others: list[ast.stmt] = field(default_factory=list)
    duplicates: list[str] = field(default_factory=list)


def outline(body: list[ast.stmt]) -> Outline:
    result = Outline()
    for stmt in body:
        if isinstance(stmt, Definition):
            if stmt.name in result.definitions:
                result.duplicates.append(stmt.name)
            result.definitions[stmt.name] = stmt
        else:
            result.others.append(stmt)
    return result


def is_docstring(stmt: ast.stmt) -> bool:
    return (
        isinstance(stmt, ast.Expr)
        and isinstance(stmt.value, ast.Constant)
        and isinstance(stmt.value.value, str)
    )


def without_docstring(func: ast.FunctionDef | ast.AsyncFunctionDef) -> ast.AST:
    func = copy.deepcopy(func)
    if func.body and is_docstring(func.body[0]):
        func.body = func.body[1:] or [ast.Pass()]
    return func


def stub_message(stmt: ast.stmt) -> str | None:
    """The message of `raise NotImplementedError("<message>")`, else None."""
    if not (isinstance(stmt, ast.Raise) and stmt.cause is None):
        return None
    call = stmt.exc
    if not (isinstance(call, ast.Call) and isinstance(call.func, ast.Name)):
        return None
    if call.func.id != "NotImplementedError" or call.keywords or len(call.args) != 1:
        return None
    arg = call.args[0]
    return arg.value if isinstance(arg, ast.Constant) and isinstance(arg.value, str) else None


def is_stub(func: ast.stmt, qualname: str) -> bool:
    """An optional docstring, then exactly `raise NotImplementedError("<qualname>")`."""
    if not isinstance(func, ast.FunctionDef | ast.AsyncFunctionDef):
        return False
    body = func.body[1:] if func.body and is_docstring(func.body[0]) else func.body
    return len(body) == 1 and stub_message(body[0]) == qualname


def source_diff(reference: ast.AST | None, skeleton: ast.AST | None) -> str:
    before = ast.unparse(reference).splitlines() if reference else []
    after = ast.unparse(skeleton).splitlines() if skeleton else []
    diff = difflib.unified_diff(before, after, "reference", "skeleton", lineterm="", n=1)
    return "\n".join("    " + line for line in diff)


@dataclass(frozen=True)
class Comparison:
    """Where the skeleton is (for messages) and which reference step it must match."""

    where: str
    against: str

    def differs(self, name: str, reference: ast.AST | None, skeleton: ast.AST | None) -> str:
        return (
            f"{self.where}: {name} differs from {self.against}\n{source_diff(reference, skeleton)}"
        )


def skeleton_differences(
    reference: str | None,
    skeleton: str,
    where: str,
    against: str,
    *,
    ignore_docstring: bool = False,
) -> list[str]:
    """Every way `skeleton` departs from `reference` other than by adding stubs.

    `reference` is None for a module that only the skeleton has: it may hold only imports,
    docstrings and classes of stubs. `ignore_docstring` skips the module docstrings.
    """
    cmp = Comparison(where, against)
    skel_tree = ast.parse(skeleton)
    if ignore_docstring and skel_tree.body and is_docstring(skel_tree.body[0]):
        skel_tree.body = skel_tree.body[1:]
    if reference is None:
        return new_module_problems(skel_tree, cmp)
    ref_tree = ast.parse(reference)
    if ignore_docstring and ref_tree.body and is_docstring(ref_tree.body[0]):
        ref_tree.body = ref_tree.body[1:]
    return body_differences(outline(ref_tree.body), outline(skel_tree.body), "", cmp)


def new_module_problems(tree: ast.Module, cmp: Comparison) -> list[str]:
    body = outline(tree.body)
    problems = [f"{cmp.where}: {name} is defined twice" for name in body.duplicates]
    allowed = (ast.Import, ast.ImportFrom)
    for stmt in body.others:
        if not (isinstance(stmt, allowed) or is_docstring(stmt)):
            problems.append(
                f"{cmp.where}: new module holds more than imports, docstrings and stubs "
                f"(line {stmt.lineno}: {ast.unparse(stmt)[:60]})"
            )
    for name, node in body.definitions.items():
        problems += new_definition_problems(name, node, cmp)
    return problems


def body_differences(ref: Outline, skel: Outline, prefix: str, cmp: Comparison) -> list[str]:
    scope = prefix.rstrip(".") or "top level"
    problems = [f"{cmp.where}: {prefix}{name} is defined twice" for name in skel.duplicates]
    if [ast.dump(s) for s in ref.others] != [ast.dump(s) for s in skel.others]:
        ref_others, skel_others = ast.Module(ref.others, []), ast.Module(skel.others, [])
        name = f"{scope} (statements other than def/class)"
        problems.append(cmp.differs(name, ref_others, skel_others))
    for name, ref_node in ref.definitions.items():
        skel_node = skel.definitions.get(name)
        if skel_node is None:
            problems.append(f"{cmp.where}: {prefix}{name} of {cmp.against} is missing")
        else:
            problems += definition_differences(prefix + name, ref_node, skel_node, cmp)
    for name, skel_node in skel.definitions.items():
        if name not in ref.definitions:
            problems += new_definition_problems(prefix + name, skel_node, cmp)
    return problems


def definition_differences(
    qualname: str, ref: Definition, skel: Definition, cmp: Comparison
) -> list[str]:
    if isinstance(ref, ast.ClassDef) and isinstance(skel, ast.ClassDef):
        problems = []
        ref_header, skel_header = class_header(ref), class_header(skel)
        if ast.dump(ref_header) != ast.dump(skel_header):
            name = f"class {qualname} (bases or decorators)"
            problems.append(cmp.differs(name, ref_header, skel_header))
        members = outline(ref.body), outline(skel.body)
        return problems + body_differences(*members, qualname + ".", cmp)
    if isinstance(ref, ast.ClassDef) or isinstance(skel, ast.ClassDef):
        return [f"{cmp.where}: {qualname} is a class in one and a function in the other"]
    ref_clean, skel_clean = without_docstring(ref), without_docstring(skel)
    if ast.dump(ref_clean) != ast.dump(skel_clean):
        return [cmp.differs(qualname, ref_clean, skel_clean)]
    return []


def class_header(node: ast.ClassDef) -> ast.ClassDef:
    """The class statement without its body: name, bases, keywords, decorators."""
    header = copy.copy(node)
    header.body = [ast.Pass()]
    return header


def new_definition_problems(qualname: str, node: Definition, cmp: Comparison) -> list[str]:
    """Something only the skeleton has: a stub, or a class of stubs and docstrings."""
    if isinstance(node, ast.ClassDef):
        body = outline(node.body)
        problems = [
            f"{cmp.where}: class {qualname} (new) holds a statement other than a docstring "
            f"or a stub (line {stmt.lineno})"
            for stmt in body.others
            if not is_docstring(stmt)
        ]
        for name, member in body.definitions.items():
            problems += new_definition_problems(f"{qualname}.{name}", member, cmp)
        return problems
    if is_stub(node, qualname):
        return []
    return [
        f"{cmp.where}: {qualname} is new in the skeleton but is not a stub: its body must be "
        f'a docstring at most, then exactly raise NotImplementedError("{qualname}")\n'
        f"{source_diff(None, without_docstring(node))}"
    ]


def stub_messages(source: str) -> dict[str, str]:
    """Every `raise NotImplementedError(...)` message, keyed by where it is (Class.method).

    A raise inside a closure counts as its method's: step 1's `_backward` stubs belong to
    `Value.__add__` and say "Value.__add__ backward".
    """
    found: dict[str, str] = {}

    def visit(node: ast.AST, qualname: str, in_function: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, Definition) and not in_function:
                name = f"{qualname}.{child.name}" if qualname else child.name
                visit(child, name, not isinstance(child, ast.ClassDef))
                continue
            if isinstance(child, ast.Raise) and _raises_not_implemented(child):
                found[f"{qualname} line {child.lineno}"] = stub_message(child) or "<no message>"
            visit(child, qualname, in_function)

    visit(ast.parse(source), "", False)
    return found


def defined_names(source: str) -> set[str]:
    """The qualified names of every class and of every function outside a function."""
    names = set()
    for node in ast.parse(source).body:
        if isinstance(node, Definition):
            names.add(node.name)
        if isinstance(node, ast.ClassDef):
            names |= {f"{node.name}.{m.name}" for m in node.body if isinstance(m, Definition)}
    return names


def _raises_not_implemented(node: ast.Raise) -> bool:
    exc = node.exc.func if isinstance(node.exc, ast.Call) else node.exc
    return isinstance(exc, ast.Name) and exc.id == "NotImplementedError"


# ---------------------------------------------------------------------------------------
# The helper's self-test
# ---------------------------------------------------------------------------------------

TINY_REFERENCE = '''
"""Module."""
import math


class A:
    """Doc."""

    def f(self):
        """Old words."""
        return 1  # a comment

    def g(self):
        return math.pi
'''

TINY_SKELETON = '''
"""Module."""
import math


class A:
    """Doc."""

    def f(self):
        """New words."""
        # a different comment
        return 1

    def g(self):
        return 3

    def h(self):
        """Student work."""
        # Hint.
        raise NotImplementedError("A.h")
'''


def tiny(source: str, old: str = "", new: str = "") -> list[str]:
    return skeleton_differences(TINY_REFERENCE, source.replace(old, new), "skel.py", "ref")


def test_helper_accepts_docstrings_comments_and_stubs() -> None:
    assert tiny(TINY_SKELETON, "return 3", "return math.pi") == []


def test_helper_reports_a_change_outside_stubs() -> None:
    [problem] = tiny(TINY_SKELETON)
    assert problem.startswith("skel.py: A.g differs from ref\n")
    assert "-    return math.pi" in problem and "+    return 3" in problem


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ('raise NotImplementedError("A.h")', 'raise NotImplementedError("A.f")', "A.h is new"),
        ('raise NotImplementedError("A.h")', "raise NotImplementedError", "A.h is new"),
        ("# Hint.", "x = 1", "A.h is new"),
        ("    def g(self):\n        return math.pi", "", "A.g of ref is missing"),
        ('"""Doc."""', '"""Other."""', "A (statements other than def/class) differs"),
        ("import math", "import cmath", "top level (statements other than def/class) differs"),
        ("class A:", "class A(object):", "class A (bases or decorators) differs"),
        ("def f(self):", "def f(self, x):", "A.f differs from ref"),
    ],
)
def test_helper_reports_each_kind_of_difference(old: str, new: str, expected: str) -> None:
    problems = tiny(TINY_SKELETON.replace("return 3", "return math.pi"), old, new)
    assert len(problems) == 1 and expected in problems[0], problems


def test_helper_checks_modules_only_the_skeleton_has() -> None:
    good = (
        'import random\n\n\nclass B:\n    """Doc."""\n\n'
        '    def m(self):\n        raise NotImplementedError("B.m")\n'
    )
    assert skeleton_differences(None, good, "new.py", "ref") == []
    bad = good + "\n\nSEED = 5\n\n\ndef helper():\n    return 1\n"
    problems = skeleton_differences(None, bad, "new.py", "ref")
    assert len(problems) == 2
    assert "new module holds more than" in problems[0] and "helper is new" in problems[1]


# ---------------------------------------------------------------------------------------
# The real skeletons
# ---------------------------------------------------------------------------------------


def rel(kind: str, step: int, module: str = "") -> str:
    path = package_dir(kind, step) / module if module else package_dir(kind, step).parent
    return path.relative_to(REPO).as_posix()


def read(kind: str, step: int, module: str) -> str | None:
    path = package_dir(kind, step) / module
    return path.read_text(encoding="utf-8") if path.is_file() else None


@pytest.mark.parametrize("step", [1, 2, 3, 4])
def test_no_unexpected_modules(step: int) -> None:
    for kind, k in (("reference", step), ("skeletons", step + 1)):
        found = {p.name for p in package_dir(kind, k).iterdir() if p.suffix == ".py"}
        assert found <= set(MODULES), f"{rel(kind, k)} has modules nobody compares: {found}"


@pytest.mark.parametrize("module", MODULES)
@pytest.mark.parametrize("step", [1, 2, 3, 4])
def test_skeleton_is_previous_reference_plus_stubs(step: int, module: str) -> None:
    reference, skeleton = read("reference", step, module), read("skeletons", step + 1, module)
    where = rel("skeletons", step + 1, module)
    if skeleton is None:
        assert reference is None, f"{where} is missing but {rel('reference', step)} has it"
        return
    # The package docstrings say "reference" or "your package" by design.
    problems = skeleton_differences(
        reference, skeleton, where, rel("reference", step), ignore_docstring=module == "__init__.py"
    )
    assert not problems, "\n".join(problems)


def skeleton_1_value() -> ast.ClassDef:
    tree = ast.parse(read("skeletons", 1, "value.py") or "")
    [value] = [node for node in tree.body if isinstance(node, ast.ClassDef)]
    return value


def test_step_1_skeleton_stubs_every_operator() -> None:
    value = skeleton_1_value()
    methods = {node.name: node for node in value.body if isinstance(node, ast.FunctionDef)}
    assert set(methods) == {"__init__", "__repr__", *STEP_1_OPERATORS}
    for name in STEP_1_OPERATORS:
        assert is_stub(methods[name], f"Value.{name}"), f"Value.{name} is not a stub"
    assert read("skeletons", 1, "mlp.py") is None


def test_step_1_skeleton_implements_init_and_repr() -> None:
    # They must be exactly the reference's, which later steps build on.
    reference = ast.parse(read("reference", 1, "value.py") or "")
    [ref_value] = [node for node in reference.body if isinstance(node, ast.ClassDef)]
    ref_methods = {node.name: node for node in ref_value.body if isinstance(node, ast.FunctionDef)}
    for node in skeleton_1_value().body:
        if isinstance(node, ast.FunctionDef) and node.name in ("__init__", "__repr__"):
            expected = without_docstring(ref_methods[node.name])
            assert ast.dump(without_docstring(node)) == ast.dump(expected)
    Value = load_solution("skeletons", 1).Value
    v = Value(2.5)
    assert (v.data, v.grad, v.prev, v._op) == (2.5, 0, set(), "")
    assert "2.5" in repr(v)


SOURCE_FILES = [
    (kind, step, module)
    for kind in ("reference", "skeletons")
    for step in STEPS
    for module in ("value.py", "mlp.py")
    if (package_dir(kind, step) / module).is_file()
]


@pytest.mark.parametrize(("kind", "step", "module"), SOURCE_FILES)
def test_every_stub_names_its_own_method(kind: str, step: int, module: str) -> None:
    # The reference has stubs too: step 1's _backward closures are step 2's work.
    source = read(kind, step, module) or ""
    for where, message in stub_messages(source).items():
        qualname = where.split(" line ")[0]
        assert message == qualname or message.startswith(qualname + " "), (
            f"{rel(kind, step, module)}: the stub in {where} says {message!r}, not {qualname!r}"
        )


# ---------------------------------------------------------------------------------------
# Calling a skeleton's new work raises NotImplementedError naming the method
# ---------------------------------------------------------------------------------------


def bare(cls: type) -> Any:
    """An instance whose __init__ never ran, to reach methods when __init__ is a stub."""
    return object.__new__(cls)


Call = Callable[[Any], Any]
STEP_STUBS: dict[int, dict[str, Call]] = {
    1: {
        "Value.__add__": lambda mg: mg.Value(1.0) + mg.Value(2.0),
        "Value.__mul__": lambda mg: mg.Value(1.0) * 2.0,
        "Value.__pow__": lambda mg: mg.Value(1.0) ** 2,
        "Value.__neg__": lambda mg: -mg.Value(1.0),
        "Value.__radd__": lambda mg: 2.0 + mg.Value(1.0),
        "Value.__sub__": lambda mg: mg.Value(1.0) - 2.0,
        "Value.__rsub__": lambda mg: 2.0 - mg.Value(1.0),
        "Value.__rmul__": lambda mg: 2.0 * mg.Value(1.0),
        "Value.__truediv__": lambda mg: mg.Value(1.0) / 2.0,
        "Value.__rtruediv__": lambda mg: 2.0 / mg.Value(1.0),
    },
    2: {
        "Value.__add__ backward": lambda mg: (mg.Value(1.0) + 2.0)._backward(),
        "Value.__mul__ backward": lambda mg: (mg.Value(1.0) * 2.0)._backward(),
        "Value.__pow__ backward": lambda mg: (mg.Value(1.0) ** 2)._backward(),
        "Value.topo_sort": lambda mg: (mg.Value(1.0) + 2.0).topo_sort(),
        "Value.backward": lambda mg: (mg.Value(1.0) + 2.0).backward(),
    },
    3: {
        "Value.tanh": lambda mg: mg.Value(1.0).tanh(),
        "Value.relu": lambda mg: mg.Value(1.0).relu(),
    },
    4: {
        "Neuron.__init__": lambda mg: mg.Neuron(3),
        "Neuron.__call__": lambda mg: bare(mg.Neuron)([1.0, 2.0, 3.0]),
        "Layer.__init__": lambda mg: mg.Layer(3, 2),
        "Layer.__call__": lambda mg: bare(mg.Layer)([1.0, 2.0, 3.0]),
        "MLP.__init__": lambda mg: mg.MLP(3, [4, 1]),
        "MLP.__call__": lambda mg: bare(mg.MLP)([1.0, 2.0, 3.0]),
    },
    5: {
        "Neuron.parameters": lambda mg: mg.Neuron(3).parameters(),
        "Layer.parameters": lambda mg: mg.Layer(3, 2).parameters(),
        "MLP.parameters": lambda mg: mg.MLP(3, [4, 1]).parameters(),
        "MLP.zero_grad": lambda mg: mg.MLP(3, [4, 1]).zero_grad(),
    },
}


@pytest.mark.parametrize("step", [1, 2, 3, 4, 5])
def test_skeleton_stubs_are_exactly_the_steps_work(step: int) -> None:
    """The stubs in skeleton k are the table below for step k, no more, no fewer."""
    messages = set()
    for module in ("value.py", "mlp.py"):
        messages |= set(stub_messages(read("skeletons", step, module) or "").values())
    assert messages == set(STEP_STUBS[step])


@pytest.mark.parametrize(
    ("step", "method"), [(step, method) for step, table in STEP_STUBS.items() for method in table]
)
def test_skeleton_raises_not_implemented(step: int, method: str) -> None:
    mg = load_solution("skeletons", step)
    with pytest.raises(NotImplementedError) as raised:
        STEP_STUBS[step][method](mg)
    assert str(raised.value) == method


@pytest.mark.parametrize("step", [1, 2, 3, 4, 5])
def test_reference_implements_every_stub_of_its_step(step: int) -> None:
    sources = [read("reference", step, module) or "" for module in ("value.py", "mlp.py")]
    defined = set().union(*(defined_names(source) for source in sources))
    still_stubbed = set().union(*(stub_messages(source).values() for source in sources))
    for method in STEP_STUBS[step]:
        assert method.split(" ")[0] in defined, f"reference/step_{step} lacks {method}"
        assert method not in still_stubbed, f"reference/step_{step} still stubs {method}"
