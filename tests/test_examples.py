"""The bundled examples grade as they should, in every shape, with any seed."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

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


def test_terminal_summary_groups_failures_under_the_method_in_whole_sentences(
    tmp_path: Path,
) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "grader", "grade", str(EXAMPLES / "bug_mul_backward")]
        + ["--sandbox", "local", "--seed", "99", "--out", str(tmp_path / "out")],
        capture_output=True,
        text=True,
        env={**os.environ, "COLUMNS": "90", "NO_COLOR": "1"},
        check=False,
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    header = lines.index("  Look at Value.__mul__ (backward):")
    # Every failed check of the example sits under that one header, wrapped, not cut.
    block = lines[header + 1 :]
    block = block[: next(i for i, line in enumerate(block) if not line.startswith("    "))]
    text = " ".join(line.strip() for line in block)
    assert re.match(r"failed step 2 Backward of \*: ", text), text
    assert "…" not in text and all(len(line) <= 90 for line in block), block
    assert text.endswith((".", ")")), text
    assert "child #" not in text  # the audit names the child the test named
    assert sum(line.lstrip().startswith(("failed", "error")) for line in block) == 1
    assert re.search(r"^  \d+ other checks passed: they differed only because", done.stdout, re.M)
