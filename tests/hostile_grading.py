"""Grading hostile submissions on the Docker backend, for test_hostile.py.

``hostile`` writes the reference solution with an attack appended to its value.py;
``grade_alongside`` grades it while a correct submission is graded over and over in
another thread (each of which must keep full marks); ``assert_only_broken`` checks that
the attack costs points once: only checks owning the attacked method are broken, with a
clear message (the rest, which only called it, pass through a counterfactual run).
"""

from __future__ import annotations

import shutil
import textwrap
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from functools import cache
from pathlib import Path
from typing import Any

from grader.exercise import load_exercise, load_solution
from grader.fairness.contract import ITEMS
from grader.harness.observe import Mode, Observer
from grader.harness.seeding import check_rng
from grader.models import CheckResult, GradeResult
from grader.pipeline import GradeRequest, grade_submission
from grader.rubric import load_rubric
from grader.sandbox.docker import DockerSandbox
from grader.settings import Settings, load_settings

REPO = Path(__file__).resolve().parents[1]
REFERENCE = REPO / "reference" / "step_5" / "micrograd"
HONEST = REPO / "examples" / "complete" / "package"
SEED = 1234
GRACE = 15.0  # seconds beyond a limit: container start-up, restarts, the host's judging


def tight(**time_budget: float) -> Settings:
    base = load_settings()
    budget = {
        "check_seconds": 5.0,
        "import_seconds": 5.0,
        "step_seconds": 20.0,
        "startup_seconds": 30.0,
        "total_seconds": 90.0,
        **time_budget,
    }
    return replace(base, time=replace(base.time, **budget))  # type: ignore[arg-type]


def hostile(tmp_path: Path, attack: str, name: str = "hostile") -> Path:
    """The reference solution with ``attack`` appended to micrograd/value.py."""
    root = tmp_path / name
    shutil.copytree(REFERENCE, root / "micrograd")
    value = root / "micrograd" / "value.py"
    value.write_text(value.read_text() + "\n\n# ---- the attack ----\n" + textwrap.dedent(attack))
    return root


def grade(sandbox: DockerSandbox, source: Path, settings: Settings) -> GradeResult:
    exercise = load_exercise()
    return grade_submission(
        GradeRequest(source, seed=SEED),
        exercise=exercise,
        rubric=load_rubric(exercise),
        sandbox=sandbox,
        settings=settings,
    )


@dataclass(frozen=True)
class Graded:
    result: GradeResult
    seconds: float
    honest: tuple[GradeResult, ...]

    @property
    def checks(self) -> dict[str, CheckResult]:
        return {c.id: c for s in self.result.steps for c in s.checks}

    @property
    def broken(self) -> dict[str, CheckResult]:
        return {i: c for i, c in self.checks.items() if c.status != "passed"}


# Honest gradings beside one attack: enough to overlap its start, middle and end on a
# two-core machine, not so many that they slow every other test running beside it.
HONEST_RUNS = 3


def grade_alongside(sandbox: DockerSandbox, source: Path, settings: Settings) -> Graded:
    """Grade ``source`` while a correct submission is graded again and again beside it (up
    to ``HONEST_RUNS`` times, while the attack lasts)."""
    stop = threading.Event()

    def honest_loop() -> list[GradeResult]:
        results = [grade(sandbox, HONEST, load_settings())]
        while len(results) < HONEST_RUNS and not stop.wait(2.0):  # spread over the attack
            results.append(grade(sandbox, HONEST, load_settings()))
        return results

    with ThreadPoolExecutor(1) as pool:
        honest = pool.submit(honest_loop)
        started = time.monotonic()
        try:
            result = grade(sandbox, source, settings)
        finally:
            seconds = time.monotonic() - started
            stop.set()
        graded = Graded(result, seconds, tuple(honest.result()))
    for other in graded.honest:
        assert other.score == other.max_score == 100, other.message
    return graded


class _Tripped(Exception):
    pass


@cache
def checks_calling(method: str) -> tuple[frozenset[str], frozenset[str]]:
    """(checks whose reference run calls ``Value.<method>``, checks we cannot tell for).

    Found by running every check against a private copy of the reference whose method
    raises; a check that needs data from the student's run cannot run here ("unknown")."""
    exercise = load_exercise()
    classes = load_solution(REFERENCE)

    def tripwire(*args: Any, **kwargs: Any) -> Any:
        raise _Tripped

    setattr(classes.Value, method, tripwire)
    used, unknown = set(), set()
    for check in exercise.checks:
        fixtures = {"rng": check_rng(SEED, check.id), "observe": Observer(check.id, Mode.REFERENCE)}
        kwargs = {n: fixtures[n] if n in fixtures else getattr(classes, n) for n in check.fixtures}
        try:
            check.function(**kwargs)
        except _Tripped:
            used.add(check.id)
        except Exception:  # noqa: BLE001 - e.g. a given only the student's run has
            unknown.add(check.id)
    return frozenset(used), frozenset(unknown)


@cache
def owners_of(method: str) -> frozenset[str]:
    """The checks that own an item of ``Value.<method>`` (its value, label, gradient...)."""
    rubric = load_rubric(load_exercise())
    return frozenset(
        cid
        for item, (_, cid) in rubric.owners().items()
        if item in ITEMS and ITEMS[item].method == f"Value.{method}"
    )


def assert_only_broken(graded: Graded, method: str, statuses: set[str], *words: str) -> None:
    """The attack on ``Value.<method>`` costs points once, where the method is owned: only
    checks that own an item of it are broken (every other check that calls it passed,
    through a counterfactual run with it replaced); the broken ones say what happened
    (``statuses``, or "error" for a method refused after it looped or crashed once), and
    one of them says it in ``words``."""
    used, unknown = checks_calling(method)
    assert used, f"no check calls Value.{method}: pick another method to attack"
    owners = owners_of(method)
    broken = graded.broken
    assert broken and set(broken) <= owners | unknown, explain(graded)
    assert all(c.status in statuses | {"error"} for c in broken.values()), explain(graded)
    assert any(all(w in c.feedback for w in words) for c in broken.values()), explain(graded)


def explain(graded: Graded) -> str:
    return "\n".join(f"{c.id}: {c.status}: {c.feedback[:200]}" for c in graded.broken.values())
