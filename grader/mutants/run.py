"""Grade every mutant through the normal pipeline and say how fair each verdict was.

The mutants are written as a class folder (one entry per mutant) and graded by the batch,
so they run in parallel, on any backend, exactly as students are graded. Each seed is one
batch run (and ``repeat`` grades the first seed a second time); the analysis reads every
result back:

- **detected**: the mutant lost points; a survivor kept full marks;
- **leak**: a step other than the one owning the mutated method lost points;
- **pointers**: of every failed check, whether "where to look" names the mutated method
  (and its phase, forward or backward, where that applies), another method, or nothing;
- **varying**: the step scores differ between seeds or between two runs of one seed.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from grader.batch.run import BatchRequest, Progress, run_batch
from grader.batch.stop import StoppableSandbox
from grader.exercise import STEPS, Exercise
from grader.mutants.frozen import Mutant, MutantSet, materialize
from grader.rubric import Rubric
from grader.settings import Settings

PHASED = ("forward", "backward")


@dataclass(frozen=True)
class MutantsRequest:
    out_dir: Path
    seeds: tuple[int, ...]
    repeat: bool = False
    jobs: int = 2
    only: tuple[str, ...] = ()


@dataclass(frozen=True)
class CheckPointer:
    id: str
    step: int
    status: str
    blame: str | None
    pointer: str  # "right", "wrong" or "none"


@dataclass
class MutantOutcome:
    mutant: Mutant
    excluded: str | None
    runs: list[dict[int, float]] = field(default_factory=list)  # step -> points lost, per run
    checks: list[CheckPointer] = field(default_factory=list)  # of the first run

    @property
    def detected(self) -> bool:
        return bool(self.runs) and any(self.runs[0].values())

    @property
    def lost_steps(self) -> list[int]:
        return sorted(step for step, lost in self.runs[0].items() if lost) if self.runs else []

    @property
    def leaks(self) -> list[int]:
        return [step for step in self.lost_steps if step != self.mutant.step]

    @property
    def varying(self) -> bool:
        return any(run != self.runs[0] for run in self.runs[1:])

    def to_json(self) -> dict[str, Any]:
        m = self.mutant
        return {
            "id": m.id,
            "step": m.step,
            "method": m.method,
            "phase": m.phase,
            "operator": m.operator,
            "source": m.source,
            "note": m.note,
            "excluded": self.excluded,
            "detected": self.detected,
            "lost_steps": self.lost_steps,
            "leaks": self.leaks,
            "varying": self.varying,
            "points_lost": [{str(k): v for k, v in run.items()} for run in self.runs],
            "checks": [vars(c) for c in self.checks],
        }


@dataclass(frozen=True)
class Summary:
    mutants: int
    excluded: int
    survivors: tuple[str, ...]
    leaks: tuple[str, ...]
    varying: tuple[str, ...]
    failed_checks: int
    right: int
    wrong: int
    none: int
    wrong_pointers: tuple[str, ...]  # "mutant: check -> blame"

    def share(self, count: int) -> float:
        return round(100.0 * count / self.failed_checks, 1) if self.failed_checks else 0.0

    def to_json(self) -> dict[str, Any]:
        return {
            **vars(self),
            "right_percent": self.share(self.right),
            "wrong_percent": self.share(self.wrong),
            "none_percent": self.share(self.none),
        }


def run_mutants(
    request: MutantsRequest,
    mutant_set: MutantSet,
    *,
    root: Path,
    exercise: Exercise,
    rubric: Rubric,
    sandbox: StoppableSandbox,
    settings: Settings,
    progress: Progress,
) -> list[MutantOutcome]:
    """Grade the mutants once per seed (and the first seed again with ``repeat``)."""
    chosen = [m for m in mutant_set.mutants if not request.only or m.id in request.only]
    outcomes = {m.id: MutantOutcome(m, mutant_set.excluded.get(m.id)) for m in chosen}
    runs = [(seed, "") for seed in request.seeds]
    if request.repeat and request.seeds:
        runs.append((request.seeds[0], "-again"))
    with tempfile.TemporaryDirectory(prefix="micrograde-mutants-") as scratch:
        folder = Path(scratch) / "class"
        folder.mkdir()
        for mutant in chosen:
            materialize(mutant, mutant_set.sources, root, folder / mutant.id)
        for index, (seed, suffix) in enumerate(runs):
            out = request.out_dir / f"seed-{seed}{suffix}"
            run_batch(
                BatchRequest(folder, out, request.jobs, seed, STEPS),
                exercise=exercise,
                rubric=rubric,
                sandbox=sandbox,
                settings=settings,
                progress=progress,
            )
            for mutant in chosen:
                _read(outcomes[mutant.id], out / mutant.id / "results.json", first=index == 0)
    return [outcomes[m.id] for m in chosen]


def _read(outcome: MutantOutcome, path: Path, first: bool) -> None:
    data = json.loads(path.read_text(encoding="utf-8"))
    lost = {step: 0.0 for step in STEPS}
    for step in data["steps"]:
        lost[step["step"]] = round(step["max_score"] - step["score"], 6)
    if data["status"] != "graded":
        lost = {step: -1.0 for step in STEPS}  # rejected: every step, visibly
    outcome.runs.append(lost)
    if first:
        outcome.checks = [
            CheckPointer(
                c["id"],
                s["step"],
                c["status"],
                c.get("blame"),
                pointer_kind(outcome.mutant, c.get("blame")),
            )
            for s in data["steps"]
            for c in s["checks"]
            if c["status"] != "passed"
        ]


def pointer_kind(mutant: Mutant, blame: str | None) -> str:
    """Whether ``blame`` names the mutated method (and its phase, when the pointer names
    one: ``Value.__mul__ (backward)``; ``Value.topo_sort`` has none to name)."""
    if not blame:
        return "none"
    method = blame.split()[0].rstrip(".,:")
    if method != mutant.method:
        return "wrong"
    rest = blame.removeprefix(method)
    named = next((phase for phase in PHASED if f"({phase})" in rest), None)
    if mutant.phase in PHASED and named is not None and named != mutant.phase:
        return "wrong"
    return "right"


def summarize(outcomes: Sequence[MutantOutcome]) -> Summary:
    measured = [o for o in outcomes if o.excluded is None]
    checks = [(o.mutant.id, c) for o in measured for c in o.checks]
    return Summary(
        mutants=len(outcomes),
        excluded=len(outcomes) - len(measured),
        survivors=tuple(o.mutant.id for o in measured if not o.detected),
        leaks=tuple(o.mutant.id for o in measured if o.leaks),
        varying=tuple(o.mutant.id for o in measured if o.varying),
        failed_checks=len(checks),
        right=sum(c.pointer == "right" for _, c in checks),
        wrong=sum(c.pointer == "wrong" for _, c in checks),
        none=sum(c.pointer == "none" for _, c in checks),
        wrong_pointers=tuple(
            f"{m}: {c.id} -> {c.blame}" for m, c in checks if c.pointer == "wrong"
        ),
    )
