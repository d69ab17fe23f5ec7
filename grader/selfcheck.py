"""``micrograde selfcheck``: the exercise grades itself.

The reference as it stands after step k must get full marks on steps 1..k, and the
skeleton students start step k from must pass steps 1..k-1 and fail every check of step k.
Before those, the rubric's ``owns`` lists must give every contract item exactly one owner
(a fault costs points once, in the check that owns it). Any difference means the exercise
content (or the grader) is broken.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from grader.exercise import STEPS, Exercise
from grader.fairness.contract import ownership_problems
from grader.models import GradeResult
from grader.pipeline import GradeRequest, grade_submission, new_seed
from grader.rubric import Rubric
from grader.sandbox.base import Sandbox
from grader.settings import Settings


@dataclass(frozen=True)
class Row:
    kind: str
    step: int
    seed: int
    problems: tuple[str, ...]
    summary: str

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def name(self) -> str:
        return self.kind if self.kind == "ownership" else f"{self.kind}/step_{self.step}"


def run_selfcheck(
    exercise: Exercise,
    rubric: Rubric,
    sandbox: Sandbox,
    settings: Settings,
    seed: int | None = None,
) -> list[Row]:
    jobs = [(kind, step) for step in STEPS for kind in ("reference", "skeleton")]
    seed = new_seed() if seed is None else seed

    def one(job: tuple[str, int]) -> Row:
        kind, step = job
        folder = (
            exercise.reference_dir(step) if kind == "reference" else exercise.skeleton_dir(step)
        )
        result = grade_submission(
            GradeRequest(folder, tuple(range(1, step + 1)), seed, name=f"{kind}/step_{step}"),
            exercise=exercise,
            rubric=rubric,
            sandbox=sandbox,
            settings=settings,
        )
        return Row(kind, step, seed, tuple(_problems(kind, step, result)), _summary(result))

    with ThreadPoolExecutor(max_workers=2) as pool:
        return [ownership_row(rubric, seed), *pool.map(one, jobs)]


def ownership_row(rubric: Rubric, seed: int) -> Row:
    """The first row: every contract item owned by exactly one check."""
    owners = ownership_problems(rubric)
    return Row("ownership", 0, seed, tuple(owners), "" if owners else "every item has one owner")


def _problems(kind: str, step: int, result: GradeResult) -> list[str]:
    if result.status != "graded":
        return [f"not graded: {result.message}"]
    problems = []
    for step_result in result.steps:
        if not step_result.graded:
            continue
        must_fail = kind == "skeleton" and step_result.step == step
        for check in step_result.checks:
            if must_fail and check.status == "passed":
                problems.append(f"step {step_result.step} {check.id} passed on the skeleton")
            elif not must_fail and check.status != "passed":
                problems.append(
                    f"step {step_result.step} {check.id}: {check.status}: {check.feedback[:200]}"
                )
    return problems


def _summary(result: GradeResult) -> str:
    return " ".join(f"{s.step}:{s.score:g}/{s.max_score:g}" for s in result.steps if s.graded)
