"""Scoring: verdicts become points with the rubric, checks become steps, steps a message.

A check is all or nothing: its rubric points when it passed, else 0. A step not asked for
(``--steps``) keeps its checks as ``not_run`` and does not count. Nothing here looks at the
submission: it only applies the rubric to the judge's verdicts.
"""

from __future__ import annotations

from collections.abc import Iterable

from grader.exercise import STEP_TITLES, Check
from grader.feedback import feedback_text
from grader.judge import Verdict
from grader.models import CheckResult, StepResult
from grader.rubric import Rubric


def scored_check(check: Check, rubric: Rubric, verdict: Verdict, duration: float) -> CheckResult:
    """The result of one judged check, with its rubric title, points, hint and visibility."""
    entry = rubric.entry(check.step, check.id)
    return CheckResult(
        id=check.id,
        title=entry.title,
        status=verdict.status,
        score=entry.points if verdict.status == "passed" else 0.0,
        max_score=entry.points,
        visibility=entry.visibility,
        feedback=feedback_text(verdict),
        hint=entry.hint,
        blame=verdict.blame,
        duration=duration,
        details=verdict.details,
    )


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
