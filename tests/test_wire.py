"""The record parser (``wire.parse_record``): strict JSON of known shapes, or ``BadRecord``.

Every line comes from a process running student code, so anything at all may arrive; the
only acceptable outcomes are a validated dict or ``BadRecord``.
"""

import json
import random

import pytest

from grader.files import dump_json
from grader.wire import MAX_DEPTH, MAX_ITEMS, MAX_STRING, BadRecord, parse_record

END = {
    "kind": "end",
    "check": "add",
    "outcome": "passed",
    "duration": 0.25,
    "stdout": "",
    "stderr": "warn\n",
}
ERROR = {
    "type": "AttributeError",
    "message": "'Value' object has no attribute 'tanh'",
    "frames": [{"file": "micrograd/value.py", "line": 3, "function": "Value.tanh"}],
}
OBS = {"kind": "obs", "check": "add", "role": "value", "name": "data", "tol": [1e-6, 1e-9]}
TOPLEVEL = {"kind": "toplevel", "event": "run", "module": "student_notebook", "cell": 2, "line": 1}
VALID = {
    "hello": {"kind": "hello", "checks": 3},
    "hello-bare": {"kind": "hello"},
    "start": {"kind": "start", "check": "add_two_values"},
    "loading": {"kind": "loading", "module": "micrograd.value"},
    "loaded": {"kind": "loaded", "module": "micrograd.value"},
    "obs-value": {
        "kind": "obs",
        "check": "add",
        "role": "value",
        "name": "data",
        "value": [1.5, {"$float": "nan"}],
        "tol": [1e-6, 1e-9],
        "blame": None,
    },
    "obs-given": {"kind": "obs", "check": "add", "role": "given", "name": "w", "value": None},
    "obs-graph": {
        "kind": "obs",
        "check": "add",
        "role": "graph",
        "name": "g",
        "value": {"nodes": []},
        "output": "c",
    },
    "obs-expect": {
        "kind": "obs",
        "check": "add",
        "role": "expect",
        "name": "p",
        "ok": False,
        "message": "m",
    },
    "end": END,
    "end-int-duration": {**END, "duration": 0},
    "end-error": {**END, "outcome": "failed", "error": ERROR},
    "end-error-no-frames": {**END, "error": {**ERROR, "frames": []}},
    "done": {"kind": "done", "exitstatus": 1},
    "toplevel-run": {
        "kind": "toplevel",
        "event": "run",
        "module": "student_notebook",
        "cell": 3,
        "line": 1,
    },
    "toplevel-raised": {
        "kind": "toplevel",
        "event": "raised",
        "module": "student_script",
        "cell": 0,
        "line": 12,
        "error": "ModuleNotFoundError",
        "name": "numpy.linalg",
    },
    "toplevel-standin": {
        "kind": "toplevel",
        "event": "standin",
        "module": "",
        "cell": 0,
        "line": 0,
        "name": "matplotlib.pyplot",
    },
    # at the structural caps, and numbers that are odd but usable
    "int-19-digits": {**OBS, "value": [9223372036854775807, -9223372036854775807]},
    "negative-zero-subnormal": {**OBS, "value": [-0.0, 5e-324, 1.7976931348623157e308]},
    "string-at-the-cap": {**OBS, "value": "x" * MAX_STRING},
    "list-at-the-cap": {**OBS, "value": [0] * MAX_ITEMS},
}


def line(record):
    return json.dumps(record).encode()


@pytest.mark.parametrize("record", VALID.values(), ids=VALID.keys())
def test_valid_records_are_accepted_unchanged(record):
    assert parse_record(line(record)) == record


def test_a_record_may_end_with_a_newline_or_carriage_return():
    assert parse_record(b'{"kind": "hello"}\r\n') == {"kind": "hello"}


def _nested(depth):
    value = []
    for _ in range(depth):
        value = [value]
    return value


def _without(record, key):
    return {k: v for k, v in record.items() if k != key}


def _error(**changes):
    return {**END, "error": {**ERROR, **changes}}


