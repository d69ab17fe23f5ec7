"""The answer key: what the reference observed on the public checks, for one public seed.

A hand-out ships it as ``answer_key.json`` so that students can check their work without the
reference solution: at home the harness's ``KEY`` mode compares each observation with it
(``harness/home.py``), and ``micrograde check`` judges with ``AnswerKeyExpectations``
instead of running the reference. Its shape::

    {"schema": 1, "seed": 20251, "checks": {"add_two_values": [<reference records>], ...}}

Only visible checks are keyed. A check that calls ``observe.given`` is keyed from a run in
which the reference replays its *own* data. What it observes from the student's reported
data is marked ``replayed`` by the staged test: the key leaves it out and the check at home
skips it (it is judged at grading only). Its properties (``expect``) are checked at home
against the student's own data, which is trustworthy on the student's own machine. A check
that observes an unmarked value *after* a ``given`` is left out (that value may depend on
the student's data; tests/test_answer_key.py proves the keyed values do not). The key keeps
no ``given``, ``expect`` or ``item`` records (they carry the reference's random draws, or
nothing a comparison needs).
Graded runs draw a fresh seed, so knowing the key's values helps nobody in a real grading.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from grader.errors import ConfigError
from grader.exercise import Check, Exercise
from grader.files import write_atomic
from grader.rubric import Rubric
from grader.trusted import ReferenceRun, run_reference

# The same names as the harness's home mode, which reads the key at home (kept apart so
# that importing this module does not import pytest; tests/test_answer_key.py ties them).
KEY_FILE = "answer_key.json"
KEY_SCHEMA = 1
# The public seed: fixed (and documented in the hand-out's README) so that a regenerated key
# diffs cleanly and students' runs at home are reproducible.
PUBLIC_SEED = 20251
# Floats are kept to 10 significant digits. The reference's last bits can change from run to
# run (a node's gradient contributions add up in set order, which follows memory addresses)
# and from one platform's libm to another's. The tightest tolerance on a value that rounding
# can change (relative 1e-9) is still 20 times the rounding; tests/test_answer_key.py checks
# every keyed value against a tenth of its own tolerance.
FLOAT_DIGITS = 10
NOT_IN_KEY = "answer-key entry (this check is run by the grader only)"


def build_answer_key(
    exercise: Exercise,
    rubric: Rubric,
    seed: int = PUBLIC_SEED,
    *,
    steps: tuple[int, ...] | None = None,
    hidden: bool = False,
) -> dict[str, Any]:
    """The key for ``steps`` (default: all the exercise holds), public checks only.

    ``hidden=True`` keys hidden checks too: for developers' own runs, never for a hand-out.
    """
    checks: dict[str, list[dict[str, Any]]] = {}
    for check in exercise.steps_checks(steps or exercise.steps):
        if not hidden and rubric.entry(check.step, check.id).visibility != "visible":
            continue
        run = run_reference(exercise, check, seed, None, own_givens=True)
        kept = [_stable(keyed) for record in run.records if (keyed := key_record(record))]
        # Nothing left to compare: every value depends on the student's data.
        if kept and not _replays_into_values(run.records):
            checks[check.id] = kept
    return {"schema": KEY_SCHEMA, "seed": seed, "checks": checks}


def key_record(record: dict[str, Any]) -> dict[str, Any] | None:
    """What the key holds of one reference record, or None. Never the audit of a graph:
    the grader audits the student's nodes, not the reference's, and the reference's node
    numbering follows memory addresses (it would differ on every rebuild)."""
    if record["role"] in ("given", "expect", "item") or record.get("replayed"):
        return None
    kept = {k: v for k, v in record.items() if k != "audit"}
    if type(kept.get("value")) is dict and "audit" in kept["value"]:
        kept["value"] = {k: v for k, v in kept["value"].items() if k != "audit"}
    return kept


def _replays_into_values(records: tuple[dict[str, Any], ...]) -> bool:
    """True when an unmarked value is observed after a ``given``: it may depend on the
    student's data."""
    seen_given = False
    for record in records:
        seen_given = seen_given or record["role"] == "given"
        if seen_given and record["role"] in ("value", "graph") and not record.get("replayed"):
            return True
    return False


def _stable(value: Any) -> Any:
    """``value`` with every float rounded to ``FLOAT_DIGITS`` significant digits."""
    if type(value) is float:
        return float(f"{value:.{FLOAT_DIGITS}g}")
    if type(value) is list:
        return [_stable(item) for item in value]
    if type(value) is dict:
        return {key: _stable(item) for key, item in value.items()}
    return value


def answer_key_json(key: Mapping[str, Any]) -> bytes:
    """The key's file content: sorted keys and one item per line, so regenerations diff."""
    text = json.dumps(key, sort_keys=True, indent=1, ensure_ascii=False, allow_nan=False)
    return (text + "\n").encode("utf-8")


def write_answer_key(key: Mapping[str, Any], folder: Path) -> Path:
    path = folder / KEY_FILE
    write_atomic(path, answer_key_json(key))
    return path


def read_answer_key(path: Path) -> dict[str, Any]:
    """Read an answer key; a missing or damaged one is a ``ConfigError`` naming the file."""
    from grader.harness.home import KeyFileError, load_key  # the same checks as at home

    try:
        return load_key(path)
    except KeyFileError as exc:
        raise ConfigError(str(exc)) from None


@dataclass(frozen=True)
class AnswerKeyExpectations:
    """Expected observations read from an answer key (a student's ``micrograde check``)."""

    key: Mapping[str, Any]

    @property
    def checks(self) -> frozenset[str]:
        """The ids of the checks the key can answer."""
        return frozenset(self.key["checks"])

    def expected(self, check: Check, givens: Mapping[str, Any] | None, seed: int) -> ReferenceRun:
        if seed != self.key["seed"]:
            raise ConfigError(
                f"the answer key holds what the reference computed with seed "
                f"{self.key['seed']}, so it cannot judge a run with seed {seed}"
            )
        records = self.key["checks"].get(check.id)
        if records is None:
            return ReferenceRun((), missing_given=NOT_IN_KEY)
        return ReferenceRun(tuple(records), trust_expects=True)


def restrict_to_key(
    exercise: Exercise, rubric: Rubric, key: AnswerKeyExpectations
) -> tuple[Exercise, Rubric]:
    """The exercise and rubric cut down to the checks ``key`` answers (the rest never run)."""
    keyed = key.checks
    exercise = replace(exercise, checks=tuple(c for c in exercise.checks if c.id in keyed))
    steps = {
        step: replace(
            found, entries={cid: entry for cid, entry in found.entries.items() if cid in keyed}
        )
        for step, found in rubric.steps.items()
    }
    return exercise, Rubric(steps)
