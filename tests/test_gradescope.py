"""Gradescope: ``micrograde gradescope`` writes its results.json; ``export`` writes the zip.

The results are validated against Gradescope's field list (docs/specs.md of
gradescope/autograder_samples, as summarised in the research notes): only known fields,
with the right types and values.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest
from grading import EXAMPLES, REPO

from grader.exercise import load_exercise
from grader.integrations import gradescope as gradescope_module
from grader.integrations.gradescope import run_gradescope
from grader.integrations.gradescope_export import SANDBOX_USER, export_gradescope
from grader.rubric import load_rubric
from grader.settings import load_settings

VISIBILITY = {"hidden", "after_due_date", "after_published", "visible"}
FORMATS = {"text", "html", "simple_format", "md", "ansi"}
TOP_FIELDS = {
    "score",
    "execution_time",
    "output",
    "output_format",
    "test_output_format",
    "test_name_format",
    "visibility",
    "stdout_visibility",
    "extra_data",
    "tests",
    "leaderboard",
}
TEST_FIELDS = {
    "score",
    "max_score",
    "status",
    "name",
    "name_format",
    "number",
    "output",
    "output_format",
    "tags",
    "visibility",
    "extra_data",
}


def validate(data: dict[str, Any]) -> None:
    """Fail unless ``data`` is a results.json Gradescope accepts."""
    assert set(data) <= TOP_FIELDS, set(data) - TOP_FIELDS
    assert "score" in data or all("score" in t for t in data["tests"])
    assert isinstance(data["score"], int | float) and not isinstance(data["score"], bool)
    assert isinstance(data.get("execution_time", 0), int | float)
    assert isinstance(data.get("output", ""), str)
    for key in ("output_format", "test_output_format"):
        assert data.get(key, "text") in FORMATS
    for key in ("visibility", "stdout_visibility"):
        assert data.get(key, "visible") in VISIBILITY
    assert isinstance(data.get("extra_data", {}), dict)
    assert isinstance(data["tests"], list)
    for test in data["tests"]:
        assert set(test) <= TEST_FIELDS, set(test) - TEST_FIELDS
        assert isinstance(test["name"], str) and test["name"]
        assert isinstance(test["score"], int | float)
        assert isinstance(test["max_score"], int | float)
        assert test["status"] in ("passed", "failed")
        assert isinstance(test["output"], str)
        assert test["visibility"] in VISIBILITY
        assert all(isinstance(tag, str) for tag in test.get("tags", []))
        assert isinstance(test.get("number", ""), str)
    json.dumps(data, allow_nan=False)  # no NaN or infinity anywhere


def _grade(tmp_path: Path, submission: Path, seed: int = 99) -> tuple[int, dict[str, Any]]:
    results = tmp_path / "results" / "results.json"
    code = run_gradescope(submission, results, seed)
    return code, json.loads(results.read_text())


def test_a_complete_submission(tmp_path: Path) -> None:
    code, data = _grade(tmp_path, EXAMPLES / "complete" / "package")
    validate(data)
    assert code == 0 and data["score"] == 100
    assert data["stdout_visibility"] == "hidden"
    assert len(data["tests"]) == len(load_exercise().checks)
    first = data["tests"][0]
    assert first["name"].startswith("Step 1 (Operators): ") and first["number"] == "1.1"
    assert first["status"] == "passed" and first["score"] == first["max_score"]
    assert "100 of 100 points" in data["output"]


def test_hidden_checks_show_only_passed_or_failed(tmp_path: Path) -> None:
    code, data = _grade(tmp_path, EXAMPLES / "bug_mul_backward")
    validate(data)
    rubric = load_rubric(load_exercise())
    hidden = {
        e.title
        for s in rubric.steps.values()
        for e in s.entries.values()
        if e.visibility == "hidden"
    }
    assert hidden, "the rubric has hidden checks"
    by_title = {t["name"].split(": ", 1)[1]: t for t in data["tests"]}
    for title in hidden:
        test = by_title[title]
        assert test["visibility"] == "after_published"
        assert test["output"] == f"hidden check: {test['status']}"
    # Karpathy's checks (hidden) passed only because the product's gradient is charged in
    # step 2: that is all the student sees of them, not the note saying why.
    karpathy = by_title[rubric.entry(3, "karpathy_checks").title]
    assert karpathy["status"] == "passed" and karpathy["output"] == "hidden check: passed"
    visible = [t for t in data["tests"] if t["visibility"] == "visible"]
    assert any(t["status"] == "failed" and "Value.__mul__" in t["output"] for t in visible)
    assert data["score"] == pytest.approx(sum(t["score"] for t in data["tests"]))


def test_a_rejected_submission_is_one_visible_test(tmp_path: Path) -> None:
    empty = tmp_path / "submission"
    empty.mkdir()
    code, data = _grade(tmp_path, empty)
    validate(data)
    assert code == 0 and data["score"] == 0
    (test,) = data["tests"]
    assert test["visibility"] == "visible" and test["status"] == "failed"
    assert "is empty" in test["output"] and test["max_score"] == 100


def test_a_grader_crash_still_writes_results(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("the grader has a bug")

    monkeypatch.setattr(gradescope_module, "gradescope_results", broken)
    code, data = _grade(tmp_path, EXAMPLES / "complete" / "package")
    validate(data)
    assert code == 3 and data["score"] == 0
    shown = [t for t in data["tests"] if t["visibility"] == "visible"]
    staff = [t for t in data["tests"] if t["visibility"] == "hidden"]
    assert "not a problem with your code" in shown[0]["output"]
    assert "the grader has a bug" not in json.dumps(shown) + data["output"]
    assert "RuntimeError: the grader has a bug" in staff[0]["output"]


def test_a_broken_installation_still_writes_results(tmp_path: Path) -> None:
    results = tmp_path / "results.json"
    env = dict(os.environ, MICROGRADE_EXERCISE=str(tmp_path / "nowhere"))
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "grader",
            "gradescope",
            "--submission",
            str(EXAMPLES / "complete" / "package"),
            "--results",
            str(results),
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert done.returncode == 3
    data = json.loads(results.read_text())
    validate(data)
    assert "no staged tests" in data["tests"][1]["output"]


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("export") / "autograder.zip"
    export_gradescope(load_exercise(), out)
    return out


def test_export_layout(exported: Path) -> None:
    with zipfile.ZipFile(exported) as archive:
        infos = {info.filename: info for info in archive.infolist()}
    names = set(infos)
    for needed in (
        "setup.sh",
        "run_autograder",
        "micrograde/pyproject.toml",
        "micrograde/README.md",
        "micrograde/grader/cli/__init__.py",
        "micrograde/grader/report/templates/overview.html",
        "micrograde/grader/settings.toml",
        "micrograde/reference/step_5/micrograd/value.py",
        "micrograde/tests/steps/test_step1_operators.py",
        "micrograde/tests/steps/conftest.py",
        "micrograde/rubrics/step_5.toml",
        "settings.toml",
    ):
        assert needed in names, needed
    for name in names:
        parts = name.split("/")
        assert not any(p.startswith(".") or p == "__pycache__" for p in parts), name
        assert parts[0] in ("setup.sh", "run_autograder", "settings.toml", "micrograde"), name
        assert not name.startswith(("micrograde/examples", "micrograde/skeletons")), name
        if name.startswith("micrograde/tests/"):
            assert name.startswith("micrograde/tests/steps/"), name
    for script in ("setup.sh", "run_autograder"):
        assert stat.S_IMODE(infos[script].external_attr >> 16) == 0o755


def test_export_carries_the_settings_with_the_sandbox_user(tmp_path: Path) -> None:
    course = tmp_path / "course.toml"
    course.write_text(
        '[time]\ncheck_seconds = 7.0\n[local]\nusers = ["someone"]\n'
        '[sandbox]\npackages = ["numpy>=1.26; python_version >= \'3.11\'", "six"]\n'
    )
    out = tmp_path / "autograder.zip"
    done = subprocess.run(
        [sys.executable, "-m", "grader", "export", "gradescope", "--out", str(out)]
        + ["--settings", str(course)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    with zipfile.ZipFile(out) as archive:
        (tmp_path / "settings.toml").write_bytes(archive.read("settings.toml"))
        setup = archive.read("setup.sh").decode()
    settings = load_settings(tmp_path / "settings.toml")
    assert settings.local.users == (SANDBOX_USER,)  # Gradescope's user, not the course's
    assert settings.time.check_seconds == 7.0
    assert settings.sandbox.packages == ("numpy>=1.26; python_version >= '3.11'", "six")
    # setup.sh hands pip exactly those requirement strings (bash parses what it quotes).
    (tmp_path / "setup.sh").write_text(setup)
    line = next(x for x in setup.splitlines() if x.startswith("PACKAGES=("))
    script = line.split("  #")[0] + '\nprintf "%s\\n" "${PACKAGES[@]}"\n'
    listed = subprocess.run(["bash", "-c", script], capture_output=True, text=True, check=True)
    assert tuple(listed.stdout.splitlines()) == settings.sandbox.packages
    assert f"SANDBOX_USER={SANDBOX_USER}" in setup
    assert 'chmod -R go-rwx "$SOURCE/reference" "$SOURCE/rubrics" "$SOURCE/tests"' in setup


def test_export_is_deterministic(exported: Path, tmp_path: Path) -> None:
    again = tmp_path / "again.zip"
    export_gradescope(load_exercise(), again)
    assert again.read_bytes() == exported.read_bytes()


def test_export_scripts_are_valid_bash(exported: Path, tmp_path: Path) -> None:
    with zipfile.ZipFile(exported) as archive:
        archive.extractall(tmp_path)  # our own zip, in a test
    for script in ("setup.sh", "run_autograder"):
        assert (tmp_path / script).read_text().startswith("#!/usr/bin/env bash\n")
        subprocess.run(["bash", "-n", str(tmp_path / script)], check=True)


def test_the_exported_grader_grades_on_its_own(exported: Path, tmp_path: Path) -> None:
    """What run_autograder does, with the zip's copy of micrograde instead of the checkout."""
    with zipfile.ZipFile(exported) as archive:
        archive.extractall(tmp_path / "source")
    source = tmp_path / "source" / "micrograde"
    env = dict(os.environ, MICROGRADE_EXERCISE=str(source), PYTHONPATH=str(source))
    where = subprocess.run(
        [sys.executable, "-c", "import grader; print(grader.__file__)"],
        capture_output=True,
        text=True,
        env=env,
        check=True,
        cwd=tmp_path,
    )
    assert Path(where.stdout.strip()).is_relative_to(source)
    submission = tmp_path / "submission"
    shutil.copytree(EXAMPLES / "complete" / "loose_files", submission)
    results = tmp_path / "results" / "results.json"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "grader",
            "gradescope",
            "--submission",
            str(submission),
            "--results",
            str(results),
        ],
        env=env,
        cwd=tmp_path,
        check=True,
        capture_output=True,
        timeout=120,
    )
    data = json.loads(results.read_text())
    validate(data)
    assert data["score"] == 100
    assert REPO not in Path(where.stdout.strip()).parents


def test_a_file_name_that_is_not_utf8_still_gives_results(tmp_path: Path) -> None:
    submission = tmp_path / "submission"
    submission.mkdir()
    source = (EXAMPLES / "complete" / "single_file.py").read_bytes()
    with open(os.fsencode(submission) + b"/caf\xe9.py", "wb") as handle:
        handle.write(source)
    code, data = _grade(tmp_path, submission)
    validate(data)
    assert code in (0, 3)  # graded, or the grader's own failure reported as such
