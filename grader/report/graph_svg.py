"""Draw a laid-out computation graph: boxes, curved edges child -> parent, input tags."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence

from markupsafe import Markup

from grader.report import palette
from grader.report.graph_layout import (
    COLUMN_GAP,
    MARGIN,
    NODE_GAP,
    Box,
    Layout,
    curve,
    curve_is_clear,
)
from grader.report.graph_nodes import NodeView
from grader.report.svg import MONO, element, empty, figure_svg, fmt, group, text
from grader.report.text import clip

LINE = 15.0  # one line of text in a node's box
PAD = 6.0
TAG_HEIGHT = 17.0


def draw_graph(
    nodes: Mapping[str, NodeView], placed: Layout, title: str, desc: str, uid: str
) -> Markup:
    arrow = f"{uid}-arrow"
    defs = element(
        "defs",
        {},
        element(
            "marker",
            {
                "id": arrow,
                "viewBox": "0 0 10 10",
                "refX": 9,
                "refY": 5,
                "markerWidth": 7,
                "markerHeight": 7,
                "orient": "auto",
            },
            empty("path", {"d": "M0,0 L10,5 L0,10 z", "fill": palette.EDGE}),
        ),
    )
    links: list[Markup] = []
    for node in nodes.values():
        if node.name in placed.boxes:
            links += _incoming(node, placed, f"url(#{arrow})")
    boxes = [
        _box(node, placed.boxes[node.name]) for node in nodes.values() if node.name in placed.boxes
    ]
    notes = [
        text(MARGIN, top - 14, "continued from the row above", fill=palette.MUTED, font_size=11)
        for top in placed.row_tops[1:]
    ]
    return figure_svg(
        placed.width,
        placed.height,
        title,
        desc,
        uid,
        [defs, *notes, *links, *boxes],
        class_="graph",
    )


def _incoming(node: NodeView, placed: Layout, marker: str) -> list[Markup]:
    """The edges into ``node``: curves from neighbouring columns, tags for the rest."""
    target = placed.boxes[node.name]
    counts = Counter(node.children)
    sources = sorted(counts, key=lambda kid: _source_y(kid, placed))
    drawn: list[Markup] = []
    for k, kid in enumerate(sources):
        arrive = (target.x - 1, target.y + target.height * (k + 1) / (len(sources) + 1))
        points = _route(kid, node.name, arrive, placed)
        label = f"×{counts[kid]}" if counts[kid] > 1 else ""
        if points is not None:
            drawn.append(_edge(points, marker, label))
            continue
        detour = _detour(kid, node.name, arrive, placed)
        if detour is not None:
            drawn.append(_path(detour, marker, label))
        else:
            drawn.append(_tag(kid, arrive, marker, label))
    return drawn


def _detour(
    kid: str, parent: str, arrive: tuple[float, float], placed: Layout
) -> tuple[tuple[tuple[float, float], ...], ...] | None:
    """Three curves from ``kid`` to ``parent`` of one row, several columns apart: down into
    the gap below the boxes in between, along it, and up into ``parent``; None when that
    gap is not inside the figure or the curves would cross a box."""
    source = placed.boxes.get(kid)
    if source is None or placed.row[kid] != placed.row[parent]:
        return None
    first, last = placed.column[kid], placed.column[parent]
    if first >= last:
        return None
    between = [
        box
        for name, box in placed.boxes.items()
        if placed.row[name] == placed.row[kid] and first < placed.column[name] < last
    ]
    if not between:
        return None
    y = max(box.bottom for box in between) + NODE_GAP / 2 + 4
    if y > placed.height - 4:
        return None
    start = (source.right, source.y + source.height / 2)
    left = min(box.x for box in between) - 8
    right = max(box.right for box in between) + 8
    legs: tuple[tuple[tuple[float, float], ...], ...] = (
        curve(start, (left, y)),
        ((left, y), (left, y), (right, y), (right, y)),
        curve((right, y), arrive),
    )
    others = [box for name, box in placed.boxes.items() if name not in (kid, parent)]
    return legs if all(curve_is_clear(leg, others) for leg in legs) else None


def _path(legs: Sequence[Sequence[tuple[float, float]]], marker: str, label: str) -> Markup:
    (x0, y0) = legs[0][0]
    d = f"M{fmt(x0)},{fmt(y0)}" + "".join(
        f" C{fmt(a[0])},{fmt(a[1])} {fmt(b[0])},{fmt(b[1])} {fmt(c[0])},{fmt(c[1])}"
        for _, a, b, c in legs
    )
    path = empty(
        "path",
        {
            "d": d,
            "fill": "none",
            "stroke": palette.EDGE,
            "stroke-width": 1.5,
            "marker-end": marker,
        },
    )
    if not label:
        return path
    x3, y3 = legs[-1][-1]
    return group([path, text(x3 - 22, y3 - 5, label, fill=palette.INK, font_size=11)])


def _source_y(kid: str, placed: Layout) -> float:
    box = placed.boxes.get(kid)
    return box.y + box.height / 2 if box else float("inf")


def _route(
    kid: str, parent: str, arrive: tuple[float, float], placed: Layout
) -> tuple[tuple[float, float], ...] | None:
    """A curve from ``kid`` to ``parent`` when it can be drawn without crossing a box."""
    source = placed.boxes.get(kid)
    if source is None or placed.row[kid] != placed.row[parent]:
        return None
    if placed.column[kid] >= placed.column[parent]:
        return None
    points = curve((source.right, source.y + source.height / 2), arrive)
    others = [box for name, box in placed.boxes.items() if name not in (kid, parent)]
    return points if curve_is_clear(points, others) else None


def _edge(points: Sequence[tuple[float, float]], marker: str, label: str) -> Markup:
    return _path((points,), marker, label)


def _tag(kid: str, arrive: tuple[float, float], marker: str, label: str) -> Markup:
    """A small pill naming an input whose box is elsewhere, with a short arrow in."""
    x, y = arrive
    left, right = x - COLUMN_GAP + 6, x - 16
    shown = "?" if kid == "?" else clip(kid, 6)
    note = (
        "an intermediate value the test did not name"
        if kid == "?"
        else f"input {kid}, drawn elsewhere in the graph"
    )
    return group(
        [
            element("title", {}, note + (f" (used {label[1:]} times)" if label else "")),
            empty(
                "rect",
                {
                    "x": fmt(left),
                    "y": fmt(y - TAG_HEIGHT / 2),
                    "width": fmt(right - left),
                    "height": TAG_HEIGHT,
                    "rx": 8.5,
                    "fill": palette.SURFACE,
                    "stroke": palette.EDGE,
                },
            ),
            text(
                (left + right) / 2,
                y + 4,
                shown + label,
                fill=palette.INK,
                font_size=11,
                text_anchor="middle",
            ),
            empty(
                "path",
                {
                    "d": f"M{fmt(right)},{fmt(y)} L{fmt(x)},{fmt(y)}",
                    "stroke": palette.EDGE,
                    "stroke-width": 1.5,
                    "marker-end": marker,
                },
            ),
        ],
        class_="tag",
    )


def _box(node: NodeView, box: Box) -> Markup:
    stroke, width, dash = _outline(node)
    fill = palette.WRONG_FILL if node.problems else palette.PAGE
    parts = [
        element("title", {}, _tooltip(node)),
        empty(
            "rect",
            {
                "x": fmt(box.x),
                "y": fmt(box.y),
                "width": fmt(box.width),
                "height": fmt(box.height),
                "rx": 4,
                "fill": fill,
                "stroke": stroke,
                "stroke-width": width,
                "stroke-dasharray": dash,
            },
        ),
    ]
    y = box.y + PAD
    if node.first:
        parts.append(
            empty(
                "rect",
                {
                    "x": fmt(box.x),
                    "y": fmt(box.y),
                    "width": fmt(box.width),
                    "height": fmt(LINE + PAD),
                    "fill": palette.BAD_NODE,
                },
            )
        )
        parts.append(
            text(
                box.x + PAD,
                y + 11,
                node.marker,
                fill=palette.PAGE,
                font_size=11.5,
                font_weight="bold",
            )
        )
        y += LINE + 2
    parts += _lines(node, box, y)
    state = "first" if node.first else "wrong" if node.problems else "ok"
    return group(parts, class_=f"node node-{state}", data_node=node.name)


def _outline(node: NodeView) -> tuple[str, float, str | None]:
    if node.first:
        return palette.BAD_NODE, 3.5, None
    if node.problems:
        return palette.WRONG_NODE, 2.0, "6 3"
    return palette.RULE, 1.0, None


def _lines(node: NodeView, box: Box, y: float) -> list[Markup]:
    left, right = box.x + PAD, box.right - PAD
    name = clip(node.name, 11) + (" · output" if node.output else "")
    out = [
        text(left, y + 11, name, fill=palette.INK, font_size=12, font_weight="bold"),
        text(
            right,
            y + 11,
            clip(node.op, 7),
            fill=palette.MUTED,
            font_size=11,
            font_family=MONO,
            text_anchor="end",
        ),
    ]
    # (colour, indent, words): the reference's number sits indented under the student's.
    rows: list[tuple[str, float, str]] = [(palette.INK, 0, f"value {node.value.yours}")]
    if node.value.expected is not None:
        rows.append((palette.WRONG_NODE, 10, f"should be {node.value.expected}"))
    rows.append((palette.INK, 0, f"grad {node.grad.yours}"))
    if node.grad.expected is not None:
        rows.append((palette.WRONG_NODE, 10, f"should be {node.grad.expected}"))
    # One line per problem, each short enough for the box (at most 22 characters).
    rows += [(palette.WRONG_NODE, 0, clip(problem, 22)) for problem in node.problems]
    for i, (colour, indent, line) in enumerate(rows, start=1):
        out.append(
            text(
                left + indent,
                y + 11 + i * LINE,
                line,
                fill=colour,
                font_size=11.5,
                font_weight=None if colour == palette.INK else "bold",
            )
        )
    return out


def _tooltip(node: NodeView) -> str:
    parts = [f"{node.name} ({node.op})", f"value {node.value.yours}"]
    if node.value.expected is not None:
        parts[-1] += f" (should be {node.value.expected})"
    parts.append(f"grad {node.grad.yours}")
    if node.grad.expected is not None:
        parts[-1] += f" (should be {node.grad.expected})"
    if node.problems:
        parts.append(", ".join(node.problems))
    return "; ".join(parts)
