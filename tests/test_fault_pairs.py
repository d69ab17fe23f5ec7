"""Two faults at once, one upstream and one downstream: each costs points in its own step,
with its own pointer, and neither hides the other (issue 9). The faults are mutants of the
frozen set (grader/mutants/frozen.json), applied together to the reference; grading runs
on the local sandbox, through the whole pipeline, counterfactual runs included."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from grader.exercise import load_exercise
from grader.mutants.frozen import Mutant, apply_to, load_set
from grader.mutants.run import pointer_kind
from grader.pipeline import GradeRequest, grade_submission
from grader.rubric import load_rubric
from grader.sandbox.local import LocalSandbox
from grader.settings import load_settings

REPO = Path(__file__).resolve().parents[1]
FROZEN = load_set(REPO / "grader" / "mutants" / "frozen.json")
BY_ID = {m.id: m for m in FROZEN.mutants}

PAIRS = [
    ("radd-removed", "neuron-call-no-bias"),  # int + Value breaks sum(); a Neuron without b
    ("mul-backward-assign", "zero-grad-skips-last"),  # * backward overwrites; zero_grad short
    ("add-forward-minus", "layer-call-swapped"),
    ("backward-not-reversed", "relu-backward-at-zero"),
    ("tanh-backward-plus", "mlp-parameters-skip-last"),
    ("pow-forward-times", "neuron-parameters-no-bias"),
    ("topo-no-visited", "layer-call-always-list"),
]


def _both(tmp_path: Path, first: Mutant, second: Mutant) -> Path:
    """The reference with both mutants applied (the later line first within a file, so
    the earlier one's line number still holds)."""
    target = tmp_path / f"{first.id}+{second.id}"
    source = REPO / FROZEN.sources[first.source]
    assert source.is_dir() and first.source == second.source == "reference"
    shutil.copytree(source, target, ignore=shutil.ignore_patterns("__pycache__"))
    for mutant in sorted((first, second), key=lambda m: (m.file, -m.line)):
        apply_to(mutant, target)
    return target


@pytest.mark.parametrize(("upstream", "downstream"), PAIRS, ids=["+".join(p) for p in PAIRS])
def test_two_faults_cost_points_in_their_own_steps_with_their_own_pointers(
    tmp_path: Path, upstream: str, downstream: str
) -> None:
    first, second = BY_ID[upstream], BY_ID[downstream]
    assert first.step < second.step
    exercise = load_exercise()
    result = grade_submission(
        GradeRequest(_both(tmp_path, first, second), seed=20261203),
        exercise=exercise,
        rubric=load_rubric(exercise),
        sandbox=LocalSandbox(exercise),
        settings=load_settings(),
    )
    lost = {s.step for s in result.steps if s.score < s.max_score}
    explained = json.dumps(
        [(c.id, c.status, c.blame) for s in result.steps for c in s.checks if c.status != "passed"]
    )
    # Each fault costs in its own step, the downstream one not hidden, and nowhere else (a
    # missing __radd__ is charged in step 1 only: the derived operators' step-2 gradients
    # are excused, their backward being their definition's).
    assert lost == {first.step, second.step}, explained
    for step in result.steps:
        for check in step.checks:
            if check.status == "passed":
                continue
            # "Where to look" names one of the two faulty methods, and in the two faults'
            # own steps, that step's own.
            kinds = {m.id: pointer_kind(m, check.blame) for m in (first, second)}
            assert "right" in kinds.values(), explained
            if step.step in (first.step, second.step):
                mutant = first if step.step == first.step else second
                assert kinds[mutant.id] == "right", explained


@pytest.mark.parametrize(
    ("forward", "backward"),
    [("tanh-forward-halved", "tanh-backward-one-minus-t"), ("tanh-no-child", "tanh-backward-x")],
)
def test_a_forward_fault_alone_costs_its_value_check_and_never_hides_a_backward_fault(
    tmp_path: Path, forward: str, backward: str
) -> None:
    """tanh's backward closes over the forward's ``t``: the counterfactual run that judges
    the backward with a correct forward sets that copy right too (and the node's child), so
    the forward fault alone costs only the value check, and a backward fault beside it is
    still charged, with its own pointer."""
    exercise = load_exercise()

    def graded(*ids: str) -> dict[str, tuple[str, str | None]]:
        target = tmp_path / "+".join(ids)
        shutil.copytree(REPO / FROZEN.sources["reference"], target)
        for mutant in sorted((BY_ID[i] for i in ids), key=lambda m: -m.line):
            apply_to(mutant, target)
        result = grade_submission(
            GradeRequest(target, seed=20261203),
            exercise=exercise,
            rubric=load_rubric(exercise),
            sandbox=LocalSandbox(exercise),
            settings=load_settings(),
        )
        return {c.id: (c.status, c.blame) for s in result.steps for c in s.checks}

    alone = graded(forward)
    assert alone["tanh_values"] == ("failed", "Value.tanh (forward)")
    assert alone["tanh_backward"][0] == "passed", alone
    both = graded(forward, backward)
    assert both["tanh_values"] == ("failed", "Value.tanh (forward)")
    assert both["tanh_backward"] == ("failed", "Value.tanh (backward)"), both