INVALID = {
    # strict JSON
    "nan-literal": b'{"kind": "done", "exitstatus": NaN}',
    "infinity-literal": b'{"kind": "end", "check": "a", "outcome": "passed", '
    b'"duration": Infinity, "stdout": "", "stderr": ""}',
    "minus-infinity-in-value": b'{"kind": "obs", "check": "a", "role": "value", "name": "x", '
    b'"value": [-Infinity]}',
    "duplicate-key": b'{"kind": "done", "exitstatus": 0, "exitstatus": 1}',
    "duplicate-nested-key": b'{"kind": "obs", "check": "a", "role": "value", "name": "x", '
    b'"value": {"k": 1, "k": 2}}',
    "duplicate-kind": b'{"kind": "hello", "kind": "done", "exitstatus": 0}',
    "trailing-garbage": b'{"kind": "hello"} {"kind": "hello"}',
    "single-quotes": b"{'kind': 'hello'}",
    "empty": b"",
    "whitespace": b"   ",
    "invalid-utf8": b'{"kind": "start", "check": "\xff\xfe"}',
    "too-many-digits": b'{"kind": "done", "exitstatus": ' + b"9" * 5000 + b"}",
    # structural caps: nothing a record holds can make the host slow or raise later
    "int-of-401-digits": line({**OBS, "value": 10**400}),
    "int-of-21-digits": line({**OBS, "value": -(10**20)}),
    "int-in-a-nested-list": line({**OBS, "value": [[1.0, [2, 10**25]]]}),
    "string-over-the-cap": line({**OBS, "value": "x" * (MAX_STRING + 1)}),
    "key-over-the-cap": line({**OBS, "value": {"$map": [], "k" * (MAX_STRING + 1): 1}}),
    "list-over-the-cap": line({**OBS, "value": [0] * (MAX_ITEMS + 1)}),
    "object-over-the-cap": line({**OBS, "value": {str(i): i for i in range(MAX_ITEMS + 1)}}),
    "nested-over-the-cap": line({**OBS, "value": _nested(MAX_DEPTH + 1)}),
    # not an object
    "array": b'[{"kind": "hello"}]',
    "string": b'"hello"',
    "number": b"1",
    "null": b"null",
    "true": b"true",
    # kinds
    "no-kind": line({"check": "a"}),
    "unknown-kind": line({"kind": "exit", "exitstatus": 0}),
    "kind-not-a-string": line({"kind": ["hello"]}),
    "kind-wrong-case": line({"kind": "Hello"}),
    # field types
    "start-no-check": line({"kind": "start"}),
    "start-check-number": line({"kind": "start", "check": 3}),
    "loading-module-null": line({"kind": "loading", "module": None}),
    "done-exitstatus-bool": line({"kind": "done", "exitstatus": True}),
    "done-exitstatus-float": line({"kind": "done", "exitstatus": 0.0}),
    "done-exitstatus-string": line({"kind": "done", "exitstatus": "0"}),
    "obs-unknown-role": line(
        {"kind": "obs", "check": "a", "role": "input", "name": "x", "value": 1}
    ),
    "obs-role-missing": line({"kind": "obs", "check": "a", "name": "x", "value": 1}),
    "obs-name-number": line({"kind": "obs", "check": "a", "role": "value", "name": 1, "value": 1}),
    "obs-without-value": line({"kind": "obs", "check": "a", "role": "value", "name": "x"}),
    "graph-without-value": line({"kind": "obs", "check": "a", "role": "graph", "name": "g"}),
    "expect-ok-int": line({"kind": "obs", "check": "a", "role": "expect", "name": "p", "ok": 1}),
    "expect-ok-string": line(
        {"kind": "obs", "check": "a", "role": "expect", "name": "p", "ok": "true"}
    ),
    "expect-ok-missing": line({"kind": "obs", "check": "a", "role": "expect", "name": "p"}),
    "end-duration-bool": line({**END, "duration": True}),
    "end-duration-string": line({**END, "duration": "0.1"}),
    "end-outcome-missing": line(_without(END, "outcome")),
    "end-stdout-missing": line(_without(END, "stdout")),
    "end-stderr-list": line({**END, "stderr": ["x"]}),
    "end-error-null": line({**END, "error": None}),
    "end-error-string": line({**END, "error": "boom"}),
    "end-error-type-missing": line({**END, "error": _without(ERROR, "type")}),
    "end-error-message-number": line(_error(message=3)),
    "end-frames-missing": line({**END, "error": _without(ERROR, "frames")}),
    "end-frames-object": line(_error(frames={"function": "f"})),
    "end-frames-of-strings": line(_error(frames=["Value.tanh"])),
    "end-frames-mixed": line(_error(frames=[{"function": "f"}, None])),
    # sizes
    "check-name-too-long": line({"kind": "start", "check": "c" * 201}),
    "obs-check-too-long": line(
        {"kind": "obs", "check": "c" * 201, "role": "value", "name": "x", "value": 1}
    ),
    "obs-name-too-long": line(
        {"kind": "obs", "check": "a", "role": "value", "name": "n" * 501, "value": 1}
    ),
    "end-check-too-long": line({**END, "check": "c" * 201}),
    # what top-level code did: checked fields only, nothing free-form
    "toplevel-event-unknown": line({**TOPLEVEL, "event": "exploded"}),
    "toplevel-module-sentence": line({**TOPLEVEL, "module": "Grade: 100/100"}),
    "toplevel-cell-negative": line({**TOPLEVEL, "cell": -1}),
    "toplevel-cell-huge": line({**TOPLEVEL, "cell": 10**6}),
    "toplevel-line-bool": line({**TOPLEVEL, "line": True}),
    "toplevel-line-float": line({**TOPLEVEL, "line": 1.0}),
    "toplevel-raised-no-error": line({**TOPLEVEL, "event": "raised"}),
    "toplevel-error-sentence": line({**TOPLEVEL, "event": "raised", "error": "you passed"}),
    "toplevel-standin-no-name": line({**TOPLEVEL, "event": "standin"}),
    "toplevel-name-sentence": line({**TOPLEVEL, "name": "all checks passed"}),
    "toplevel-extra-field": line({**TOPLEVEL, "note": "full marks"}),
}


