"""The ``observe`` fixture: what a staged test hands over instead of asserting.

A staged test computes something with the implementation under test and passes what it saw
to ``observe``. The same test function runs in three places, and ``Observer`` behaves
differently in each (``Mode``):

* ``RECORD`` -- inside the sandbox, next to the student's code: every observation is
  encoded and streamed out at once (so a later crash loses nothing). It judges nothing.
* ``REFERENCE`` -- in the grader's trusted process, next to the reference solution, with the
  same seed: the observations become the expected values. ``given`` returns what the
  student's run recorded, so a test can replay the student's own data through the
  reference, and ``expect`` states a property that the trusted side evaluates.
* ``KEY`` -- at home with plain ``pytest``: observations are checked against an answer key
  of the reference's observations for public seeds, and ``expect`` asserts directly.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping
from typing import Any

from . import graph as graphs
from .compare import DEFAULT_TOL, compare
from .encode import describe, encode


class Mode(enum.Enum):
    RECORD = "record"
    REFERENCE = "reference"
    KEY = "key"


class MissingGiven(Exception):
    """The reference run needs a value the student's run never recorded."""


class HarnessError(Exception):
    """A staged test misused ``observe`` (a bug in the exercise, not in the submission)."""


Sink = Callable[[dict[str, Any]], None]


