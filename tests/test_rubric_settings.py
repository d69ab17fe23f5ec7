"""Rubrics (``rubric.load_rubric``) and settings (``settings.load_settings``).

Both are the instructor's input: a mistake in them is an error that stops grading with a
message naming the file and the key, never a silently wrong score. A broken rubric reports
every problem at once, so one edit fixes them all.
"""

import dataclasses
import json
import shutil
import sys
import tomllib
from pathlib import Path

import pytest

from grader.cli import main
from grader.errors import ConfigError, RubricError
from grader.exercise import STEPS, load_exercise
from grader.rubric import RubricEntry, load_rubric
from grader.settings import DEFAULTS, Settings, load_settings, settings_toml

REPO = Path(__file__).resolve().parents[1]
RUBRICS = REPO / "rubrics"


@pytest.fixture(scope="module")
def exercise():
    return load_exercise(REPO)


@pytest.fixture
def rubrics(tmp_path):
    """A writable copy of the real rubrics."""
    return Path(shutil.copytree(RUBRICS, tmp_path / "rubrics"))


def read(directory, step):
    return tomllib.loads((directory / f"step_{step}.toml").read_text(encoding="utf-8"))


def write(directory, step, data):
    """Write ``data`` back as TOML (JSON spellings of strings and numbers are valid TOML)."""
    lines = [f"{key} = {json.dumps(value)}" for key, value in data.items() if key != "checks"]
    for check_id, entry in data.get("checks", {}).items():
        lines.append(f"\n[checks.{check_id}]")
        lines += [f"{key} = {json.dumps(value)}" for key, value in entry.items()]
    (directory / f"step_{step}.toml").write_text("\n".join(lines) + "\n", encoding="utf-8")


def problems_of(exercise, directory):
    with pytest.raises(RubricError) as raised:
        load_rubric(exercise, directory)
    message = str(raised.value)
    assert message.startswith("the rubric has problems:\n  - ")
    return message.split("\n  - ")[1:]


# ------------------------------------------------------------------------ real rubrics


def test_the_real_rubrics_are_valid_and_cover_every_check(exercise):
    rubric = load_rubric(exercise)
    assert sorted(rubric.steps) == list(STEPS)
    for step in STEPS:
        ids = {check.id for check in exercise.steps_checks((step,))}
        assert set(rubric.steps[step].entries) == ids
        assert rubric.steps[step].title


@pytest.mark.parametrize("step", STEPS)
def test_every_step_is_worth_20_points(exercise, step):
    entries = load_rubric(exercise).steps[step].entries.values()
    assert sum(entry.points for entry in entries) == 20


def test_entries_carry_title_points_hint_and_visibility(exercise):
    entry = load_rubric(exercise).entry(1, "add_two_values")
    assert entry == RubricEntry(
        "Value + Value builds a new node",
        3.0,
        read(RUBRICS, 1)["checks"]["add_two_values"]["hint"],
        "visible",
        tuple(read(RUBRICS, 1)["checks"]["add_two_values"]["owns"]),
    )
    assert "Value.__add__:forward" in entry.owns
    assert load_rubric(exercise).entry(1, "mixed_expression").visibility == "hidden"


def test_a_faithful_rewrite_of_the_rubrics_loads_the_same(exercise, rubrics):
    for step in STEPS:
        write(rubrics, step, read(RUBRICS, step))
    assert load_rubric(exercise, rubrics) == load_rubric(exercise)


def test_visibility_defaults_to_visible(exercise, rubrics):
    data = read(rubrics, 1)
    del data["checks"]["mixed_expression"]["visibility"]
    write(rubrics, 1, data)
    assert load_rubric(exercise, rubrics).entry(1, "mixed_expression").visibility == "visible"


# ---------------------------------------------------------------------- broken rubrics


def _drop_entry(data):
    del data["checks"]["negate"]


def _unknown_entry(data):
    data["checks"]["negate_twice"] = {"title": "t", "points": 1, "hint": "h"}


def _set(key, value):
    def change(data):
        data["checks"]["negate"][key] = value

    return change


def _drop(key):
    def change(data):
        del data["checks"]["negate"][key]

    return change


def _top(key, value):
    def change(data):
        data[key] = value

    return change


