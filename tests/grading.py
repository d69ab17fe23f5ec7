"""Grade submissions from tests with the real pipeline and the local sandbox."""

from __future__ import annotations

import atexit
from dataclasses import replace
from functools import cache
from pathlib import Path

from grader.exercise import STEPS, load_exercise
from grader.models import CheckResult, GradeResult
from grader.pipeline import GradeRequest, grade_submission
from grader.rubric import load_rubric
from grader.sandbox.local import LocalSandbox
from grader.settings import Settings, TimeBudget, load_settings

REPO = Path(__file__).resolve().parents[1]
EXAMPLES = REPO / "examples"


@cache
def local_sandbox() -> LocalSandbox:
    sandbox = LocalSandbox(load_exercise())
    atexit.register(sandbox.close)
    return sandbox


def quick_settings(**time: float) -> Settings:
    """Default settings with some time budgets changed (e.g. check_seconds=3)."""
    settings = load_settings()
    return replace(settings, time=replace(settings.time, **time))  # type: ignore[arg-type]


def grade(
    source: Path,
    *,
    steps: tuple[int, ...] = STEPS,
    seed: int = 1234,
    settings: Settings | None = None,
) -> GradeResult:
    exercise = load_exercise()
    return grade_submission(
        GradeRequest(source, steps, seed),
        exercise=exercise,
        rubric=load_rubric(exercise),
        sandbox=local_sandbox(),
        settings=settings or load_settings(),
    )


def checks(result: GradeResult) -> dict[str, CheckResult]:
    return {c.id: c for s in result.steps for c in s.checks}


def step_scores(result: GradeResult) -> dict[int, float]:
    return {s.step: s.score for s in result.steps}


__all__ = ["EXAMPLES", "REPO", "TimeBudget", "checks", "grade", "quick_settings", "step_scores"]
