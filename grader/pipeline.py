"""Grade one submission: intake, sandbox run, reference run, judgement, scores.

    source --intake--> workspace + manifest --runner/sandbox--> untrusted records
           --trusted reference run + judge--> verdicts --rubric--> GradeResult

A student's failure anywhere becomes part of the result (a rejected submission, a failed
or timed-out check); only the instructor's or the machine's failures raise.
"""

from __future__ import annotations

import secrets
import tempfile
import time
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

from grader import __version__
from grader.errors import SubmissionRejected
from grader.exercise import STEP_TITLES, STEPS, Check, Exercise
from grader.feedback import feedback_text
from grader.intake import prepare_submission
from grader.judge import judge
from grader.models import CheckResult, GradeResult, StepResult
from grader.rubric import Rubric
from grader.runner import CheckRun, Runner
from grader.sandbox.base import Sandbox
from grader.settings import Settings
from grader.trusted import Expectations, Prefetched, ReferenceExpectations


@dataclass(frozen=True)
class GradeRequest:
    """What to grade, and how."""

    source: Path
    steps: tuple[int, ...] = STEPS
    seed: int | None = None
    name: str | None = None


def new_seed() -> int:
    return secrets.randbelow(2**31)


def grade_submission(request: GradeRequest, *, exercise: Exercise, rubric: Rubric,
                     sandbox: Sandbox, settings: Settings,
                     expectations: Expectations | None = None) -> GradeResult:
    """Grade ``request.source`` and return the result (never raises for student faults).

    ``expectations`` defaults to running the reference solution; a student's ``micrograde
    check`` passes an answer key instead.
    """
    expect = expectations or ReferenceExpectations(exercise)
    started, clock = datetime.now(UTC), time.monotonic()
    seed = request.seed if request.seed is not None else new_seed()
    name = request.name or request.source.name
    base = {"submission": name, "seed": seed, "sandbox": sandbox.name,
            "started_at": started.isoformat(timespec="seconds"),
            "grader_version": __version__}
    with tempfile.TemporaryDirectory(prefix="micrograde-intake-") as scratch:
        workspace = Path(scratch) / "workspace"
        workspace.mkdir()
        try:
            manifest = prepare_submission(request.source, workspace)
        except SubmissionRejected as rejected:
            return GradeResult(status="rejected", message=rejected.reason,
                               duration=time.monotonic() - clock, **base)  # type: ignore[arg-type]
        checks = exercise.steps_checks(request.steps)
        expect = Prefetched(expect, checks, seed)
        runs = Runner(sandbox, exercise, settings).run(workspace, dict(manifest.classes),
                                                       checks, seed)
    steps = tuple(_step_result(step, request.steps, exercise, rubric, runs, seed, expect)
                  for step in exercise.steps)
    result = GradeResult(status="graded", message="", steps=steps,
                         duration=time.monotonic() - clock, notes=tuple(manifest.notes),
                         shape=manifest.shape, **base)  # type: ignore[arg-type]
    return _with_message(result)


def _step_result(step: int, requested: tuple[int, ...], exercise: Exercise, rubric: Rubric,
                 runs: dict[str, CheckRun], seed: int, expect: Expectations) -> StepResult:
    title = rubric.steps[step].title or STEP_TITLES[step]
    checks = exercise.steps_checks((step,))
    if step not in requested:
        return StepResult(step, title, tuple(_not_graded(c, rubric) for c in checks), False)
    return StepResult(step, title, tuple(_check_result(c, rubric, runs[c.id], seed, expect)
                                         for c in checks))


def _check_result(check: Check, rubric: Rubric, run: CheckRun, seed: int,
                  expect: Expectations) -> CheckResult:
    entry = rubric.entry(check.step, check.id)
    # The expected side is computed even for a check that crashed, so feedback can show the
    # inputs; the student's recorded data is replayed only from a run that finished.
    reference = expect.expected(check, run.givens if run.state == "finished" else None, seed)
    verdict = judge(run, reference)
    return CheckResult(
        id=check.id, title=entry.title, status=verdict.status,
        score=entry.points if verdict.status == "passed" else 0.0, max_score=entry.points,
        visibility=entry.visibility, feedback=feedback_text(verdict), hint=entry.hint,
        blame=verdict.blame, duration=run.duration, details=verdict.details)


def _not_graded(check: Check, rubric: Rubric) -> CheckResult:
    entry = rubric.entry(check.step, check.id)
    return CheckResult(id=check.id, title=entry.title, status="not_run", score=0.0,
                       max_score=entry.points, visibility=entry.visibility,
                       feedback="This step was not graded in this run.", hint=entry.hint)


def _with_message(result: GradeResult) -> GradeResult:
    graded = [c for s in result.steps if s.graded for c in s.checks]
    passed = sum(c.status == "passed" for c in graded)
    message = f"{passed} of {len(graded)} checks passed"
    errors = {c.feedback for c in graded if c.status == "error"}
    if graded and passed == 0 and len(errors) == 1:
        message += f"; every check failed the same way: {errors.pop()}"
    return replace(result, message=message)
