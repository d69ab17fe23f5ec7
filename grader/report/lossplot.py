"""The step-5 training chart: loss per epoch, the reference's against the student's.

Losses fall from about 11 to about 0.0002 over 40 epochs, so the y axis is logarithmic:
on a linear axis every epoch after the tenth is a flat line at the bottom. The student's
series is untrusted: NaN, infinities, objects, a missing or short list all have to draw
(as gaps, with a note in words) rather than break the page.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from markupsafe import Markup

from grader.report import palette
from grader.report.svg import empty, figure_svg, fmt, group, text
from grader.report.text import finite

# Small drawing, large type: on a phone the chart shrinks to about two thirds of this, and
# 15-unit text still reads at about 10 px there.
WIDTH, HEIGHT = 480.0, 330.0
LEFT, RIGHT, TOP, BOTTOM = 70.0, 16.0, 62.0, 52.0
TICK, LABEL = 14, 15
GRID = "#d5d9df"
SAME_REL = 1e-5  # the training checks' own tolerance: closer than this counts as following


@dataclass(frozen=True)
class PlotView:
    name: str
    svg: Markup
    epochs: int
    scale: str
    final_expected: str
    final_actual: str
    verdict: str
    notes: tuple[str, ...]


@dataclass(frozen=True)
class _Scale:
    lo: float
    hi: float
    log: bool

    def plottable(self, values: Sequence[float | None]) -> list[float | None]:
        """``values`` with what this scale cannot place (zero or less on a log axis) as gaps."""
        return [v if v is not None and (v > 0 or not self.log) else None for v in values]

    def y(self, value: float) -> float:
        v = math.log10(value) if self.log else value
        share = (v - self.lo) / (self.hi - self.lo)
        return TOP + (1 - share) * (HEIGHT - TOP - BOTTOM)


def loss_plot(name: str, expected: Any, actual: Any, uid: str) -> PlotView:
    want = _series(expected)
    got = _series(actual) if type(actual) is list else []
    epochs = max(len(want), len(got), 1)
    scale = _scale([v for v in want if v is not None], [v for v in got if v is not None])
    shown_want, shown_got = scale.plottable(want), scale.plottable(got)
    body = [
        *_axes(scale, epochs),
        _line(shown_want, scale, epochs, palette.REFERENCE_LINE, None),
        _line(shown_got, scale, epochs, palette.STUDENT_LINE, "7 4"),
        _legend(),
    ]
    desc = (
        f"{name} over {epochs} epochs, {'log' if scale.log else 'linear'} scale. "
        f"Reference: {_ends(want)}. Your code: {_ends(got) if got else 'no values'}."
    )
    svg = figure_svg(WIDTH, HEIGHT, name, desc, uid, body, class_="plot")
    return PlotView(
        name,
        svg,
        epochs,
        "logarithmic" if scale.log else "linear",
        _last(want),
        _last(got) if got else "none",
        _verdict(want, got, actual),
        _notes(actual, got, shown_got),
    )


def _series(values: Any) -> list[float | None]:
    return [finite(v) for v in values] if type(values) is list else []


def _scale(reference: Sequence[float], student: Sequence[float]) -> _Scale:
    """Logarithmic when the reference's losses are all positive (as losses are), else linear."""
    if reference and min(reference) > 0:
        positive = [*reference, *(v for v in student if v > 0)]
        bottom = math.floor(math.log10(min(positive)))
        top = math.ceil(math.log10(max(positive)))
        return _Scale(bottom, top if top > bottom else bottom + 1, True)
    both = [*reference, *student]
    lo, hi = min(both, default=0.0), max(both, default=1.0)
    return _Scale(lo, hi if hi > lo else lo + 1, False)


def _x(epoch: float, epochs: int) -> float:
    return LEFT + epoch / max(epochs - 1, 1) * (WIDTH - LEFT - RIGHT)


def _axes(scale: _Scale, epochs: int) -> list[Markup]:
    bottom, right = HEIGHT - BOTTOM, WIDTH - RIGHT
    parts = []
    for value, label in _y_ticks(scale):
        y = scale.y(value)
        parts.append(
            empty("line", {"x1": LEFT, "x2": right, "y1": fmt(y), "y2": fmt(y), "stroke": GRID})
        )
        parts.append(
            text(LEFT - 6, y + 5, label, fill=palette.INK, font_size=TICK, text_anchor="end")
        )
    for epoch in _x_ticks(epochs):
        x = _x(epoch, epochs)
        parts.append(
            empty(
                "line",
                {
                    "x1": fmt(x),
                    "x2": fmt(x),
                    "y1": bottom,
                    "y2": bottom + 5,
                    "stroke": palette.RULE,
                },
            )
        )
        parts.append(
            text(x, bottom + 20, str(epoch), fill=palette.INK, font_size=TICK, text_anchor="middle")
        )
    parts.append(
        empty(
            "path",
            {"d": f"M{LEFT},{TOP} V{bottom} H{right}", "fill": "none", "stroke": palette.RULE},
        )
    )
    parts.append(
        text(
            (LEFT + right) / 2,
            HEIGHT - 10,
            "epoch",
            fill=palette.INK,
            font_size=LABEL,
            text_anchor="middle",
        )
    )
    y_label = "loss (log scale)" if scale.log else "loss"
    parts.append(
        text(
            16,
            (TOP + bottom) / 2,
            y_label,
            fill=palette.INK,
            font_size=LABEL,
            text_anchor="middle",
            transform=f"rotate(-90 16 {fmt((TOP + bottom) / 2)})",
        )
    )
    return parts