WHERE = "step_1.toml [checks.negate]"
BROKEN = {
    "missing-entry": (_drop_entry, "step_1.toml: check negate of step 1 has no [checks.negate]"),
    "unknown-check": (
        _unknown_entry,
        "step_1.toml: [checks.negate_twice] names no check of step 1",
    ),
    "negative-points": (_set("points", -1), f"{WHERE}: 'points' must be a number >= 0"),
    "string-points": (_set("points", "2"), f"{WHERE}: 'points' must be a number >= 0"),
    "bool-points": (_set("points", True), f"{WHERE}: 'points' must be a number >= 0"),
    "missing-points": (_drop("points"), f"{WHERE}: 'points' must be a number >= 0"),
    "bad-visibility": (
        _set("visibility", "secret"),
        f'{WHERE}: \'visibility\' must be "visible" or "hidden"',
    ),
    "missing-hint": (_drop("hint"), f"{WHERE}: 'hint' must be a non-empty string"),
    "blank-hint": (_set("hint", "  "), f"{WHERE}: 'hint' must be a non-empty string"),
    "missing-title": (_drop("title"), f"{WHERE}: 'title' must be a non-empty string"),
    "unknown-key": (_set("weight", 3), f"{WHERE}: unknown key(s) ['weight']"),
    "wrong-step": (_top("step", 2), "step_1.toml: 'step' must be 1"),
    "no-step-title": (_top("title", ""), "step_1.toml: 'title' must be a non-empty string"),
}


@pytest.mark.parametrize(("change", "problem"), BROKEN.values(), ids=BROKEN.keys())
def test_each_kind_of_mistake_is_named_with_file_and_key(exercise, rubrics, change, problem):
    data = read(rubrics, 1)
    change(data)
    write(rubrics, 1, data)
    assert problems_of(exercise, rubrics) == [f"{rubrics}/{problem}"]


def test_an_entry_that_is_not_a_table(exercise, rubrics):
    path = rubrics / "step_1.toml"
    path.write_text(
        path.read_text(encoding="utf-8").replace("[checks.negate]", "[checks.negate_old]")
        + '\n[checks]\nnegate = "2 points"\n',
        encoding="utf-8",
    )
    assert f"{path} [checks.negate]: must be a table" in problems_of(exercise, rubrics)


@pytest.mark.parametrize(
    "content",
    [
        b'step = 1\ntitle = "Operators\n',
        b"[checks.a]\npoints = \n",
        b"\xff\xfe\x00garbage",
    ],
    ids=["unterminated-string", "missing-value", "not-utf8"],
)
def test_an_unreadable_rubric_is_a_problem_not_a_crash(exercise, rubrics, content):
    (rubrics / "step_3.toml").write_bytes(content)
    (problem,) = problems_of(exercise, rubrics)
    assert problem.startswith(f"{rubrics}/step_3.toml: cannot read it (")


def test_a_missing_rubric_file_is_a_problem(exercise, rubrics):
    (rubrics / "step_5.toml").unlink()
    (problem,) = problems_of(exercise, rubrics)
    assert problem.startswith(f"{rubrics}/step_5.toml: cannot read it (")


def test_every_problem_in_every_file_is_listed_at_once(exercise, rubrics):
    one = read(rubrics, 1)
    _drop_entry(one)
    one["checks"]["add_number"]["points"] = -2
    one["checks"]["subtract"]["visibility"] = "public"
    write(rubrics, 1, one)
    four = read(rubrics, 4)
    first = sorted(four["checks"])[0]
    del four["checks"][first]["hint"]
    write(rubrics, 4, four)
    (rubrics / "step_5.toml").write_text("[[[", encoding="utf-8")
    problems = problems_of(exercise, rubrics)
    assert len(problems) == 5
    assert problems[:4] == [
        f"{rubrics}/step_1.toml: check negate of step 1 has no [checks.negate]",
        f"{rubrics}/step_1.toml [checks.add_number]: 'points' must be a number >= 0",
        f'{rubrics}/step_1.toml [checks.subtract]: \'visibility\' must be "visible" or "hidden"',
        f"{rubrics}/step_4.toml [checks.{first}]: 'hint' must be a non-empty string",
    ]
    assert problems[4].startswith(f"{rubrics}/step_5.toml: cannot read it")


