"""The class overview page of a batch: ``DIR/index.html``, for course staff.

    render_overview(rows, out_dir)

``rows`` are read through the ``Row`` protocol below (the batch's gradebook rows fit it),
so the report does not depend on the batch.

It shows the score distribution (an inline SVG histogram, with the same counts in a table),
how often each step and each check was passed, the most frequent failures grouped (the
feedback with its numbers taken out, so one bug on different inputs counts once), the
methods blamed most, the rejected submissions with their reasons, the slowest submissions
and a link to every student's report. Student ids and messages are hostile text: the
template autoescapes, and the only markup made here is the SVG built by ``report.svg``,
which escapes its own text.
"""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol
from urllib.parse import quote

from markupsafe import Markup

from grader.exercise import STEP_TITLES, STEPS
from grader.files import write_atomic
from grader.models import points
from grader.report import palette, svg
from grader.report.render import environment

BINS = 10
TOP_FAILURES = 15
TOP_SLOWEST = 10


class CheckLine(Protocol):
    """One check of one student, as the overview reads it."""

    @property
    def id(self) -> str: ...
    @property
    def step(self) -> int: ...
    @property
    def title(self) -> str: ...
    @property
    def status(self) -> str: ...
    @property
    def blame(self) -> str | None: ...
    @property
    def failure(self) -> str: ...


class Row(Protocol):
    """One student of the class, as the overview reads it (the batch's gradebook rows)."""

    @property
    def submission(self) -> str: ...
    @property
    def status(self) -> str: ...
    @property
    def score(self) -> float: ...
    @property
    def max_score(self) -> float: ...
    @property
    def steps(self) -> tuple[float | None, ...]: ...
    @property
    def duration(self) -> float: ...
    @property
    def late(self) -> bool: ...
    @property
    def message(self) -> str: ...
    @property
    def checks(self) -> Sequence[CheckLine]: ...
    @property
    def staff_notes(self) -> tuple[str, ...]: ...


@dataclass(frozen=True)
class Rate:
    """How many of ``total`` passed something (a step at full marks, a check)."""

    label: str
    detail: str
    passed: int
    total: int
    mean: str = ""

    @property
    def percent(self) -> str:
        return f"{100 * self.passed / self.total:.0f}%" if self.total else "–"

    @property
    def bar(self) -> Markup:
        return svg.score_bar(self.passed, self.total or 1, f"{self.passed} of {self.total} passed")


@dataclass(frozen=True)
class FailureGroup:
    message: str
    count: int
    students: int
    blame: str
    checks: str  # the titles of the checks that failed this way


@dataclass(frozen=True)
class StudentLine:
    student: str
    href: str
    status: str
    score: str
    max_score: str
    duration: str
    late: bool
    message: str


@dataclass(frozen=True)
class Overview:
    count: int
    graded: int
    rejected: int
    late: int
    mean: str
    median: str
    max_score: str
    histogram: Markup
    bins: tuple[tuple[str, int], ...]
    steps: tuple[Rate, ...]
    checks: tuple[Rate, ...]
    failures: tuple[FailureGroup, ...]
    blamed: tuple[tuple[str, int], ...]
    rejections: tuple[StudentLine, ...]
    flagged: tuple[tuple[StudentLine, tuple[str, ...]], ...]
    slowest: tuple[StudentLine, ...]
    students: tuple[StudentLine, ...]


def render_overview(
    rows: Sequence[Row], out_dir: Path, links: Sequence[tuple[str, str]] = ()
) -> Path:
    """Write ``out_dir/index.html`` for the batch's rows; returns its path.

    ``links``: other pages of the batch to link to, as (file name, label).
    """
    page = environment().get_template("overview.html")
    html = page.render(overview=overview(rows), links=[(quote(f), label) for f, label in links])
    path = out_dir / "index.html"
    write_atomic(path, html.encode("utf-8"))
    return path


def overview(rows: Sequence[Row]) -> Overview:
    graded = [r for r in rows if r.status == "graded"]
    shares = [r.score / r.max_score if r.max_score else 0.0 for r in graded]
    bins = _bins(shares)
    lines = [_line(r) for r in rows]
    return Overview(
        count=len(rows),
        graded=len(graded),
        rejected=len(rows) - len(graded),
        late=sum(r.late for r in rows),
        mean=points(round(statistics.fmean(r.score for r in graded), 2)) if graded else "–",
        median=points(statistics.median(r.score for r in graded)) if graded else "–",
        max_score=points(max((r.max_score for r in graded), default=0.0)),
        histogram=histogram(bins),
        bins=bins,
        steps=_step_rates(graded),
        checks=_check_rates(graded),
        failures=_failures(graded),
        blamed=_blamed(graded),
        rejections=tuple(line for line in lines if line.status != "graded"),
        flagged=tuple(
            (line, row.staff_notes)
            for line, row in zip(lines, rows, strict=True)
            if row.staff_notes
        ),
        slowest=tuple(sorted(lines, key=lambda x: -float(x.duration))[:TOP_SLOWEST]),
        students=tuple(lines),
    )