@pytest.mark.parametrize("raw", INVALID.values(), ids=INVALID.keys())
def test_invalid_records_are_bad_records(raw):
    with pytest.raises(BadRecord):
        parse_record(raw)


def test_names_at_the_length_limits_are_accepted():
    assert parse_record(line({"kind": "start", "check": "c" * 200}))
    assert parse_record(
        line({"kind": "obs", "check": "c" * 200, "role": "value", "name": "n" * 500, "value": 1})
    )


# Whatever the parser accepts ends up in results.json (a check's stdout, the actual value of
# a mismatch), which is strict JSON in UTF-8: a record that could not be written there is
# refused (and every accepted one can be: test_valid_records_can_be_written_to_results_json).
UNWRITABLE = {
    "overflowing-number": b'{"kind": "obs", "check": "a", "role": "value", "name": "x", '
    b'"value": 1e999}',
    "overflowing-duration": b'{"kind": "end", "check": "a", "outcome": "passed", '
    b'"duration": -1e400, "stdout": "", "stderr": ""}',
    "escaped-lone-surrogate": b'{"kind": "end", "check": "a", "outcome": "passed", '
    b'"duration": 0, "stdout": "\\ud800", "stderr": ""}',
    "raw-surrogate-bytes": b'{"kind": "end", "check": "a", "outcome": "passed", '
    b'"duration": 0, "stdout": "\xed\xa0\x80", "stderr": ""}',
}


@pytest.mark.parametrize("raw", UNWRITABLE.values(), ids=UNWRITABLE.keys())
def test_a_record_that_results_json_cannot_hold_is_refused(raw):
    with pytest.raises(BadRecord):
        parse_record(raw)


def test_valid_records_can_be_written_to_results_json():
    for record in VALID.values():
        assert json.loads(dump_json(parse_record(line(record)))) == record


def _nested_value(levels):
    value = 0
    for index in range(levels):
        value = [value] if index % 2 else {"k": value}
    return value


def test_nesting_up_to_the_limit_is_accepted_and_deeper_is_rejected():
    def obs(value):
        return line({"kind": "obs", "check": "a", "role": "value", "name": "x", "value": value})

    # The record itself is one level: its value may hold MAX_DEPTH - 1 more.
    assert parse_record(obs(_nested_value(MAX_DEPTH - 1)))
    with pytest.raises(BadRecord, match="nested too deeply"):
        parse_record(obs(_nested_value(MAX_DEPTH)))


def test_nesting_that_would_exhaust_the_recursion_limit_is_a_bad_record():
    with pytest.raises(BadRecord):
        parse_record(b"[" * 100_000 + b"]" * 100_000)
    with pytest.raises(BadRecord):
        parse_record(b'{"kind": "hello", "x": ' + b"[" * 50_000 + b"]" * 50_000 + b"}")


