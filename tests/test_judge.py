"""The verdict on one check (``judge.judge``) and the sentence a student reads first
(``feedback.feedback_text``), from hand-built sandbox claims and reference records.

Only the reference's records say what must be observed, with which tolerance, and whether
a property holds; everything in ``CheckRun`` is a claim made by code the student controls.
"""

import pytest

from grader.exercise import Check
from grader.feedback import feedback_text
from grader.harness.compare import DEFAULT_TOL
from grader.judge import Verdict, judge
from grader.trusted import ReferenceRun
from grader.wire import CheckRun

CHECK = Check("multiply_backward", 2, lambda: None, ())
TOL = list(DEFAULT_TOL)


def want_value(name, value, tol=TOL, blame="Value.__mul__", **extra):
    return {
        "role": "value",
        "name": name,
        "value": value,
        "tol": list(tol),
        "blame": blame,
        **extra,
    }


def want_expect(name, ok, message="", blame="Value.topo_sort"):
    return {"role": "expect", "name": name, "ok": ok, "message": message, "blame": blame}


def want_input(name, value):
    return {"role": "input", "name": name, "value": value}


def obs(name, value=None, role="value", **extra):
    record = {"kind": "obs", "check": CHECK.id, "role": role, "name": name, **extra}
    if role != "expect":
        record["value"] = value
    return record


def end(outcome="passed", error=None, stdout="", stderr=""):
    record = {
        "kind": "end",
        "check": CHECK.id,
        "outcome": outcome,
        "duration": 0.01,
        "stdout": stdout,
        "stderr": stderr,
    }
    if error is not None:
        record["error"] = error
    return record


def finished(*observations, **end_fields):
    return CheckRun(CHECK, "finished", list(observations), end(**end_fields))


def reference(*records, missing_given=None):
    return ReferenceRun(tuple(records), missing_given)


# ------------------------------------------------------------------------ pass / fail


def test_matching_observations_pass():
    verdict = judge(
        finished(obs("data", 6.0), obs("grads", [3.0, 2.0])),
        reference(want_value("data", 6.0), want_value("grads", [3, 2.0 + 1e-12])),
    )
    assert (verdict.status, verdict.message, verdict.blame) == ("passed", "", None)
    assert verdict.details["values"] == [
        {"name": "data", "expected": 6.0, "actual": 6.0},
        {"name": "grads", "expected": [3, 2.0 + 1e-12], "actual": [3.0, 2.0]},
    ]


def test_a_value_mismatch_fails_with_expected_and_got():
    verdict = judge(finished(obs("grads", [3.0, 2.5])), reference(want_value("grads", [3.0, 2.0])))
    assert verdict.status == "failed"
    assert verdict.blame == "Value.__mul__"
    assert verdict.message == (
        "grads[1]: expected 2, got 2.5 (tolerance: relative 1e-06, absolute 1e-09)"
    )
    assert verdict.details["mismatch"] == {
        "name": "grads",
        "path": "[1]",
        "expected": [3.0, 2.0],
        "actual": [3.0, 2.5],
        "reason": "tolerance: relative 1e-06, absolute 1e-09",
        "tolerance": TOL,
    }


def test_the_first_mismatch_in_reference_order_decides():
    verdict = judge(
        finished(obs("b", 0.0), obs("a", 0.0)),
        reference(want_value("a", 1.0, blame="A"), want_value("b", 1.0, blame="B")),
    )
    assert (verdict.blame, verdict.details["mismatch"]["name"]) == ("A", "a")


def test_a_graph_mismatch_names_the_bad_node():
    leaf = {"data": 2.0, "op": "", "children": []}
    expected = {
        "nodes": [
            {"name": "a", "grad": 3.0, **leaf},
            {"name": "b", "grad": 2.0, **leaf, "data": 3.0},
            {
                "name": "c",
                "data": 6.0,
                "grad": 1,
                "op": "*",
                "children": ["a", "b"],
                "probe": {"grads": {"a": 4.5, "b": 3.0}},
            },
        ]
    }
    actual = {
        "nodes": [
            {"name": "a", "grad": 2.0, **leaf},
            {"name": "b", "grad": 2.0, **leaf, "data": 3.0},
            {
                "name": "c",
                "data": 6.0,
                "grad": 1,
                "op": "*",
                "children": ["a", "b"],
                "probe": {"grads": {"a": 3.0, "b": 3.0}},
            },
        ]
    }
    verdict = judge(
        finished(obs("graph of c", actual, role="graph", output="c")),
        reference(want_value("graph of c", expected, output="c") | {"role": "graph"}),
    )
    assert verdict.status == "failed"
    assert verdict.blame == "Value.__mul__ (its _backward)"
    assert verdict.message.startswith("graph of c: expected a.grad = 3, got 2. ")
    assert verdict.details["graph"] == {
        "name": "graph of c",
        "output": "c",
        "expected": expected,
        "actual": actual,
        "bad_node": "a",
        "culprit": "c",
    }


