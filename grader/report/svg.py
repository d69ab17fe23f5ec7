"""A few lines of SVG building that escape everything they are given.

Hand-written rather than a plotting library: the report needs one bar, one line chart and
one boxes-and-arrows drawing, each under a couple of hundred lines, and a library would
bring fonts, scripts or external styles that a ``file://`` page must not load. Every text
and attribute value passes through ``markupsafe.escape``; ``Markup`` is made only here, so
a node name or a loss value from student code can never become markup.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from markupsafe import Markup, escape

from grader.report import palette

Attrs = Mapping[str, object]
FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, 'DejaVu Sans', sans-serif"
MONO = "ui-monospace, 'DejaVu Sans Mono', 'Liberation Mono', monospace"


def element(tag: str, attrs: Attrs, *children: Markup | str) -> Markup:
    """``<tag attrs>children</tag>``; strings among the children are escaped as text."""
    body = Markup("").join(escape(child) for child in children)
    return Markup(f"<{tag}{_attributes(attrs)}>") + body + Markup(f"</{tag}>")


def empty(tag: str, attrs: Attrs) -> Markup:
    """A self-closing element, e.g. ``<rect .../>``."""
    return Markup(f"<{tag}{_attributes(attrs)}/>")


def _attributes(attrs: Attrs) -> str:
    # Attribute names are our own (keyword-style, ``_`` for ``-``); values are escaped.
    return "".join(
        f' {name.rstrip("_").replace("_", "-")}="{escape(str(value))}"'
        for name, value in attrs.items()
        if value is not None
    )


def text(x: float, y: float, content: str, **attrs: object) -> Markup:
    return element("text", {"x": fmt(x), "y": fmt(y), **attrs}, content)


def group(children: Iterable[Markup], **attrs: object) -> Markup:
    return element("g", attrs, Markup("").join(children))


def figure_svg(
    width: float,
    height: float,
    title: str,
    desc: str,
    uid: str,
    body: Iterable[Markup],
    **attrs: object,
) -> Markup:
    """A standalone inline ``<svg>`` with an accessible name and description."""
    return element(
        "svg",
        {
            "xmlns": "http://www.w3.org/2000/svg",
            "viewBox": f"0 0 {fmt(width)} {fmt(height)}",
            "width": fmt(width),
            "height": fmt(height),
            "role": "img",
            "aria-labelledby": f"{uid}-title {uid}-desc",
            "font-family": FONT,
            **attrs,
        },
        element("title", {"id": f"{uid}-title"}, title),
        element("desc", {"id": f"{uid}-desc"}, desc),
        *body,
    )


def fmt(number: float) -> str:
    """A coordinate, short: ``12.5`` not ``12.500000000001``."""
    return f"{number:.2f}".rstrip("0").rstrip(".")


def score_bar(score: float, max_score: float, label: str) -> Markup:
    """A horizontal bar for ``score`` out of ``max_score``; the numbers are printed beside it.

    SVG rather than a CSS background, because browsers drop backgrounds when printing.
    """
    share = 0.0 if max_score <= 0 else min(max(score / max_score, 0.0), 1.0)
    width, height = 200.0, 14.0
    fill = palette.STATUS["passed" if share == 1 else "failed" if share == 0 else "error"].fg
    return element(
        "svg",
        {
            "xmlns": "http://www.w3.org/2000/svg",
            "viewBox": f"0 0 {fmt(width)} {fmt(height)}",
            "class": "bar",
            "role": "img",
            "aria-label": label,
            "preserveAspectRatio": "none",
        },
        empty(
            "rect",
            {
                "x": 0.5,
                "y": 0.5,
                "width": width - 1,
                "height": height - 1,
                "fill": palette.PAGE,
                "stroke": palette.RULE,
            },
        ),
        empty(
            "rect",
            {
                "x": 0.5,
                "y": 0.5,
                "width": fmt(max(share * width - 1, 0)),
                "height": height - 1,
                "fill": fill,
            },
        ),
    )
