"""The ``observe`` fixture (``harness.observe.Observer``) in its three modes.

RECORD streams encoded observations out at once and judges nothing; REFERENCE collects the
expected observations and replays the student's givens; KEY checks against an answer key
and asserts with a sentence a student can read.
"""

import math
from pathlib import Path

import pytest

from grader.exercise import load_solution
from grader.harness.compare import DEFAULT_TOL
from grader.harness.observe import HarnessError, MissingGiven, Mode, Observer

REFERENCE = Path(__file__).resolve().parents[1] / "reference" / "step_5" / "micrograd"


@pytest.fixture(scope="module")
def Value():
    return load_solution(REFERENCE).Value


class FloatSub(float):
    pass


def recorder(**kwargs):
    sink = []
    return Observer("check_x", Mode.RECORD, sink=sink.append, **kwargs), sink


def reference(**kwargs):
    return Observer("check_x", Mode.REFERENCE, **kwargs)


def key_entry(name, value, tol=DEFAULT_TOL, role="value", **extra):
    return {"role": role, "name": name, "value": value, "tol": list(tol), "item": None, **extra}


def small_graph(Value):
    nodes = {"a": Value(2.0), "b": Value(-3.0)}
    nodes["c"] = nodes["a"] * nodes["b"]
    nodes["c"].backward()
    return nodes


# ---------------------------------------------------------------------------- RECORD


def test_record_streams_each_observation_to_the_sink_at_once():
    observe, sink = recorder()
    observe("data", 1.5)
    assert sink == [
        {"role": "value", "name": "data", "value": 1.5, "tol": list(DEFAULT_TOL), "item": None}
    ]
    observe("more", [1, 2])
    assert len(sink) == 2
    assert observe.records == []


def test_record_encodes_what_it_streams():
    observe, sink = recorder()
    observe("x", [FloatSub(1.0), math.nan, {"k": (1, 2)}])
    value = sink[0]["value"]
    assert value[0]["$obj"].endswith(".FloatSub")
    assert value[1:] == [{"$float": "nan"}, {"$map": [["k", [1, 2]]]}]


def test_record_keeps_tolerance_item_and_plot_hints():
    observe, sink = recorder()
    observe.item("Value.__mul__:forward")
    observe("a", 1.0)
    observe("b", 2.0, tol=(1e-3, 0.0), item="Value.tanh", plot="loss")
    # The item itself is recorded, so a check that dies later is charged to it.
    assert sink[0] == {"role": "item", "name": "#item 1", "value": "Value.__mul__:forward"}
    assert sink[1]["item"] == "Value.__mul__:forward" and "plot" not in sink[1]
    assert (sink[2]["tol"], sink[2]["item"], sink[2]["plot"]) == (
        [1e-3, 0.0],
        "Value.tanh",
        "loss",
    )


def test_record_streams_a_failed_expect_without_judging_it():
    observe, sink = recorder()
    observe.expect("positive", False, "must be positive", item="Neuron.__init__")
    assert sink == [
        {
            "role": "expect",
            "name": "positive",
            "ok": False,
            "message": "must be positive",
            "item": "Neuron.__init__",
        }
    ]


def test_expect_coerces_ok_to_a_real_bool():
    observe, sink = recorder()
    observe.expect("truthy", [1], "m")
    observe.expect("falsy", 0, "m")
    assert [r["ok"] for r in sink] == [True, False]
    assert all(type(r["ok"]) is bool for r in sink)


def test_record_given_returns_the_live_value_and_records_it_encoded():
    observe, sink = recorder(givens={"w": [9.0]})
    live = [FloatSub(0.5)]
    assert observe.given("w", live) is live
    assert sink[0]["role"] == "given" and sink[0]["value"][0]["$obj"].endswith(".FloatSub")