@pytest.mark.parametrize("claimed", [True, False, None])
def test_a_false_trusted_expect_fails_whatever_the_sandbox_claims(claimed):
    observations = [obs("data", 1.0)]
    if claimed is not None:
        observations.append(obs("valid order", role="expect", ok=claimed, message="fine"))
    verdict = judge(
        finished(*observations),
        reference(
            want_value("data", 1.0), want_expect("valid order", False, "node e comes before b")
        ),
    )
    assert (verdict.status, verdict.message, verdict.blame) == (
        "failed",
        "node e comes before b",
        "Value.topo_sort",
    )


def test_a_students_own_expect_records_are_ignored():
    run = finished(
        obs("data", 1.0),
        obs("valid order", role="expect", ok=False, message="forged failure"),
        obs("bonus", role="expect", ok=True, message="forged pass"),
    )
    assert (
        judge(run, reference(want_value("data", 1.0), want_expect("valid order", True))).status
        == "passed"
    )
    assert judge(run, reference(want_value("data", 2.0))).status == "failed"


@pytest.mark.parametrize(
    "observations",
    [
        [],
        [obs("other", 1.0)],
        [obs("data", role="expect", ok=True)],
        [obs("data", 1.0, role="given")],
    ],
    ids=["nothing", "other-name", "expect-role", "given-role"],
)
def test_a_missing_observation_fails_as_not_recorded(observations):
    verdict = judge(finished(*observations), reference(want_value("data", 1.0)))
    assert (verdict.status, verdict.message, verdict.blame) == (
        "failed",
        "your code's run did not record 'data'",
        "Value.__mul__",
    )


def test_extra_forged_observations_are_ignored():
    verdict = judge(
        finished(
            obs("forged", 99),
            obs("data", 1.0),
            obs("expected", {"$obj": "x"}),
            obs("graph", {}, role="graph"),
        ),
        reference(want_value("data", 1.0)),
    )
    assert verdict.status == "passed"
    assert [v["name"] for v in verdict.details["values"]] == ["data"]


def test_the_students_own_tolerance_is_ignored():
    huge = [1e9, 1e9]
    run = finished(obs("data", 1000.0, tol=huge), obs("curve", [5.0], tol=huge))
    verdict = judge(run, reference(want_value("data", 1.0), want_value("curve", [1.0])))
    assert verdict.status == "failed"
    assert verdict.details["mismatch"]["tolerance"] == TOL


def test_the_references_tolerance_is_used():
    run = finished(obs("loss", 1.0005))
    assert judge(run, reference(want_value("loss", 1.0, tol=(1e-3, 0)))).status == "passed"
    assert judge(run, reference(want_value("loss", 1.0, tol=(1e-4, 0)))).status == "failed"


def test_a_forged_obj_marker_never_passes():
    verdict = judge(
        finished(obs("data", {"$obj": "EqualsEverything"})), reference(want_value("data", 6.0))
    )
    assert verdict.status == "failed"
    assert "(a EqualsEverything object is not a plain number)" in verdict.message


def test_plots_pair_the_expected_and_actual_series():
    verdict = judge(
        finished(obs("loss", [1.0, 0.5])),
        reference(
            want_value("loss", [1.0, 0.5], plot="loss"), want_value("acc", [0.5], plot="acc")
        ),
    )
    assert verdict.details["plots"] == [
        {"name": "loss", "kind": "loss", "expected": [1.0, 0.5], "actual": [1.0, 0.5]},
        {"name": "acc", "kind": "acc", "expected": [0.5], "actual": None},
    ]
    assert verdict.status == "failed"  # acc was never recorded


def test_a_plot_whose_name_the_student_used_for_an_expect_is_not_a_crash():
    verdict = judge(
        finished(obs("loss", role="expect", ok=True)),
        reference(want_value("loss", [1.0, 0.5], plot="loss")),
    )
    assert verdict.status == "failed"
    assert verdict.details["plots"][0]["actual"] is None


def test_large_values_are_left_out_of_the_value_table():
    verdict = judge(
        finished(obs("w", list(range(13))), obs("m", [[1]]), obs("s", 1)),
        reference(want_value("w", list(range(13))), want_value("m", [[1]]), want_value("s", 1)),
    )
    assert verdict.status == "passed"
    assert [v["name"] for v in verdict.details["values"]] == ["s"]