def test_a_megabyte_of_garbage_is_a_bad_record():
    rng = random.Random(7)
    with pytest.raises(BadRecord):
        parse_record(rng.randbytes(1 << 20))
    with pytest.raises(BadRecord):
        parse_record(b'{"kind": "hello", "pad": "' + b"x" * (1 << 20))


def test_bad_record_is_a_value_error_with_a_short_message():
    with pytest.raises(BadRecord) as raised:
        parse_record(b"{" + b"x" * 10_000)
    assert isinstance(raised.value, ValueError)
    assert len(str(raised.value)) <= 200


# ------------------------------------------------------------------------------- fuzz

TOKENS = [
    b"{",
    b"}",
    b"[",
    b"]",
    b",",
    b":",
    b'"',
    b"\\",
    b"kind",
    b'"kind"',
    b'"obs"',
    b'"end"',
    b'"done"',
    b'"hello"',
    b'"check"',
    b"NaN",
    b"Infinity",
    b"-",
    b"1e999",
    b"0",
    b"true",
    b"null",
    b" ",
    b"\x00",
    b"\xff",
    b"\xc3\xa9",
    b'"\\ud800"',
    b"\n",
]


def _outcome(raw):
    try:
        result = parse_record(raw)
    except BadRecord:
        return "bad"
    assert type(result) is dict and type(result.get("kind")) is str
    return "ok"


def test_fuzz_random_bytes():
    rng = random.Random(1234)
    for _ in range(3000):
        raw = bytes(rng.randrange(256) for _ in range(rng.randrange(0, 80)))
        _outcome(raw)


def test_fuzz_random_token_soup():
    rng = random.Random(5678)
    for _ in range(3000):
        _outcome(b"".join(rng.choice(TOKENS) for _ in range(rng.randrange(1, 40))))


def _random_json(rng, depth=0):
    roll = rng.random()
    if depth > 6 or roll < 0.4:
        return rng.choice(
            [
                None,
                True,
                False,
                0,
                -1,
                2**70,
                1.5,
                -0.0,
                1e308,
                "",
                "kind",
                "obs",
                "é\u2028",
                "\ud800",
                "value",
                [],
                {},
            ]
        )
    if roll < 0.7:
        return [_random_json(rng, depth + 1) for _ in range(rng.randrange(4))]
    keys = [
        "kind",
        "check",
        "role",
        "name",
        "value",
        "ok",
        "outcome",
        "duration",
        "stdout",
        "stderr",
        "error",
        "type",
        "message",
        "frames",
        "module",
        "exitstatus",
        "x",
    ]
    return {rng.choice(keys): _random_json(rng, depth + 1) for _ in range(rng.randrange(6))}


def _mutated_valid(rng):
    record = json.loads(json.dumps(rng.choice(list(VALID.values()))))
    for _ in range(rng.randrange(1, 4)):
        target = record
        if type(record.get("error")) is dict and rng.random() < 0.3:
            target = record["error"]
        key = rng.choice(list(target) + ["extra"])
        if rng.random() < 0.3:
            target.pop(key, None)
        else:
            target[key] = _random_json(rng, 3)
    return record


def test_fuzz_random_json_structures():
    rng = random.Random(91011)
    outcomes = {"ok": 0, "bad": 0}
    for _ in range(3000):
        value = _mutated_valid(rng) if rng.random() < 0.6 else _random_json(rng)
        outcomes[_outcome(json.dumps(value).encode())] += 1
    assert outcomes["ok"] > 100 and outcomes["bad"] > 100  # both paths were exercised


def test_a_second_record_of_one_name_in_a_check_is_ignored_and_noted() -> None:
    # The harness sends each observation name once per check; a second one was written
    # past it (straight onto the channel), so the first stands and staff are told.
    from grader.exercise import load_exercise
    from grader.wire import CheckRun, KeepBudget

    run, budget = CheckRun(load_exercise().checks[0]), KeepBudget()
    first = {"kind": "obs", "check": run.check.id, "role": "value", "name": "x", "value": 1}
    run.keep(first, 60, budget)
    run.keep(dict(first, value=2), 60, budget)
    assert [o["value"] for o in run.observations] == [1]
    assert run.tampering == ["two records named 'x' arrived; the second was ignored"]
    run.restart()  # the check runs again from nothing: the name may come again
    run.keep(dict(first, value=3), 60, budget)
    assert [o["value"] for o in run.observations] == [3]
