"""Nothing a submission records can raise in the host process.

Every check's honest records (the reference run in RECORD mode, as the sandbox would send
them) are mutated at random places into hostile but well-formed values: integers at the
64-bit edge, -0.0, subnormals, the largest floats, markers with the wrong payload, terminal
escape sequences, strings and lists at the wire's caps. Whatever the wire accepts then goes
the whole way on the host: judge, feedback, scoring, results.json, the HTML report, the
terminal summaries and the gradebook row. Not one may raise.
"""

from __future__ import annotations

import copy
import json
import random
from pathlib import Path
from typing import Any

import click
import pytest
from click.testing import CliRunner
from inprocess import record

from grader.batch.gradebook import gradebook_csv, read_row
from grader.cli.summary import print_check_summary, print_summary
from grader.exercise import load_exercise, load_solution
from grader.fairness.verdicts import judge_all
from grader.files import dump_json
from grader.models import GradeResult, inert
from grader.output import write_results
from grader.report import render_pages
from grader.rubric import load_rubric
from grader.scoring import scored_check, step_result, summary_message
from grader.trusted import run_reference
from grader.wire import MAX_ITEMS, MAX_STRING, BadRecord, parse_record

EXERCISE = load_exercise()
RUBRIC = load_rubric(EXERCISE)
REFERENCE = load_solution(EXERCISE.reference_dir(5) / "micrograd")
SEED = 31337
ROUNDS = 6

HOSTILE: list[Any] = [
    9223372036854775807,
    -9223372036854775807,
    -0.0,
    5e-324,
    1.7976931348623157e308,
    -1.7976931348623157e308,
    {"$int": "0x" + "f" * 990},
    {"$int": 5},
    {"$float": "nan"},
    {"$float": "bogus"},
    {"$obj": 3},
    {"$obj": "\x1b]0;owned\x07"},
    {"$map": 5},
    {"$map": [[1, 2, 3], "x", [None, {"$map": []}]]},
    "\x1b[2J\x1b[1;1H100/100 \x1b[8m",
    "\u202eevil\u200b\u0085\x7f",
    "x" * MAX_STRING,
    [0.5] * MAX_ITEMS,
    [[[[[[[[[[1.0]]]]]]]]]],
    None,
    True,
    {},
    [],
    "",
    {"nodes": [{"name": 5, "data": "?", "grad": [], "op": None, "children": 3}]},
    {"nodes": "many"},
    {"grads": {"a": {"$map": 1}}, "error": 7},
]


