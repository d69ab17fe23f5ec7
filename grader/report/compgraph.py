"""A failing gradient check's computation graph, as inline SVG plus a table of what differs.

The expected graph (the reference's run of the same scenario) gives the shape; the
student's recorded nodes, looked up by name, give what their code computed. Each box shows
the node's name, its operation, its value and its gradient; where the student's number
differs from the reference's, the expected one is printed under it and the box is marked
in words as well as colour. The node the judge found first (``bad_node``) gets a thick
border and a banner: that is where to start reading.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from markupsafe import Markup

from grader.harness.compare import compare
from grader.harness.graph import UNNAMED, topological
from grader.report.graph_layout import Layout, columns, layout
from grader.report.graph_nodes import NodeView, Reading
from grader.report.graph_svg import LINE, PAD, draw_graph
from grader.report.text import clip, distinct_numbers, short_number


@dataclass(frozen=True)
class GraphView:
    """What the step page shows for one graph: the drawing and the nodes that differ."""

    title: str
    svg: Markup
    bad_node: str
    marker: str
    wrong: tuple[NodeView, ...]
    node_count: int


def graph_view(graph: Mapping[str, Any], uid: str) -> GraphView:
    expected = [n for n in graph["expected"]["nodes"] if type(n) is dict]
    actual = _index(graph.get("actual"))
    bad, output = str(graph.get("bad_node", "")), str(graph.get("output", ""))
    # Every node whose own forward or backward the audit found wrong (graph.wrong), and
    # the one whose backward passes on the first wrong gradient (culprit).
    marks = [m for m in graph.get("wrong", []) if type(m) is dict]
    backward = {m.get("node") for m in marks if m.get("phase") == "backward"}
    backward.add(graph.get("culprit"))
    forward = {m.get("node") for m in marks if m.get("phase") != "backward"}
    nodes = {
        n["name"]: _node_view(
            n,
            actual.get(n["name"]),
            n["name"] == bad,
            n["name"] == output,
            n["name"] in backward,
            n["name"] in forward,
        )
        for n in expected
    }
    order = topological(graph["expected"])
    kids = {name: [k for k in node.children if k != UNNAMED] for name, node in nodes.items()}
    heights = {name: _box_height(_line_count(node)) for name, node in nodes.items()}
    placed: Layout = layout(columns(kids, order), heights)
    title = str(graph.get("name", "computation graph"))
    svg = draw_graph(nodes, placed, title, _description(nodes, bad), uid)
    wrong = tuple(sorted((n for n in nodes.values() if n.problems), key=lambda n: not n.first))
    marker = nodes[bad].marker if bad in nodes else "first difference"
    return GraphView(title, svg, bad, marker, wrong, len(nodes))


def _index(actual: Any) -> dict[str, dict[str, Any]]:
    # The student's side is untrusted JSON: keep only well-formed nodes.
    nodes = actual.get("nodes") if type(actual) is dict else None
    if type(nodes) is not list:
        return {}
    return {n["name"]: n for n in nodes if type(n) is dict and type(n.get("name")) is str}


def _node_view(
    want: Mapping[str, Any],
    got: Mapping[str, Any] | None,
    first: bool,
    output: bool,
    culprit: bool = False,
    forward_wrong: bool = False,
) -> NodeView:
    children = tuple(str(k) for k in want["children"])
    op = want["op"] if type(want["op"]) is str and want["op"] else "input"
    if got is None:
        return NodeView(
            want["name"],
            op,
            children,
            Reading(short_number(want["data"])),
            Reading(short_number(want["grad"])),
            ("not recorded",),
            first,
            output,
        )
    # A leaf's value is whatever the test gave it, so (like the judge) only compare the rest.
    value = _reading(want["data"], got.get("data"), bool(children))
    grad = _reading(want["grad"], got.get("grad"), True)
    problems = [
        *(["wrong value"] if value.expected is not None else []),
        *(["wrong label"] if got.get("op") != want["op"] else []),
        *(["wrong inputs"] if got.get("children") != sorted(children) else []),
        *(["wrong gradient"] if grad.expected is not None else []),
        # The operator whose own backward hands its inputs the wrong gradient.
        *([f"wrong backward ({clip(op, 6)})"] if culprit else []),
        *([f"wrong forward ({clip(op, 6)})"] if forward_wrong else []),
    ]
    return NodeView(want["name"], op, children, value, grad, tuple(problems), first, output)


def _reading(expected: Any, actual: Any, judged: bool) -> Reading:
    if not judged or compare(expected, actual) is None:
        return Reading(short_number(actual))
    yours, wanted = distinct_numbers(actual, expected)
    return Reading(yours, wanted)


def _line_count(node: NodeView) -> int:
    """Text lines in the node's box: name, value, grad, expected values, problems, banner."""
    extra = (node.value.expected is not None) + (node.grad.expected is not None)
    return 3 + extra + len(node.problems) + node.first


def _box_height(lines: int) -> float:
    # Never shorter than 3.6 lines: two input tags must fit side by side on the left edge.
    return 2 * PAD + max(lines, 3.6) * LINE


def _description(nodes: Mapping[str, NodeView], bad: str) -> str:
    wrong = [n.name for n in nodes.values() if n.problems]
    text = (
        f"{len(nodes)} nodes, inputs on the left and the output on the right; "
        f"arrows go from each node to the node that uses it."
    )
    if bad in nodes:
        text += f" The first node that differs from the reference is {bad}."
    culprits = [n.name for n in nodes.values() if any("wrong backward" in p for p in n.problems)]
    if culprits:
        text += f" The backward of node {culprits[0]} passes on the wrong gradient."
    if wrong:
        text += f" Nodes that differ: {', '.join(wrong[:20])}" + ("…" if len(wrong) > 20 else "")
    return text
