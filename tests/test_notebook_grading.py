"""Notebooks and scripts written as students write them, graded end to end (local sandbox).

A correct solution gets full marks whatever surrounds it (plots, graphs, ``!pip``, training
at the top level, a loop that never ends), with notes saying what the grader did about it;
the same classes as a plain package get the same score. Docker: test_notebook_docker.py.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
from click.testing import CliRunner
from grading import EXAMPLES, grade, quick_settings
from lecture_notebooks import lecture_notebook, plain_package, solution_parts

from grader.cli import cli
from grader.exercise import load_exercise
from grader.sandbox.local import missing_packages

# Libraries that get a stand-in only where they are not installed (the local sandbox runs
# micrograde's own Python, which may have some of them).
CHECKS = len(load_exercise().checks)
LECTURE_STANDINS = {
    "matplotlib": "cell 2, line 3: matplotlib is not available to the grader; plotting calls "
    "were ignored",
    "graphviz": "cell 2, line 4: graphviz is not available to the grader; graph drawing calls "
    "were ignored",
    "tqdm": "cell 2, line 7: tqdm is not available to the grader; progress bars were left out "
    "(the loops themselves still ran)",
}
COLAB = (
    "cell 18, line 1: google.colab is not available to the grader; Colab calls such as "
    "drive.mount did nothing"
)


def expected_standins() -> list[str]:
    return [
        note
        for module, note in LECTURE_STANDINS.items()
        if importlib.util.find_spec(module) is None
    ]


@pytest.mark.slow
def test_a_lecture_notebook_gets_full_marks_and_the_same_score_as_a_package(
    tmp_path: Path,
) -> None:
    notebook = grade(lecture_notebook(tmp_path / "micrograd_lecture.ipynb"), seed=11)
    package = grade(plain_package(tmp_path / "package"), seed=11)
    assert notebook.score == notebook.max_score == 100
    assert package.score == notebook.score
    assert notebook.diagnosis is None
    assert notebook.message == f"{CHECKS} of {CHECKS} checks passed"
    told = [note for note in notebook.notes if "available to the grader" in note]
    assert told == [*expected_standins(), COLAB]


@pytest.mark.slow
def test_a_training_loop_that_never_ends_costs_only_itself(tmp_path: Path) -> None:
    settings = quick_settings(check_seconds=6, import_seconds=2)
    result = grade(lecture_notebook(tmp_path / "hw.ipynb", endless=True), settings=settings)
    assert result.score == result.max_score == 100
    assert result.diagnosis is not None
    assert (result.diagnosis.kind, result.diagnosis.cell, result.diagnosis.line) == (
        "long_running",
        16,
        10,
    )
    assert result.diagnosis.file == "hw.ipynb"
    # The loop prints a line per epoch and never ends: depending on how fast the machine
    # is at the moment, the sandbox's output cap or the time limit stops it first (seen
    # both ways). Either way it is left out, said once.
    ran = (
        "ran longer than the grader allows for top-level code (2 s)",
        "stopped the grader's test process",
    )
    assert result.message in {
        f"{CHECKS} of {CHECKS} checks passed; cell 16, line 10 {why}, so the grader left it "
        "out, with the top-level code after it that defines nothing your classes need, and "
        "graded your classes without them"
        for why in ran
    }, result.message
    # The cell after the loop defines nothing the classes need: it was left out, unnoted.
    assert not any("google.colab" in note for note in result.notes)


SCRIPT_HEAD = """\
import math
import random
from collections import deque
import matplotlib.pyplot as plt
from graphviz import Digraph
"""

SCRIPT_TAIL = """
random.seed(5)
model = MLP(3, [4, 4, 1])
xs = [[2.0, 3.0, -1.0], [3.0, -1.0, 0.5]]
for k in range(10):
    loss = sum((model(x) - y) ** 2 for x, y in zip(xs, [1.0, -1.0]))
    model.zero_grad()
    loss.backward()
    for p in model.parameters():
        p.data -= 0.05 * p.grad
    print(k, loss.data)
dot = Digraph()
plt.plot([1, 2, 3])
plt.savefig("loss.png")
"""

MAIN_GUARD = """
if __name__ == "__main__":
    while True:  # never runs when graded
        pass
"""


def _script(folder: Path, tail: str) -> Path:
    value, network = solution_parts()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "homework.py"
    path.write_text(SCRIPT_HEAD + "\n\n" + value + "\n\n" + network + tail)
    return path


@pytest.mark.slow
def test_a_script_runs_its_top_level_but_not_its_main_block(tmp_path: Path) -> None:
    result = grade(_script(tmp_path, SCRIPT_TAIL + MAIN_GUARD), seed=3)
    assert result.score == result.max_score == 100
    assert result.shape == "single_file"
    assert "homework.py, line 5: graphviz is not available to the grader; graph drawing " in (
        " | ".join(result.notes)
    )


@pytest.mark.slow
def test_a_script_whose_top_level_never_ends_is_still_graded(tmp_path: Path) -> None:
    endless = SCRIPT_TAIL.replace("for k in range(10):", "k = 0\nwhile True:\n    k += 1")
    path = _script(tmp_path, endless)
    line = path.read_text().splitlines().index("while True:") + 1
    result = grade(path, settings=quick_settings(check_seconds=6, import_seconds=2))
    assert result.score == result.max_score == 100
    assert result.diagnosis is not None
    assert (result.diagnosis.file, result.diagnosis.line) == ("homework.py", line)
    assert result.diagnosis.message.startswith(f"homework.py, line {line} ran longer")


def test_the_local_backend_warns_about_missing_allowed_packages(tmp_path: Path) -> None:
    assert missing_packages(["pytest", "pytest<1", "no-such-package-for-micrograde"]) == [
        "pytest<1",
        "no-such-package-for-micrograde",
    ]
    settings = tmp_path / "course.toml"
    settings.write_text('[sandbox]\npackages = ["pytest", "no-such-package-for-micrograde"]\n')
    ran = CliRunner().invoke(
        cli,
        [
            "grade",
            str(EXAMPLES / "complete" / "single_file.py"),
            "--sandbox",
            "local",
            "--steps",
            "1",
            "--settings",
            str(settings),
            "--out",
            str(tmp_path / "out"),
        ],
    )
    assert ran.exit_code == 0, ran.output
    assert (
        "warning: [sandbox] packages allows no-such-package-for-micrograde, but the local "
        "sandbox's Python"
    ) in ran.stderr
