"""One diagnosis per submission (issue 9): when most failures share a cause, it is said once,
at the top of the report, in the terminal summary and in the result's message (the
gradebook's message column). The rules on hand-made results; a syntax error and the
bundled examples end to end on the local sandbox."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from click.testing import CliRunner
from grading import EXAMPLES, REPO

from grader.cli.main import cli
from grader.fairness.diagnosis import diagnose
from grader.models import CheckResult, Diagnosis, StepResult


def _step(*checks: tuple[str, str, str | None]) -> StepResult:
    results = tuple(
        CheckResult(
            id=cid,
            title=cid,
            status=status,  # type: ignore[arg-type]
            score=0.0,
            max_score=1.0,
            visibility="visible",
            feedback="",
            blame=blame,
        )
        for cid, status, blame in checks
    )
    return StepResult(step=1, title="s", checks=results)


def test_a_method_most_failures_point_at_is_the_cause() -> None:
    steps = [
        _step(
            ("a", "failed", "Value.__mul__ (backward)"),
            ("b", "failed", "Value.__mul__ (backward)"),
            ("c", "failed", None),
        )
    ]
    found = diagnose(None, steps)
    assert found is not None and found.kind == "one_method"
    assert found.method == "Value.__mul__ (backward)"
    assert found.message.startswith("2 of the 3 failed checks point at one method")


def test_two_methods_as_common_as_each_other_are_no_one_cause() -> None:
    steps = [_step(("a", "failed", "Value.__mul__ (backward)"), ("b", "failed", "Neuron.__call__"))]
    assert diagnose(None, steps) is None
    assert diagnose(None, [_step(("a", "passed", None))]) is None


def test_a_method_found_looping_says_where() -> None:
    steps = [_step(("a", "error", "Value.backward"), ("b", "error", "Value.backward"))]
    why = "was still running after 15 s in the check add_backward (micrograd/value.py, line 9)"
    found = diagnose(None, steps, stuck={"Value.backward": why, "Value.__mul__:backward": "x"})
    assert found is not None
    assert found.message == (
        f"Everything that failed points at one method: Value.backward; it {why}."
    )
    steps = [_step(("a", "error", "Value.__mul__ (backward)"))]
    found = diagnose(None, steps, stuck={"Value.__mul__": "no", "Value.__mul__:backward": "yes"})
    assert found is not None and found.message.endswith("Value.__mul__ (backward); it yes.")


def test_a_method_that_never_returned_says_so() -> None:
    steps = [_step(("a", "timeout", "Value.backward"), ("b", "failed", "Value.backward"))]
    found = diagnose(None, steps)
    assert found is not None
    assert found.message == (
        "Everything that failed points at one method: Value.backward "
        "(it did not finish within the time limit)."
    )


def test_what_the_top_level_code_did_and_a_file_that_does_not_parse_come_first() -> None:
    steps = [_step(("a", "error", "Value.__mul__"))]
    earlier = Diagnosis("missing_package", "numpy is not provided", package="numpy")
    assert diagnose(earlier, steps) is earlier
    found = diagnose(None, steps, [("micrograd/value.py", 58, "expected ':'")])
    assert found is not None and (found.kind, found.file, found.line) == (
        "syntax_error",
        "micrograd/value.py",
        58,
    )


def test_classes_not_written_yet_are_the_cause_of_the_checks_that_need_them() -> None:
    steps = [_step(("n", "error", None), ("l", "error", None), ("v", "failed", "Value.tanh"))]
    found = diagnose(None, steps, absent={"n": ["Neuron"], "l": ["Layer", "MLP"]})
    assert found is not None and found.kind == "missing_class"
    assert found.message.startswith("Neuron, Layer and MLP are not in your submission yet")
    assert "the 2 checks that need them could not run" in found.message


def _grade(source: Path, out: Path) -> tuple[str, dict[str, object]]:
    done = CliRunner().invoke(
        cli, ["grade", str(source), "--sandbox", "local", "--seed", "7", "--out", str(out)]
    )
    assert done.exit_code == 0, done.output
    return done.output, json.loads((out / "results.json").read_text())


def test_a_syntax_error_is_said_once_with_its_line(tmp_path: Path) -> None:
    shutil.copytree(REPO / "reference" / "step_5" / "micrograd", tmp_path / "s" / "micrograd")
    value = tmp_path / "s" / "micrograd" / "value.py"
    lines = value.read_text().splitlines()
    number = next(i for i, line in enumerate(lines, 1) if "def __radd__" in line)
    lines[number - 1] = lines[number - 1].replace("):", ")")
    value.write_text("\n".join(lines) + "\n")
    output, results = _grade(tmp_path / "s", tmp_path / "out")
    diagnosis = results["diagnosis"]
    assert isinstance(diagnosis, dict)
    assert (diagnosis["kind"], diagnosis["file"], diagnosis["line"]) == (
        "syntax_error",
        "micrograd/value.py",
        number,
    )
    assert output.count("does not parse") == 1  # not once per check, not again as a note
    assert "Inputs:" not in output and "Inputs:" not in json.dumps(results["steps"])
    assert str(results["message"]).endswith("Fix that line first.")
    report = (tmp_path / "out" / "index.html").read_text()
    assert 'class="diagnosis"' in report and f"line {number}" in report


def test_the_bundled_examples_with_failures_have_a_diagnosis(tmp_path: Path) -> None:
    expected = {
        "bug_mul_backward": ("one_method", "Value.__mul__ (backward)"),
        "partial_step3": ("missing_class", "Neuron, Layer and MLP"),
    }
    for name, (kind, words) in expected.items():
        output, results = _grade(EXAMPLES / name, tmp_path / name)
        diagnosis = results["diagnosis"]
        assert isinstance(diagnosis, dict) and diagnosis["kind"] == kind, name
        assert words in str(diagnosis["message"]) and words in output, name
