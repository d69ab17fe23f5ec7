"""Scoring: verdicts become points with the rubric, checks become steps, steps a message.

A check is all or nothing: its rubric points when it passed, else 0. A step not asked for
(``--steps``) keeps its checks as ``not_run`` and does not count. Nothing here looks at the
submission: it only applies the rubric to the judge's verdicts.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from grader.exercise import STEP_TITLES, Check
from grader.fairness.contract import ITEMS
from grader.fairness.decide import Decision
from grader.fairness.verdicts import Judged
from grader.feedback import feedback_text
from grader.judge import Verdict
from grader.models import CheckResult, StepResult
from grader.rubric import Rubric


def scored_check(check: Check, rubric: Rubric, judged: Judged, duration: float) -> CheckResult:
    """The result of one judged check, with its rubric title, points, hint and visibility.

    Excused: it passes, saying which fault charged elsewhere explained it. Charged: the
    pointer and the hint come from the fault the decision named (the hint of the check
    that owns that item, which says what to fix).
    """
    entry = rubric.entry(check.step, check.id)
    verdict, decision = judged.verdict, judged.decision
    base: dict[str, Any] = {
        "id": check.id,
        "title": entry.title,
        "max_score": entry.points,
        "visibility": entry.visibility,
        "duration": duration,
    }
    if decision.kind == "excused":
        said = excuse_text(decision, rubric)
        return CheckResult(
            **base,
            status="passed",
            score=entry.points,
            feedback=f"Passed. {said}",
            hint=entry.hint,
            details=_inputs_only(verdict.details),
            excused=said,
        )
    if decision.kind == "passed":
        ran = verdict.status != "not_run"
        return CheckResult(
            **base,
            status="passed" if ran else "not_run",
            score=entry.points if ran else 0.0,
            feedback="Passed." if ran else feedback_text(verdict),
            hint=entry.hint,
            details=verdict.details if ran else {},
        )
    pointer = decision.pointer
    item = ITEMS.get(pointer.item) if pointer is not None else None
    blame = item.pointer if item is not None else None
    message = pointer.message if pointer is not None and pointer.message else verdict.message
    status = verdict.status if verdict.status not in ("passed", "not_run") else "failed"
    charged = Verdict(status, message, blame, verdict.details)
    return CheckResult(
        **base,
        status=status,
        score=0.0,
        feedback=feedback_text(charged),
        hint=_owner_hint(pointer.item if pointer else None, entry.hint, rubric),
        blame=blame,
        details=_with_wrong_nodes(verdict.details, judged),
    )


def _with_wrong_nodes(details: dict[str, Any], judged: Judged) -> dict[str, Any]:
    """The details, with every named node of the shown graph whose own forward or backward
    the audit found wrong (``graph.wrong``), so the report can mark each of them."""
    graph = details.get("graph")
    if not isinstance(graph, dict):
        return details
    wrong: list[dict[str, str]] = []
    for fault in judged.evidence.faults:
        if fault.graph != graph.get("name") or not fault.node or fault.item not in ITEMS:
            continue
        mark = {"node": fault.node, "phase": ITEMS[fault.item].phase or "forward"}
        if mark not in wrong:
            wrong.append(mark)
    if not wrong:
        return details
    return {**details, "graph": {**graph, "wrong": wrong}}


def excuse_text(decision: Decision, rubric: Rubric) -> str:
    """``It differed ... only because of Value.__mul__ (backward), charged in ...``."""
    owners = rubric.owners()
    parts = []
    for item_id in decision.excused_by:
        item = ITEMS.get(item_id)
        where = owners.get(item_id)
        said = item.pointer if item is not None and item.pointer else item_id
        if where is not None:
            title = rubric.entry(*where).title
            parts.append(f'{said}, charged in step {where[0]}\'s check "{title}"')
        else:
            parts.append(said)
    return (
        "It differed from the reference only because of "
        + "; ".join(parts)
        + ": that fault costs points once, there."
    )


def _owner_hint(item: str | None, own: str, rubric: Rubric) -> str:
    where = rubric.owners().get(item) if item else None
    return rubric.entry(*where).hint if where is not None else own


def _inputs_only(details: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in details.items() if k == "inputs"}


def not_graded(check: Check, rubric: Rubric) -> CheckResult:
    """A check of a step this grading left out."""
    entry = rubric.entry(check.step, check.id)
    return CheckResult(
        id=check.id,
        title=entry.title,
        status="not_run",
        score=0.0,
        max_score=entry.points,
        visibility=entry.visibility,
        feedback="This step was not graded in this run.",
        hint=entry.hint,
    )


def step_result(
    step: int, rubric: Rubric, checks: Iterable[CheckResult], graded: bool = True
) -> StepResult:
    title = rubric.steps[step].title or STEP_TITLES[step]
    return StepResult(step, title, tuple(checks), graded)


def summary_message(steps: Iterable[StepResult]) -> str:
    """``"43 of 55 checks passed"``, and the one error every check hit when none passed."""
    graded = [c for s in steps if s.graded for c in s.checks]
    passed = sum(c.status == "passed" for c in graded)
    message = f"{passed} of {len(graded)} checks passed"
    errors = {c.feedback for c in graded if c.status == "error"}
    if graded and passed == 0 and len(errors) == 1:
        message += f"; every check failed the same way: {errors.pop()}"
    return message