def test_record_streams_a_graph_capture(Value):
    observe, sink = recorder()
    observe.graph("g", small_graph(Value), output="c", tol=(1e-4, 1e-8))
    (record,) = sink
    assert (record["role"], record["output"], record["tol"]) == ("graph", "c", [1e-4, 1e-8])
    assert [n["name"] for n in record["value"]["nodes"]] == ["a", "b", "c"]


def test_a_graph_whose_output_is_not_a_node_is_a_harness_error(Value):
    observe, sink = recorder()
    with pytest.raises(HarnessError, match="output 'z' is not one of the nodes"):
        observe.graph("g", small_graph(Value), output="z")
    assert sink == []


def test_record_without_a_sink_records_nothing():
    observe = Observer("check_x", Mode.RECORD)
    observe("x", 1)
    assert observe.records == []


# ------------------------------------------------------------------------- REFERENCE


def test_reference_collects_records_in_order():
    observe = reference(givens={"w": [1.0]})
    observe("x", 1)
    observe.expect("ok", True, "")
    observe.given("w", [2.0])
    assert [(r["role"], r["name"]) for r in observe.records] == [
        ("value", "x"),
        ("expect", "ok"),
        ("given", "w"),
    ]


def test_reference_given_returns_the_injected_value_not_its_own():
    observe = reference(givens={"w": [0.25, "student"]})
    assert observe.given("w", [0.5, 0.75]) == [0.25, "student"]
    # What the reference itself drew is still recorded.
    assert observe.records[0]["value"] == [0.5, 0.75]


def test_reference_given_without_an_injected_value_raises_missing_given():
    observe = reference(givens={"other": 1})
    with pytest.raises(MissingGiven) as raised:
        observe.given("w", [0.5])
    assert str(raised.value) == "w"


def test_reference_records_inputs_and_plot_hints():
    observe = reference()
    observe.input("x", (1, 2.5))
    observe("loss", [1.0, 0.5], plot="loss")
    assert observe.records == [
        {"role": "input", "name": "x", "value": [1, 2.5]},
        {
            "role": "value",
            "name": "loss",
            "value": [1.0, 0.5],
            "tol": list(DEFAULT_TOL),
            "item": None,
            "plot": "loss",
        },
    ]


def test_reference_expect_is_a_record_not_an_assertion():
    observe = reference()
    observe.expect("p", False, "it is false")
    assert observe.records[0]["ok"] is False


@pytest.mark.parametrize("mode", [Mode.RECORD, Mode.KEY])
def test_inputs_are_only_kept_by_the_reference_run(mode):
    sink = []
    observe = Observer("check_x", mode, sink=sink.append)
    observe.input("x", 1.0)
    assert sink == [] and observe.records == []


# ------------------------------------------------------------------------------- KEY


def test_key_passes_when_the_observation_matches_within_the_keys_tolerance():
    observe = Observer("check_x", Mode.KEY, key=[key_entry("x", 1.0, (1e-2, 0.0))])
    observe("x", 1.005)  # a tolerance stated in the test itself is not what counts
    assert observe.records == []


def test_key_mismatch_asserts_with_a_readable_sentence():
    observe = Observer("check_x", Mode.KEY, key=[key_entry("grads", [1.0, 2.0])])
    with pytest.raises(AssertionError) as raised:
        observe("grads", [1.0, 2.5], tol=(1.0, 1.0))
    assert str(raised.value) == (
        "grads[1]: expected 2, got 2.5 (tolerance: relative 1e-06, absolute 1e-09)"
    )


def test_key_without_an_entry_says_the_key_may_be_stale():
    observe = Observer("check_x", Mode.KEY, key=[key_entry("x", 1.0)])
    with pytest.raises(AssertionError, match="no answer-key entry for 'y': is the key stale"):
        observe("y", 1.0)


def test_key_expect_asserts_directly_with_its_message():
    observe = Observer("check_x", Mode.KEY, key=[])
    observe.expect("fine", True, "never shown")
    with pytest.raises(AssertionError, match="^weights must differ$"):
        observe.expect("broken", False, "weights must differ")