def run_cli(monkeypatch, capsys, *args):
    """``micrograde ARGS`` through the console script's entry point: (exit status, stderr)."""
    monkeypatch.setattr(sys, "argv", ["micrograde", *args])
    with pytest.raises(SystemExit) as exited:
        main()
    return exited.value.code, capsys.readouterr().err


def test_a_broken_rubric_stops_grading_with_status_2(tmp_path, monkeypatch, capsys):
    # A copy of the exercise whose step-2 rubric forgot a check.
    root = tmp_path / "exercise"
    for part in ("reference", "tests/steps", "rubrics"):
        shutil.copytree(REPO / part, root / part, ignore=shutil.ignore_patterns("__pycache__"))
    two = read(root / "rubrics", 2)
    del two["checks"]["topo_sort"]
    write(root / "rubrics", 2, two)
    monkeypatch.setenv("MICROGRADE_EXERCISE", str(root))
    out = tmp_path / "out"
    status, err = run_cli(
        monkeypatch,
        capsys,
        "grade",
        str(REPO / "examples" / "complete" / "single_file.py"),
        "--out",
        str(out),
    )
    assert status == 2
    assert "error: the rubric has problems" in err
    assert "check topo_sort of step 2 has no [checks.topo_sort]" in err
    assert not out.exists()


# ---------------------------------------------------------------------------- settings


def test_the_defaults_are_the_documented_settings_toml():
    assert load_settings() == Settings()


def test_every_setting_is_in_settings_toml_with_its_default_value():
    documented = tomllib.loads(DEFAULTS.read_text(encoding="utf-8"))
    defaults = Settings()
    assert set(documented) == {f.name for f in dataclasses.fields(defaults)}
    for section, values in documented.items():
        current = getattr(defaults, section)
        assert set(values) == {f.name for f in dataclasses.fields(current)}, section
        for key, value in values.items():
            default = getattr(current, key)
            # TOML's lists are the settings' tuples (frozen dataclasses hold no lists).
            assert (list(default) if isinstance(default, tuple) else default) == value, key


def settings_file(tmp_path, text):
    path = tmp_path / "settings.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_settings_file_overrides_only_what_it_names(tmp_path):
    path = settings_file(
        tmp_path,
        "[time]\ncheck_seconds = 3\nmax_attempts = 2\n"
        '[limits]\nmemory_mb = 1024\ncpus = 2\n[docker]\nimage = "mine:1"\n',
    )
    settings = load_settings(path)
    defaults = Settings()
    assert settings.time == dataclasses.replace(defaults.time, check_seconds=3.0, max_attempts=2)
    assert type(settings.time.check_seconds) is float and type(settings.limits.cpus) is float
    assert settings.limits == dataclasses.replace(defaults.limits, memory_mb=1024, cpus=2.0)
    assert settings.docker == dataclasses.replace(defaults.docker, image="mine:1")


def test_sandbox_users_and_allowed_packages_are_lists_of_names(tmp_path):
    path = settings_file(
        tmp_path,
        '[local]\nusers = ["mg-1", "mg_2"]\n[sandbox]\npackages = ["numpy>=1.26", "six"]\n',
    )
    settings = load_settings(path)
    assert settings.local.users == ("mg-1", "mg_2")
    assert settings.sandbox.packages == ("numpy>=1.26", "six")
    path = settings_file(tmp_path, '[sandbox]\nstandins = ["plotly", "plotly.express"]\n')
    assert load_settings(path).sandbox.standins == ("plotly", "plotly.express")


def test_settings_written_as_toml_read_back_the_same(tmp_path):
    path = settings_file(
        tmp_path,
        '[time]\ncheck_seconds = 7.5\n[docker]\nimage = "m\u00e9 \\"q\\""\n'
        '[local]\nusers = ["mg-1"]\n[sandbox]\npackages = ["six==1.17.0"]\n',
    )
    for settings in (load_settings(path), Settings()):
        again = tmp_path / "again.toml"
        again.write_text(settings_toml(settings), encoding="utf-8")
        assert load_settings(again) == settings


def test_an_empty_settings_file_changes_nothing(tmp_path):
    assert load_settings(settings_file(tmp_path, "")) == Settings()


