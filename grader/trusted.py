"""Run staged checks against the reference solution, in the grader's own process.

This is the trusted half of every comparison: the same test function the sandbox ran
against the student's code runs here against the reference, with the same seed. Its
observations are the expected values; where the test asks for data the student's run
recorded (``observe.given``), it gets exactly what the student's run recorded.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from grader.errors import ReferenceSolutionError
from grader.exercise import Check, Exercise, load_solution
from grader.harness.fixtures import check_rng
from grader.harness.observe import MissingGiven, Mode, Observer


@dataclass(frozen=True)
class ReferenceRun:
    """What the reference observed for one check (or which given it was missing)."""

    records: tuple[dict[str, Any], ...]
    missing_given: str | None = None


_lock = threading.Lock()


@cache
def _solution(package_dir: Path) -> Any:
    return load_solution(package_dir)


def reference_classes(exercise: Exercise) -> Any:
    with _lock:
        return _solution(exercise.reference_dir(5) / "micrograd")


def run_reference(exercise: Exercise, check: Check, seed: int,
                  givens: Mapping[str, Any] | None = None) -> ReferenceRun:
    """Run ``check`` against the reference with ``seed``; raise if the reference fails."""
    classes = reference_classes(exercise)
    observer = Observer(check.id, Mode.REFERENCE, givens=givens)
    fixtures = {"rng": check_rng(seed, check.id), "observe": observer}
    kwargs = {name: fixtures[name] if name in fixtures else getattr(classes, name)
              for name in check.fixtures}
    try:
        check.function(**kwargs)
    except MissingGiven as missing:
        return ReferenceRun(tuple(observer.records), missing_given=str(missing))
    except Exception as exc:
        raise ReferenceSolutionError(
            f"the reference solution failed check {check.id} with seed {seed}: "
            f"{type(exc).__name__}: {exc}") from exc
    return ReferenceRun(tuple(observer.records))