def test_key_given_needs_no_entry_and_returns_the_live_value():
    observe = Observer("check_x", Mode.KEY, key=[])
    live = [0.5]
    assert observe.given("w", live) is live


def test_key_graph_passes_for_the_reference_and_names_the_method_otherwise(Value):
    expected = reference()
    expected.graph("g", small_graph(Value), output="c")
    key = [expected.records[0]]
    Observer("check_x", Mode.KEY, key=key).graph("g", small_graph(Value), output="c")

    wrong = small_graph(Value)
    wrong["a"].grad = 7.0
    with pytest.raises(AssertionError) as raised:
        Observer("check_x", Mode.KEY, key=key).graph("g", wrong, output="c")
    assert str(raised.value).startswith("expected a.grad = -3, got 7.")
    assert str(raised.value).endswith("[Value.backward]")


# ---------------------------------------------------------------------- every mode


@pytest.mark.parametrize("mode", list(Mode))
@pytest.mark.parametrize("second", ["value", "given", "expect"])
def test_observation_names_must_be_unique(mode, second):
    observe = Observer(
        "check_x", mode, sink=lambda record: None, givens={"n": 1}, key=[key_entry("n", 1)]
    )
    observe("n", 1)
    with pytest.raises(HarnessError, match="observation name 'n' is not unique in check_x"):
        {
            "value": lambda: observe("n", 1),
            "given": lambda: observe.given("n", 1),
            "expect": lambda: observe.expect("n", True, ""),
        }[second]()


@pytest.mark.parametrize("mode", list(Mode))
def test_observation_names_must_be_strings(mode):
    observe = Observer("check_x", mode, sink=lambda record: None)
    with pytest.raises(HarnessError):
        observe(3, 1.0)


def test_inputs_do_not_take_part_in_the_uniqueness_of_names():
    observe = reference()
    observe.input("x", 1)
    observe.input("x", 2)
    observe("x", 3)
    assert [r["role"] for r in observe.records] == ["input", "input", "value"]


# ------------------------------------------------------------------------------ topo


def test_topo_of_the_reference_order_is_a_passing_expect(Value):
    nodes = small_graph(Value)
    observe = reference(givens={"order": ["a", "b", "c"]})
    observe.topo("order", nodes["c"].topo_sort(), nodes, output="c")
    given, verdict = observe.records
    assert sorted(given["value"]) == ["a", "b", "c"] and given["value"][-1] == "c"
    assert (verdict["name"], verdict["ok"], verdict["item"]) == (
        "order is a valid order",
        True,
        "Value.topo_sort",
    )


def test_topo_judges_the_students_recorded_order_in_the_reference_run(Value):
    nodes = small_graph(Value)
    observe = reference(givens={"order": ["c", "a", "b"]})
    observe.topo("order", nodes["c"].topo_sort(), nodes, output="c")
    verdict = observe.records[-1]
    assert verdict["ok"] is False
    assert verdict["message"] == "the node topo_sort() is called on (c) must come last, got b"


def test_topo_names_foreign_nodes_as_unknown(Value):
    nodes = small_graph(Value)
    sink = []
    observe = Observer("check_x", Mode.RECORD, sink=sink.append)
    observe.topo("order", [nodes["a"], Value(1.0), nodes["c"]], nodes, output="c")
    assert sink[0]["value"] == ["a", "?", "c"]
    assert sink[1]["ok"] is False
    assert sink[1]["message"] == "topo_sort() returned something that is not a node of this graph"


def test_topo_of_something_that_is_not_iterable(Value):
    nodes = small_graph(Value)
    sink = []
    observe = Observer("check_x", Mode.RECORD, sink=sink.append)
    observe.topo("order", None, nodes, output="c")
    assert sink == [
        {
            "role": "expect",
            "name": "order",
            "ok": False,
            "message": "topo_sort() returned None, not a list of nodes",
            "item": "Value.topo_sort",
        }
    ]
