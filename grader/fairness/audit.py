"""A graph's nodes checked one by one against the operators their labels name.

The sandbox records every node reachable from an observed output (``graph.audit_capture``):
its value, gradient, label and children, and what its own ``_backward`` gives its children
when called alone (``local``: children's grads at 0; ``acc``: children's grads at a base
value first). Here, on the host, each node whose label is one of the contract's (``+``,
``*``, ``**n``, ``tanh``, ``ReLU``) is replayed on the student's own child values:

- a forward value that differs is evidence about that operator's forward item;
- a local derivative that differs, or a backward that overwrites instead of adding, is
  evidence about its backward item;
- then the gradients are propagated again over the student's own graph with the student's
  own local derivatives. When they do not come out as the student's ``backward()`` left
  them, the traversal is at fault: the seed (``Value.backward:seed``), the order, or, when
  ``backward()`` agrees with walking the student's own ``topo_sort()``, ``topo_sort``.

Everything read here came from the sandbox: any malformed part makes that node (or the
traversal) unauditable, never an exception.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from grader.harness.compare import DEFAULT_TOL
from grader.harness.encode import describe
from grader.harness.graph import PROBE_BASE, PROBE_GRAD

_POWER = re.compile(r"^\*\*(-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?)$")
OPERATORS = {"+": "Value.__add__", "*": "Value.__mul__", "tanh": "Value.tanh", "ReLU": "Value.relu"}


@dataclass(frozen=True)
class NodeFault:
    """One node whose own behaviour differs from its operator's."""

    index: int
    name: str | None
    item: str
    message: str


@dataclass
class AuditResult:
    faults: list[NodeFault] = field(default_factory=list)
    traversal: str | None = None  # "seed", "order" or "topo" when the traversal is at fault
    complete: bool = True  # every node with children was auditable
    children_missing: bool = False  # the output has neither prev nor _prev


def audit(captured: Any, backward: bool) -> AuditResult:
    """Audit one captured graph; ``backward``: also its local derivatives and traversal."""
    result = AuditResult()
    if type(captured) is not dict or type(captured.get("nodes")) is not list:
        result.complete = False
        return result
    nodes = [_node(raw) for raw in captured["nodes"]]
    named = captured.get("names")
    named = named if type(named) is dict else {}
    names = {i: n for n, i in named.items() if type(i) is int and type(n) is str}
    result.children_missing = captured.get("children_attribute") is None
    if captured.get("truncated") is True or result.children_missing:
        result.complete = False
    for index, node in enumerate(nodes):
        _audit_node(index, node, nodes, captured, names, backward, result)
    if backward and not any(f.item.endswith(":backward") for f in result.faults):
        result.traversal = _traversal(nodes, captured)
    return result


@dataclass(frozen=True)
class _Node:
    data: float | None
    grad: float | None
    op: str | None
    children: tuple[int, ...]


def _node(raw: Any) -> _Node:
    if type(raw) is not list or len(raw) != 4:
        return _Node(None, None, None, ())
    data, grad, op, kids = raw
    children = tuple(k for k in kids if type(k) is int) if type(kids) is list else ()
    return _Node(_number(data), _number(grad), op if type(op) is str else None, children)


def _number(value: Any) -> float | None:
    if type(value) in (int, float) and type(value) is not bool:
        number = float(value)
        return number if math.isfinite(number) else None
    return None


def _operator(op: str | None) -> tuple[str, float | None] | None:
    """(method, exponent) for a contract label, or None."""
    if op is None:
        return None
    if op in OPERATORS:
        return OPERATORS[op], None
    match = _POWER.match(op)
    return ("Value.__pow__", float(match.group(1))) if match else None


def _audit_node(
    index: int,
    node: _Node,
    nodes: list[_Node],
    captured: dict[str, Any],
    names: dict[int, str],
    backward: bool,
    result: AuditResult,
) -> None:
    if not node.children:
        return
    name = names.get(index)
    known = _operator(node.op)
    kids = [nodes[k] if 0 <= k < len(nodes) else None for k in node.children]
    if known is None or any(k is None or k.data is None for k in kids):
        result.complete = False
        return
    method, exponent = known
    values = [k.data for k in kids if k is not None and k.data is not None]
    expected = _forward(node.op or "", exponent, values)
    if expected is None or not _arity_ok(node.op or "", len(values)):
        result.complete = False
        return
    label = name or f"#{index}"
    if node.data is None or not _close(expected, node.data):
        result.faults.append(
            NodeFault(
                index,
                name,
                f"{method}:forward",
                (
                    f"node {label} ({_formula(node.op or '', values)}) should hold "
                    f"{describe(expected)}, holds {describe(node.data)}"
                ),
            )
        )
    if backward:
        kid_labels = [names.get(k) or f"#{k}" for k in node.children]
        _audit_backward(index, label, kid_labels, method, node, values, exponent, captured, result)


def _arity_ok(op: str, count: int) -> bool:
    return count in (1, 2) if op in ("+", "*") else count == 1


def _forward(op: str, exponent: float | None, values: list[float]) -> float | None:
    try:
        if op == "+":
            return values[0] + values[-1]  # one child: x + x
        if op == "*":
            return values[0] * values[-1]
        if op == "tanh":
            return math.tanh(values[0])
        if op == "ReLU":
            return values[0] if values[0] > 0 else 0.0
        if exponent is not None:
            out = values[0] ** exponent
            return float(out) if type(out) in (int, float) and math.isfinite(out) else None
    except (OverflowError, ZeroDivisionError, ValueError):
        return None
    return None


