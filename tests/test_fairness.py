"""Fair grading's parts on their own: the contract's items and owners, what an exception is
evidence about, and the decision each check gets (charged, candidate) before any
counterfactual run. End-to-end fairness (one fault, one charge) is in test_examples.py and
test_hostile.py; these pin the rules those rely on."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from grader.exercise import load_exercise, load_solution
from grader.fairness.contract import ITEMS, ownership_problems
from grader.fairness.decide import decide
from grader.fairness.evidence import Evidence, error_item
from grader.harness.observe import Mode, Observer
from grader.harness.seeding import check_rng
from grader.rubric import Rubric, load_rubric
from grader.selfcheck import ownership_row

EXERCISE = load_exercise()
RUBRIC = load_rubric(EXERCISE)
CHECKS = {c.id: c for c in EXERCISE.checks}


def owner(item: str) -> str:
    return RUBRIC.owners()[item][1]


# ------------------------------------------------------------------ items and owners


def test_every_contract_item_has_exactly_one_owner() -> None:
    assert ownership_problems(RUBRIC) == []


def _moved(rubric: Rubric, item: str, to: str) -> Rubric:
    """``rubric`` with ``item`` also owned by the check ``to`` (of the same step)."""
    step = ITEMS[item].step
    entries = dict(rubric.steps[step].entries)
    entries[to] = replace(entries[to], owns=(*entries[to].owns, item))
    steps = dict(rubric.steps)
    steps[step] = replace(rubric.steps[step], entries=entries)
    return replace(rubric, steps=steps)


def test_a_second_owner_or_an_unknown_item_is_a_problem() -> None:
    item = "Value.__mul__:backward"
    other = next(cid for cid in RUBRIC.steps[2].entries if cid != owner(item))
    problems = ownership_problems(_moved(RUBRIC, item, other))
    assert problems == [f"contract item {item!r} has 2 owners: {owner(item)}, {other}"] or (
        problems == [f"contract item {item!r} has 2 owners: {other}, {owner(item)}"]
    )
    entries = dict(RUBRIC.steps[2].entries)
    entries[other] = replace(entries[other], owns=(*entries[other].owns, "Value.__mod__"))
    steps = {**RUBRIC.steps, 2: replace(RUBRIC.steps[2], entries=entries)}
    assert ownership_problems(replace(RUBRIC, steps=steps)) == [
        f"check {other} owns 'Value.__mod__', which is no contract item"
    ]


def _reference_records() -> list[dict[str, Any]]:
    classes = load_solution(EXERCISE.reference_dir(5) / "micrograd")
    records = []
    for check in EXERCISE.checks:
        observer = Observer(check.id, Mode.REFERENCE)
        fixtures = {"rng": check_rng(7, check.id), "observe": observer}
        kwargs = {n: fixtures[n] if n in fixtures else getattr(classes, n) for n in check.fixtures}
        try:
            check.function(**kwargs)
        except Exception:  # noqa: BLE001 - a check that needs the student's run's givens
            pass
        records += observer.records
    return records


def test_every_item_the_staged_tests_name_is_a_contract_item() -> None:
    named = {r["item"] for r in _reference_records() if type(r.get("item")) is str}
    assert len(named) > 20  # the staged tests do name items
    assert named - set(ITEMS) == set()


def test_selfcheck_reports_ownership_first() -> None:
    assert ownership_row(RUBRIC, 1).ok
    item = "Value.__mul__:backward"
    other = next(cid for cid in RUBRIC.steps[2].entries if cid != owner(item))
    row = ownership_row(_moved(RUBRIC, item, other), 1)
    assert row.name == "ownership" and not row.ok
    assert [p for p in row.problems if item in p]


# ------------------------------------------------------------------ what an exception says


def _error(kind: str, message: str, function: str = "", **extra: Any) -> dict[str, Any]:
    frames = [{"function": function, "file": "micrograd/value.py", "line": 3}] if function else []
    return {"type": kind, "message": message, "frames": frames, **extra}


@pytest.mark.parametrize(
    ("kind", "message", "item"),
    [
        ("TypeError", "unsupported operand type(s) for +: 'int' and 'Value'", "Value.__radd__"),
        ("TypeError", "unsupported operand type(s) for -: 'float' and 'Value'", "Value.__rsub__"),
        (
            "TypeError",
            "unsupported operand type(s) for /: 'float' and 'Value'",
            "Value.__rtruediv__",
        ),
        (
            "TypeError",
            "unsupported operand type(s) for ** or pow(): 'Value' and 'int'",
            "Value.__pow__:forward",
        ),
        ("TypeError", "bad operand type for unary -: 'Value'", "Value.__neg__"),
        ("AttributeError", "'Value' object has no attribute '_prev'", "Value:children"),
        ("AttributeError", "'MLP' object has no attribute 'zero_grad'", "MLP.zero_grad"),
    ],
)
def test_textbook_exceptions_name_the_method_that_is_missing(
    kind: str, message: str, item: str
) -> None:
    assert error_item(_error(kind, message, "__call__"), "Neuron.__call__")[0] == item


def test_an_unexpected_nonlin_keyword_is_the_nonlin_item() -> None:
    message = "Layer.__init__() got an unexpected keyword argument 'nonlin'"
    assert error_item(_error("TypeError", message), "MLP:training")[0] == "Layer.__init__:nonlin"


def test_a_refused_method_says_what_it_did_earlier_in_the_runners_words() -> None:
    why = "was still running after 2 s in the check node_used_twice (micrograd/value.py, line 9)"
    error = _error("Guarded", "", guarded="Value.backward", guarded_why=why)
    item, said = error_item(error, "Value.backward:seed")
    assert item.startswith("Value.backward")
    assert said == f"Value.backward {why}, so it was not run again here"
    del error["guarded_why"]
    assert "in an earlier check" in error_item(error, "")[1]


def test_a_full_disk_or_file_says_the_sandbox_caps_output() -> None:
    said = error_item(_error("OSError", "[Errno 27] File too large", "_div"), "")[1]
    assert said.startswith("OSError: [Errno 27] File too large") and "caps" in said
    assert "caps" not in error_item(_error("OSError", "[Errno 2] No such file"), "")[1]


# ------------------------------------------------------------------ decisions


def _evidence(*items: str) -> Evidence:
    evidence = Evidence()
    for item in items:
        evidence.add(item, f"{item} is wrong")
    return evidence


def _decide(evidence: dict[str, Evidence]) -> dict[str, Any]:
    checks = {cid: CHECKS[cid] for cid in evidence}
    failed = {cid for cid, ev in evidence.items() if ev.differs}
    graded = set(CHECKS)
    return decide(checks, evidence, failed, RUBRIC, graded=graded)


def test_a_fault_is_charged_in_its_owner_and_only_a_candidate_elsewhere() -> None:
    item = "Value.__mul__:backward"
    home = owner(item)
    elsewhere = owner("Value.tanh:backward")
    decided = _decide({home: _evidence(item), elsewhere: _evidence(item)})
    assert decided[home].kind == "charged" and decided[home].pointer.item == item
    assert decided[elsewhere].kind == "candidate"
    assert decided[elsewhere].graft == frozenset({"Value.__mul__"})


def test_a_fault_whose_owner_passed_is_charged_where_it_was_seen() -> None:
    item = "Value.__mul__:backward"
    elsewhere = owner("Value.tanh:backward")
    decided = _decide({owner(item): _evidence(), elsewhere: _evidence(item)})
    assert decided[elsewhere].kind == "charged"
    assert decided[elsewhere].pointer.item == item


def test_a_difference_pinned_on_nothing_is_charged() -> None:
    check = owner("Value.tanh:backward")
    decided = _decide({check: _evidence("")})
    assert decided[check].kind == "charged"


def test_a_crash_with_no_place_is_a_candidate_only_when_earlier_methods_were_charged() -> None:
    mixed = owner("Value:expressions")
    sub = owner("Value.__sub__")
    crashed = _evidence("")
    decided = _decide({sub: _evidence("Value.__sub__"), mixed: crashed})
    assert decided[mixed].kind == "candidate"
    assert "Value.__sub__" in decided[mixed].graft
    alone = _decide({sub: _evidence(), mixed: _evidence("")})
    assert alone[mixed].kind == "charged"


# ------------------------------------------------------------------ the audit itself


@pytest.mark.parametrize("build", ["-a", "a - b", "n / a", "a * a + b"])
def test_a_correct_graph_audits_clean_even_with_unnamed_nodes(build: str) -> None:
    """The probes of named nodes set their unnamed children's gradients too (the ``-1`` of
    ``-a``): the audit must see the gradients backward() left, or a correct traversal reads
    as wrong whenever the check fails for another reason."""
    from grader.fairness.audit import audit
    from grader.harness.graph import capture

    value = load_solution(EXERCISE.reference_dir(5) / "micrograd").Value
    a, b, n = value(2.5), value(-1.25), 3.0
    out = eval(build, {"a": a, "b": b, "n": n})  # noqa: S307 - our own fixed expressions
    out.backward()
    captured = capture({"a": a, "b": b, "out": out}, output="out")
    found = audit(captured["audit"], backward=True)
    assert found.faults == [] and found.traversal is None, found
    # ...and every gradient is back to what backward() left.
    assert (a.grad, b.grad) == (pytest.approx(_grad(build, "a")), pytest.approx(_grad(build, "b")))


def _grad(build: str, name: str) -> float:
    return {
        "-a": {"a": -1.0, "b": 0.0},
        "a - b": {"a": 1.0, "b": -1.0},
        "n / a": {"a": -3.0 / 2.5**2, "b": 0.0},
        "a * a + b": {"a": 5.0, "b": 1.0},
    }[build][name]


def test_a_step_not_started_earns_nothing_through_grafts_but_a_wrong_method_is_excused() -> None:
    from grader.fairness.contract import graft_covers_integration, graft_covers_step

    derived = tuple(RUBRIC.entry(2, "derived_operators_backward").owns)
    step_two = frozenset(
        {"Value.__add__", "Value.__mul__", "Value.__pow__", "Value.backward", "Value.topo_sort"}
    )
    # Every other step-2 method grafted and none of them written: the skeleton's case.
    assert graft_covers_step(2, derived, step_two, set(step_two))
    # The same graft for methods written but wrong: the check still judged the student's.
    assert not graft_covers_step(2, derived, step_two, set())
    assert not graft_covers_step(2, derived, frozenset({"Value.backward"}), {"Value.backward"})
    karpathy = tuple(RUBRIC.entry(3, "karpathy_checks").owns)
    assert graft_covers_integration(karpathy, frozenset({"Value.relu"}), {"Value.relu"})
    assert not graft_covers_integration(karpathy, frozenset({"Value.relu"}), set())


# ------------------------------------------------------------------ excuses that stand


@pytest.mark.parametrize("passes_with_relu_alone", [True, False])
def test_an_excuse_resting_on_a_check_that_was_excused_itself_is_decided_again(
    passes_with_relu_alone: bool,
) -> None:
    # Seen with a fork bomb in relu: layer_forward excused by MLP.__call__ (charged in
    # mlp_forward), mlp_forward by Layer.__call__ (charged in layer_forward), each also by
    # relu's fault. In the end neither Layer nor MLP is charged: the excuses must rest on
    # relu's charge alone, shown by one more run with only relu grafted.
    from grader.fairness import counterfactual
    from grader.fairness.decide import Decision

    relu, layer, mlp = "Value.relu:backward", "Layer.__call__", "MLP.__call__"
    evidence = {
        "relu_backward": _evidence(relu),
        "layer_forward": _evidence(layer),
        "mlp_forward": _evidence(mlp),
    }
    settled = {
        "relu_backward": Decision("charged", pointer=evidence["relu_backward"].faults[0]),
        "layer_forward": Decision("excused", excused_by=(mlp, relu)),
        "mlp_forward": Decision("excused", excused_by=(layer, relu)),
    }
    grafts_seen: dict[str, frozenset[str]] = {}

    def run_round(grafts: dict[str, frozenset[str]], charged: set[str]) -> dict[str, Any]:
        # What the sandbox would report with those grafts, decided as settle decides it.
        grafts_seen.update(grafts)
        ok = passes_with_relu_alone
        again = {
            cid: (_evidence() if ok else _evidence(layer if "layer" in cid else mlp), not ok)
            for cid in grafts
        }
        return counterfactual._decide_round(grafts, again, CHECKS, RUBRIC, charged)

    standing = counterfactual._standing(settled, evidence, RUBRIC)
    assert standing == {relu}
    final = counterfactual._without_stale_excuses(
        dict(settled),
        settled,
        evidence,
        standing,
        RUBRIC,
        run_round,
        lambda cid, graft, found: found.kind == "passed",
    )
    assert grafts_seen == {
        "layer_forward": frozenset({"Value.relu"}),
        "mlp_forward": frozenset({"Value.relu"}),
    }
    for cid, item in (("layer_forward", layer), ("mlp_forward", mlp)):
        if passes_with_relu_alone:
            assert final[cid] == Decision("excused", excused_by=(relu,))
        else:
            assert final[cid].kind == "charged" and final[cid].pointer.item == item
    assert final["relu_backward"] == settled["relu_backward"]
