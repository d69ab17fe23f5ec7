"""Graph capture and graph comparison (``harness.graph``), and ``observe.topo_problem``.

Each bug below is one realistic student mistake planted in a copy of the reference
``Value``; the comparison must name the method that holds it and the first node, in reverse
topological order, whose gradient (or, before that, forward value) is wrong.
"""

import itertools
import math
from pathlib import Path

import pytest

from grader.exercise import load_solution
from grader.harness.graph import (
    PROBE_GRAD,
    UNNAMED,
    GraphFinding,
    capture,
    children_of,
    compare_graph,
    method_for_op,
    topological,
)
from grader.harness.observe import topo_problem

REFERENCE = Path(__file__).resolve().parents[1] / "reference" / "step_5" / "micrograd"
LEAVES = {"a": 0.5, "b": -1.5, "c": 0.25}


@pytest.fixture(scope="module")
def Reference():
    return load_solution(REFERENCE).Value


# ------------------------------------------------------------------ a Value to break


class Good:
    """The reference's arithmetic, building nodes of ``type(self)`` so subclasses can break it."""

    def __init__(self, data, _children=(), _op=""):
        self.data = data
        self.grad = 0
        self._backward = lambda: None
        self.prev = set(_children)
        self._op = _op

    def _node(self, data, children, op):
        return type(self)(data, children, op)

    def __add__(self, other):
        out = self._node(self.data + other.data, (self, other), "+")

        def _backward():
            self.grad += out.grad
            other.grad += out.grad

        out._backward = _backward
        return out

    def __mul__(self, other):
        out = self._node(self.data * other.data, (self, other), self.MUL_LABEL)

        def _backward():
            self.grad += other.data * out.grad
            other.grad += self.data * out.grad

        out._backward = _backward
        return out

    MUL_LABEL = "*"

    def __pow__(self, n):
        out = self._node(self.data**n, (self,), f"**{n}")

        def _backward():
            self.grad += n * self.data ** (n - 1) * out.grad

        out._backward = _backward
        return out

    def tanh(self):
        t = math.tanh(self.data)
        out = self._node(t, (self,), "tanh")

        def _backward():
            self.grad += (1 - t**2) * out.grad

        out._backward = _backward
        return out

    def topo_sort(self):
        order, seen = [], set()

        def visit(node):
            if node not in seen:
                seen.add(node)
                for child in node.prev:
                    visit(child)
                order.append(node)

        visit(self)
        return order

    def backward(self):
        self.grad = 1
        for node in reversed(self.topo_sort()):
            node._backward()


class MulWrongOperand(Good):
    def __mul__(self, other):
        out = self._node(self.data * other.data, (self, other), "*")

        def _backward():  # each operand gets its *own* value: the classic mix-up
            self.grad += self.data * out.grad
            other.grad += other.data * out.grad

        out._backward = _backward
        return out


class AddOverwrites(Good):
    def __add__(self, other):
        out = self._node(self.data + other.data, (self, other), "+")

        def _backward():
            self.grad = out.grad
            other.grad = out.grad

        out._backward = _backward
        return out


class MulBackwardRaises(Good):
    def __mul__(self, other):
        out = self._node(self.data * other.data, (self, other), "*")

        def _backward():
            raise RuntimeError("not done yet")

        out._backward = _backward
        return out


class TanhWrongDerivative(Good):
    def tanh(self):
        t = math.tanh(self.data)
        out = self._node(t, (self,), "tanh")

        def _backward():
            self.grad += (1 - t) * out.grad

        out._backward = _backward
        return out


class PowWrongRule(Good):
    def __pow__(self, n):
        out = self._node(self.data**n, (self,), f"**{n}")

        def _backward():
            self.grad += (n * self.data) ** (n - 1) * out.grad

        out._backward = _backward
        return out


class NoSeed(Good):
    def backward(self):
        for node in reversed(self.topo_sort()):
            node._backward()


class ForwardOrder(Good):
    def backward(self):
        self.grad = 1
        for node in self.topo_sort():
            node._backward()


class MulAdds(Good):
    def __mul__(self, other):
        out = super().__mul__(other)
        out.data = self.data + other.data
        return out


class MulMislabelled(Good):
    MUL_LABEL = "x"


class MulForgetsOther(Good):
    def __mul__(self, other):
        out = super().__mul__(other)
        out.prev = {self}
        return out


def build_main(Value):
    """h = tanh((a*b + c) + (a*b + c)) * a) -- a feeds two operators, e feeds one twice."""
    v = {name: Value(data) for name, data in LEAVES.items()}
    v["d"] = v["a"] * v["b"]
    v["e"] = v["d"] + v["c"]
    v["f"] = v["e"] + v["e"]
    v["g"] = v["f"] * v["a"]
    v["h"] = v["g"].tanh()
    return v


