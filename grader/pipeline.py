"""Grade one submission: intake, sandbox run, reference run, judgement, scores.

    source --intake--> workspace + manifest --runner/sandbox--> untrusted records (wire)
           --trusted reference run + judge--> verdicts --scoring (rubric)--> GradeResult

A student's failure anywhere becomes part of the result (a rejected submission, a failed
or timed-out check); only the instructor's or the machine's failures raise.
"""

from __future__ import annotations

import secrets
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from grader import __version__
from grader.errors import SubmissionRejected
from grader.exercise import STEPS, Check, Exercise
from grader.fairness.diagnosis import diagnose
from grader.fairness.verdicts import Judged, judge_all
from grader.intake import prepare_submission
from grader.intake.explain import CheckError, diagnosis_sentence, explain_toplevel
from grader.intake.layout import imported_names
from grader.intake.model import CLASS_NAMES
from grader.models import GradeResult, StepResult, fit_details
from grader.rubric import Rubric
from grader.runner import Runner
from grader.sandbox.base import Sandbox
from grader.sandbox.workspace import check_workspace
from grader.scoring import not_graded, scored_check, step_result, summary_message
from grader.settings import Settings
from grader.trusted import Expectations, Prefetched, ReferenceExpectations, ReferenceRun
from grader.wire import CheckRun


@dataclass(frozen=True)
class GradeRequest:
    """What to grade, and how."""

    source: Path
    steps: tuple[int, ...] = STEPS
    seed: int | None = None
    name: str | None = None


def new_seed() -> int:
    return secrets.randbelow(2**31)


def grade_submission(
    request: GradeRequest,
    *,
    exercise: Exercise,
    rubric: Rubric,
    sandbox: Sandbox,
    settings: Settings,
    expectations: Expectations | None = None,
) -> GradeResult:
    """Grade ``request.source`` and return the result (never raises for student faults).

    ``expectations`` defaults to running the reference solution; a student's ``micrograde
    check`` passes an answer key instead.
    """
    expect = expectations or ReferenceExpectations(exercise)
    started, clock = datetime.now(UTC), time.monotonic()
    seed = request.seed if request.seed is not None else new_seed()
    name = request.name or request.source.name
    base: dict[str, Any] = {
        "submission": name,
        "seed": seed,
        "sandbox": sandbox.name,
        "started_at": started.isoformat(timespec="seconds"),
        "grader_version": __version__,
    }
    with tempfile.TemporaryDirectory(prefix="micrograde-intake-") as scratch:
        workspace = Path(scratch) / "workspace"
        workspace.mkdir()
        try:
            manifest = prepare_submission(request.source, workspace)
            check_workspace(workspace, settings.limits)  # what any sandbox takes in
        except SubmissionRejected as rejected:
            return GradeResult(
                status="rejected",
                cause="submission",
                message=rejected.reason,
                duration=time.monotonic() - clock,
                **base,
            )
        checks = exercise.steps_checks(request.steps)
        expect = Prefetched(expect, checks, seed)
        hidden = rubric.hidden()
        stepwise = frozenset(manifest.toplevel)
        runner = Runner(sandbox, exercise, settings, hidden=hidden, stepwise=stepwise)
        classes = dict(manifest.classes)
        runs = runner.run(workspace, classes, checks, seed)
        stuck = dict(runner.guard)  # the main run's: a counterfactual run's never shows
        imported = imported_names(path.read_bytes() for path in workspace.rglob("*.py"))

        def rerun(
            chosen: tuple[Check, ...], grafts: dict[str, dict[str, dict[str, str]]]
        ) -> dict[str, CheckRun]:
            again = Runner(
                sandbox, exercise, settings, hidden=hidden, stepwise=stepwise, guard=runner.guard
            )
            return again.run(workspace, classes, chosen, seed, grafts)

        def expected(check: Check, run: CheckRun) -> ReferenceRun:
            # The expected side is computed even for a check that crashed, so feedback can
            # show the inputs; the student's data is replayed only from a run that finished.
            return expect.expected(check, run.givens if run.state == "finished" else None, seed)

        judged = judge_all(
            checks, runs, expected, exercise, rubric, rerun if expectations is None else None
        )
    explained = explain_toplevel(
        manifest.toplevel,
        runner.toplevel_events,
        runner.cut,
        _check_errors(runs),
        imported=imported,
        standins=settings.sandbox.standins,
        import_seconds=settings.time.import_seconds,
    )
    steps = tuple(
        _step(step, request.steps, exercise, rubric, runs, judged) for step in exercise.steps
    )
    steps, cut = fit_details(steps)
    cut += sum(run.cut_bytes for run in runs.values())
    absent = {
        c.id: [name for name in c.fixtures if name in CLASS_NAMES and name not in classes]
        for c in checks
    }
    diagnosis = diagnose(explained.diagnosis, steps, manifest.unparsable, absent, stuck)
    notes = tuple(manifest.notes)
    if diagnosis is not None and diagnosis.kind == "syntax_error":  # said once, there
        notes = tuple(n for n in notes if n != manifest.parse_notes.get(diagnosis.file or ""))
    return GradeResult(
        status="graded",
        message=summary_message(steps)
        + (f"; {diagnosis_sentence(diagnosis)}" if diagnosis else ""),
        steps=steps,
        duration=time.monotonic() - clock,
        notes=notes + explained.notes + _cut_note(cut),
        staff_notes=_staff_notes(runner.suspicions, runs),
        shape=manifest.shape,
        diagnosis=diagnosis,
        **base,
    )


def _check_errors(runs: dict[str, CheckRun]) -> list[CheckError]:
    """The exceptions that failed checks raised, as the sandbox described them."""
    errors = []
    for run in runs.values():
        error = (run.end or {}).get("error")
        if isinstance(error, dict):
            cause = error.get("cause")
            cause = cause if isinstance(cause, dict) else {}
            errors.append(
                CheckError(
                    str(error.get("type", "")),
                    str(error.get("message", "")),
                    str(cause.get("type", "")),
                    str(cause.get("message", "")),
                )
            )
    return errors


def _staff_notes(suspicions: list[str], runs: dict[str, CheckRun]) -> tuple[str, ...]:
    """Evidence that the submission tampered with the grader: for staff, never for students."""
    notes = [f"during check {cid}: {what}" for cid, run in runs.items() for what in run.tampering]
    return tuple(notes + suspicions)[:40]


def _cut_note(cut: int) -> tuple[str, ...]:
    if not cut:
        return ()
    return (
        f"your code printed or recorded more than the grader keeps: {cut:,} bytes of it were "
        "left out of these results (a check whose observations were left out says so)",
    )


def _step(
    step: int,
    requested: tuple[int, ...],
    exercise: Exercise,
    rubric: Rubric,
    runs: dict[str, CheckRun],
    judged: dict[str, Judged],
) -> StepResult:
    checks = exercise.steps_checks((step,))
    if step not in requested:
        return step_result(step, rubric, (not_graded(c, rubric) for c in checks), False)
    return step_result(
        step, rubric, (scored_check(c, rubric, judged[c.id], runs[c.id].duration) for c in checks)
    )