def _paths(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every place inside ``value`` that a mutation can replace."""
    found = [path]
    if type(value) is dict:
        for key, item in value.items():
            found += _paths(item, (*path, key))
    elif type(value) is list:
        for index, item in enumerate(value[:20]):
            found += _paths(item, (*path, index))
    return found


def _replace(value: Any, path: tuple[Any, ...], new: Any) -> Any:
    if not path:
        return new
    value[path[0]] = _replace(value[path[0]], path[1:], new)
    return value


def _mutated(records: list[dict[str, Any]], rng: random.Random) -> list[dict[str, Any]]:
    """The records with a few values replaced; what the wire refuses is left out."""
    out = []
    for original in records:
        rec = copy.deepcopy(original)
        for _ in range(rng.randint(0, 3)):
            path = rng.choice(_paths(rec))
            if path[:1] in (("kind",), ("check",), ("role",), ("name",)):
                continue
            rec = _replace(rec, path, copy.deepcopy(rng.choice(HOSTILE)))
        try:
            out.append(parse_record(json.dumps(rec).encode()))
        except BadRecord:
            continue
    return out


@pytest.mark.parametrize("round_", range(ROUNDS))
def test_hostile_but_well_formed_records_never_raise_on_the_host(
    round_: int, tmp_path: Path
) -> None:
    rng = random.Random(f"untrusted:{round_}")
    steps = []
    for step in EXERCISE.steps:
        checks = EXERCISE.steps_checks((step,))
        runs, references = {}, {}
        for check in checks:
            honest = record(check, REFERENCE, SEED)
            lines = [*honest.observations, honest.end or {}]
            mutated = _mutated(lines, rng)
            honest.observations = [r for r in mutated if r.get("kind") == "obs"]
            ends = [r for r in mutated if r.get("kind") == "end"]
            honest.end = ends[0] if ends else None
            honest.state = "finished" if ends else rng.choice(["timeout", "crashed"])
            givens = honest.givens if honest.state == "finished" else None
            try:
                references[check.id] = run_reference(EXERCISE, check, SEED, givens)
            except Exception:  # noqa: BLE001 - the reference refusing hostile givens is a
                references[check.id] = None  # replay error the judge reports, not a crash
            runs[check.id] = honest
        # Judged together, as a grading is: evidence, decisions and excuses all see it.
        judged = judge_all(
            checks, runs, lambda c, _run, known=references: known[c.id], EXERCISE, RUBRIC, None
        )
        results = [scored_check(c, RUBRIC, judged[c.id], runs[c.id].duration) for c in checks]
        steps.append(step_result(step, RUBRIC, results))
    result = GradeResult(
        submission="hostile\x1b[2J",
        status="graded",
        message=summary_message(steps),
        seed=SEED,
        sandbox="local",
        steps=tuple(steps),
    )
    dump_json(result.to_json())
    render_pages(result)
    write_results(result, tmp_path / "out")
    runner = CliRunner()
    shown = runner.invoke(_summaries, obj=(result, tmp_path / "out"))
    assert shown.exit_code == 0, shown.output
    row = read_row(tmp_path / "out", "hostile", max_score=100.0)
    gradebook_csv([row])


@click.command()
@click.pass_obj
def _summaries(obj: tuple[GradeResult, Path]) -> None:
    result, out = obj
    print_summary(result, out)
    print_check_summary(result)


@pytest.mark.parametrize(
    ("text", "one_line", "shown"),
    [
        ("Łódź, 東京, ümlaut, emoji 🙂", False, "Łódź, 東京, ümlaut, emoji 🙂"),
        ("\x1b[2J\x1b]0;title\x07", False, "\\x1b[2J\\x1b]0;title\\x07"),
        (
            "a\u202eb\u2066c\u200bd\ufeffe\u2028f",
            False,
            "a\\u202eb\\u2066c\\u200bd\\ufeffe\\u2028f",
        ),
        ("del\x7f c1\x9b nul\x00", False, "del\\x7f c1\\x9b nul\\x00"),
        ("tab\tstays", True, "tab\tstays"),
        ("two\nlines\r", False, "two\nlines\\r"),
        ("two\nlines", True, "two\\nlines"),
        ("surrogate \udcff escaped by printable", False, "surrogate \ufffd escaped by printable"),
    ],
)
def test_inert_escapes_what_acts_on_a_terminal_and_keeps_every_script(
    text: str, one_line: bool, shown: str
) -> None:
    assert inert(text, one_line=one_line) == shown


def test_details_are_fitted_so_a_results_json_stays_under_a_megabyte(tmp_path: Path) -> None:
    from grader.models import CheckResult, StepResult, fit_details

    huge = {"stdout": "s" * 3_000, "graph": {"actual": ["n" * 40_000]}, "inputs": [["a", 1.0]]}
    checks = tuple(
        CheckResult(f"c{i}", "t", "failed", 0.0, 1.0, "visible", "f", details=dict(huge))
        for i in range(30)
    )
    steps, cut = fit_details((StepResult(1, "one", checks),), limit=100_000)
    sizes = [len(json.dumps(c.details)) for c in steps[0].checks]
    assert sum(sizes) <= 100_000 and cut >= 30 * 40_000 - 100_000
    cut_checks = [c for c in steps[0].checks if "cut" in c.details]
    assert cut_checks and all("graph" not in c.details for c in cut_checks)
    assert all(c.details["inputs"] == [["a", 1.0]] for c in steps[0].checks)  # small parts stay
    untouched, none = fit_details((StepResult(1, "one", checks[:1]),), limit=100_000)
    assert none == 0 and untouched[0].checks[0].details == huge