def test_inputs_and_output_streams_are_in_the_details():
    verdict = judge(
        finished(obs("data", 2.0), stdout="hello\n", stderr=""),
        reference(want_input("a", 1.5), want_value("data", 1.0), want_input("b", [1, 2])),
    )
    assert verdict.details["inputs"] == [["a", 1.5], ["b", [1, 2]]]
    assert verdict.details["stdout"] == "hello\n"
    assert "stderr" not in verdict.details


# ------------------------------------------------------------------------------ errors


def test_not_implemented_names_the_method():
    error = {
        "type": "NotImplementedError",
        "message": "Value.tanh",
        "frames": [{"file": "micrograd/value.py", "line": 40, "function": "Value.tanh"}],
        "not_implemented": "Value.tanh",
    }
    verdict = judge(finished(outcome="failed", error=error), reference(want_value("x", 1)))
    assert (verdict.status, verdict.message, verdict.blame) == (
        "error",
        "Value.tanh is not implemented yet",
        "Value.tanh",
    )
    assert verdict.details["error"]["frames"] == error["frames"]


def test_an_error_is_blamed_on_the_innermost_student_frame():
    frames = [
        {"file": "micrograd/mlp.py", "line": 9, "function": "Neuron.__call__"},
        {"file": "micrograd/value.py", "line": 22, "function": "Value.__add__"},
    ]
    error = {
        "type": "TypeError",
        "message": "unsupported operand",
        "frames": frames,
        "cause": {"type": "KeyError", "message": "'x'"},
    }
    verdict = judge(finished(outcome="failed", error=error), reference())
    assert (verdict.status, verdict.blame) == ("error", "Value.__add__")
    assert verdict.message == "TypeError in Value.__add__: unsupported operand"
    assert verdict.details["error"]["cause"] == {"type": "KeyError", "message": "'x'"}


def test_only_the_last_twelve_frames_are_kept():
    frames = [{"function": f"f{i}"} for i in range(20)]
    verdict = judge(
        finished(
            outcome="failed", error={"type": "RecursionError", "message": "deep", "frames": frames}
        ),
        None,
    )
    assert verdict.details["error"]["frames"] == frames[-12:]
    assert verdict.blame == "f19"


def test_a_missing_attribute_without_frames_is_blamed_on_the_missing_method():
    error = {
        "type": "AttributeError",
        "message": "'Value' object has no attribute 'tanh'",
        "frames": [],
    }
    verdict = judge(finished(outcome="failed", error=error), reference(want_value("x", 1)))
    assert (verdict.status, verdict.blame) == ("error", "Value.tanh")
    assert verdict.message == (
        "AttributeError in Value.tanh: 'Value' object has no attribute 'tanh'"
    )


@pytest.mark.parametrize(
    ("kind", "message"),
    [
        ("TypeError", "'Value' object has no attribute 'tanh'"),
        ("AttributeError", "module 'math' has no attribute 'tahn'"),
    ],
)
def test_other_errors_without_frames_blame_nobody(kind, message):
    verdict = judge(
        finished(outcome="failed", error={"type": kind, "message": message, "frames": []}), None
    )
    assert (verdict.status, verdict.blame, verdict.message) == ("error", None, f"{kind}: {message}")


@pytest.mark.parametrize(("state", "status"), [("timeout", "timeout"), ("crashed", "error")])
def test_timeouts_and_crashes_keep_the_runners_message(state, status):
    run = CheckRun(CHECK, state, [obs("data", 1.0)], None, "it was ended by signal 9")
    verdict = judge(run, reference(want_value("data", 1.0), want_input("a", 2)))
    assert verdict == Verdict(status, "it was ended by signal 9", None, {"inputs": [["a", 2]]})


def test_a_timeout_after_an_end_record_is_still_a_timeout():
    run = CheckRun(CHECK, "timeout", [obs("data", 1.0)], end(), "did not finish")
    assert judge(run, reference(want_value("data", 1.0))).status == "timeout"


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        ("", "this check did not run"),
        ("grading stopped before reaching it", "grading stopped before reaching it"),
    ],
)
def test_a_check_that_did_not_run(message, expected):
    verdict = judge(CheckRun(CHECK, "not_run", message=message), None)
    assert (verdict.status, verdict.message) == ("not_run", expected)


def test_a_finished_state_without_an_end_record_did_not_run():
    assert judge(CheckRun(CHECK, "finished", [obs("data", 1.0)], None), None).status == "not_run"