def build_shared(Value):
    """d = a + (a + b): a reaches d along two paths, each through a different ``+``."""
    v = {"a": Value(0.5), "b": Value(-1.5)}
    v["c"] = v["a"] + v["b"]
    v["d"] = v["a"] + v["c"]
    return v


def build_power(Value):
    """d = a**3 * b"""
    v = {"a": Value(1.5), "b": Value(-0.5)}
    v["c"] = v["a"] ** 3
    v["d"] = v["c"] * v["b"]
    return v


def captured(Value, build, output, run_backward=True):
    nodes = build(Value)
    if run_backward:
        nodes[output].backward()
    return capture(nodes)


def finding(Reference, Broken, build, output):
    expected = captured(Reference, build, output)
    return compare_graph(expected, captured(Broken, build, output), output)


# ------------------------------------------------------------------ correct graphs


@pytest.mark.parametrize(
    ("build", "output"), [(build_main, "h"), (build_shared, "d"), (build_power, "d")]
)
def test_the_reference_agrees_with_itself(Reference, build, output):
    expected = captured(Reference, build, output)
    assert compare_graph(expected, captured(Reference, build, output), output) is None


@pytest.mark.parametrize(
    ("build", "output"), [(build_main, "h"), (build_shared, "d"), (build_power, "d")]
)
def test_a_correct_copy_of_the_reference_passes(Reference, build, output):
    assert finding(Reference, Good, build, output) is None


def test_capture_records_values_grads_labels_children_and_probes(Reference):
    graph = captured(Reference, build_main, "h")
    nodes = {n["name"]: n for n in graph["nodes"]}
    assert list(nodes) == ["a", "b", "c", "d", "e", "f", "g", "h"]
    assert nodes["g"]["data"] == pytest.approx(-0.5)
    assert nodes["h"]["grad"] == 1
    assert nodes["g"]["op"] == "*" and nodes["h"]["op"] == "tanh" and nodes["a"]["op"] == ""
    assert nodes["g"]["children"] == ["a", "f"]
    assert nodes["f"]["children"] == ["e"]  # e + e has one child
    assert "probe" not in nodes["a"]
    # g = f * a alone, with g.grad = 1.5: f gets a * 1.5 and a gets f * 1.5.
    assert nodes["g"]["probe"]["grads"] == {
        "f": pytest.approx(0.5 * PROBE_GRAD),
        "a": pytest.approx(-1.0 * PROBE_GRAD),
    }
    assert nodes["f"]["probe"]["grads"] == {"e": pytest.approx(2 * PROBE_GRAD)}


def test_capture_names_children_outside_the_named_nodes_as_unknown(Reference):
    a, b = Reference(2.0), Reference(3.0)
    out = a * b
    graph = capture({"a": a, "out": out})
    assert graph["nodes"][1]["children"] == [UNNAMED, "a"]
    assert set(graph["nodes"][1]["probe"]["grads"]) == {"a"}


def test_capture_restores_the_grads_it_probed(Reference):
    nodes = build_main(Reference)
    nodes["h"].backward()
    before = {name: node.grad for name, node in nodes.items()}
    assert any(grad not in (0, 1) for grad in before.values())
    capture(nodes)
    assert {name: node.grad for name, node in nodes.items()} == before


def test_capture_survives_nodes_that_refuse_attributes():
    class Locked:
        def __init__(self, kids=()):
            self.prev = kids

        def __getattr__(self, name):
            raise RuntimeError(f"no {name}")

        def __setattr__(self, name, value):
            if name != "prev":
                raise RuntimeError("read-only")
            object.__setattr__(self, name, value)

    leaf = Locked()
    graph = capture({"x": leaf, "y": Locked((leaf,))})
    y = graph["nodes"][1]
    assert (y["data"], y["grad"], y["op"], y["children"]) == (None, None, None, ["x"])
    assert y["probe"]["error"].startswith("RuntimeError: no _backward")


# ------------------------------------------------------------------------ the bugs


