"""Run staged checks against trusted solutions in this process, without a sandbox.

Only for the project's own tests, on code we wrote (references, skeletons, examples): it
gives the sandbox's side of a comparison (RECORD mode) in milliseconds, so properties can
be checked over hundreds of seeds. Grading real submissions always goes through a sandbox.
"""

from __future__ import annotations

from typing import Any

from grader.exercise import Check, Exercise
from grader.harness.errorinfo import describe_exception
from grader.harness.observe import Mode, Observer
from grader.harness.seeding import check_rng
from grader.judge import Verdict, judge
from grader.trusted import ReferenceRun, run_reference
from grader.wire import CheckRun


def record(check: Check, classes: Any, seed: int) -> CheckRun:
    """The sandbox side of one check, as the runner would have collected it."""
    run = CheckRun(check)
    observer = Observer(check.id, Mode.RECORD, sink=run.observations.append)
    fixtures = {"rng": check_rng(seed, check.id), "observe": observer}
    end: dict[str, Any] = {
        "kind": "end",
        "check": check.id,
        "outcome": "passed",
        "duration": 0.0,
        "stdout": "",
        "stderr": "",
    }
    try:
        check.function(
            **{
                name: fixtures[name] if name in fixtures else getattr(classes, name)
                for name in check.fixtures
            }
        )
    except Exception as exc:  # noqa: BLE001 - whatever the code under test raises
        end.update(outcome="failed", error=describe_exception(exc, "/nonexistent"))
    for observation in run.observations:
        observation.update(kind="obs", check=check.id)
    run.state, run.end = "finished", end
    return run


_expected: dict[tuple[str, int], ReferenceRun] = {}


def verdict(exercise: Exercise, check: Check, classes: Any, seed: int) -> Verdict:
    """Judge ``classes`` on one check; reference runs that replay nothing are cached."""
    run = record(check, classes, seed)
    givens = run.givens
    if givens:
        return judge(run, run_reference(exercise, check, seed, givens))
    key = (check.id, seed)
    if key not in _expected:
        _expected[key] = run_reference(exercise, check, seed)
    return judge(run, _expected[key])
