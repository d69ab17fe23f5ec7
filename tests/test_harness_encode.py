"""The observation format (``harness.encode``) and the comparison on it (``harness.compare``).

``encode`` runs next to untrusted objects: only exact built-in types may come out as
themselves, everything else must become a marker that never equals a number. ``compare``
and ``describe`` run on the trusted side, on encoded data only.
"""

import collections
import json
import math
import random
from pathlib import Path

import pytest

from grader.exercise import load_solution
from grader.harness.compare import DEFAULT_TOL, Mismatch, compare
from grader.harness.encode import (
    MAX_DEPTH,
    MAX_ITEMS,
    MAX_STR,
    as_float,
    describe,
    encode,
    is_number,
)

REFERENCE = Path(__file__).resolve().parents[1] / "reference" / "step_5" / "micrograd"
NAN, INF = {"$float": "nan"}, {"$float": "inf"}
TOLERANCE_NOTE = "tolerance: relative 1e-06, absolute 1e-09"

# ------------------------------------------------------------------------- hostile objects


class FloatSub(float):
    def __eq__(self, other):
        return True

    __hash__ = float.__hash__


class IntSub(int):
    pass


class StrSub(str):
    pass


class ListSub(list):
    pass


class DictSub(dict):
    pass


Pair = collections.namedtuple("Pair", "x y")


class LooksLikeTrue:
    """Prints, compares and tests like ``True`` without being a bool."""

    def __bool__(self):
        return True

    def __eq__(self, other):
        return other is True

    __hash__ = object.__hash__

    def __repr__(self):
        return "True"


class EqualsEverything:
    def __eq__(self, other):
        return True

    __hash__ = object.__hash__


class Unprintable:
    def __repr__(self):
        raise RuntimeError("repr")

    def __str__(self):
        raise RuntimeError("str")


class Value:
    """A student's Value where a number was expected."""

    def __init__(self, data):
        self.data = data


def _no_module(cls):
    raise RuntimeError("no module for you")


class HidesModule(type):
    # A data descriptor on the metaclass runs even under type.__getattribute__.
    __module__ = property(_no_module)


class Nameless(metaclass=HidesModule):
    pass


class OddModule(type):
    __module__ = property(lambda cls: 42)


class NumberedModule(metaclass=OddModule):
    pass


def _obj_name(encoded):
    assert type(encoded) is dict and set(encoded) == {"$obj"}, encoded
    return encoded["$obj"]


def _nested(levels):
    """``levels`` lists, one inside the other, around a 0."""
    value = 0
    for _ in range(levels):
        value = [value]
    return value


def _depth_of_marker(encoded):
    depth = 0
    while type(encoded) is list:
        (encoded,) = encoded
        depth += 1
    return depth, encoded


# ------------------------------------------------------------------------------- encode


@pytest.mark.parametrize(
    "value",
    [
        None,
        True,
        False,
        0,
        -7,
        2**63 - 1,
        -(2**63 - 1),
        0.0,
        -0.0,
        1.5,
        -2.25e-300,
        1e308,
        "",
        "label",
        "é" * MAX_STR,
        [],
        [1, 2.5, "x", None, True],
        [[1], [2, [3]]],
    ],
    ids=repr,
)
def test_exact_builtins_pass_through(value):
    encoded = encode(value)
    assert encoded == value
    assert type(encoded) is type(value)


def test_tuples_become_lists():
    assert encode((1, (2.5, "x"))) == [1, [2.5, "x"]]


def test_dicts_become_maps_with_string_keys():
    assert encode({"a": 1, 2: [3.5], None: {"k": "v"}}) == {
        "$map": [["a", 1], ["2", [3.5]], ["None", {"$map": [["k", "v"]]}]]
    }


@pytest.mark.parametrize(
    ("value", "name"),
    [
        (FloatSub(1.5), "FloatSub"),
        (IntSub(3), "IntSub"),
        (StrSub("+"), "StrSub"),
        (LooksLikeTrue(), "LooksLikeTrue"),
        (EqualsEverything(), "EqualsEverything"),
        (Unprintable(), "Unprintable"),
        (Value(2.0), "Value"),
        (ListSub([1.0]), "ListSub"),
        (DictSub(a=1), "DictSub"),
        (Pair(1.0, 2.0), "Pair"),
        (collections.OrderedDict(a=1), "OrderedDict"),
    ],
    ids=lambda x: x if isinstance(x, str) else None,
)
def test_untrusted_objects_become_obj_markers(value, name):
    marker = encode(value)
    assert _obj_name(marker).endswith(f".{name}")
    assert compare(1.5, marker) is not None


