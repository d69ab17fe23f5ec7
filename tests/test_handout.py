"""Hand-outs: what students receive for each step, and what they can do with it.

Each step's hand-out is built once per module (``tmp_path_factory``), then used as handed
out (the skeleton) and with the reference of its step copied over ``micrograd/``, by plain
``pytest`` and by ``micrograde check``, each in a subprocess of its own.
"""

from __future__ import annotations

import ast
import json
import os
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from test_skeletons import without_docstring

from grader.errors import ConfigError, ExerciseError, RubricError
from grader.exercise import STEPS, Exercise, load_exercise
from grader.fairness.contract import integration_only
from grader.handout.answer_key import KEY_FILE
from grader.handout.build import build_handout, handout_files, stubs_of
from grader.harness.home import load_key
from grader.rubric import Rubric, load_rubric
from grader.sandbox.bundle import public_source
from grader.trusted import run_reference

REPO = Path(__file__).resolve().parents[1]
# Plain pytest, as a student runs it, except that importing micrograde is made impossible:
# a hand-out must work with nothing but pytest installed. (-P: no cwd on sys.path.)
PYTEST = (
    "import sys; sys.modules['grader'] = None; import pytest; "
    "raise SystemExit(pytest.console_main())"
)
READABLE = re.compile(r"^(\S+ is not implemented yet\b|\w+ in [\w.]+: |.*expected .*, got )")


@dataclass(frozen=True)
class Case:
    outcome: str  # passed, failure, error, skipped
    message: str
    text: str


@dataclass(frozen=True)
class Run:
    code: int
    output: str
    cases: dict[str, Case]


def environment() -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("PYTHONPATH", "PYTEST_ADDOPTS", "MICROGRADE_SOLUTION")
    }
    return {**env, "NO_COLOR": "1", "COLUMNS": "200"}


