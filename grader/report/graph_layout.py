"""Where each node of a computation graph goes: columns by depth, wrapped into rows.

A node's column is its depth: the longest path down to a leaf, so every input sits in
column 0 and the output in the last column, and data flows left to right. A deep chain
(the 40-operation scenario has 41 columns) would be a strip several metres wide, so the
columns wrap into rows of at most ``MAX_COLUMNS``, read like lines of text. An edge is
drawn as a curve only between neighbouring columns of one row, and only where it misses
every other box; any other edge becomes a small tag naming the input next to the node
that uses it, because forty long lines fanning out of three leaves are unreadable.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

MAX_COLUMNS = 4
BOX_WIDTH = 168.0
COLUMN_GAP = 64.0  # room for input tags on the left of each box, too
NODE_GAP = 14.0
ROW_GAP = 40.0
MARGIN = 12.0


@dataclass(frozen=True)
class Box:
    x: float
    y: float
    width: float
    height: float

    @property
    def right(self) -> float:
        return self.x + self.width

    @property
    def bottom(self) -> float:
        return self.y + self.height

    def contains(self, x: float, y: float, slack: float = 3.0) -> bool:
        return (
            self.x - slack <= x <= self.right + slack and self.y - slack <= y <= self.bottom + slack
        )


@dataclass(frozen=True)
class Layout:
    boxes: dict[str, Box]
    column: dict[str, int]
    row: dict[str, int]
    row_tops: tuple[float, ...]
    width: float
    height: float


def depths(children: Mapping[str, Sequence[str]], order: Sequence[str]) -> dict[str, int]:
    """Longest path to a leaf, for names in ``order`` (children before parents)."""
    depth: dict[str, int] = {}
    for name in order:
        known = [depth[kid] for kid in children.get(name, ()) if kid in depth]
        depth[name] = 1 + max(known) if known else 0
    return depth


def columns(children: Mapping[str, Sequence[str]], order: Sequence[str]) -> list[list[str]]:
    """Names per column, each column ordered to keep edges short and uncrossed.

    Three barycentre sweeps (by children left to right, by parents right to left, by
    children again) put the inputs of one operation next to each other, which is all that
    graphs of this size need from crossing minimisation.
    """
    depth = depths(children, order)
    cols: list[list[str]] = [[] for _ in range(max(depth.values(), default=-1) + 1)]
    for name in order:
        cols[depth[name]].append(name)
    # Only parents in the very next column pull a node: one far away is drawn as a tag.
    parents: dict[str, list[str]] = {name: [] for name in order}
    for name in order:
        for kid in children.get(name, ()):
            if kid in parents and depth[kid] == depth[name] - 1:
                parents[kid].append(name)
    position: dict[str, float] = {}
    _sweep(cols, children, position)
    _sweep(cols[-2::-1], parents, position)
    _sweep(cols[1:], children, position)
    return cols


def _sweep(
    cols: Sequence[list[str]], neighbours: Mapping[str, Sequence[str]], position: dict[str, float]
) -> None:
    """Sort each column in turn by the mean position of its already placed neighbours."""
    for col in cols:
        current = {name: position.get(name, float(i)) for i, name in enumerate(col)}
        col.sort(key=lambda name: _barycentre(name, neighbours, position, current[name]))
        position.update({name: float(i) for i, name in enumerate(col)})


def _barycentre(
    name: str,
    neighbours: Mapping[str, Sequence[str]],
    position: Mapping[str, float],
    fallback: float,
) -> float:
    placed = [position[n] for n in neighbours.get(name, ()) if n in position]
    return sum(placed) / len(placed) if placed else fallback


def layout(cols: list[list[str]], heights: Mapping[str, float]) -> Layout:
    """Boxes for every node: columns wrapped into balanced rows, centred in their row.

    Boxes share one height per row (the tallest text in it), so a row reads as a row and a
    long chain of quiet nodes is not padded to the height of the one node that differs.
    """
    rows = max(1, math.ceil(len(cols) / MAX_COLUMNS))
    per_row = max(1, math.ceil(len(cols) / rows))
    boxes: dict[str, Box] = {}
    column: dict[str, int] = {}
    row_of: dict[str, int] = {}
    tops: list[float] = []
    top = MARGIN
    for r in range(rows):
        chunk = cols[r * per_row : (r + 1) * per_row]
        box_height = max((heights[name] for col in chunk for name in col), default=0.0)
        step = box_height + NODE_GAP
        tallest = max((len(col) for col in chunk), default=0) * step
        tops.append(top)
        for slot, col in enumerate(chunk):
            y0 = top + (tallest - len(col) * step) / 2
            x = MARGIN + COLUMN_GAP + slot * (BOX_WIDTH + COLUMN_GAP)
            for i, name in enumerate(col):
                boxes[name] = Box(x, y0 + i * step, BOX_WIDTH, box_height)
                column[name], row_of[name] = r * per_row + slot, r
        top += tallest + ROW_GAP
    width = 2 * MARGIN + COLUMN_GAP + per_row * BOX_WIDTH + (per_row - 1) * COLUMN_GAP
    return Layout(boxes, column, row_of, tuple(tops), width, top - ROW_GAP + MARGIN)


def curve(start: tuple[float, float], end: tuple[float, float]) -> tuple[tuple[float, float], ...]:
    """The four control points of a left-to-right S-curve from ``start`` to ``end``."""
    middle = (start[0] + end[0]) / 2
    return start, (middle, start[1]), (middle, end[1]), end


def curve_is_clear(points: tuple[tuple[float, float], ...], boxes: Sequence[Box]) -> bool:
    """True when the Bézier curve through ``points`` passes outside every box given."""
    for i in range(1, 24):
        t = i / 24
        x, y = _bezier(points, t)
        if any(box.contains(x, y) for box in boxes):
            return False
    return True


def _bezier(p: tuple[tuple[float, float], ...], t: float) -> tuple[float, float]:
    u = 1 - t
    weights = (u**3, 3 * u * u * t, 3 * u * t * t, t**3)
    return (
        sum(w * q[0] for w, q in zip(weights, p, strict=True)),
        sum(w * q[1] for w, q in zip(weights, p, strict=True)),
    )