@pytest.mark.parametrize(
    ("value", "name"),
    [
        (object(), "object"),
        ({1, 2}, "set"),
        (b"1.5", "bytes"),
        (1 + 2j, "complex"),
        (range(3), "range"),
        (math.sqrt, "builtin_function_or_method"),
    ],
)
def test_other_builtin_types_are_named_without_a_module(value, name):
    assert encode(value) == {"$obj": name}


def test_reference_value_is_named_by_its_module():
    classes = load_solution(REFERENCE)
    assert encode(classes.Value(2.0)) == {"$obj": "micrograd.value.Value"}
    assert encode([classes.Value(1.0).data, classes.Value(1.0)]) == [
        1.0,
        {"$obj": "micrograd.value.Value"},
    ]


def test_a_metaclass_that_hides_the_type_name_cannot_break_encoding():
    assert encode(Nameless()) == {"$obj": "<unknown type>"}
    assert encode(NumberedModule()) == {"$obj": "NumberedModule"}


def test_hostile_objects_inside_containers_are_markers_too():
    encoded = encode([FloatSub(1.0), {"w": IntSub(2)}, (EqualsEverything(),)])
    assert _obj_name(encoded[0]).endswith(".FloatSub")
    assert _obj_name(encoded[1]["$map"][0][1]).endswith(".IntSub")
    assert _obj_name(encoded[2][0]).endswith(".EqualsEverything")


@pytest.mark.parametrize(
    ("value", "marker"),
    [
        (math.nan, {"$float": "nan"}),
        (-math.nan, {"$float": "nan"}),
        (math.inf, {"$float": "inf"}),
        (-math.inf, {"$float": "-inf"}),
    ],
)
def test_nan_and_infinities_become_float_markers(value, marker):
    assert encode(value) == marker
    assert is_number(marker)
    assert as_float(marker) == value or math.isnan(as_float(marker))


@pytest.mark.parametrize("value", [2**63, -(2**63), 2**64 + 1, 10**99, -(10**150)])
def test_huge_ints_become_hexadecimal_int_markers(value):
    assert encode(value) == {"$int": hex(value)}
    assert not is_number(encode(value))


def test_ints_beyond_pythons_string_conversion_limit_still_encode():
    encoded = encode(10**5000)
    assert type(encoded) is dict and set(encoded) == {"$int"}


def test_deep_nesting_is_cut_below_max_depth():
    depth, inner = _depth_of_marker(encode(_nested(MAX_DEPTH + 5)))
    assert depth == MAX_DEPTH + 1
    assert inner == {"$obj": "<nested too deeply>"}
    assert encode(_nested(MAX_DEPTH)) == _nested(MAX_DEPTH)


def test_a_list_that_contains_itself_terminates():
    loop = []
    loop.append(loop)
    depth, inner = _depth_of_marker(encode(loop))
    assert (depth, inner) == (MAX_DEPTH + 1, {"$obj": "<nested too deeply>"})


def test_long_strings_are_cut_with_an_ellipsis():
    assert encode("x" * MAX_STR) == "x" * MAX_STR
    assert encode("x" * (MAX_STR + 1)) == "x" * MAX_STR + "…"
    assert encode("y" * 10**6) == "y" * MAX_STR + "…"


@pytest.mark.parametrize("kind", [list, tuple])
def test_long_lists_are_cut_with_a_truncation_marker(kind):
    assert encode(kind(range(MAX_ITEMS))) == list(range(MAX_ITEMS))
    encoded = encode(kind(range(MAX_ITEMS + 100)))
    assert encoded[:-1] == list(range(MAX_ITEMS))
    assert encoded[-1] == {"$obj": "<truncated>"}


def test_map_keys_are_cut_like_strings():
    ((key, value),) = encode({"k" * (MAX_STR + 50): 1})["$map"]
    assert key == "k" * MAX_STR and value == 1


@pytest.mark.parametrize(
    "value",
    [
        math.nan,
        [math.inf, -math.inf],
        2**70,
        FloatSub(1.0),
        {"a": {1: [math.nan]}},
        _nested(40),
        "z" * 5000,
        list(range(MAX_ITEMS + 1)),
    ],
    ids=lambda v: type(v).__name__,
)
def test_every_encoding_is_strict_json(value):
    json.dumps(encode(value), allow_nan=False)


# ------------------------------------------------------------------------ is_number


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (1, True),
        (1.5, True),
        (NAN, True),
        (INF, True),
        ({"$float": "-inf"}, True),
        (True, False),
        (False, False),
        (None, False),
        ("1", False),
        ([1], False),
        ({"$int": "9" * 30}, False),
        ({"$obj": "float"}, False),
        ({"$float": "1.5"}, False),
        ({"$float": "nan", "extra": 1}, False),
        ({"$float": ["nan"]}, False),
        ({"$float": {"inf": 1}}, False),
    ],
    ids=repr,
)
def test_is_number(value, expected):
    assert is_number(value) is expected


# --------------------------------------------------------------------------- compare


