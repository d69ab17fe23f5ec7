"""What the templates see: a ``GradeResult`` turned into plain, page-shaped frozen data.

Templates only lay out; every decision (what a hidden check may show, how a number is
spelt, which details apply) is made here, where it can be tested without parsing HTML.
A hidden check's view is built from its title, points and status alone: its details,
feedback and hint are never read, so they cannot leak into a page by a template slip.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from markupsafe import Markup

from grader.models import Adjustment, CheckResult, GradeResult, StepResult
from grader.report import details as read
from grader.report.compgraph import GraphView, graph_view
from grader.report.lossplot import PlotView, loss_plot
from grader.report.svg import score_bar
from grader.report.text import cap

STATUS_LABELS = {
    "passed": "passed",
    "failed": "failed",
    "error": "error",
    "timeout": "timed out",
    "not_run": "not run",
}


@dataclass(frozen=True)
class CheckView:
    anchor: str
    title: str
    status: str
    label: str
    points: str
    max_points: str
    hidden: bool
    where: str = ""
    feedback: str = ""
    hint: str = ""
    inputs: tuple[read.Row, ...] = ()
    mismatch: read.MismatchView | None = None
    values: tuple[read.ValueRow, ...] = ()
    error: read.ErrorView | None = None
    outputs: tuple[read.OutputView, ...] = ()
    graph: GraphView | None = None
    plots: tuple[PlotView, ...] = ()
    predictions: tuple[read.ValueRow, ...] = ()
    adjusted: str = ""  # staff set this check's points: what the grader gave, and why

    @property
    def passed(self) -> bool:
        return self.status == "passed"


@dataclass(frozen=True)
class StepView:
    number: int
    title: str
    page: str
    graded: bool
    points: str
    max_points: str
    passed: int
    total: int
    checks: tuple[CheckView, ...]
    bar: Markup


def points(value: float) -> str:
    return f"{value:g}"


def step_view(step: StepResult, adjustments: dict[str, Adjustment] | None = None) -> StepView:
    notes = {cid: adjustment_note(a) for cid, a in (adjustments or {}).items()}
    checks = tuple(
        replace(check_view(check, f"check-{step.step}-{i}"), adjusted=notes.get(check.id, ""))
        for i, check in enumerate(step.checks, start=1)
    )
    return StepView(
        step.step,
        step.title,
        f"step-{step.step}.html",
        step.graded,
        points(step.score),
        points(step.max_score),
        sum(c.status == "passed" for c in step.checks),
        len(step.checks),
        checks,
        score_bar(
            step.score, step.max_score, f"{points(step.score)} of {points(step.max_score)} points"
        ),
    )


def check_view(check: CheckResult, anchor: str) -> CheckView:
    if check.visibility == "hidden":
        return _hidden_view(check, anchor)
    details = check.details if type(check.details) is dict else {}
    passed = check.status == "passed"
    values = read.values(details.get("values"))
    return CheckView(
        anchor=anchor,
        title=check.title,
        status=check.status,
        label=STATUS_LABELS[check.status],
        points=points(check.score),
        max_points=points(check.max_score),
        hidden=False,
        where="" if passed else cap(check.blame or "", 200),
        feedback="" if passed else _feedback(check),
        hint="" if passed else check.hint,
        inputs=read.inputs(details.get("inputs")),
        mismatch=read.mismatch(details.get("mismatch")),
        values=values,
        error=read.error(details.get("error")),
        outputs=read.outputs(details),
        graph=_graph(details.get("graph"), anchor),
        plots=_plots(details.get("plots"), anchor),
        predictions=tuple(row for row in values if "prediction" in row.name),
    )


def _hidden_view(check: CheckResult, anchor: str) -> CheckView:
    verdict = {"passed": "passed", "not_run": "not run"}.get(check.status, "failed")
    status = check.status if check.status in ("passed", "not_run") else "failed"
    return CheckView(
        anchor=anchor,
        title=check.title,
        status=status,
        label=f"hidden check: {verdict}",
        points=points(check.score),
        max_points=points(check.max_score),
        hidden=True,
    )


def _feedback(check: CheckResult) -> str:
    # The page shows the blamed method on its own line, so drop feedback.py's "Look at X."
    # opening rather than say it twice; any other wording is kept whole.
    text = cap(check.feedback, 3000)
    opening = f"Look at {check.blame}. "
    return text[len(opening) :] if check.blame and text.startswith(opening) else text


def _graph(raw: Any, anchor: str) -> GraphView | None:
    if type(raw) is not dict or type(raw.get("expected")) is not dict:
        return None
    if type(raw["expected"].get("nodes")) is not list:
        return None
    return graph_view(raw, f"{anchor}-graph")


def _plots(raw: Any, anchor: str) -> tuple[PlotView, ...]:
    if type(raw) is not list:
        return ()
    wanted = [p for p in raw if type(p) is dict and p.get("kind") == "loss"]
    return tuple(
        loss_plot(
            cap(p.get("name", "loss"), 200),
            p.get("expected"),
            p.get("actual"),
            f"{anchor}-plot-{i}",
        )
        for i, p in enumerate(wanted, start=1)
    )


@dataclass(frozen=True)
class ReportView:
    """Everything the overview page and the shared page frame need."""

    result: GradeResult
    steps: tuple[StepView, ...]
    score: str
    max_score: str
    duration: str
    notes: tuple[str, ...]
    adjustments: tuple[str, ...] = ()  # what course staff changed, one sentence each
    original_score: str = ""  # the grader's score, when staff changed it


def adjustment_note(adjustment: Adjustment) -> str:
    """One sentence a student reads about a grade staff set by hand."""
    what = "The total" if adjustment.target == "total" else "This check"
    return (
        f"{what} was set to {points(adjustment.points)} points by course staff "
        f"(the grader gave {points(adjustment.original)}). Reason: {cap(adjustment.reason, 1000)}"
    )


def report_view(result: GradeResult) -> ReportView:
    by_check = {a.target: a for a in result.adjustments if a.target != "total"}
    changed = result.score != result.original_score
    return ReportView(
        result,
        tuple(step_view(step, by_check) for step in result.steps),
        points(result.score),
        points(result.max_score),
        f"{result.duration:.1f} s",
        tuple(cap(n, 500) for n in result.notes),
        tuple(adjustment_note(a) for a in result.adjustments),
        points(result.original_score) if changed else "",
    )
