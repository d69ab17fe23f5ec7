"""The answer key: which checks it answers, how it is written, and how it judges."""

from __future__ import annotations

import json
import math
import random
from pathlib import Path
from typing import Any

import pytest

from grader.errors import ConfigError
from grader.exercise import STEPS, Exercise
from grader.handout import answer_key
from grader.handout.answer_key import (
    FLOAT_DIGITS,
    PUBLIC_SEED,
    AnswerKeyExpectations,
    answer_key_json,
    build_answer_key,
    read_answer_key,
    restrict_to_key,
    write_answer_key,
)
from grader.harness import home
from grader.harness.compare import compare
from grader.harness.graph import compare_graph
from grader.harness.home import KEY_FILE, classes_for
from grader.rubric import Rubric
from grader.trusted import run_reference


@pytest.fixture(scope="module")
def key(exercise: Exercise, rubric: Rubric) -> dict[str, Any]:
    return build_answer_key(exercise, rubric)


def test_the_key_answers_exactly_the_visible_checks(
    exercise: Exercise, rubric: Rubric, key: dict[str, Any]
) -> None:
    assert key["schema"] == 1 and key["seed"] == PUBLIC_SEED
    expected = {c.id for c in exercise.checks if rubric.entry(c.step, c.id).visibility == "visible"}
    assert set(key["checks"]) == expected
    # Checks that replay the student's data are keyed too; their properties are judged at
    # home on the student's own data, and no given record (a random draw) is in the key.
    assert {"topo_sort", "neuron_weights"} <= set(key["checks"])
    kept = [r for records in key["checks"].values() for r in records]
    assert all(r["role"] not in ("given", "item") and not r.get("replayed") for r in kept)
    assert "mixed_expression" not in key["checks"]  # hidden


def test_hidden_checks_are_keyed_only_on_request(exercise: Exercise, rubric: Rubric) -> None:
    full = build_answer_key(exercise, rubric, hidden=True)
    assert "mixed_expression" in full["checks"]
    assert "training_from_own_weights" not in full["checks"]  # it replays the student's data


def _other(value: Any, rng: random.Random) -> Any:
    """``value`` with every number replaced by another in [-1, 1] (the same shape)."""
    if type(value) is float:
        return rng.uniform(-1, 1)
    if type(value) is list:
        return [_other(v, rng) for v in value]
    return value


def test_keyed_values_do_not_depend_on_what_the_student_reported(
    exercise: Exercise, rubric: Rubric, key: dict[str, Any]
) -> None:
    # A keyed check that reads the student's data (given) is replayed with other data: every
    # value the key holds for it must come out the same, or the key would judge a student by
    # the reference's random draws.
    rng = random.Random(7)
    replaying = 0
    for cid, keyed in key["checks"].items():
        own = run_reference(exercise, exercise.check(cid), PUBLIC_SEED, None, own_givens=True)
        givens = {r["name"]: _other(r["value"], rng) for r in own.records if r["role"] == "given"}
        if not givens:
            continue
        replaying += 1
        other = run_reference(exercise, exercise.check(cid), PUBLIC_SEED, givens)
        assert other.replay_error is None and not other.missing_given
        again = {r["name"]: r for r in other.records}
        for record in keyed:
            tol = (record["tol"][0], record["tol"][1]) if "tol" in record else (0.0, 0.0)
            if record["role"] == "graph":
                found = compare_graph(
                    record["value"], again[record["name"]]["value"], record["output"], tol
                )
                assert found is None, (cid, record["name"], found)
            else:
                assert compare(record["value"], again[record["name"]]["value"], tol) is None, (
                    cid,
                    record["name"],
                )
    assert replaying >= 2  # topo_sort and neuron_weights at least


def test_steps_limit_the_key(exercise: Exercise, rubric: Rubric) -> None:
    partial = build_answer_key(exercise, rubric, steps=(1, 2))
    assert {exercise.check(cid).step for cid in partial["checks"]} == {1, 2}


def test_the_key_regenerates_byte_for_byte(
    exercise: Exercise, rubric: Rubric, key: dict[str, Any]
) -> None:
    again = answer_key_json(build_answer_key(exercise, rubric))
    assert answer_key_json(key) == again
    text = again.decode()
    assert json.loads(text) == key and text.endswith("\n")
    assert list(json.loads(text)) == sorted(json.loads(text))


def floats(value: Any) -> list[float]:
    if type(value) is float:
        return [value]
    if type(value) is list:
        return [f for item in value for f in floats(item)]
    if type(value) is dict:
        return [f for item in value.values() for f in floats(item)]
    return []


