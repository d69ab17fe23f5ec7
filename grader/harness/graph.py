"""Computation graphs: record one from live Values, and find where two of them part ways.

``capture`` runs next to the code under test. For every node the test named it records the
forward value, the gradient, the label and the children, and then *probes* each operator:
with every gradient zeroed and ``out.grad`` set to ``PROBE_GRAD``, it calls the node's own
``_backward`` once and records what each child received. That isolates one operator's local
derivative from the rest of the graph, so ``compare_graph`` can name the operator whose
backward is wrong instead of merely saying "a.grad is wrong".
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .compare import DEFAULT_TOL, Mismatch, compare
from .encode import describe, encode

PROBE_GRAD = 1.5
UNNAMED = "?"

OP_METHODS = {
    "+": "Value.__add__",
    "*": "Value.__mul__",
    "tanh": "Value.tanh",
    "ReLU": "Value.relu",
}


def method_for_op(op: Any) -> str:
    """The method that builds nodes labelled ``op`` (``'**3'`` -> ``Value.__pow__``)."""
    if type(op) is str and op.startswith("**"):
        return "Value.__pow__"
    return OP_METHODS.get(op, "Value") if type(op) is str else "Value"


def children_of(node: Any) -> list[Any]:
    """A node's children through ``prev`` (or Karpathy's ``_prev``); [] when there are none."""
    for attr in ("prev", "_prev"):
        try:
            kids = getattr(node, attr)
        except AttributeError:
            continue
        try:
            return list(kids)
        except TypeError:
            return []
    return []


def capture(
    nodes: Mapping[str, Any], output: str | None = None, probes: bool = True
) -> dict[str, Any]:
    """Record a graph after ``backward()``: the named nodes (for feedback), and, when
    ``output`` is given, every node reachable from it with one probe each (for audit)."""
    names = {id(node): name for name, node in nodes.items()}
    records = [_record(name, node, names) for name, node in nodes.items()]
    # The audit first, while every gradient is still what backward() left.
    audit = audit_capture(nodes[output], names, probes) if output is not None else None
    # A probe sets the gradients of a node's children too, named or not: all are put back.
    touched = {id(n): n for n in nodes.values()}
    for node in nodes.values():
        touched.update((id(kid), kid) for kid in children_of(node))
    saved = [(node, _safe_get(node, "grad")) for node in touched.values()]
    for record, node in zip(records, nodes.values(), strict=True):
        if record["children"]:
            record["probe"] = _probe(node, nodes, names)
    for node, grad in saved:
        _safe_set(node, "grad", grad)
    captured: dict[str, Any] = {"nodes": records}
    if audit is not None:
        captured["audit"] = audit
    return captured


MAX_NODES = 2_000
PROBE_BASE = 0.25  # what each child's grad holds before an accumulation probe


def audit_capture(output: Any, names: Mapping[int, str], probes: bool = True) -> dict[str, Any]:
    """Every node reachable from ``output`` (at most ``MAX_NODES``): its value, gradient,
    label and children, and each node's own ``_backward`` called alone, twice.

    ``local``: with the node's grad at ``PROBE_GRAD`` and its children's at 0, what each
    child receives (its local derivative, times the probe). ``acc``: the same with the
    children's grads at ``PROBE_BASE`` first, which shows whether it adds or overwrites.
    Every gradient is put back afterwards. ``topo``: the positions of what the output's
    own ``topo_sort()`` returns, when it has one. Without ``probes``, only the forward
    part (values, labels, children) is recorded.
    """
    order, index, truncated = _reachable(output)
    kids = [[index[id(k)] for k in children_of(node) if id(k) in index] for node in order]
    record: dict[str, Any] = {
        "nodes": [
            [
                encode(_safe_get(n, "data")),
                encode(_safe_get(n, "grad")),
                encode(_safe_get(n, "_op")),
                children,
            ]
            for n, children in zip(order, kids, strict=True)
        ],
        "names": {names[id(n)]: i for i, n in enumerate(order) if id(n) in names},
        "children_attribute": _children_attribute(output),
        "truncated": truncated,
    }
    if probes:
        grads = [_safe_get(n, "grad") for n in order]
        record["local"], record["acc"] = _probes(order, kids, grads)
        for node, grad in zip(order, grads, strict=True):
            _safe_set(node, "grad", grad)
        record["topo"] = _topo_positions(output, index)
    return record


def _reachable(output: Any) -> tuple[list[Any], dict[int, int], bool]:
    order: list[Any] = []
    index: dict[int, int] = {}
    stack = [output]
    while stack and len(order) < MAX_NODES:
        node = stack.pop()
        if id(node) in index:
            continue
        index[id(node)] = len(order)
        order.append(node)
        stack.extend(children_of(node))
    return order, index, bool(stack)


def _probes(
    order: list[Any], kids: list[list[int]], grads: list[Any]
) -> tuple[dict[str, Any], dict[str, Any]]:
    local: dict[str, Any] = {}
    acc: dict[str, Any] = {}
    for position, (node, children) in enumerate(zip(order, kids, strict=True)):
        if not children:
            continue
        for table, start in ((local, 0.0), (acc, PROBE_BASE)):
            for child in children:
                _safe_set(order[child], "grad", start)
            _safe_set(node, "grad", PROBE_GRAD)
            try:
                node._backward()
            except Exception as exc:  # noqa: BLE001 - the student's _backward raised: evidence
                table[str(position)] = {"error": f"{type(exc).__name__}: {exc}"[:300]}
            else:
                table[str(position)] = [encode(_safe_get(order[c], "grad")) for c in children]
            for child in children:
                _safe_set(order[child], "grad", grads[child])
            _safe_set(node, "grad", grads[position])
    return local, acc


def _children_attribute(node: Any) -> str | None:
    for attr in ("prev", "_prev"):
        try:
            getattr(node, attr)
        except Exception:  # noqa: BLE001 - a student's property may raise anything
            continue
        return attr
    return None


def _topo_positions(output: Any, index: Mapping[int, int]) -> list[int] | None:
    topo = getattr(type(output), "topo_sort", None)
    if not callable(topo):
        return None
    try:
        return [index.get(id(item), -1) for item in list(output.topo_sort())[: 2 * MAX_NODES]]
    except Exception:  # noqa: BLE001 - a wrong topo_sort is judged by its own check
        return None


def _record(name: str, node: Any, names: Mapping[int, str]) -> dict[str, Any]:
    kids = sorted(names.get(id(kid), UNNAMED) for kid in children_of(node))
    return {
        "name": name,
        "data": encode(_safe_get(node, "data")),
        "grad": encode(_safe_get(node, "grad")),
        "op": encode(_safe_get(node, "_op")),
        "children": kids,
    }


def _probe(node: Any, nodes: Mapping[str, Any], names: Mapping[int, str]) -> dict[str, Any]:
    for other in nodes.values():
        _safe_set(other, "grad", 0)
    _safe_set(node, "grad", PROBE_GRAD)
    try:
        node._backward()
    except Exception as exc:  # noqa: BLE001 - the student's _backward raised: that is the observation
        return {"error": f"{type(exc).__name__}: {exc}"[:300]}
    got = {}
    for kid in children_of(node):
        if id(kid) in names:
            got[names[id(kid)]] = encode(_safe_get(kid, "grad"))
    return {"grads": got}


def _safe_get(node: Any, attr: str) -> Any:
    try:
        return getattr(node, attr)
    except Exception:  # noqa: BLE001 - a student's property may raise anything
        return None


def _safe_set(node: Any, attr: str, value: Any) -> None:
    try:
        setattr(node, attr, value)
    except Exception:  # noqa: BLE001 - a student's __setattr__ may raise anything
        pass


# ---------------------------------------------------------------- comparison (trusted side)


@dataclass(frozen=True)
class GraphFinding:
    """The first thing wrong in a student's graph, and the method that caused it."""

    node: str
    blame: str
    message: str
    culprit: str | None = None  # the node whose own backward is wrong, when one is


