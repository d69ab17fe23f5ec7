"""The report's colours, in one place, so one test can hold them to WCAG AA contrast.

The same names feed the page's CSS (as custom properties) and the SVG drawn in Python.
Colour never carries a status alone: every coloured thing also says its status in words.
"""

from __future__ import annotations

from dataclasses import dataclass

from grader.models import CheckStatus


@dataclass(frozen=True)
class StatusColours:
    """Text colour ``fg`` on the tinted background ``bg`` of a status label."""

    fg: str
    bg: str


PAGE = "#ffffff"
INK = "#1b1f24"
MUTED = "#4a5360"
LINK = "#0b57d0"
FOCUS = "#0b57d0"
RULE = "#6b7480"  # borders and axes: graphics need 3:1 against the page, this has 4.7:1
SURFACE = "#f3f5f8"  # a panel's background (code, tables); text on it must still read

STATUS: dict[CheckStatus, StatusColours] = {
    "passed": StatusColours("#0b5d28", "#e4f5e9"),
    "failed": StatusColours("#9b1c1c", "#fde9e9"),
    "error": StatusColours("#8a3b00", "#fff1e0"),
    "timeout": StatusColours("#5a2d91", "#f1eafb"),
    "not_run": StatusColours("#454b54", "#eceef1"),
}

# The computation graph: the first node that differs, the others that differ, the rest.
BAD_NODE = "#9b1c1c"
WRONG_NODE = "#8a3b00"
WRONG_FILL = "#fff1e0"
EDGE = "#59616b"

# The loss chart: told apart by dash pattern and legend text as well as by hue
# (blue against orange stays distinct for the common colour-vision deficiencies).
REFERENCE_LINE = "#1f4e9c"
STUDENT_LINE = "#b4420d"

# Pairs the report puts text on: (foreground, background).
TEXT_PAIRS: tuple[tuple[str, str], ...] = (
    (INK, PAGE),
    (MUTED, PAGE),
    (LINK, PAGE),
    (INK, SURFACE),
    (MUTED, SURFACE),
    (LINK, SURFACE),
    (PAGE, BAD_NODE),
    (BAD_NODE, PAGE),
    (WRONG_NODE, WRONG_FILL),
    (INK, WRONG_FILL),
    (REFERENCE_LINE, PAGE),
    (STUDENT_LINE, PAGE),
    *((c.fg, c.bg) for c in STATUS.values()),
    *((c.fg, PAGE) for c in STATUS.values()),
)
# Pairs of graphics against what surrounds them (lines, borders, focus ring): 3:1 suffices.
GRAPHIC_PAIRS: tuple[tuple[str, str], ...] = (
    (RULE, PAGE),
    (EDGE, PAGE),
    (FOCUS, PAGE),
    (BAD_NODE, PAGE),
    (WRONG_NODE, PAGE),
    (REFERENCE_LINE, PAGE),
    (STUDENT_LINE, PAGE),
)


def css_variables() -> list[tuple[str, str]]:
    """(name, value) pairs for the stylesheet's ``:root`` block."""
    pairs = [
        ("page", PAGE),
        ("ink", INK),
        ("muted", MUTED),
        ("link", LINK),
        ("focus", FOCUS),
        ("rule", RULE),
        ("surface", SURFACE),
    ]
    for status, colours in STATUS.items():
        pairs += [(f"{status}-fg", colours.fg), (f"{status}-bg", colours.bg)]
    return pairs


def contrast(foreground: str, background: str) -> float:
    """The WCAG 2 contrast ratio of two ``#rrggbb`` colours (1 to 21)."""
    lighter, darker = sorted((_luminance(foreground), _luminance(background)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def _luminance(colour: str) -> float:
    channels = [int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]
