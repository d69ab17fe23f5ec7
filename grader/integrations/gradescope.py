"""Grade inside Gradescope's autograder container and write its ``results.json``.

Gradescope runs ``run_autograder`` (see ``gradescope_export``) with the student's files
in /autograder/submission and reads /autograder/results/results.json. The grading is
micrograde's own, with the ``local`` backend: ``micrograde gradescope`` runs as root, and
student code as the unprivileged user the export's settings name (``setup.sh`` creates it
and locks the secrets away from it); only the output is translated:

    micrograde                        Gradescope
    a check                           a test: "Step k (title): check title", number "k.i"
    check visibility "visible"        "visible": title, score and the feedback
    check visibility "hidden"         "after_published", output "hidden check: passed/failed"
    a rejected submission             one visible test saying why, score 0
    the grader itself failing         one visible test saying so, the traceback hidden

Why ``after_published`` for hidden checks: ``hidden`` tests are never shown to students and
Gradescope expects them to carry no points, but ours do; ``after_published`` keeps them (and
the total, which Gradescope then withholds too) out of sight until staff publish grades, and
even then only the title and passed/failed are shown, never the feedback.

``results.json`` is written whatever happens (Gradescope's first best practice): a crash of
the grader still produces one that says so.
"""

from __future__ import annotations

import time
import traceback
from pathlib import Path
from typing import Any

from grader import __version__
from grader.files import dump_json, write_atomic
from grader.models import CheckResult, GradeResult, StepResult, points

SUBMISSION_DIR = Path("/autograder/submission")
RESULTS_PATH = Path("/autograder/results/results.json")
MAX_NOTES = 5
CRASH_MESSAGE = (
    "The autograder itself failed while grading this submission. This is not a "
    "problem with your code: please tell the course staff (they can see the "
    "details), then resubmit once they say it is fixed."
)


def run_gradescope(
    submission: Path = SUBMISSION_DIR,
    results: Path = RESULTS_PATH,
    seed: int | None = None,
    settings_path: Path | None = None,
) -> int:
    """Grade ``submission`` and write ``results``; 0 when graded or rejected, 3 on a crash."""
    clock = time.monotonic()
    try:
        payload, code = dump_json(_grade(submission, seed, settings_path)), 0
    except Exception:  # noqa: BLE001 - whatever broke, Gradescope must get a results.json
        # Escaped: the traceback can quote what broke it (a file name that is not UTF-8).
        details = traceback.format_exc().encode("utf-8", "backslashreplace").decode()
        print(details, flush=True)  # stdout is for staff only (stdout_visibility: hidden)
        payload, code = dump_json(crash_results(details, time.monotonic() - clock)), 3
    write_atomic(results, payload)
    return code


def _grade(submission: Path, seed: int | None, settings_path: Path | None) -> dict[str, Any]:
    # Imported here, inside the guard: a broken exercise or rubric still gets reported.
    from grader.exercise import load_exercise
    from grader.pipeline import GradeRequest, grade_submission
    from grader.rubric import load_rubric
    from grader.sandbox.select import local_sandbox, sandbox_warning
    from grader.settings import load_settings
    from grader.trusted import reference_classes

    exercise, settings = load_exercise(), load_settings(settings_path)
    rubric = load_rubric(exercise)
    # Load the reference before any student code runs: should that code run as the
    # grader's own user (no sandbox user configured), it could rewrite the files first.
    reference_classes(exercise)
    # With a sandbox user this refuses to grade (a crash result staff can read) unless the
    # user provably cannot read the reference, the rubrics or the staged tests.
    sandbox = local_sandbox(exercise, settings)
    print(f"micrograde {__version__}: {sandbox_warning(sandbox)}", flush=True)
    try:
        result = grade_submission(
            GradeRequest(submission, seed=seed, name="submission"),
            exercise=exercise,
            rubric=rubric,
            sandbox=sandbox,
            settings=settings,
        )
    finally:
        sandbox.close()
    total = sum(e.points for s in rubric.steps.values() for e in s.entries.values())
    return gradescope_results(result, total)


def gradescope_results(result: GradeResult, total: float) -> dict[str, Any]:
    """Gradescope's results.json for one grading (``total``: the points of a rejected one)."""
    base = {
        "execution_time": round(result.duration),
        "output_format": "text",
        "test_output_format": "text",
        "stdout_visibility": "hidden",
        "extra_data": {
            "seed": result.seed,
            "grader_version": result.grader_version,
            "sandbox": result.sandbox,
            "status": result.status,
        },
    }
    if result.status != "graded":
        return {
            **base,
            "score": 0.0,
            "output": f"Your submission could not be graded: {result.message}",
            "tests": [_rejected_test(result, total)],
        }
    tests = [
        _test(step, index, check)
        for step in result.steps
        if step.graded
        for index, check in enumerate(step.checks, start=1)
    ]
    return {**base, "score": result.score, "output": _summary(result), "tests": tests}


def _test(step: StepResult, index: int, check: CheckResult) -> dict[str, Any]:
    passed = check.status == "passed"
    hidden = check.visibility == "hidden"
    if hidden:
        output = f"hidden check: {'passed' if passed else 'failed'}"
    else:
        output = check.feedback
        if not passed and check.hint:
            output += f"\n\nHint: {check.hint}"
    return {
        "name": f"Step {step.step} ({step.title}): {check.title}",
        "number": f"{step.step}.{index}",
        "score": check.score,
        "max_score": check.max_score,
        "status": "passed" if passed else "failed",
        "output": output,
        "tags": [f"step {step.step}"],
        "visibility": "after_published" if hidden else "visible",
    }


def _rejected_test(result: GradeResult, total: float) -> dict[str, Any]:
    return {
        "name": "Your submission could not be graded",
        "score": 0.0,
        "max_score": total,
        "status": "failed",
        "visibility": "visible",
        "output": f"{result.message}\n\nNone of your code was run. Fix what this says "
        "and submit again.",
    }


def _summary(result: GradeResult) -> str:
    hidden = any(c.visibility == "hidden" for s in result.steps for c in s.checks)
    lines = [f"{points(result.score)} of {points(result.max_score)} points: {result.message}."]
    if hidden:
        lines.append(
            "Hidden checks show only their title and passed/failed, once grades are published."
        )
    if result.notes:
        lines.append("Notes on how your submission was read:")
        lines += [f"- {note}" for note in result.notes[:MAX_NOTES]]
    lines.append(f"(micrograde {result.grader_version}, seed {result.seed})")
    return "\n".join(lines)


def crash_results(details: str, duration: float) -> dict[str, Any]:
    """results.json for a grader that failed: a visible notice, the traceback hidden."""
    return {
        "score": 0.0,
        "execution_time": round(duration),
        "output": CRASH_MESSAGE,
        "output_format": "text",
        "test_output_format": "text",
        "stdout_visibility": "hidden",
        "extra_data": {"grader_version": __version__, "status": "grader_error"},
        "tests": [
            {
                "name": "Autograder error",
                "score": 0.0,
                "max_score": 0.0,
                "status": "failed",
                "output": CRASH_MESSAGE,
                "visibility": "visible",
            },
            {
                "name": "Autograder error details (staff only)",
                "score": 0.0,
                "max_score": 0.0,
                "status": "failed",
                "output": details[-20_000:],
                "visibility": "hidden",
            },
        ],
    }