def topological(expected: Mapping[str, Any]) -> list[str]:
    """Node names of the expected graph, children before parents."""
    kids = {n["name"]: [k for k in n["children"] if k != UNNAMED] for n in expected["nodes"]}
    order: list[str] = []
    seen: set[str] = set()

    def visit(name: str) -> None:
        if name in seen or name not in kids:
            return
        seen.add(name)
        for kid in kids[name]:
            visit(kid)
        order.append(name)

    for name in kids:
        visit(name)
    return order


def compare_graph(
    expected: Mapping[str, Any], actual: Any, output: str, tol: tuple[float, float] = DEFAULT_TOL
) -> GraphFinding | None:
    """The first node (forward, then backward) where ``actual`` differs from ``expected``."""
    got = _index(actual)
    want = {n["name"]: n for n in expected["nodes"]}
    order = topological(expected)
    for name in order:
        finding = _forward_finding(want[name], got.get(name), tol)
        if finding:
            return finding
    for name in reversed(order):
        finding = _gradient_finding(name, want, got, output, tol)
        if finding:
            return finding
    return None


def _index(actual: Any) -> dict[str, Any]:
    nodes = actual.get("nodes") if type(actual) is dict else None
    if type(nodes) is not list:
        return {}
    return {n["name"]: n for n in nodes if type(n) is dict and type(n.get("name")) is str}