def _line(row: Row) -> StudentLine:
    return StudentLine(
        row.submission,
        f"./{quote(row.submission, safe='')}/index.html",
        row.status,
        points(row.score),
        points(row.max_score),
        f"{row.duration:.1f}",
        row.late,
        row.message,
    )


def _bins(shares: list[float]) -> tuple[tuple[str, int], ...]:
    counts = [0] * BINS
    for share in shares:
        counts[min(int(max(share, 0.0) * BINS), BINS - 1)] += 1
    width = 100 // BINS
    labels = [f"{i * width}–{i * width + width - 1}%" for i in range(BINS - 1)]
    labels.append(f"{(BINS - 1) * width}–100%")
    return tuple(zip(labels, counts, strict=True))


def _step_rates(graded: list[Row]) -> tuple[Rate, ...]:
    rates = []
    for index, step in enumerate(STEPS):
        scored = [r for r in graded if r.steps[index] is not None]
        full = [r for r in scored if all(c.status == "passed" for c in r.checks if c.step == step)]
        mean = (
            points(round(statistics.fmean(r.steps[index] or 0.0 for r in scored), 2))
            if scored
            else "–"
        )
        rates.append(
            Rate(
                f"Step {step}: {STEP_TITLES[step]}",
                "all checks passed",
                len(full),
                len(scored),
                mean,
            )
        )
    return tuple(rates)


def _check_rates(graded: list[Row]) -> tuple[Rate, ...]:
    passed: Counter[str] = Counter()
    total: Counter[str] = Counter()
    titles: dict[str, tuple[int, str]] = {}
    for row in graded:
        for check in row.checks:
            titles.setdefault(check.id, (check.step, check.title))
            total[check.id] += 1
            passed[check.id] += check.status == "passed"
    return tuple(
        Rate(titles[cid][1], f"step {titles[cid][0]} · {cid}", passed[cid], total[cid])
        for cid in titles
    )


def _failures(graded: list[Row]) -> tuple[FailureGroup, ...]:
    count: Counter[tuple[str, str]] = Counter()
    students: dict[tuple[str, str], set[str]] = defaultdict(set)
    checks: dict[tuple[str, str], set[str]] = defaultdict(set)
    for row in graded:
        for check in row.checks:
            if check.status == "passed":
                continue
            key = (check.blame or "", check.failure or f"({check.status})")
            count[key] += 1
            students[key].add(row.submission)
            checks[key].add(check.title)
    # Most students first: one student's syntax error fails every check, and must not
    # outrank a mistake a third of the class made.
    ranked = sorted(count, key=lambda key: (-len(students[key]), -count[key], key))
    return tuple(
        FailureGroup(
            message, count[key], len(students[key]), blame or "–", _names(sorted(checks[key]))
        )
        for key in ranked[:TOP_FAILURES]
        for blame, message in [key]
    )


def _names(names: list[str], shown: int = 4) -> str:
    if len(names) <= shown:
        return ", ".join(names)
    return ", ".join(names[:shown]) + f" and {len(names) - shown} more"


def _blamed(graded: list[Row]) -> tuple[tuple[str, int], ...]:
    """Each method blamed, with the number of students it was blamed for."""
    blamed: Counter[str] = Counter()
    for row in graded:
        blamed.update({c.blame for c in row.checks if c.blame and c.status != "passed"})
    # Ties in name order: the page must not change between two runs on the same results.
    return tuple(sorted(blamed.items(), key=lambda item: (-item[1], item[0]))[:TOP_FAILURES])


def histogram(bins: Sequence[tuple[str, int]]) -> Markup:
    """Bars of students per score band; every bar is labelled with its count."""
    width, height, left, bottom, top = 640.0, 260.0, 40.0, 44.0, 24.0
    slot = (width - left - 10) / len(bins)
    tallest = max((n for _, n in bins), default=0) or 1
    scale = (height - bottom - top) / tallest
    base = height - bottom
    body = [
        svg.empty(
            "line", {"x1": left, "y1": base, "x2": width - 10, "y2": base, "stroke": palette.RULE}
        )
    ]
    for index, (label, n) in enumerate(bins):
        x = left + index * slot
        bar = n * scale
        body.append(
            svg.empty(
                "rect",
                {
                    "x": svg.fmt(x + 4),
                    "y": svg.fmt(base - bar),
                    "width": svg.fmt(slot - 8),
                    "height": svg.fmt(bar),
                    "fill": palette.LINK,
                    "class": "bin",
                },
            )
        )
        body.append(
            svg.text(
                x + slot / 2,
                base - bar - 6,
                str(n),
                text_anchor="middle",
                font_size=13,
                fill=palette.INK,
            )
        )
        body.append(
            svg.text(
                x + slot / 2,
                base + 18,
                label,
                text_anchor="middle",
                font_size=11,
                fill=palette.MUTED,
            )
        )
    body.append(
        svg.text(
            width / 2,
            height - 6,
            "score (share of the points)",
            text_anchor="middle",
            font_size=12,
            fill=palette.MUTED,
        )
    )
    described = "; ".join(f"{label}: {n}" for label, n in bins)
    return svg.figure_svg(
        width,
        height,
        "Score distribution",
        f"Number of graded submissions per score band. {described}",
        "histogram",
        body,
        class_="histogram",
    )