@pytest.mark.parametrize("outcome", ["skipped", "failed", "unknown", "xfailed"])
def test_an_outcome_other_than_passed_without_an_error_is_an_error(outcome):
    verdict = judge(finished(obs("data", 1.0), outcome=outcome), reference(want_value("data", 1.0)))
    assert verdict.status == "error"
    assert verdict.message == (
        f"the check ended as {outcome!r} without an error: did your code skip or stop it?"
    )


def test_a_given_the_student_never_recorded_fails():
    verdict = judge(finished(obs("data", 1.0)), reference(missing_given="initial w and b"))
    assert (verdict.status, verdict.message) == (
        "failed",
        "your code's run did not record 'initial w and b'",
    )


def test_no_reference_run_fails():
    assert judge(finished(obs("data", 1.0)), None).message == ("your code's run did not record '?'")


# ---------------------------------------------------------------------------- feedback


def test_feedback_of_a_pass():
    assert feedback_text(Verdict("passed", "", "Value.__mul__")) == "Passed."


def test_feedback_starts_with_where_to_look_and_keeps_the_case():
    verdict = judge(
        finished(obs("grads", [3.0, 2.5])),
        reference(
            want_input("a", 1.5), want_input("Label", "ReLU"), want_value("grads", [3.0, 2.0])
        ),
    )
    assert feedback_text(verdict) == (
        "Look at Value.__mul__. grads[1]: expected 2, got 2.5 (tolerance: relative 1e-06, "
        "absolute 1e-09) Inputs: a = 1.5, Label = 'ReLU'."
    )


@pytest.mark.parametrize(
    ("verdict", "text"),
    [
        (
            Verdict(
                "error",
                "AttributeError in Value.tanh: 'Value' object has no attribute 'tanh'",
                "Value.tanh",
            ),
            "Look at Value.tanh. AttributeError in Value.tanh: 'Value' object has no attribute "
            "'tanh'.",
        ),
        (
            Verdict(
                "failed",
                "node e comes before its child b: children must come first",
                "Value.topo_sort",
            ),
            "Look at Value.topo_sort. node e comes before its child b: children must come first.",
        ),
        (Verdict("failed", "Is it right?  ", None), "Is it right?"),
        (
            Verdict(
                "timeout",
                "this check did not finish within 15 s (an endless loop?)",
                "Value.backward",
            ),
            "this check did not finish within 15 s (an endless loop?)",
        ),
        (Verdict("not_run", "this check did not run", "Value.x"), "this check did not run."),
    ],
)
def test_feedback_spelling(verdict, text):
    assert feedback_text(verdict) == text


def test_feedback_shows_at_most_six_inputs():
    inputs = [[f"x{i}", i] for i in range(9)]
    text = feedback_text(Verdict("failed", "wrong", "Neuron.__call__", {"inputs": inputs}))
    assert text == (
        "Look at Neuron.__call__. wrong. Inputs: x0 = 0, x1 = 1, x2 = 2, x3 = 3, "
        "x4 = 4, x5 = 5, and 3 more."
    )


def test_feedback_clips_long_inputs():
    text = feedback_text(Verdict("failed", "wrong", None, {"inputs": [["w", list(range(100))]]}))
    assert text.startswith("wrong. Inputs: w = [0, 1, 2")
    assert text.endswith("….")
    assert len(text) < 120


def test_forged_givens_fail_the_check_instead_of_stopping_the_grader() -> None:
    from grader.exercise import load_exercise
    from grader.trusted import run_reference

    exercise = load_exercise()
    for check_id, name in (("neuron_weights", "starting w and b of eight Neuron(4)"),):
        reference = run_reference(exercise, exercise.check(check_id), 1, {name: 5})
        assert reference.replay_error is not None
        run = CheckRun(
            exercise.check(check_id),
            state="finished",
            end={
                "kind": "end",
                "check": check_id,
                "outcome": "passed",
                "duration": 0.0,
                "stdout": "",
                "stderr": "",
            },
        )
        verdict = judge(run, reference)
        assert verdict.status == "failed"
        assert "could not be checked" in verdict.message


def test_a_check_that_sent_unreadable_records_fails_and_says_so():
    run = CheckRun(CHECK, state="finished", end=end())
    run.refuse("an integer of 401 digits (more than 20)")
    run.refuse("not a JSON object")
    verdict = judge(run, ReferenceRun(()))
    assert verdict.status == "failed" and verdict.blame is None
    assert verdict.message == (
        "your code's run sent 2 record(s) the grader cannot read (an integer of 401 digits "
        "(more than 20)), so this check cannot be judged"
    )
