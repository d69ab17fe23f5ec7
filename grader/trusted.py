"""Run staged checks against the reference solution, in the grader's own process.

This is the trusted half of every comparison: the same test function the sandbox ran
against the student's code runs here against the reference, with the same seed. Its
observations are the expected values; where the test asks for data the student's run
recorded (``observe.given``), it gets exactly what the student's run recorded.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, Protocol

from grader.errors import ReferenceSolutionError
from grader.exercise import Check, Exercise, load_solution
from grader.harness.observe import MissingGiven, Mode, Observer
from grader.harness.seeding import check_rng


@dataclass(frozen=True)
class ReferenceRun:
    """What the reference observed for one check (or which given it was missing)."""

    records: tuple[dict[str, Any], ...]
    missing_given: str | None = None
    replay_error: str | None = None
    # True when the records come from an answer key rather than a trusted run: the
    # student's own ``expect`` results are then believed (``micrograde check``, at home).
    trust_expects: bool = False


class Expectations(Protocol):
    """Where expected observations come from: the reference (graders) or an answer key."""

    def expected(
        self, check: Check, givens: Mapping[str, Any] | None, seed: int
    ) -> ReferenceRun: ...


@dataclass(frozen=True)
class ReferenceExpectations:
    """Expected observations computed by running the reference solution (trusted host)."""

    exercise: Exercise

    def expected(self, check: Check, givens: Mapping[str, Any] | None, seed: int) -> ReferenceRun:
        return run_reference(self.exercise, check, seed, givens)


class Prefetched:
    """Computes expected observations on a thread while the sandbox runs.

    Most checks replay nothing of the student's, so their expected observations depend on
    the seed alone and can be computed on the host's other core while the submission runs.
    A check that does replay the student's data (``given``) is computed again afterwards.
    """

    def __init__(self, inner: Expectations, checks: tuple[Check, ...], seed: int) -> None:
        self._inner, self._seed = inner, seed
        self._runs: dict[str, ReferenceRun] = {}
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._compute, args=(checks,), daemon=True)
        self._thread.start()

    def _compute(self, checks: tuple[Check, ...]) -> None:
        try:
            for check in checks:
                self._runs[check.id] = self._inner.expected(check, None, self._seed)
        except BaseException as exc:  # noqa: BLE001 - re-raised in the caller's thread
            self._error = exc

    def expected(self, check: Check, givens: Mapping[str, Any] | None, seed: int) -> ReferenceRun:
        if givens or seed != self._seed:
            return self._inner.expected(check, givens, seed)
        self._thread.join()
        if self._error is not None:
            raise self._error
        if check.id not in self._runs:
            return self._inner.expected(check, givens, seed)
        return self._runs[check.id]


_lock = threading.Lock()


@cache
def _solution(package_dir: Path) -> Any:
    return load_solution(package_dir)


def reference_classes(exercise: Exercise) -> Any:
    with _lock:
        return _solution(exercise.reference_dir(5) / "micrograd")


# Expected observations that depend on the seed alone, kept across submissions: a batch
# grades every student with one seed, so each check's reference run happens once per class
# (except for checks that replay the student's own data). Bounded: a few seeds' worth.
_CACHE_SIZE = 1_000
_cache: OrderedDict[tuple[Path, str, int], ReferenceRun] = OrderedDict()
_cache_lock = threading.Lock()


def run_reference(
    exercise: Exercise,
    check: Check,
    seed: int,
    givens: Mapping[str, Any] | None = None,
    *,
    own_givens: bool = False,
) -> ReferenceRun:
    """Run ``check`` against the reference with ``seed``; raise if the reference fails.

    ``own_givens`` makes ``observe.given`` return the reference's own data (for answer
    keys) instead of the student's.
    """
    if givens or own_givens:
        return _run_reference(exercise, check, seed, givens, own_givens)
    key = (exercise.root, check.id, seed)
    with _cache_lock:
        if key in _cache:
            _cache.move_to_end(key)
            return _cache[key]
    run = _run_reference(exercise, check, seed, None, False)
    with _cache_lock:
        _cache[key] = run
        while len(_cache) > _CACHE_SIZE:
            _cache.popitem(last=False)
    return run


def _run_reference(
    exercise: Exercise, check: Check, seed: int, givens: Mapping[str, Any] | None, own_givens: bool
) -> ReferenceRun:
    classes = reference_classes(exercise)
    observer = Observer(check.id, Mode.REFERENCE, givens=givens, own_givens=own_givens)
    fixtures = {"rng": check_rng(seed, check.id), "observe": observer}
    kwargs = {
        name: fixtures[name] if name in fixtures else getattr(classes, name)
        for name in check.fixtures
    }
    try:
        check.function(**kwargs)
    except MissingGiven as missing:
        return ReferenceRun(tuple(observer.records), missing_given=str(missing))
    except Exception as exc:
        if givens:  # the student's recorded data broke the replay: their fault, not ours
            return ReferenceRun(
                tuple(observer.records), replay_error=f"{type(exc).__name__}: {exc}"[:300]
            )
        raise ReferenceSolutionError(
            f"the reference solution failed check {check.id} with seed {seed}: "
            f"{type(exc).__name__}: {exc}"
        ) from exc
    return ReferenceRun(tuple(observer.records))