@pytest.mark.parametrize(
    ("Broken", "build", "output", "node", "blame", "says"),
    [
        (
            MulWrongOperand,
            build_main,
            "h",
            "f",
            "Value.__mul__ (its _backward)",
            "The backward of node g (a * f) alone",
        ),
        (
            AddOverwrites,
            build_main,
            "h",
            "e",
            "Value.__add__ (its _backward)",
            "The backward of node f (e + e) alone",
        ),
        (
            TanhWrongDerivative,
            build_main,
            "h",
            "g",
            "Value.tanh (its _backward)",
            "The backward of node h (tanh(g)) alone",
        ),
        (
            PowWrongRule,
            build_power,
            "d",
            "a",
            "Value.__pow__ (its _backward)",
            "The backward of node c (a**3) alone",
        ),
        (ForwardOrder, build_main, "h", "f", "Value.backward", "reverse topological order"),
        (AddOverwrites, build_shared, "d", "a", "Value.backward", "(+=) rather than overwriting"),
        (NoSeed, build_main, "h", "h", "Value.backward", "must start by setting self.grad = 1"),
    ],
    ids=lambda x: x.__name__ if isinstance(x, type) else None,
)
def test_a_wrong_gradient_is_blamed_on_its_method(
    Reference, Broken, build, output, node, blame, says
):
    found = finding(Reference, Broken, build, output)
    assert isinstance(found, GraphFinding)
    assert (found.node, found.blame) == (node, blame)
    assert says in found.message
    assert found.message.startswith(f"expected {node}.grad = ") or found.message.startswith(
        "the output's own gradient is wrong (expected"
    )


def test_gradient_message_states_expected_and_got(Reference):
    expected = captured(Reference, build_main, "h")
    actual = captured(MulWrongOperand, build_main, "h")
    want = {n["name"]: n for n in expected["nodes"]}
    have = {n["name"]: n for n in actual["nodes"]}
    found = compare_graph(expected, actual, "h")
    assert found.message.startswith(
        f"expected f.grad = {want['f']['grad']:.10g}, got {have['f']['grad']:.10g}. "
    )
    # The probe: g = f * a with g.grad = 1.5 must give f.grad = a * 1.5 = 0.75, the bug
    # gives f * 1.5 = -1.5.
    assert "gives f.grad = -1.5; the chain rule gives 0.75." in found.message


def test_the_output_gradient_message_states_expected_and_got(Reference):
    found = finding(Reference, NoSeed, build_main, "h")
    assert found.message.startswith(
        "the output's own gradient is wrong (expected h.grad = 1, got 0)"
    )


def test_contributions_that_do_not_arrive_name_every_consumer(Reference):
    found = finding(Reference, AddOverwrites, build_shared, "d")
    assert "node a is used by c, d" in found.message


def test_a_backward_that_raises_is_blamed_on_its_operator(Reference):
    expected = captured(Reference, build_main, "h")
    nodes = build_main(MulBackwardRaises)
    with pytest.raises(RuntimeError):
        nodes["h"].backward()
    found = compare_graph(expected, capture(nodes), "h")
    assert (found.node, found.blame) == ("f", "Value.__mul__ (its _backward)")
    assert (
        "Calling the backward of node g (a * f) raised 'RuntimeError: not done yet'"
        in found.message
    )


@pytest.mark.parametrize(
    ("Broken", "message"),
    [
        (MulAdds, "the forward value of node d (a * b) should be -0.75, got -1"),
    ],
    ids=lambda x: x.__name__ if isinstance(x, type) else None,
)
def test_a_wrong_forward_pass_is_found_before_any_gradient(Reference, Broken, message):
    found = finding(Reference, Broken, build_main, "h")
    assert found == GraphFinding("d", "Value.__mul__", message)


def test_a_missing_node_is_reported_first_in_topological_order(Reference):
    expected = captured(Reference, build_main, "h")
    actual = captured(Reference, build_main, "h")
    actual["nodes"] = [n for n in actual["nodes"] if n["name"] not in ("e", "g")]
    assert compare_graph(expected, actual, "h") == GraphFinding(
        "e", "Value.__add__", "node e was not recorded"
    )


@pytest.mark.parametrize(
    "actual",
    [
        None,
        [],
        "graph",
        {"nodes": "x"},
        {"nodes": [5, {"name": 3}]},
        {},
    ],
    ids=repr,
)
def test_garbage_instead_of_a_graph_is_a_finding(Reference, actual):
    expected = captured(Reference, build_main, "h")
    assert compare_graph(expected, actual, "h") == GraphFinding(
        "a", "Value", "node a was not recorded"
    )


def test_labels_and_children_are_not_judged_in_a_graph(Reference):
    # Step 1's checks own them; a graph judges values and gradients only, so a derived
    # operator built as its own node is as good as one built from the primitives.
    assert finding(Reference, MulMislabelled, build_main, "h") is None
    assert finding(Reference, MulForgetsOther, build_main, "h") is None  # b still gets its grad
    expected = captured(Reference, build_main, "h")
    actual = captured(Reference, build_main, "h")
    actual["nodes"][3]["children"] = 5  # forged: still no crash, and nothing to judge
    assert compare_graph(expected, actual, "h") is None


def test_topological_puts_children_first(Reference):
    graph = captured(Reference, build_main, "h")
    graph["nodes"].reverse()
    order = topological(graph)
    assert sorted(order) == sorted(n["name"] for n in graph["nodes"])
    for node in graph["nodes"]:
        for kid in node["children"]:
            assert order.index(kid) < order.index(node["name"])