def _y_ticks(scale: _Scale) -> list[tuple[float, str]]:
    if scale.log:
        step = max(1, math.ceil((scale.hi - scale.lo) / 7))
        decades = range(int(scale.lo), int(scale.hi) + 1, step)
        return [(10.0**k, _power_label(k)) for k in decades]
    size = _nice_step(scale.hi - scale.lo, 6)
    first, last = math.ceil(scale.lo / size), math.floor(scale.hi / size)
    return [(k * size, f"{k * size:.6g}") for k in range(first, last + 1)]


def _power_label(k: int) -> str:
    return f"{10.0**k:g}" if -4 <= k <= 4 else f"1e{k}"


def _x_ticks(epochs: int) -> list[int]:
    return list(range(0, epochs, max(1, int(_nice_step(max(epochs - 1, 1), 8)))))


def _nice_step(span: float, most: int) -> float:
    raw = span / most
    power = 10.0 ** math.floor(math.log10(raw)) if raw > 0 else 1.0
    return next(m * power for m in (1, 2, 5, 10) if m * power >= raw)


def _line(
    values: Sequence[float | None], scale: _Scale, epochs: int, colour: str, dash: str | None
) -> Markup:
    """One series as a path; a missing value lifts the pen, so gaps show as gaps."""
    commands, pen_down = [], False
    for epoch, value in enumerate(values):
        if value is None:
            pen_down = False
            continue
        y = min(max(scale.y(value), TOP - 4), HEIGHT - BOTTOM + 4)
        commands.append(f"{'L' if pen_down else 'M'}{fmt(_x(epoch, epochs))},{fmt(y)}")
        pen_down = True
    return empty(
        "path",
        {
            "d": " ".join(commands) or "M0,0",
            "fill": "none",
            "stroke": colour,
            "stroke-width": 2.5,
            "stroke-dasharray": dash,
            "stroke-linejoin": "round",
        },
    )


def _legend() -> Markup:
    """Told apart by line style and words, not only by colour."""
    entries = [
        (palette.REFERENCE_LINE, None, "reference (correct gradients), solid"),
        (palette.STUDENT_LINE, "7 4", "your code, dashed"),
    ]
    parts = []
    for i, (colour, dash, label) in enumerate(entries):
        y, x = 18.0 + i * 21, LEFT - 40
        parts.append(
            empty(
                "line",
                {
                    "x1": x,
                    "x2": x + 34,
                    "y1": y,
                    "y2": y,
                    "stroke": colour,
                    "stroke-width": 2.5,
                    "stroke-dasharray": dash,
                },
            )
        )
        parts.append(text(x + 42, y + 5, label, fill=palette.INK, font_size=LABEL))
    return group(parts, class_="legend")


def _ends(values: Sequence[float | None]) -> str:
    known = [v for v in values if v is not None]
    return f"from {known[0]:.4g} to {known[-1]:.4g}" if known else "no finite values"


def _last(values: Sequence[float | None]) -> str:
    return "not a number" if not values or values[-1] is None else f"{values[-1]:.6g}"


def _verdict(want: Sequence[float | None], got: Sequence[float | None], actual: Any) -> str:
    if type(actual) is not list:
        return "Your code recorded no loss curve."
    for epoch, (w, g) in enumerate(zip(want, got, strict=False)):
        if w is None or g is None or not math.isclose(w, g, rel_tol=SAME_REL, abs_tol=1e-9):
            spelt = "not a number" if g is None else f"{g:.6g}"
            reference = "not a number" if w is None else f"{w:.6g}"
            return (
                f"Your loss first departs from the reference's at epoch {epoch}: "
                f"{spelt} where the reference has {reference}."
            )
    if len(got) != len(want):
        return f"Your code recorded {len(got)} epochs; the reference ran {len(want)}."
    return "Your loss follows the reference's at every epoch."


def _notes(
    actual: Any, got: Sequence[float | None], plotted: Sequence[float | None]
) -> tuple[str, ...]:
    if type(actual) is not list:
        return ()
    left_out = sum(v is None for v in plotted)
    if not left_out:
        return ()
    bad = sum(v is None for v in got)
    why = "not a finite number" if bad == left_out else "not a positive finite number"
    return (
        f"{left_out} of your {len(got)} epochs are left out of the chart: their loss is {why}.",
    )
