"""Per-step rubrics: points, titles, hints and visibility of every check.

One TOML file per step, ``rubrics/step_<k>.toml`` (format in docs/rubrics.md)::

    step = 1
    title = "Operators"

    [checks.add_two_values]
    title = "Adding two Values"
    points = 2
    visibility = "visible"      # or "hidden": students see only passed/failed
    owns = ["Value.__add__:forward"]   # the contract items this check is charged for
    hint = "Wrap a plain number in a Value before adding."

Every check of the step's staged test file needs an entry, and every entry must name a
check that exists: both mistakes stop grading with a ``RubricError`` listing all problems.
A hand-out's exercise holds only steps 1..k, so only those steps' rubrics are read.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from grader.errors import RubricError
from grader.exercise import Exercise

Visibility = Literal["visible", "hidden"]


@dataclass(frozen=True)
class RubricEntry:
    title: str
    points: float
    hint: str
    visibility: Visibility
    owns: tuple[str, ...] = ()  # the contract items this check is charged for


@dataclass(frozen=True)
class StepRubric:
    step: int
    title: str
    entries: dict[str, RubricEntry]


@dataclass(frozen=True)
class Rubric:
    steps: dict[int, StepRubric]

    def entry(self, step: int, check_id: str) -> RubricEntry:
        return self.steps[step].entries[check_id]

    def owners(self) -> dict[str, tuple[int, str]]:
        """Contract item -> (step, check id) of the check that owns it."""
        return {
            item: (step, cid)
            for step, s in self.steps.items()
            for cid, entry in s.entries.items()
            for item in entry.owns
        }

    def hidden(self) -> frozenset[str]:
        """The ids of the hidden checks."""
        return frozenset(
            cid
            for s in self.steps.values()
            for cid, e in s.entries.items()
            if e.visibility == "hidden"
        )


def load_rubric(exercise: Exercise, directory: Path | None = None) -> Rubric:
    """Read the rubric of every step the exercise holds; check it against its checks."""
    directory = directory or exercise.rubrics_dir
    problems: list[str] = []
    steps = {}
    for step in exercise.steps:
        path = directory / f"step_{step}.toml"
        expected = {c.id for c in exercise.steps_checks((step,))}
        steps[step] = _load_step(path, step, expected, problems)
    if problems:
        raise RubricError("the rubric has problems:\n  - " + "\n  - ".join(problems))
    return Rubric(steps)


def _load_step(path: Path, step: int, expected: set[str], problems: list[str]) -> StepRubric:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        problems.append(f"{path}: cannot read it ({exc})")
        return StepRubric(step, "", {})
    if data.get("step") != step:
        problems.append(f"{path}: 'step' must be {step}")
    title = data.get("title")
    if type(title) is not str or not title.strip():
        problems.append(f"{path}: 'title' must be a non-empty string")
    raw = data.get("checks", {})
    if type(raw) is not dict:
        problems.append(f"{path}: [checks] must be a table of check ids")
        raw = {}
    for check_id in sorted(set(raw) - expected):
        problems.append(f"{path}: [checks.{check_id}] names no check of step {step}")
    for check_id in sorted(expected - set(raw)):
        problems.append(f"{path}: check {check_id} of step {step} has no [checks.{check_id}]")
    entries = {
        cid: _entry(f"{path} [checks.{cid}]", raw[cid], problems)
        for cid in sorted(expected & set(raw))
    }
    return StepRubric(step, title if type(title) is str else "", entries)


def _entry(where: str, raw: Any, problems: list[str]) -> RubricEntry:
    if type(raw) is not dict:
        problems.append(f"{where}: must be a table")
        raw = {}
    unknown = set(raw) - {"title", "points", "hint", "visibility", "owns"}
    if unknown:
        problems.append(f"{where}: unknown key(s) {sorted(unknown)}")
    title, hint = raw.get("title"), raw.get("hint")
    points, visibility = raw.get("points"), raw.get("visibility", "visible")
    if type(title) is not str or not title.strip():
        problems.append(f"{where}: 'title' must be a non-empty string")
    if type(hint) is not str or not hint.strip():
        problems.append(f"{where}: 'hint' must be a non-empty string")
    if type(points) not in (int, float) or points < 0:
        problems.append(f"{where}: 'points' must be a number >= 0")
    if visibility not in ("visible", "hidden"):
        problems.append(f'{where}: \'visibility\' must be "visible" or "hidden"')
    owns = raw.get("owns", [])
    if type(owns) is not list or any(type(item) is not str or not item for item in owns):
        problems.append(f"{where}: 'owns' must be a list of contract item names")
        owns = []
    return RubricEntry(
        str(title),
        float(points) if type(points) in (int, float) else 0.0,
        str(hint),
        "hidden" if visibility == "hidden" else "visible",
        tuple(owns),
    )