def bare_pytest() -> dict[str, str]:
    # A student may have installed nothing but pytest: no plugins of this environment.
    return {**environment(), "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}


def run_pytest(root: Path, *args: str) -> Run:
    junit = root.parent / f"{root.name}-junit.xml"
    proc = subprocess.run(
        [
            sys.executable,
            "-P",
            "-c",
            PYTEST,
            "-p",
            "no:cacheprovider",
            f"--junitxml={junit}",
            *args,
        ],
        cwd=root,
        env=bare_pytest(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    return Run(proc.returncode, proc.stdout + proc.stderr, read_junit(junit))


def read_junit(path: Path) -> dict[str, Case]:
    cases = {}
    for case in ET.parse(path).getroot().iter("testcase"):
        found = [child for child in case if child.tag in ("failure", "error", "skipped")]
        outcome = found[0].tag if found else "passed"
        message = found[0].get("message", "") if found else ""
        cases[case.get("name", "")[5:]] = Case(
            outcome, message, found[0].text or "" if found else ""
        )
    return cases


def micrograde(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "grader", *args],
        cwd=cwd,
        env=environment(),
        capture_output=True,
        text=True,
        timeout=300,
    )


def copy_of(handout: Path, where: Path, solution: Path | None = None) -> Path:
    target = where / "handout"
    shutil.copytree(handout, target)
    if solution is not None:
        shutil.copytree(
            solution,
            target / "micrograd",
            dirs_exist_ok=True,
            ignore=shutil.ignore_patterns("__pycache__"),
        )
    return target


# -- fixtures: one hand-out per step, shared by the module ---------------------------------


@pytest.fixture(scope="module", params=STEPS, ids=lambda step: f"step{step}")
def step(request: pytest.FixtureRequest) -> int:
    return int(request.param)


@pytest.fixture(scope="module")
def handout(
    step: int, exercise: Exercise, rubric: Rubric, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    """The hand-out as built: never run in, so it holds exactly what students receive."""
    return build_handout(
        exercise, rubric, step, tmp_path_factory.mktemp(f"step{step}-built") / "handout"
    )


@pytest.fixture(scope="module")
def first_handout(
    exercise: Exercise, rubric: Rubric, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    """Step 1's hand-out, for the tests that need one step only."""
    return build_handout(exercise, rubric, 1, tmp_path_factory.mktemp("first") / "handout")


@pytest.fixture(scope="module")
def skeleton_copy(handout: Path, step: int, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return copy_of(handout, tmp_path_factory.mktemp(f"step{step}-skeleton"))


@pytest.fixture(scope="module")
def solved_copy(
    handout: Path, step: int, exercise: Exercise, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    return copy_of(
        handout,
        tmp_path_factory.mktemp(f"step{step}-solved"),
        exercise.reference_dir(step) / "micrograd",
    )


@pytest.fixture(scope="module")
def skeleton_run(skeleton_copy: Path) -> Run:
    return run_pytest(skeleton_copy)


@pytest.fixture(scope="module")
def solved_run(solved_copy: Path) -> Run:
    return run_pytest(solved_copy)


@pytest.fixture(scope="module")
def keyed(handout: Path) -> set[str]:
    return set(load_key(handout / KEY_FILE)["checks"])


def hidden_ids(exercise: Exercise, rubric: Rubric) -> set[str]:
    return {c.id for c in exercise.checks if rubric.entry(c.step, c.id).visibility == "hidden"}


# -- plain pytest in the hand-out ------------------------------------------------------------


def test_skeleton_fails_its_own_step_and_passes_the_earlier_ones(
    step: int, exercise: Exercise, rubric: Rubric, keyed: set[str], skeleton_run: Run
) -> None:
    assert skeleton_run.code == 1, skeleton_run.output
    stubs = {
        message.removesuffix(" backward")
        for message, _ in stubs_of(exercise.skeleton_dir(step) / "micrograd")
    }
    hidden = hidden_ids(exercise, rubric)
    for check in exercise.steps_checks(tuple(range(1, step + 1))):
        case = skeleton_run.cases.get(check.id)
        if check.id in hidden:
            assert case is None, f"hidden check {check.id} ran in the hand-out"
        elif check.id not in keyed:
            assert case is not None and case.outcome == "skipped", check.id
            assert "only the grader checks it" in case.message
        elif check.step < step:
            assert case is not None and case.outcome == "passed", (check.id, case)
        elif integration_only(rubric, check.step, check.id) and case and case.outcome == "passed":
            # An integration check may need no code of its step (a training run through w
            # and b): the skeleton loses the step's points where they are owned.
            continue
        else:
            assert case is not None and case.outcome in ("failure", "error"), (check.id, case)
            assert_readable(case, stubs)


def assert_readable(case: Case, stubs: set[str]) -> None:
    first = case.text.strip().splitlines()[0] if case.text.strip() else ""
    assert READABLE.match(first), case.text
    assert "mg_harness" not in case.text and "Traceback" not in case.text, case.text
    missing = re.match(r"^(\S+) is not implemented yet", first)
    if missing or "NotImplementedError" in case.text:
        assert missing and missing.group(1).removesuffix(" backward") in stubs, case.text


def test_the_reference_of_the_step_passes_every_public_check(
    keyed: set[str], exercise: Exercise, step: int, solved_run: Run
) -> None:
    assert solved_run.code == 0, solved_run.output
    ran = {cid: case.outcome for cid, case in solved_run.cases.items()}
    public = {c.id for c in exercise.steps_checks(tuple(range(1, step + 1)))} & set(ran)
    assert {cid for cid in public if ran[cid] == "passed"} == keyed
    assert all(ran[cid] == "skipped" for cid in public - keyed)


def test_a_wrong_answer_reads_well(first_handout: Path, exercise: Exercise, tmp_path: Path) -> None:
    root = copy_of(first_handout, tmp_path, exercise.reference_dir(5) / "micrograd")
    value = root / "micrograd" / "value.py"
    # The original exercise's defect: __rsub__ computing self - other.
    value.write_text(value.read_text().replace("return other + (-self)", "return self - other"))
    run = run_pytest(root, "-k", "subtract_from_number")
    case = run.cases["subtract_from_number"]
    assert case.outcome == "failure"
    lines = case.text.strip().splitlines()
    assert re.match(r"^n - a: expected -?[\d.]+, got -?[\d.]+ \(tolerance", lines[0]), case.text
    assert "  look at Value.__rsub__" in lines
    assert any(line.startswith("  inputs: a = ") for line in lines)
    assert any(line.startswith("  checked at tests/test_step1_operators.py:") for line in lines)
    assert (
        "FAILED tests/test_step1_operators.py::test_subtract_from_number - n - a: expected"
        in run.output
    )


# -- micrograde check ------------------------------------------------------------------------


def check_lines(output: str, step: int) -> dict[int, tuple[int, int]]:
    found = {}
    for k in range(1, step + 1):
        match = re.search(rf"^  step {k} .*?(\d+)/(\d+) checks", output, re.MULTILINE)
        assert match, output
        found[k] = (int(match.group(1)), int(match.group(2)))
    return found


def test_check_on_the_skeleton(
    step: int, skeleton_copy: Path, skeleton_run: Run, keyed: set[str], rubric: Rubric
) -> None:
    done = micrograde("check", str(skeleton_copy), cwd=skeleton_copy.parent)
    assert done.returncode == 1, done.stdout + done.stderr
    counts = check_lines(done.stdout, step)
    assert all(ok == total for k, (ok, total) in counts.items() if k < step), done.stdout
    integration = {
        c
        for c in keyed
        if c in rubric.steps[step].entries
        and integration_only(rubric, step, c)
        and skeleton_run.cases[c].outcome == "passed"
    }
    assert counts[step][0] == len(integration)
    assert sum(total for _, total in counts.values()) == len(keyed)
    # Every failed check is listed, under the method to look at, in whole sentences.
    failures = re.findall(rf"^ +(failed|error) step {step} (.+)$", done.stdout, re.MULTILINE)
    assert failures, done.stdout
    assert re.search(r"(not implemented yet|expected)", done.stdout), done.stdout
    assert re.search(r"^  (Look at \S+.*|Not pinned on one method):$", done.stdout, re.MULTILINE)
    assert re.search(r"^report: \S+", done.stdout, re.MULTILINE)
    results = read_json(skeleton_copy / ".micrograde" / "results.json")
    assert results["status"] == "graded" and results["seed"] == 20251
    assert [s["step"] for s in results["steps"]] == list(range(1, step + 1))
    statuses = {c["id"]: c["status"] for s in results["steps"] for c in s["checks"]}
    assert set(statuses) == keyed
    # The grader's way and plain pytest agree on every check.
    assert {cid for cid, status in statuses.items() if status == "passed"} == {
        cid for cid in keyed if skeleton_run.cases[cid].outcome == "passed"
    }


def read_json(path: Path) -> Any:
    return json.loads(path.read_text())


def test_check_on_the_reference(step: int, solved_copy: Path, keyed: set[str]) -> None:
    done = micrograde("check", cwd=solved_copy)  # PATH defaults to the current folder
    assert done.returncode == 0, done.stdout + done.stderr
    assert f": {len(keyed)} of {len(keyed)} public checks passed" in done.stdout
    assert all(ok == total for ok, total in check_lines(done.stdout, step).values())
    report = (solved_copy / ".micrograde" / "index.html").resolve().as_uri()
    assert f"report: {report}" in done.stdout
    assert (solved_copy / ".micrograde" / "results.json").is_file()


def test_check_outside_a_handout_says_what_to_do(tmp_path: Path) -> None:
    done = micrograde("check", str(tmp_path), cwd=tmp_path)
    assert done.returncode == 2
    assert "is not a micrograd hand-out folder" in done.stderr


# -- what a hand-out holds, and what it must never hold ------------------------------------


def test_layout(step: int, handout: Path, exercise: Exercise) -> None:
    names = {p.relative_to(handout).as_posix() for p in handout.rglob("*") if p.is_file()}
    tests = {f"tests/{exercise.step_files[k].name}" for k in range(1, step + 1)}
    assert (
        tests
        | {
            "tests/conftest.py",
            "tests/mg_harness/home.py",
            "answer_key.json",
            "handout.json",
            "README.md",
            "pytest.ini",
        }
        <= names
    )
    assert {f"rubrics/step_{k}.toml" for k in range(1, step + 1)} == {
        n for n in names if n.startswith("rubrics/")
    }
    skeleton = exercise.skeleton_dir(step) / "micrograd"
    for path in skeleton.glob("*.py"):
        assert (handout / "micrograd" / path.name).read_bytes() == path.read_bytes()
    assert not any(n.startswith(("reference/", "skeletons/")) for n in names)


def test_the_handout_is_an_exercise_of_its_public_checks(
    step: int, handout: Path, exercise: Exercise, rubric: Rubric
) -> None:
    loaded = load_exercise(handout)
    steps = tuple(range(1, step + 1))
    assert loaded.handout_step == step and loaded.steps == steps
    public = {c.id for c in exercise.steps_checks(steps)} - hidden_ids(exercise, rubric)
    assert {c.id for c in loaded.checks} == public
    loaded_rubric = load_rubric(loaded)
    assert set(loaded_rubric.steps) == set(steps)
    for k in steps:
        assert loaded_rubric.steps[k].title == rubric.steps[k].title
        for cid, entry in loaded_rubric.steps[k].entries.items():
            assert entry == rubric.entry(k, cid)


def test_the_handout_needs_only_pytest(handout: Path) -> None:
    for path in handout.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = (
                [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
                if isinstance(node, ast.ImportFrom) and not node.level
                else []
            )
            assert not any(n.split(".")[0] in ("grader", "micrograde") for n in names), path


def definitions(source: str) -> dict[str, tuple[str, str]]:
    """Top-level functions and methods: qualified name -> (dump without docstring, source)."""
    found = {}
    for node in ast.parse(source).body:
        members = node.body if isinstance(node, ast.ClassDef) else [node]
        prefix = f"{node.name}." if isinstance(node, ast.ClassDef) else ""
        for member in members:
            if isinstance(member, ast.FunctionDef | ast.AsyncFunctionDef):
                found[prefix + member.name] = (
                    ast.dump(without_docstring(member)),
                    ast.get_source_segment(source, member) or "",
                )
    return found


def reference_only(exercise: Exercise, step: int) -> dict[str, tuple[str, str]]:
    """Functions of reference/step_<step..5> that differ from the skeleton of ``step``."""
    skeleton = {
        (path.name, qualname): dump
        for path in (exercise.skeleton_dir(step) / "micrograd").glob("*.py")
        for qualname, (dump, _) in definitions(path.read_text()).items()
    }
    return {
        f"step_{k}/{path.name}:{qualname}": (dump, segment)
        for k in range(step, 6)
        for path in sorted((exercise.reference_dir(k) / "micrograd").glob("*.py"))
        for qualname, (dump, segment) in definitions(path.read_text()).items()
        if skeleton.get((path.name, qualname)) != dump
    }


def test_no_reference_code(step: int, handout: Path, exercise: Exercise) -> None:
    forbidden = reference_only(exercise, step)
    stubs = {m.split(" ")[0] for m, _ in stubs_of(exercise.skeleton_dir(step) / "micrograd")}
    assert stubs <= {name.split(":")[1] for name in forbidden if name.startswith(f"step_{step}/")}
    present = {
        ast.dump(without_docstring(n))
        for p in handout.rglob("*.py")
        for n in ast.walk(ast.parse(p.read_text()))
        if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)
    }
    leaked = [name for name, (dump, _) in forbidden.items() if dump in present]
    assert not leaked, f"the hand-out holds reference code: {leaked}"
    skeleton_text = "".join(
        p.read_text() for p in (exercise.skeleton_dir(step) / "micrograd").glob("*.py")
    )
    # Rubric hints are left out: they are public feedback by design, and some spell out a
    # line of the answer on purpose (a student sees them as soon as the check fails).
    handout_text = "".join(
        p.read_text() for p in handout.rglob("*") if p.is_file() and p.parent.name != "rubrics"
    )
    for name, (_, segment) in forbidden.items():
        for line in code_lines(segment):
            if line not in skeleton_text:
                assert line not in handout_text, f"{name}: {line!r} is in the hand-out"


def code_lines(segment: str) -> list[str]:
    lines = [line.strip() for line in segment.splitlines()[1:]]
    return [line for line in lines if len(line) >= 20 and not line.startswith(("#", '"""'))]


def hidden_fingerprints(exercise: Exercise, rubric: Rubric) -> dict[str, set[str]]:
    """Strings that belong to one hidden check and to nothing public."""
    hidden = hidden_ids(exercise, rubric)
    public_text, found = [], {}
    for path in exercise.step_files.values():
        source = path.read_text()
        nodes = [
            n
            for n in ast.parse(source).body
            if isinstance(n, ast.FunctionDef) and n.name[5:] in hidden
        ]
        for node in nodes:
            check = exercise.check(node.name[5:])
            entry = rubric.entry(check.step, check.id)
            literals = {
                n.value
                for n in ast.walk(node)
                if isinstance(n, ast.Constant) and isinstance(n.value, str)
            }
            records = run_reference(exercise, check, 20251).records
            found[check.id] = (
                {check.id, entry.title, entry.hint} | literals | {str(r["name"]) for r in records}
            )
            source = source.replace(ast.get_source_segment(source, node) or "", "")
        public_text.append(source)
    public_text += [
        f"{e.title}\n{e.hint}"
        for s in rubric.steps.values()
        for cid, e in s.entries.items()
        if cid not in hidden
    ]
    public_text += [p.read_text() for p in REPO.glob("skeletons/*/micrograd/*.py")]
    public = "\n".join(public_text)
    return {
        cid: {s for s in strings if len(s) >= 6 and s not in public}
        for cid, strings in found.items()
    }


def test_no_hidden_check_data(handout: Path, exercise: Exercise, rubric: Rubric) -> None:
    fingerprints = hidden_fingerprints(exercise, rubric)
    assert all(fingerprints.values()), fingerprints  # every hidden check has some to look for
    for path in handout.rglob("*"):
        if path.is_file():
            text = path.read_text(encoding="utf-8")
            for check_id, strings in fingerprints.items():
                leaked = [s for s in strings if s in text]
                assert not leaked, f"{path.name} holds {leaked} of hidden check {check_id}"
    key = load_key(handout / KEY_FILE)
    assert not set(key["checks"]) & hidden_ids(exercise, rubric)


def test_a_rubric_with_a_hidden_check_left_in_does_not_load(
    first_handout: Path, tmp_path: Path
) -> None:
    root = copy_of(first_handout, tmp_path)
    original = (REPO / "rubrics" / "step_1.toml").read_text()
    (root / "rubrics" / "step_1.toml").write_text(original)
    with pytest.raises(RubricError, match="names no check of step 1"):
        load_rubric(load_exercise(root))


# -- building ----------------------------------------------------------------------------


def test_the_command_writes_the_same_handout_every_time(
    tmp_path: Path, exercise: Exercise, rubric: Rubric
) -> None:
    done = micrograde("handout", "--step", "5", "--out", str(tmp_path / "h"), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    written = {
        p.relative_to(tmp_path / "h").as_posix(): p.read_bytes()
        for p in (tmp_path / "h").rglob("*")
        if p.is_file()
    }
    assert written == handout_files(exercise, rubric, 5)


def test_the_command_never_overwrites(tmp_path: Path, exercise: Exercise, rubric: Rubric) -> None:
    (tmp_path / "work.py").write_text("students' work")
    done = micrograde("handout", "--step", "1", "--out", str(tmp_path), cwd=tmp_path)
    assert done.returncode == 2 and "already exists" in done.stderr
    with pytest.raises(ConfigError):
        build_handout(exercise, rubric, 1, tmp_path)


def test_a_broken_marker_is_an_exercise_error(tmp_path: Path) -> None:
    (tmp_path / "handout.json").write_text('{"step": 9}')
    with pytest.raises(ExerciseError, match="step number"):
        load_exercise(tmp_path)


STAGED = '''\
"""Doc."""

import math
import random
from os import path, sep


def _helper(x):
    return x


def test_public(Value):
    return _helper(path.join("a", sep))


# This comment belongs to the hidden test.
@staticmethod
def test_secret(Value):
    return math.pi + random.random()


def test_last(Value):
    return _helper(1)
'''


def test_public_source_cuts_the_function_its_comment_and_its_imports() -> None:
    stripped = public_source(STAGED, {"secret"})
    assert "secret" not in stripped and "belongs to the hidden" not in stripped
    assert "import math" not in stripped and "import random" not in stripped
    assert "from os import path, sep" in stripped and "def _helper" in stripped
    assert "\n\n\n\ndef" not in stripped and stripped.endswith("return _helper(1)\n")
    compile(stripped, "stripped", "exec")
    assert public_source(STAGED, set()) == STAGED


def test_strip_tests_drops_only_the_unused_names_of_an_import() -> None:
    source = STAGED.replace('path.join("a", sep)', "path.join('a')").replace(
        "math.pi + random.random()", "sep"
    )
    assert "from os import path\n" in public_source(source, {"secret"})


def test_strip_tests_refuses_to_break_public_code() -> None:
    with pytest.raises(ExerciseError, match="test_secret"):
        public_source(STAGED + "\n\nALIAS = test_secret\n", {"secret"})