class Observer:
    """Collects the observations of one check; see the module docstring for the modes."""

    def __init__(
        self,
        check: str,
        mode: Mode,
        sink: Sink | None = None,
        givens: Mapping[str, Any] | None = None,
        key: list[dict[str, Any]] | None = None,
        own_givens: bool = False,
    ) -> None:
        self.check = check
        self.mode = mode
        # A reference run that builds an answer key replays its own data: its expectations
        # then hold trivially, and a student at home checks them against their own data.
        self._own_givens = own_givens
        self.records: list[dict[str, Any]] = []
        self._sink = sink
        self._givens = givens or {}
        self._key = {r["name"]: r for r in (key or [])}
        self._names: set[str] = set()
        self._item: str | None = None
        self._items = 0

    # -- the API staged tests use ------------------------------------------------------------

    @property
    def replaying(self) -> bool:
        """True in the trusted run that replays the student's reported (``given``) data: a
        test then puts that data where the student's code had it, and only there."""
        return self.mode is Mode.REFERENCE and not self._own_givens

    @property
    def current_item(self) -> str | None:
        """The item the code now running is evidence about (an exception counts against it)."""
        return self._item

    def item(self, item: str) -> None:
        """The contract item the observations that follow are evidence about, such as
        ``Value.__mul__:forward`` (the grader's list: grader/fairness/contract.py). It is
        recorded too: a check that hangs or dies is charged to the item it was on."""
        self._item = item
        self._items += 1
        self._emit({"role": "item", "name": f"#item {self._items}", "value": item})

    def __call__(
        self,
        name: str,
        value: Any,
        *,
        tol: tuple[float, float] | None = None,
        item: str | None = None,
        same_as: str | None = None,
        plot: str | None = None,
        replayed: bool = False,
    ) -> None:
        """Record ``value``; the reference's value for the same name is what it must match.

        ``replayed``: the value is computed from data the student's run reported (``given``),
        so the reference's value depends on that run: an answer key cannot hold it, and the
        check at home skips it.

        ``same_as`` names an earlier observation of this check that, in working code, holds
        the same value by definition (``a - b`` and ``a + (-b)``): when both differ from the
        reference and agree with each other, this one is explained by that one's item.
        ``plot`` names a chart the report should draw from this series (e.g. ``"loss"``).
        """
        record = {
            "role": "value",
            "name": name,
            "value": encode(value),
            "tol": list(tol or DEFAULT_TOL),
            "item": item or self._item,
        }
        if same_as:
            record["same_as"] = same_as
        if plot:
            record["plot"] = plot
        if replayed:
            record["replayed"] = True
        self._emit(record)

    def node(
        self,
        name: str,
        node: Any,
        *,
        tol: tuple[float, float] | None = None,
        item: str | None = None,
        same_as: str | None = None,
    ) -> None:
        """Record a Value's ``data`` like ``__call__``, with the graph that computed it
        (forward only): when the value is wrong, the grader audits that graph's nodes to
        find the operator at fault before charging ``item``."""
        try:
            data = node.data
        except Exception:  # noqa: BLE001 - a student's property may raise anything
            data = "<missing>"
        record = {
            "role": "value",
            "name": name,
            "value": encode(data),
            "tol": list(tol or DEFAULT_TOL),
            "item": item or self._item,
            "audit": graphs.audit_capture(node, {}, probes=False),
        }
        if same_as:
            record["same_as"] = same_as
        self._emit(record)

    def given(self, name: str, value: Any) -> Any:
        """Record data from the code under test that the trusted run should reuse.

        Returns ``value`` itself, except in the reference run, where it returns what the
        student's run recorded under ``name`` (encoded: plain lists, numbers and strings).
        Bind what is given: read it through the contract's attributes, never write it back,
        and observe afterwards what the same objects compute from it.
        """
        encoded = encode(value)
        self._emit({"role": "given", "name": name, "value": encoded, "item": self._item})
        if self.mode is not Mode.REFERENCE or self._own_givens:
            return value
        if name not in self._givens:
            raise MissingGiven(name)
        return self._givens[name]

    def expect(self, name: str, ok: bool, message: str, *, item: str | None = None) -> None:
        """A property that must hold; judged by the trusted run (or at home, directly)."""
        self._emit(
            {
                "role": "expect",
                "name": name,
                "ok": bool(ok),
                "message": message,
                "item": item or self._item,
            }
        )

    def input(self, name: str, value: Any) -> None:
        """Show ``value`` in the feedback as one of the inputs of this check."""
        if self.mode is Mode.REFERENCE:
            self.records.append({"role": "input", "name": name, "value": encode(value)})

    def graph(
        self,
        name: str,
        nodes: Mapping[str, Any],
        *,
        output: str,
        tol: tuple[float, float] | None = None,
        item: str | None = None,
        traversal: str | None = "Value.backward:order",
        forward: str | None = None,
    ) -> None:
        """Record a computation graph (after ``backward()``, or forward only) for audit.

        Every node reachable from ``output`` is recorded with its value, gradient, label and
        children, and each node's own ``_backward`` is probed alone (see ``graph.capture``):
        the grader then knows which operator, if any, is wrong. ``item``: what a difference
        that no operator explains counts against; ``traversal``: the item charged when the
        operators are right but the gradients did not arrive as they should, or None for a
        graph judged forward only (no ``backward()`` was called). ``forward``: the item a
        graph built wrong counts against when every operator in it is right (a derived
        operator composed the wrong way).
        """
        if output not in nodes:
            raise HarnessError(f"graph {name!r}: output {output!r} is not one of the nodes")
        self._emit(
            {
                "role": "graph",
                "name": name,
                "value": graphs.capture(nodes, output, probes=traversal is not None),
                "output": output,
                "tol": list(tol or DEFAULT_TOL),
                "item": item or self._item,
                "traversal": traversal,
                "forward": forward,
            }
        )

    def topo(self, name: str, order: Any, nodes: Mapping[str, Any], *, output: str) -> None:
        """Check a topological order: each node once, after its children, ``output`` last."""
        ids = {id(node): label for label, node in nodes.items()}
        try:
            seen = [ids.get(id(item), graphs.UNNAMED) for item in order]
        except TypeError:
            seen = []
            self.expect(
                name,
                False,
                f"topo_sort() returned {describe(encode(order))}, not a list of nodes",
                item="Value.topo_sort",
            )
            return
        seen = self.given(name, seen)
        structure = {label: graphs.children_of(node) for label, node in nodes.items()}
        edges = {
            label: [ids[id(k)] for k in kids if id(k) in ids] for label, kids in structure.items()
        }
        problem = topo_problem(seen, edges, output)
        self.expect(
            f"{name} is a valid order", problem is None, problem or "", item="Value.topo_sort"
        )

    # -- plumbing ----------------------------------------------------------------------------

    def _emit(self, record: dict[str, Any]) -> None:
        name = record["name"]
        if type(name) is not str or name in self._names:
            raise HarnessError(f"observation name {name!r} is not unique in {self.check}")
        self._names.add(name)
        if self.mode is Mode.RECORD and self._sink is not None:
            self._sink(record)
        elif self.mode is Mode.REFERENCE:
            self.records.append(record)
        elif self.mode is Mode.KEY:
            self._check_against_key(record)

    def _check_against_key(self, record: dict[str, Any]) -> None:
        role = record["role"]
        if role == "item":
            return
        if role == "expect":
            assert record["ok"], record["message"]
            return
        if role == "given" or record.get("replayed"):
            return  # what depends on the student's own data is judged at grading only
        want = self._key.get(record["name"])
        if want is None:
            raise AssertionError(f"no answer-key entry for {record['name']!r}: is the key stale?")
        if role == "graph":
            finding = graphs.compare_graph(
                want["value"], record["value"], record["output"], (want["tol"][0], want["tol"][1])
            )
            assert finding is None, f"{finding.message} [{finding.blame}]" if finding else ""
            return
        mismatch = compare(want["value"], record["value"], (want["tol"][0], want["tol"][1]))
        assert mismatch is None, mismatch.sentence(record["name"]) if mismatch else ""


def topo_problem(order: list[Any], edges: Mapping[str, list[str]], output: str) -> str | None:
    """Why ``order`` (node names) is not a valid topological order of ``edges``, or None."""
    if type(order) is not list or any(type(item) is not str for item in order):
        return "topo_sort() must return a list of the graph's nodes"
    if graphs.UNNAMED in order:
        return "topo_sort() returned something that is not a node of this graph"
    position: dict[str, int] = {}
    for index, label in enumerate(order):
        if label in position:
            return f"node {label} appears twice in topo_sort()'s list"
        position[label] = index
    missing = [label for label in edges if label not in position]
    if missing:
        return f"topo_sort() left out node(s) {', '.join(sorted(missing))}"
    if order[-1] != output:
        return f"the node topo_sort() is called on ({output}) must come last, got {order[-1]}"
    for parent, kids in edges.items():
        for kid in kids:
            if position[kid] > position[parent]:
                return f"node {parent} comes before its child {kid}: children must come first"
    return None