def _local(op: str, exponent: float | None, values: list[float]) -> list[float] | None:
    """d node / d child, child by child (a child used twice gets both contributions)."""
    try:
        if op == "+":
            return [2.0] if len(values) == 1 else [1.0, 1.0]
        if op == "*":
            return [2 * values[0]] if len(values) == 1 else [values[1], values[0]]
        if op == "tanh":
            return [1 - math.tanh(values[0]) ** 2]
        if op == "ReLU":
            return [1.0 if values[0] > 0 else 0.0]
        if exponent is not None:
            return [exponent * values[0] ** (exponent - 1)]
    except (OverflowError, ZeroDivisionError, ValueError, TypeError):
        return None
    return None


def _audit_backward(
    index: int,
    label: str,
    kid_labels: list[str],
    method: str,
    node: _Node,
    values: list[float],
    exponent: float | None,
    captured: dict[str, Any],
    result: AuditResult,
) -> None:
    local = _local(node.op or "", exponent, values)
    got = _probe(captured.get("local"), index, len(values))
    after = _probe(captured.get("acc"), index, len(values))
    if local is None or got is None or after is None:
        if isinstance(_raw(captured.get("local"), index), dict):
            error = _raw(captured.get("local"), index).get("error")
            result.faults.append(
                NodeFault(
                    index,
                    label,
                    f"{method}:backward",
                    (f"calling the backward of node {label} on its own raised {describe(error)}"),
                )
            )
        else:
            result.complete = False
        return
    formula = _formula(node.op or "", values)
    for position, (want, have, then) in enumerate(zip(local, got, after, strict=True)):
        want_grad = want * PROBE_GRAD
        if not _close(want_grad, have):
            result.faults.append(
                NodeFault(
                    index,
                    label,
                    f"{method}:backward",
                    (
                        f"the backward of node {label} ({formula}) alone, with {label}.grad = "
                        f"{PROBE_GRAD}, gives its child {kid_labels[position]} "
                        f"{describe(have)}; the chain rule gives {describe(want_grad)}"
                    ),
                )
            )
            return
        if not _close(PROBE_BASE + want_grad, then):
            result.faults.append(
                NodeFault(
                    index,
                    label,
                    f"{method}:backward",
                    (
                        f"the backward of node {label} ({formula}) overwrites its child's gradient "
                        f"instead of adding to it: a child whose grad was {PROBE_BASE} ends with "
                        f"{describe(then)}, not {describe(PROBE_BASE + want_grad)} (use +=)"
                    ),
                )
            )
            return


def _raw(table: Any, index: int) -> Any:
    return table.get(str(index)) if type(table) is dict else None


def _probe(table: Any, index: int, count: int) -> list[float] | None:
    raw = _raw(table, index)
    if type(raw) is not list or len(raw) != count:
        return None
    numbers = [_number(v) for v in raw]
    return None if any(n is None for n in numbers) else [n for n in numbers if n is not None]


def _traversal(nodes: list[_Node], captured: dict[str, Any]) -> str | None:
    """Which part of the traversal is at fault, if the gradients did not arrive right."""
    local = captured.get("local")
    order = _topological(nodes)
    grads = [n.grad for n in nodes]
    if order is None or any(g is None for g in grads) or not nodes:
        return None
    if not _close(1.0, grads[0] or 0.0):  # the output is node 0
        return "seed"
    replay = _replay(nodes, local, reversed(order))
    if replay is None or all(_close(r, g or 0.0) for r, g in zip(replay, grads, strict=True)):
        return None
    topo = captured.get("topo")
    if type(topo) is list and all(type(i) is int for i in topo):
        walked = _replay(nodes, local, (i for i in reversed(topo) if 0 <= i < len(nodes)))
        if walked is not None and all(
            _close(r, g or 0.0) for r, g in zip(walked, grads, strict=True)
        ):
            return "topo"
    return "order"


def _replay(nodes: list[_Node], local: Any, visits: Iterator[int]) -> list[float] | None:
    grads = [0.0] * len(nodes)
    grads[0] = 1.0
    for index in visits:
        node = nodes[index]
        if not node.children:
            continue
        derivatives = _probe(local, index, len(node.children))
        if derivatives is None:
            return None
        for child, probe in zip(node.children, derivatives, strict=True):
            if 0 <= child < len(nodes):
                grads[child] += probe / PROBE_GRAD * grads[index]
    return grads


def _topological(nodes: list[_Node]) -> list[int] | None:
    """Children before parents (an iterative depth-first search); None for a cycle."""
    state = [0] * len(nodes)  # 0 new, 1 on the stack, 2 done
    order: list[int] = []
    for start in range(len(nodes)):
        stack = [(start, iter(nodes[start].children))]
        if state[start]:
            continue
        state[start] = 1
        while stack:
            index, kids = stack[-1]
            child = next(kids, None)
            if child is None:
                stack.pop()
                state[index] = 2
                order.append(index)
            elif 0 <= child < len(nodes) and state[child] == 0:
                state[child] = 1
                stack.append((child, iter(nodes[child].children)))
            elif 0 <= child < len(nodes) and state[child] == 1:
                return None
    return order


def _close(want: float, have: float | None) -> bool:
    if have is None:
        return False
    rel, absolute = DEFAULT_TOL
    return want == have or math.isclose(want, have, rel_tol=rel, abs_tol=absolute)


def _formula(op: str, values: list[float]) -> str:
    shown = [f"{v:.6g}" for v in values]
    if op in ("+", "*"):
        return f"{shown[0]} {op} {shown[-1]}"
    if op.startswith("**"):
        return f"{shown[0]}{op}"
    return f"{op}({shown[0]})"