@pytest.mark.parametrize(
    ("expected", "actual"),
    [
        (1, 1),
        (1, 1.0),
        (1.0, 1),
        (0, -0.0),
        (-2.5, -2.5),
        ("+", "+"),
        (None, None),
        (True, True),
        ([1, [2.0, "a"]], [1.0, [2, "a"]]),
        (INF, INF),
        ({"$float": "-inf"}, {"$float": "-inf"}),
        ({"$int": "9" * 30}, {"$int": "9" * 30}),
        ([], []),
    ],
    ids=repr,
)
def test_equal_values_compare_equal(expected, actual):
    assert compare(expected, actual) is None


@pytest.mark.parametrize(
    ("expected", "actual", "agrees"),
    [
        (1000.0, 1000.0 * (1 + 0.9e-6), True),
        (1000.0, 1000.0 * (1 - 0.9e-6), True),
        (1000.0, 1000.0 * (1 + 1.1e-6), False),
        (-1000.0, -1000.0 * (1 + 1.1e-6), False),
        (0.0, 0.9e-9, True),
        (0.0, -0.9e-9, True),
        (0.0, 1.1e-9, False),
        (1e-12, -1e-12, True),  # both within the absolute tolerance of 0
        (1e-6, 2e-6, False),  # absolute difference 1e-6 is far above 1e-9
    ],
    ids=repr,
)
def test_default_tolerance_edges(expected, actual, agrees):
    mismatch = compare(expected, actual)
    assert (mismatch is None) is agrees
    if not agrees:
        assert mismatch.reason == TOLERANCE_NOTE


def test_a_stated_tolerance_replaces_the_default():
    assert compare(100.0, 100.9, (1e-2, 0.0)) is None
    assert compare(100.0, 102.0, (1e-2, 0.0)).reason == "tolerance: relative 0.01, absolute 0"
    assert compare(0.0, 0.4, (0.0, 0.5)) is None
    assert compare(0.0, 0.6, (0.0, 0.5)) is not None


def test_close_floats_agree_and_distant_floats_do_not():
    rng = random.Random(20240611)
    for _ in range(2000):
        x = rng.choice((-1, 1)) * 10 ** rng.uniform(-3, 15)
        assert compare(x, x * (1 + 1e-9)) is None, x
        assert compare(x, x * (1 + 1e-3)) is not None, x
        assert compare(x, x * (1 - 1e-3)) is not None, x


@pytest.mark.parametrize(
    ("expected", "actual"),
    [
        (1, True),
        (0, False),
        (1.0, True),
        (0.0, False),
        ([1, 0], [True, False]),
    ],
)
def test_a_bool_never_equals_a_number(expected, actual):
    mismatch = compare(expected, actual)
    assert mismatch is not None
    assert mismatch.reason == "a bool is not a number"


@pytest.mark.parametrize(("expected", "actual"), [(True, 1), (False, 0), (True, 1.0)])
def test_a_number_never_equals_an_expected_bool(expected, actual):
    assert compare(expected, actual) is not None


@pytest.mark.parametrize("expected", [0.0, 1.0, -3, 1e308, INF, {"$float": "-inf"}])
def test_nan_never_equals_a_number(expected):
    mismatch = compare(expected, NAN)
    assert mismatch is not None
    assert mismatch.reason == "not a number (NaN)"
    assert compare(NAN, expected) is not None


@pytest.mark.parametrize(
    ("expected", "actual"),
    [
        (INF, {"$float": "-inf"}),
        (INF, 1e308),
        (1e308, INF),
        ({"$float": "-inf"}, -1e308),
    ],
)
def test_infinities_only_equal_themselves(expected, actual):
    assert compare(expected, actual) is not None


@pytest.mark.parametrize(
    "expected",
    [
        0,
        1.5,
        INF,
        NAN,
        "Value",
        "micrograd.value.Value",
        True,
        None,
        [1.5],
        [],
        {"$map": []},
        {"$int": "9" * 30},
    ],
    ids=repr,
)
def test_an_obj_marker_never_equals_anything_expected(expected):
    assert compare(expected, {"$obj": "micrograd.value.Value"}) is not None


def test_an_obj_marker_where_a_number_was_expected_says_so():
    mismatch = compare(2.0, {"$obj": "FloatSub"})
    assert mismatch.reason == "a FloatSub object is not a plain number"
    assert compare([1], [{"$obj": "x.Value"}]).reason == "a x.Value object is not a plain number"
    assert compare("+", {"$obj": "StrSub"}).reason == "a StrSub object is not a plain string"


