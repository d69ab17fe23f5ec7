"""The bundled examples grade as they should, in every shape, with any seed."""

from __future__ import annotations

import pytest
from grading import EXAMPLES, checks, grade, step_scores

COMPLETE = ["package", "karpathy", "single_file.py", "loose_files", "notebook.ipynb", "package.zip"]

# Every check whose scenario needs the backward of a product of two different nodes.
# One wrong line in __mul__'s backward costs points once, in the check that owns the
# product's gradient; every other check that saw it passes with a note naming it.
MUL_BACKWARD_FAILURES = {2: {"multiply_backward"}}


@pytest.mark.parametrize("shape", COMPLETE)
@pytest.mark.parametrize("seed", [7, 2_000_003])
def test_complete_examples_get_full_marks(shape: str, seed: int) -> None:
    result = grade(EXAMPLES / "complete" / shape, seed=seed)
    assert result.status == "graded", result.message
    failing = {c.id: c.feedback for c in checks(result).values() if c.status != "passed"}
    assert failing == {}
    assert result.score == result.max_score == 100


def test_shapes_are_recognised() -> None:
    shapes = {name: grade(EXAMPLES / "complete" / name, steps=(1,)).shape for name in COMPLETE}
    assert shapes == {
        "package": "package",
        "karpathy": "karpathy",
        "single_file.py": "single_file",
        "loose_files": "loose_files",
        "notebook.ipynb": "notebook",
        "package.zip": "package",
    }


def test_stopped_after_step_3_loses_steps_4_and_5() -> None:
    result = grade(EXAMPLES / "partial_step3")
    assert step_scores(result) == {1: 20, 2: 20, 3: 20, 4: 0, 5: 0}
    neuron = checks(result)["neuron_forward"]
    assert neuron.status == "error"
    assert "no class named Neuron" in neuron.feedback


def test_mul_backward_bug_loses_exactly_the_product_gradients() -> None:
    result = grade(EXAMPLES / "bug_mul_backward", seed=99)
    failing: dict[int, set[str]] = {}
    for step in result.steps:
        bad = {c.id for c in step.checks if c.status != "passed"}
        if bad:
            failing[step.step] = bad
    assert failing == MUL_BACKWARD_FAILURES
    multiply = checks(result)["multiply_backward"]
    assert multiply.status == "failed"
    assert multiply.blame == "Value.__mul__ (backward)"
    assert "Look at Value.__mul__ (backward)" in multiply.feedback
    excused = {c.id: c.excused for c in checks(result).values() if c.excused}
    assert excused and all("Value.__mul__ (backward)" in said for said in excused.values())
    assert {"tanh_backward", "one_training_step"} <= set(excused)
    assert "audit" not in multiply.details["graph"]["expected"]
    graph = multiply.details["graph"]
    assert graph["bad_node"] in {n["name"] for n in graph["expected"]["nodes"]} - {"g"}
    assert "expected" in multiply.feedback and "got" in multiply.feedback


def test_steps_option_grades_only_those_steps() -> None:
    result = grade(EXAMPLES / "complete" / "package", steps=(1, 3))
    assert [s.graded for s in result.steps] == [True, False, True, False, False]
    assert result.max_score == 40
    assert all(c.status == "not_run" for s in result.steps if not s.graded for c in s.checks)