def test_floats_are_rounded_for_stable_diffs(key: dict[str, Any]) -> None:
    found = floats(key["checks"])
    assert found and all(math.isfinite(f) for f in found)
    assert all(f == float(f"{f:.{FLOAT_DIGITS}g}") for f in found)


def test_rounding_stays_well_inside_every_tolerance(
    exercise: Exercise, key: dict[str, Any]
) -> None:
    for check_id, records in key["checks"].items():
        fresh = [
            kept
            for r in run_reference(
                exercise, exercise.check(check_id), PUBLIC_SEED, own_givens=True
            ).records
            if (kept := answer_key.key_record(r))
        ]
        assert [r["name"] for r in records] == [r["name"] for r in fresh]
        for want, got in zip(records, fresh, strict=True):
            # A tenth of the check's own tolerance (inputs are only shown, never compared).
            tol = (want["tol"][0] / 10, want["tol"][1] / 10) if "tol" in want else (1e-9, 0.0)
            if want["role"] == "graph":
                assert compare_graph(want["value"], got["value"], want["output"], tol) is None
            elif want["role"] in ("value", "input"):
                assert compare(want["value"], got["value"], tol) is None


def test_expectations_answer_keyed_checks(exercise: Exercise, key: dict[str, Any]) -> None:
    expectations = AnswerKeyExpectations(key)
    run = expectations.expected(exercise.check("add_two_values"), None, PUBLIC_SEED)
    assert run.missing_given is None
    assert list(run.records) == key["checks"]["add_two_values"]


def test_expectations_refuse_unkeyed_checks_and_other_seeds(
    exercise: Exercise, key: dict[str, Any]
) -> None:
    expectations = AnswerKeyExpectations(key)
    unkeyed = expectations.expected(exercise.check("training_from_own_weights"), {}, PUBLIC_SEED)
    assert unkeyed.records == () and unkeyed.missing_given
    assert "grader" in unkeyed.missing_given
    with pytest.raises(ConfigError, match="seed"):
        expectations.expected(exercise.check("add_two_values"), None, PUBLIC_SEED + 1)


def test_restrict_to_key_keeps_only_keyed_checks(
    exercise: Exercise, rubric: Rubric, key: dict[str, Any]
) -> None:
    small = {**key, "checks": {cid: key["checks"][cid] for cid in ("add_number", "add_backward")}}
    keyed, cut = restrict_to_key(exercise, rubric, AnswerKeyExpectations(small))
    assert [c.id for c in keyed.checks] == ["add_number", "add_backward"]
    assert set(cut.steps) == set(STEPS)
    assert {cid for s in cut.steps.values() for cid in s.entries} == {"add_number", "add_backward"}


def test_written_keys_read_back(tmp_path: Path, key: dict[str, Any]) -> None:
    path = write_answer_key(key, tmp_path)
    assert path.name == KEY_FILE and read_answer_key(path) == key


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "is missing"),
        ("{not json", "cannot be read"),
        ('{"schema": 2, "seed": 1, "checks": {}}', "schema 1"),
        ('{"schema": 1, "seed": "1", "checks": {}}', "damaged"),
        ('{"schema": 1, "seed": 1, "checks": {"a": [1]}}', "damaged"),
    ],
)
def test_bad_keys_are_config_errors(tmp_path: Path, content: str | None, message: str) -> None:
    path = tmp_path / KEY_FILE
    if content is not None:
        path.write_text(content)
    with pytest.raises(ConfigError, match=message):
        read_answer_key(path)


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        (["value.py", "mlp.py"], ("micrograd.value", "micrograd.mlp")),
        (["engine.py", "nn.py"], ("micrograd.engine", "micrograd.nn")),
        (["value.py"], ("micrograd.value", "micrograd.mlp")),
        (["engine.py"], ("micrograd.engine", "micrograd.mlp")),
    ],
)
def test_home_mode_finds_either_layout(
    tmp_path: Path, files: list[str], expected: tuple[str, str]
) -> None:
    (tmp_path / "micrograd").mkdir()
    for name in files:
        (tmp_path / "micrograd" / name).write_text("")
    found = classes_for(tmp_path)
    assert found["Value"] == expected[0]
    assert {found["Neuron"], found["Layer"], found["MLP"]} == {expected[1]}


def test_the_grader_and_the_harness_agree_on_the_key_file() -> None:
    assert (answer_key.KEY_FILE, answer_key.KEY_SCHEMA) == (home.KEY_FILE, home.KEY_SCHEMA)