@pytest.mark.parametrize(
    ("op", "method"),
    [
        ("+", "Value.__add__"),
        ("*", "Value.__mul__"),
        ("tanh", "Value.tanh"),
        ("ReLU", "Value.relu"),
        ("**3", "Value.__pow__"),
        ("**-0.5", "Value.__pow__"),
        ("", "Value"),
        ("exp", "Value"),
        (None, "Value"),
        (["+"], "Value"),
    ],
)
def test_method_for_op(op, method):
    assert method_for_op(op) == method


# ---------------------------------------------------------------------- children_of


class WithPrev:
    def __init__(self, *kids):
        self.prev = set(kids)


class Karpathy:
    def __init__(self, *kids):
        self._prev = set(kids)


class NotIterablePrev:
    prev = 5


def test_children_of_reads_prev_and_karpathys_prev():
    leaf = object()
    assert children_of(WithPrev(leaf)) == [leaf]
    assert children_of(Karpathy(leaf, leaf)) == [leaf]
    assert children_of(WithPrev()) == []
    assert children_of(object()) == []
    assert children_of(NotIterablePrev()) == []


def test_capture_works_on_a_karpathy_style_graph():
    class KValue:
        def __init__(self, data, children=(), op=""):
            self.data, self.grad, self._prev, self._op = data, 0, set(children), op
            self._backward = lambda: None

    a, b = KValue(2.0), KValue(3.0)
    c = KValue(6.0, (a, b), "*")

    def _backward():
        a.grad += b.data * c.grad
        b.grad += a.data * c.grad

    c._backward = _backward
    graph = capture({"a": a, "b": b, "c": c})
    assert graph["nodes"][2]["children"] == ["a", "b"]
    assert graph["nodes"][2]["probe"] == {"grads": {"a": 3.0 * PROBE_GRAD, "b": 2.0 * PROBE_GRAD}}


# --------------------------------------------------------------------- topo_problem

# A diamond with a tail: e = (b, c) where b = (a,), c = (a, d); f = (e, d), f is the output.
EDGES = {"a": [], "d": [], "b": ["a"], "c": ["a", "d"], "e": ["b", "c"], "f": ["e", "d"]}


def _is_topological(order):
    position = {node: i for i, node in enumerate(order)}
    return all(position[kid] < position[parent] for parent, kids in EDGES.items() for kid in kids)


def test_every_valid_order_is_accepted_and_every_other_permutation_rejected():
    valid = 0
    for order in itertools.permutations(EDGES):
        problem = topo_problem(list(order), EDGES, "f")
        if _is_topological(order):
            valid += 1
            assert problem is None, order
        elif order[-1] != "f":
            assert (
                problem == f"the node topo_sort() is called on (f) must come last, got {order[-1]}"
            ), order
        else:
            assert problem is not None and "children must come first" in problem, order
    assert valid == 5  # by hand: a, b, c, d in one of 5 orders (a < b, a < c, d < c), then e, f


@pytest.mark.parametrize(
    ("order", "problem"),
    [
        (["a", "d", "b", "a", "c", "e", "f"], "node a appears twice in topo_sort()'s list"),
        (["a", "b", "c", "e", "f"], "topo_sort() left out node(s) d"),
        (["b", "e", "f"], "topo_sort() left out node(s) a, c, d"),
        (
            ["a", "d", "b", "c", "?", "e", "f"],
            "topo_sort() returned something that is not a node of this graph",
        ),
        (
            ["a", "d", "b", "c", "f", "e"],
            "the node topo_sort() is called on (f) must come last, got e",
        ),
        (
            ["a", "d", "c", "e", "b", "f"],
            "node e comes before its child b: children must come first",
        ),
        (("a", "d", "b", "c", "e", "f"), "topo_sort() must return a list of the graph's nodes"),
        (["a", "d", "b", "c", "e", 6], "topo_sort() must return a list of the graph's nodes"),
        (None, "topo_sort() must return a list of the graph's nodes"),
        ({"$map": []}, "topo_sort() must return a list of the graph's nodes"),
    ],
    ids=[
        "duplicate",
        "missing",
        "missing-several",
        "unknown",
        "output-not-last",
        "child-after-parent",
        "tuple",
        "not-a-name",
        "none",
        "map",
    ],
)
def test_invalid_orders_are_rejected_with_the_right_sentence(order, problem):
    assert topo_problem(order, EDGES, "f") == problem


def test_the_reference_topo_sort_is_valid(Reference):
    nodes = build_main(Reference)
    ids = {id(node): name for name, node in nodes.items()}
    edges = {name: [ids[id(k)] for k in children_of(node)] for name, node in nodes.items()}
    order = [ids[id(node)] for node in nodes["h"].topo_sort()]
    assert topo_problem(order, edges, "h") is None