SETTINGS_MISTAKES = {
    "unknown-section": ("[timing]\ncheck_seconds = 1\n", "unknown section(s) ['timing']"),
    "key-outside-a-section": ("check_seconds = 1\n", "unknown section(s) ['check_seconds']"),
    "unknown-time-key": ("[time]\ncheck_second = 1\n", "[time]: unknown key 'check_second'"),
    "unknown-limits-key": ("[limits]\nswap_mb = 1\n", "[limits]: unknown key 'swap_mb'"),
    "int-as-string": (
        '[limits]\nmemory_mb = "512"\n',
        "[limits]: memory_mb must be a non-negative int",
    ),
    "int-as-float": ("[limits]\npids = 1.5\n", "[limits]: pids must be a non-negative int"),
    "int-as-bool": ("[limits]\nnofile = true\n", "[limits]: nofile must be a non-negative int"),
    "float-as-string": ('[limits]\ncpus = "1"\n', "[limits]: cpus must be a non-negative float"),
    "negative-int-for-float": (
        "[limits]\ncpus = -1\n",
        "[limits]: cpus must be a non-negative float",
    ),
    "negative-float": (
        "[time]\ncheck_seconds = -0.5\n",
        "[time]: check_seconds must be a non-negative float",
    ),
    "attempts-as-bool": (
        "[time]\nmax_attempts = true\n",
        "[time]: max_attempts must be a non-negative int",
    ),
    "float-as-list": (
        "[time]\ntotal_seconds = [1]\n",
        "[time]: total_seconds must be a non-negative float",
    ),
    "string-as-int": ("[docker]\nimage = 5\n", "[docker]: image must be a"),
    "duplicate-key": (
        "[time]\ncheck_seconds = 1\ncheck_seconds = 2\n",
        "cannot read settings file",
    ),
    "not-toml": ("[time\n", "cannot read settings file"),
    "infinite-float": ("[time]\ncheck_seconds = inf\n", "check_seconds must be a non-negative"),
    "nan-float": ("[limits]\ncpus = nan\n", "cpus must be a non-negative float"),
    "users-as-string": ('[local]\nusers = "mg-1"\n', "[local]: users must be a list of strings"),
    "users-not-strings": ("[local]\nusers = [1001]\n", "users must be a list of strings"),
    "user-name-with-space": ('[local]\nusers = ["mg 1"]\n', "'mg 1' is not a user name"),
    "user-twice": ('[local]\nusers = ["mg-1", "mg-1"]\n', "names the same entry twice"),
    "package-as-pip-option": (
        '[sandbox]\npackages = ["--index-url=https://example.org"]\n',
        "is a pip option, not a requirement",
    ),
    "package-not-a-requirement": (
        '[sandbox]\npackages = ["numpy >> 1"]\n',
        "'numpy >> 1' is not a pip requirement",
    ),
    "standin-not-a-module": ('[sandbox]\nstandins = ["plotly express"]\n', "is not a module name"),
    "standin-in-stdlib": (
        '[sandbox]\nstandins = ["turtle"]\n',
        "'turtle' is part of Python's standard library",
    ),
}


@pytest.mark.parametrize(
    ("text", "names"), SETTINGS_MISTAKES.values(), ids=SETTINGS_MISTAKES.keys()
)
def test_mistakes_in_a_settings_file_name_the_key(tmp_path, text, names):
    path = settings_file(tmp_path, text)
    with pytest.raises(ConfigError) as raised:
        load_settings(path)
    assert names in str(raised.value)
    assert str(path) in str(raised.value)


def test_a_missing_settings_file_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="cannot read settings file .*nowhere.toml"):
        load_settings(tmp_path / "nowhere.toml")


def test_a_wrong_settings_file_stops_grading_with_status_2(tmp_path, monkeypatch, capsys):
    path = settings_file(tmp_path, "[time]\ncheck_seconds = -1\n")
    out = tmp_path / "out"
    status, err = run_cli(
        monkeypatch,
        capsys,
        "grade",
        str(REPO / "examples" / "complete" / "single_file.py"),
        "--out",
        str(out),
        "--settings",
        str(path),
    )
    assert status == 2
    assert f"error: {path} [time]: check_seconds must be a non-negative float" in err
    assert not out.exists()
