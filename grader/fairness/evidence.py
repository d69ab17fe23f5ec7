"""What a check's differences are evidence about: contract items, with a sentence each.

Everything the reference observed carries the item it is evidence about (the trusted run's
records, never the student's). A difference is pinned on an item, lowest first:

1. a value whose graph was recorded (``observe.node``) and a graph (``observe.graph``):
   the audit of their nodes names the operators at fault, and the traversal;
2. a value observed next to its definition in the student's own parts (``same_as``) and
   equal to it: whatever explains that definition explains it;
3. otherwise the observation's own item (for a graph whose every node audits right: its
   ``forward`` item when a value differs, else its ``item``).

An exception is evidence about the method it names or happened in (a missing method, a
``TypeError`` that is the textbook sign of a missing reflected operator, the student's
innermost frame), else about the item the check was on; so are a hang and a crash.
Evidence decides where a fault is charged and what the pointer names; it never excuses a check by
itself: everything here was reported by the sandbox, and an audit can be forged. Only a
counterfactual run, judged against the reference's values, excuses (decide.py).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from grader.fairness.audit import AuditResult, audit
from grader.fairness.contract import ITEMS
from grader.harness.compare import compare
from grader.harness.encode import describe
from grader.trusted import ReferenceRun
from grader.wire import CheckRun

_NO_ATTRIBUTE = re.compile(r"^'(Value|Neuron|Layer|MLP)' object has no attribute '(\w+)'")
_NOT_CALLABLE = re.compile(r"^'(Neuron|Layer|MLP)' object is not callable")
_CALLED = re.compile(r"^(Value|Neuron|Layer|MLP)\.(\w+)\(\) (?:got|takes|missing)")
_OPERAND = re.compile(
    r"unsupported operand type\(s\) for ([-+*/]|\*\* or pow\(\)): "
    r"'(\w+)' and '(\w+)'"
)
_REFLECTED = {"+": "__radd__", "-": "__rsub__", "*": "__rmul__", "/": "__rtruediv__"}
_DIRECT = {
    "+": "Value.__add__:number",
    "-": "Value.__sub__",
    "*": "Value.__mul__:number",
    "/": "Value.__truediv__",
    "** or pow()": "Value.__pow__:forward",
}
_ATTRIBUTE_ITEMS = {
    "prev": "Value:children",
    "_prev": "Value:children",
    "_op": "Value:label",
    "data": "Value.__init__",
    "grad": "Value.__init__",
    "_backward": "Value.__init__",
}
TRAVERSAL = {"seed": "Value.backward:seed", "topo": "Value.topo_sort"}


@dataclass(frozen=True)
class Fault:
    item: str  # a contract item, or "" when nothing names one
    message: str
    rank: int = 5  # lower is lower down: forward before backward before traversal
    graph: str = ""  # the recorded graph it was found in, if any
    node: str = ""  # the named node of that graph whose own behaviour is wrong, if any
    missing: bool = False  # the method is not implemented yet (a stub raised)


@dataclass
class Evidence:
    faults: list[Fault] = field(default_factory=list)
    differs: bool = False  # something differed from the reference, raised, hung or died

    def add(
        self,
        item: str,
        message: str,
        rank: int = 5,
        graph: str = "",
        node: str = "",
        missing: bool = False,
    ) -> None:
        self.faults.append(Fault(item, message, rank, graph, node, missing))
        self.differs = True

    def items(self) -> set[str]:
        return {f.item for f in self.faults}


def gather(run: CheckRun, reference: ReferenceRun | None) -> Evidence:
    """The evidence of one check, from the sandbox's claims and the reference's records."""
    evidence = Evidence()
    if run.unreadable:
        evidence.add(
            "",
            f"your code's run sent {run.unreadable_count} record(s) the grader cannot read "
            f"({run.unreadable[0]}), so this check cannot be judged",
        )
    if run.state in ("timeout", "crashed"):
        current = run.current_item or ""
        item = _method_item(run.stuck_in, current, run.stuck_phase) if run.stuck_in else current
        evidence.add(item, run.message)
        return evidence
    if run.end is None:
        return evidence
    error = run.end.get("error")
    stopped = isinstance(error, dict)
    if isinstance(error, dict):
        item, message = error_item(error, run.current_item)
        evidence.add(item, message, rank=1, missing=type(error.get("not_implemented")) is str)
    if reference is None or reference.missing_given or reference.replay_error:
        evidence.add(
            run.current_item or "",
            "what your code's run recorded could not be replayed by the grader",
        )
        return evidence
    _observations(run, reference, evidence, stopped)
    return evidence


def _observations(
    run: CheckRun, reference: ReferenceRun, evidence: Evidence, stopped: bool
) -> None:
    got = {o["name"]: o for o in run.observations}
    want = {r["name"]: r for r in reference.records}
    for record in reference.records:
        role, item = record["role"], _item(record)
        if stopped and role in ("value", "graph", "expect") and record["name"] not in got:
            # Not reached: the exception (already evidence) explains it, and says nothing
            # about this observation's item.
            continue
        if role == "expect" and not record["ok"]:
            evidence.add(item, str(record.get("message", "")), rank=4)
        elif role == "value":
            _value(record, got, want, evidence)
        elif role == "graph":
            _graph(record, got.get(record["name"]), evidence)


def _item(record: dict[str, Any]) -> str:
    item = record.get("item")
    return item if type(item) is str else ""


def _tol(record: dict[str, Any]) -> tuple[float, float]:
    return float(record["tol"][0]), float(record["tol"][1])


def _value(
    record: dict[str, Any], got: dict[str, Any], want: dict[str, Any], evidence: Evidence
) -> None:
    name = record["name"]
    have = got.get(name)
    if have is None or have.get("role") != "value":
        evidence.add(_item(record), f"your code's run did not record {name!r}", rank=4)
        return
    mismatch = compare(record["value"], have.get("value"), _tol(record))
    if mismatch is None:
        return
    sentence = mismatch.sentence(name)
    for fault in _explain(record, got, want, set()):
        evidence.add(
            fault.item,
            f"{sentence}. {fault.message}" if fault.message else sentence,
            fault.rank,
        )


def _explain(
    record: dict[str, Any], got: dict[str, Any], want: dict[str, Any], seen: set[str]
) -> list[Fault]:
    """The items a differing value is evidence about."""
    have = got.get(record["name"], {})
    target = record.get("same_as")
    if type(target) is str and target in want and target in got and target not in seen:
        agree = compare(got[target].get("value"), have.get("value"), _tol(record)) is None
        if agree:
            # Equal to its own definition: whatever explains the definition explains it.
            seen.add(record["name"])
            return _explain(want[target], got, want, seen)
    if "audit" in have:
        found = audit(have["audit"], backward=False)
        if found.faults:
            return [Fault(f.item, f.message, 1) for f in found.faults]
    return [Fault(_item(record), "", 3)]


def _graph(record: dict[str, Any], have: dict[str, Any] | None, evidence: Evidence) -> None:
    name = record["name"]
    if have is None or have.get("role") != "graph" or type(have.get("value")) is not dict:
        evidence.add(_item(record), f"your code's run did not record {name!r}", rank=4)
        return
    backward = record.get("traversal") is not None
    found = audit(have["value"].get("audit"), backward)
    difference = _first_difference(record["value"], have["value"], _tol(record))
    pinned = _audit_faults(record, found)
    if difference is None and not pinned:
        return
    if difference is None:
        # Nothing differs here, but an operator was shown wrong on its own: that counts only
        # against the items this graph is about (see decide.py), never as a difference.
        evidence.faults.extend(
            Fault(item, f"{name}: {message}", rank, name, node)
            for item, message, rank, node in pinned
        )
        return
    sentence = f"{name}: {difference[1]}"
    if pinned:
        for item, message, rank, node in pinned:
            evidence.add(item, f"{sentence}. {message}", rank, name, node)
        return
    fallback = record.get("forward") if difference[0] == "data" and found.complete else None
    fallback = fallback if type(fallback) is str else _item(record)
    evidence.add(fallback, sentence, 3)


def _audit_faults(record: dict[str, Any], found: AuditResult) -> list[tuple[str, str, int, str]]:
    """(item, sentence, rank, named node or "") for each fault the audit found."""
    pinned = [
        (
            f.item,
            f.message,
            1 if f.item.endswith(":forward") else 2,
            f.name if f.name and not f.name.startswith("#") else "",
        )
        for f in found.faults
    ]
    if found.children_missing:
        pinned.append(
            (
                "Value:children",
                "its nodes keep their children in neither prev nor "
                "_prev, so the grader cannot follow the graph",
                1,
                "",
            )
        )
    if found.traversal is not None:
        walked = record.get("traversal")
        item = (
            walked
            if walked == "Value.topo_sort"
            else TRAVERSAL.get(
                found.traversal, walked if type(walked) is str else "Value.backward:order"
            )
        )
        pinned.append((item, _TRAVERSAL_WORDS[found.traversal], 3, ""))
    return pinned


_TRAVERSAL_WORDS = {
    "seed": "backward() must start by setting the output's own gradient to 1",
    "order": (
        "every operator's own backward is right, but the gradients did not all arrive: "
        "each node's _backward must run once, after every node that uses it"
    ),
    "topo": (
        "backward() walked the list topo_sort() returned, and that list is not a valid "
        "order: every node once, after all of its children"
    ),
}


def _first_difference(
    expected: Any, actual: Any, tol: tuple[float, float]
) -> tuple[str, str] | None:
    """("data" or "grad", a sentence) for the first named node that differs."""
    want, have = _named_nodes(expected), _named_nodes(actual)
    for field_name in ("data", "grad"):
        for name, node in want.items():
            if not node.get("children") and field_name == "data":
                continue  # a leaf's value is whatever the test gave it
            mine = have.get(name, {}).get(field_name)
            if compare(node.get(field_name), mine, tol) is not None:
                return field_name, (
                    f"expected {name}.{field_name} = "
                    f"{describe(node.get(field_name))}, got {describe(mine)}"
                )
    return None


def _named_nodes(graph: Any) -> dict[str, dict[str, Any]]:
    """A recorded graph's named nodes (the sandbox's copy may be any shape: what is not a
    named node is left out, so it reads as missing)."""
    nodes = graph.get("nodes") if type(graph) is dict else None
    if type(nodes) is not list:
        return {}
    return {n["name"]: n for n in nodes if type(n) is dict and type(n.get("name")) is str}


def error_item(error: dict[str, Any], current: str | None) -> tuple[str, str]:
    """The item an exception is evidence about, and how to say what happened."""
    kind, message = str(error.get("type")), str(error.get("message"))
    current = current or (error.get("item") if type(error.get("item")) is str else None) or ""
    said = f"{kind}: {message}"
    if kind == "OSError" and ("[Errno 27]" in message or "[Errno 28]" in message):
        said += " (the sandbox caps how much a check may print or write to files)"
    guarded = error.get("guarded")
    if type(guarded) is str:
        method, _, phase = guarded.partition(" ")
        why = error.get("guarded_why")  # set by the runner, never by the sandbox
        why = why if type(why) is str else "did not return in time, or crashed, in an earlier check"
        return _method_item(method, current, phase or None), (
            f"{guarded} {why}, so it was not run again here"
        )
    missing = error.get("not_implemented")
    if type(missing) is str:
        return _method_item(
            missing.replace(" backward", ""),
            current,
            "backward" if missing.endswith(" backward") else None,
        ), (f"{missing} is not implemented yet")
    for found in (_attribute(kind, message), _operand(kind, message)):
        if found:
            return found, said
    calling = _NOT_CALLABLE.match(message)
    if kind == "TypeError" and calling:
        return f"{calling.group(1)}.__call__", said
    called = _CALLED.match(message)
    if kind == "TypeError" and called:
        # A method called with the contract's arguments that does not take them
        # (``Layer.__init__() got an unexpected keyword argument 'nonlin'``).
        method = f"{called.group(1)}.{called.group(2)}"
        keyword = "nonlin" if "'nonlin'" in message else None
        return _method_item(method, current, keyword), said
    placed, placed_phase = error.get("method"), error.get("phase")  # the runner's, from the source
    if type(placed) is str:
        return _method_item(
            placed, current, placed_phase if type(placed_phase) is str else None
        ), said
    frames = [f for f in error.get("frames", []) if type(f) is dict]
    if frames:
        return _frame_item(str(frames[-1].get("function", "")), current), said
    return current, said


def _attribute(kind: str, message: str) -> str | None:
    match = _NO_ATTRIBUTE.match(message)
    if kind != "AttributeError" or not match:
        return None
    cls, name = match.groups()
    if cls == "Value" and name in _ATTRIBUTE_ITEMS:
        return _ATTRIBUTE_ITEMS[name]
    return _method_item(f"{cls}.{name}", "", None)


def _operand(kind: str, message: str) -> str | None:
    match = _OPERAND.search(message)
    if kind != "TypeError" or not match:
        return "Value.__neg__" if "bad operand type for unary -: 'Value'" in message else None
    op, left, right = match.groups()
    if right == "Value" and left != "Value" and op in _REFLECTED:
        return f"Value.{_REFLECTED[op]}"
    if left == "Value":
        return _DIRECT.get(op)
    return None


def _frame_item(function: str, current: str) -> str:
    """``Value.__mul__.<locals>._backward`` -> ``Value.__mul__:backward``."""
    parts = function.split(".")
    if len(parts) >= 2 and parts[0] in ("Value", "Neuron", "Layer", "MLP"):
        method = f"{parts[0]}.{parts[1]}"
        phase = "backward" if parts[-1] == "_backward" else None
        return _method_item(method, current, phase)
    return current


def _method_item(method: str, current: str, phase: str | None) -> str:
    """The item of ``method`` (and ``phase``): the one the check was on if it is that
    method's, else the method's forward item, else its only item."""
    if phase is not None and f"{method}:{phase}" in ITEMS:
        return f"{method}:{phase}"
    if current in ITEMS and ITEMS[current].method == method:
        return current
    for candidate in (f"{method}:forward", method):
        if candidate in ITEMS:
            return candidate
    # A method with phases of its own only (Value.backward: its order, then its seed).
    return next((item.id for item in ITEMS.values() if item.method == method), current)
