"""Properties of the staged checks that make grading fair and hard to game.

- Every correct solution passes every check, whatever the seed (no flakiness): the
  reference on REFERENCE_SEEDS (20) seeds, and on EXAMPLE_SEEDS (15) seeds the bundled
  examples written the way students write (other draw orders, other summation orders,
  operators built directly, recursion instead of a stack).
- Every skeleton fails every check of the step it starts (and passes the earlier steps'),
  on SKELETON_SEEDS (25) seeds, except checks that own only integration items.
- Every check has an observation that changes with the seed, so answers hard-coded for
  one seed (the public answer key, a friend's results.json) are worth nothing.
- The reference run is deterministic for a given seed.
"""

from __future__ import annotations

import random
from types import SimpleNamespace

import pytest
from exercise_paths import REPO
from inprocess import record, verdict

from grader.exercise import Check, load_exercise, load_solution
from grader.fairness.contract import integration_only
from grader.harness.compare import compare
from grader.harness.graph import compare_graph
from grader.rubric import load_rubric
from grader.trusted import run_reference

EXERCISE = load_exercise()
RUBRIC = load_rubric(EXERCISE)
REFERENCE_SEEDS, EXAMPLE_SEEDS, SKELETON_SEEDS = 20, 15, 25
SEEDS = random.Random(20261129).sample(range(2**31), REFERENCE_SEEDS)


def solution(path: str) -> SimpleNamespace:
    return load_solution(REPO / path)


def single_file() -> SimpleNamespace:
    namespace: dict[str, object] = {}
    source = (REPO / "examples" / "complete" / "single_file.py").read_text()
    exec(compile(source, "single_file.py", "exec"), namespace)
    return SimpleNamespace(**{k: namespace[k] for k in ("Value", "Neuron", "Layer", "MLP")})


def karpathy() -> SimpleNamespace:
    import importlib
    import sys

    root = REPO / "examples" / "complete" / "karpathy"
    sys.path.insert(0, str(root))
    try:
        engine = importlib.import_module("micrograd.engine")
        nn = importlib.import_module("micrograd.nn")
    finally:
        sys.path.remove(str(root))
        for name in [n for n in sys.modules if n == "micrograd" or n.startswith("micrograd.")]:
            del sys.modules[name]
    return SimpleNamespace(Value=engine.Value, Neuron=nn.Neuron, Layer=nn.Layer, MLP=nn.MLP)


CORRECT = {
    "reference/step_5": lambda: solution("reference/step_5/micrograd"),
    "examples/complete/package": lambda: solution("examples/complete/package/micrograd"),
    "examples/complete/single_file.py": single_file,
    "examples/complete/karpathy": karpathy,
}


@pytest.mark.parametrize("name", sorted(CORRECT))
def test_correct_solutions_pass_every_check_whatever_the_seed(name: str) -> None:
    classes = CORRECT[name]()
    failures = []
    # The reference carries the exercise's no-flakiness bar; the examples a lighter one.
    for seed in SEEDS if name.startswith("reference") else SEEDS[:EXAMPLE_SEEDS]:
        for check in EXERCISE.checks:
            result = verdict(EXERCISE, check, classes, seed)
            if result.status != "passed":
                failures.append(f"seed {seed} {check.id}: {result.message}")
    assert failures == []


@pytest.mark.parametrize("step", [1, 2, 3, 4, 5])
def test_skeletons_fail_every_check_of_their_step_and_pass_the_earlier_ones(step: int) -> None:
    # Except a check that owns only integration items (Karpathy's expressions, a whole
    # training run through w and b): it may need no code of its step, so a skeleton may
    # pass it; the step's missing methods are charged in the checks that own them, once.
    classes = solution(f"skeletons/step_{step}/micrograd")
    earlier = solution(f"reference/step_{step - 1}/micrograd") if step > 1 else None
    passed = []
    for seed in SEEDS[:SKELETON_SEEDS]:
        for check in EXERCISE.steps_checks((step,)):
            if integration_only(RUBRIC, step, check.id):
                continue
            if verdict(EXERCISE, check, classes, seed).status == "passed":
                passed.append(f"seed {seed} {check.id}")
        if earlier is not None:
            for check in EXERCISE.steps_checks(tuple(range(1, step))):
                assert verdict(EXERCISE, check, classes, seed).status == "passed", check.id
    assert passed == []


@pytest.mark.parametrize("check", EXERCISE.checks, ids=lambda c: c.id)
def test_every_check_has_an_observation_that_changes_with_the_seed(check: Check) -> None:
    classes = solution("reference/step_5/micrograd")
    runs = [
        run_reference(EXERCISE, check, seed, record(check, classes, seed).givens)
        for seed in SEEDS[:12]
    ]
    observed = [
        {r["name"]: repr(r["value"]) for r in run.records if r["role"] in ("value", "graph")}
        for run in runs
    ]
    varying = [
        name for name in observed[0] if len({values.get(name) for values in observed}) == len(runs)
    ]
    assert varying, f"{check.id}: no observation differs across 12 seeds"


def test_reference_runs_agree_with_themselves_within_tolerance() -> None:
    # Not bit for bit: sets of children are visited in an order that depends on object
    # ids, so sums of gradient contributions can differ in the last bit between runs.
    for check in EXERCISE.checks:
        first = run_reference(EXERCISE, check, 77)
        again = {r["name"]: r for r in run_reference(EXERCISE, check, 77).records}
        for mine in first.records:
            other = again[mine["name"]]
            if mine["role"] == "value":
                tol = (mine["tol"][0], mine["tol"][1])
                assert compare(mine["value"], other["value"], tol) is None, check.id
            elif mine["role"] == "graph":
                assert compare_graph(mine["value"], other["value"], mine["output"]) is None
            elif mine["role"] in ("expect", "input"):
                assert mine == other, check.id