@pytest.mark.parametrize(
    ("expected", "actual", "reason"),
    [
        ([1, 2, 3], [1, 2], "expected 3 items, got 2"),
        ([1], [1, 2], "expected 1 items, got 2"),
        ([], [0], "expected 0 items, got 1"),
        ([1, 2], (1, 2), "expected a list"),
        ([1, 2], {"$map": []}, "expected a list"),
        ([1, 2], "12", "expected a list"),
    ],
)
def test_list_shape_mismatches(expected, actual, reason):
    mismatch = compare(expected, actual)
    assert mismatch == Mismatch("", expected, actual, reason)


def test_the_mismatch_path_points_at_the_first_difference():
    expected = [1, [2, {"$map": [["k", [3.0, 4.0]], ["z", 0]]}]]
    actual = [1, [2, {"$map": [["z", 9], ["k", [3.0, 5.0]]]}]]
    mismatch = compare(expected, actual)
    assert mismatch.path == "[1][1]['k'][1]"
    assert (mismatch.expected, mismatch.actual) == (4.0, 5.0)
    assert mismatch.sentence("grads") == (
        f"grads[1][1]['k'][1]: expected 4, got 5 ({TOLERANCE_NOTE})"
    )


def test_a_sentence_without_a_reason_has_no_parentheses():
    assert compare("+", "*").sentence("label") == "label: expected '+', got '*'"


def test_maps_compare_by_key_whatever_the_order():
    expected = {"$map": [["a", 1.0], ["b", [2, 3]]]}
    assert compare(expected, {"$map": [["b", [2.0, 3.0]], ["a", 1.0 + 1e-12]]}) is None


@pytest.mark.parametrize(
    ("actual", "path", "reason"),
    [
        ({"$map": [["a", 1.0]]}, "['b']", "missing"),
        ({"$map": [["a", 1.0], ["b", 3]]}, "['b']", TOLERANCE_NOTE),
        ({"$map": [["a", 1.0], ["b", True]]}, "['b']", "a bool is not a number"),
        ({"$map": "ab"}, "", "expected a mapping"),
        ({"a": 1.0, "b": 2}, "", "expected a mapping"),
        ([["a", 1.0], ["b", 2]], "", "expected a mapping"),
        ({"$map": [["a", 1.0], ["b"], "junk", ["b", 2, 3]]}, "['b']", "missing"),
    ],
    ids=repr,
)
def test_map_mismatches(actual, path, reason):
    mismatch = compare({"$map": [["a", 1.0], ["b", 2]]}, actual)
    assert mismatch is not None
    assert (mismatch.path, mismatch.reason) == (path, reason)


@pytest.mark.parametrize(
    "actual",
    [
        {"$float": []},
        {"$float": {"nan": 1}},
        {"$float": ["inf"]},
    ],
    ids=repr,
)
def test_forged_float_markers_are_mismatches_not_crashes(actual):
    mismatch = compare(1.0, actual)
    assert mismatch is not None
    assert mismatch.actual == actual


@pytest.mark.parametrize(
    "actual",
    [
        {"$map": "ab"},
        {"$map": 5},
        {"$map": [[1, 2, 3]]},
        {"$map": [7]},
    ],
    ids=repr,
)
def test_forged_maps_can_be_described_in_a_mismatch_sentence(actual):
    mismatch = compare(1.0, actual)
    assert mismatch is not None
    assert "expected 1, got " in mismatch.sentence("x")


def test_default_tolerance_is_relative_then_absolute():
    assert DEFAULT_TOL == (1e-6, 1e-9)


# -------------------------------------------------------------------------- describe


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (1 / 3, "0.3333333333"),
        (2.0, "2"),
        (-0.0, "-0"),
        (1e-20, "1e-20"),
        (123456789012.5, "1.23456789e+11"),
        (5, "5"),
        (True, "True"),
        (None, "None"),
        ("ab", "'ab'"),
        ("it's", '"it\'s"'),
        ([1, 2.5, "x"], "[1, 2.5, 'x']"),
        ([], "[]"),
        ({"$obj": "micrograd.value.Value"}, "an object of type micrograd.value.Value"),
        ({"$float": "nan"}, "nan"),
        ({"$float": "-inf"}, "-inf"),
        ({"$int": "1" * 30}, "1" * 30),
        ({"$map": [["a", 1], ["b", [2.0]]]}, "{a: 1, b: [2]}"),
        ({"$map": []}, "{}"),
        ([{"$float": "inf"}, {"$obj": "Value"}], "[inf, an object of type Value]"),
    ],
    ids=repr,
)
def test_describe_spellings(value, text):
    assert describe(value) == text


def test_describe_clips_long_spellings_to_the_limit():
    text = describe(list(range(1000)))
    assert len(text) == 200 and text.endswith("…") and text.startswith("[0, 1, 2")
    assert describe("x" * 50, limit=10) == "'xxxxxxxx…"
    # Items are spelled with a limit of 40 each, whatever the overall limit.
    assert describe([["y" * 100]], limit=1000) == "[['" + "y" * 37 + "…]"
