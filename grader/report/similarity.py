"""The similarity page of a batch (``DIR/similarity.html``): the top pairs side by side.

The batch (``grader.batch.similarity``) ranks the pairs and finds the matched regions; this
module only lays them out. Code is student text: it reaches the template as plain strings,
cut into matched and unmatched segments, and the template escapes it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from grader.files import write_atomic
from grader.report.render import environment


@dataclass(frozen=True)
class Segment:
    text: str
    matched: bool


@dataclass(frozen=True)
class PairView:
    rank: int
    a: str
    b: str
    score: float
    shares: tuple[float, float]  # copydetect's share of each side that the other matches
    left: tuple[Segment, ...]
    right: tuple[Segment, ...]

    @property
    def percent(self) -> str:
        return f"{100 * self.score:.0f}%"

    @property
    def share_texts(self) -> tuple[str, str]:
        return (f"{100 * self.shares[0]:.0f}%", f"{100 * self.shares[1]:.0f}%")


@dataclass(frozen=True)
class SimilarityPage:
    submissions: int  # in the class
    compared: int  # with code to compare (the intake accepted them)
    pairs: int  # pairs sharing at least one fingerprint
    top: tuple[PairView, ...]
    references: tuple[PairView, ...]
    reference_names: tuple[str, ...]


def segments(text: str, ranges: Sequence[tuple[int, int]]) -> tuple[Segment, ...]:
    """``text`` cut into runs inside and outside ``ranges`` (which may overlap)."""
    merged: list[list[int]] = []
    for start, end in sorted((max(0, s), min(len(text), e)) for s, e in ranges):
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        elif start < end:
            merged.append([start, end])
    found, at = [], 0
    for start, end in merged:
        if start > at:
            found.append(Segment(text[at:start], False))
        found.append(Segment(text[start:end], True))
        at = end
    if at < len(text):
        found.append(Segment(text[at:], False))
    return tuple(found)


def render_similarity(page: SimilarityPage, path: Path) -> None:
    html = environment().get_template("similarity.html").render(page=page)
    write_atomic(path, html.encode("utf-8"))