def _forward_finding(
    want: Mapping[str, Any], got: Any, tol: tuple[float, float]
) -> GraphFinding | None:
    name, method = want["name"], method_for_op(want["op"])
    if got is None:
        return GraphFinding(name, method, f"node {name} was not recorded")
    if not want["children"]:
        return None  # a leaf's value is whatever the test gave it
    mismatch = compare(want["data"], got.get("data"), tol)
    if mismatch:
        return GraphFinding(
            name,
            method,
            f"the forward value of node {name} "
            f"({_formula(want)}) should be {describe(want['data'])}, got "
            f"{describe(got.get('data'))}",
        )
    # Labels and children are judged where they are owned (step 1's checks observe them
    # as values): here a derived operator built as its own node ('-') is as good as one
    # built from the primitives ('+' of a negation).
    return None


def _gradient_finding(
    name: str,
    want: Mapping[str, Any],
    got: Mapping[str, Any],
    output: str,
    tol: tuple[float, float],
) -> GraphFinding | None:
    mismatch = compare(want[name]["grad"], got[name].get("grad"), tol)
    if mismatch is None:
        return None
    grads = (
        f"expected {name}.grad = {describe(want[name]['grad'])}, "
        f"got {describe(got[name].get('grad'))}"
    )
    if name == output:
        return GraphFinding(
            name,
            "Value.backward",
            f"the output's own gradient is wrong ({grads}): backward() must "
            "start by setting self.grad = 1",
        )
    consumers = [n for n in want.values() if name in n["children"]]
    for consumer in consumers:
        finding = _probe_finding(consumer, name, got.get(consumer["name"]), tol)
        if finding:
            return GraphFinding(name, finding[0], f"{grads}. {finding[1]}", consumer["name"])
    return GraphFinding(
        name,
        "Value.backward",
        (
            f"{grads}. Every operator's own backward gives the right local gradient, so the "
            f"contributions are not all arriving: node {name} is used by "
            f"{', '.join(c['name'] for c in consumers)}. Check that each _backward adds to the "
            "gradient (+=) rather than overwriting it, and that backward() calls _backward on "
            "every node once, in reverse topological order."
        ),
    )


def _probe_finding(
    consumer: Mapping[str, Any], child: str, got: Any, tol: tuple[float, float]
) -> tuple[str, str] | None:
    method = method_for_op(consumer["op"]) + " (its _backward)"
    formula = _formula(consumer)
    probe = got.get("probe") if type(got) is dict else None
    if type(probe) is not dict:
        return method, f"The backward of node {consumer['name']} ({formula}) was not recorded."
    if "error" in probe:
        return method, (
            f"Calling the backward of node {consumer['name']} ({formula}) raised "
            f"{describe(probe['error'])}."
        )
    want = consumer["probe"]["grads"].get(child)
    have = probe.get("grads", {}).get(child) if type(probe.get("grads")) is dict else None
    mismatch: Mismatch | None = compare(want, have, tol)
    if mismatch is None:
        return None
    return method, (
        f"The backward of node {consumer['name']} ({formula}) alone, with "
        f"{consumer['name']}.grad = {PROBE_GRAD} and every other grad at 0, gives "
        f"{child}.grad = {describe(have)}; the chain rule gives {describe(want)}."
    )


def _formula(node: Mapping[str, Any]) -> str:
    kids = node["children"]
    op = node["op"] if type(node["op"]) is str else "?"
    if op in ("+", "*") and len(kids) == 2:
        return f"{kids[0]} {op} {kids[1]}"
    if op in ("+", "*") and len(kids) == 1:
        return f"{kids[0]} {op} {kids[0]}"
    if op.startswith("**") and kids:
        return f"{kids[0]}{op}"
    if kids:
        return f"{op}({kids[0]})"
    return "a leaf"
