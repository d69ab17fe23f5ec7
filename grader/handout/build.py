"""The hand-out for one step: what a student receives, and the ``micrograde check`` they run.

``build_handout`` writes, for step k::

    micrograd/           the skeleton of step k (earlier steps done, step k's methods stubbed)
    tests/               the staged tests of steps 1..k without their hidden checks,
      conftest.py        which makes plain ``pytest`` work with nothing but pytest installed,
      mg_harness/        using this copy of the relocatable harness (grader/harness)
    answer_key.json      the reference's observations on the public checks, public seed
    rubrics/             the rubrics of steps 1..k, public checks only
    handout.json         the marker ``load_exercise`` recognises a hand-out by
    pytest.ini, README.md, .gitignore

Neither the reference solution nor anything about a hidden check goes in: hidden checks
are cut out of the test files by their syntax tree (helpers stay), out of the rubrics by
their tables, and the answer key never holds them.
"""

from __future__ import annotations

import ast
import json
import re
import tempfile
import tomllib
from dataclasses import replace
from pathlib import Path
from typing import Any

from grader import __version__, syntax
from grader.errors import ConfigError, ExerciseError
from grader.exercise import (
    HANDOUT_MARKER,
    STEP_TITLES,
    STEPS,
    Exercise,
    read_exercise,
)
from grader.handout.answer_key import KEY_FILE, PUBLIC_SEED, answer_key_json, build_answer_key
from grader.rubric import Rubric
from grader.sandbox.bundle import public_source, tidy_blank_lines

HARNESS_DIR = Path(__file__).resolve().parents[1] / "harness"
_HEADER = re.compile(r"^\s*\[")


# -- building --------------------------------------------------------------------------------


def build_handout(
    exercise: Exercise, rubric: Rubric, step: int, out: Path, seed: int = PUBLIC_SEED
) -> Path:
    """Write the hand-out of ``step`` into ``out`` (which must be new or empty)."""
    if step not in STEPS:
        raise ConfigError(f"there is no step {step}: steps are numbered 1 to 5")
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise ConfigError(
            f"{out} already exists and is not an empty folder: choose a new "
            "one, so that nobody's work is overwritten"
        )
    files = handout_files(exercise, rubric, step, seed)
    for name, content in sorted(files.items()):
        target = out / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content)
    return out


def handout_files(
    exercise: Exercise, rubric: Rubric, step: int, seed: int = PUBLIC_SEED
) -> dict[str, bytes]:
    """Relative path in the hand-out -> content."""
    steps = tuple(range(1, step + 1))
    hidden = hidden_checks(exercise, rubric, steps)
    files = _package_files(exercise.skeleton_dir(step) / "micrograd", "micrograd")
    files.update(_package_files(HARNESS_DIR, "tests/mg_harness"))
    for k in steps:
        path = exercise.step_files[k]
        files[f"tests/{path.name}"] = public_source(
            path.read_text(encoding="utf-8"), hidden
        ).encode("utf-8")
        files[f"rubrics/step_{k}.toml"] = _public_rubric(exercise, rubric, k, hidden)
    files["tests/conftest.py"] = CONFTEST.encode("utf-8")
    files["pytest.ini"] = PYTEST_INI.encode("utf-8")
    files[".gitignore"] = GITIGNORE.encode("utf-8")
    marker = {
        "schema": 1,
        "step": step,
        "steps": list(steps),
        "seed": seed,
        "grader_version": __version__,
    }
    files[HANDOUT_MARKER] = (json.dumps(marker, indent=1, sort_keys=True) + "\n").encode()
    key = _shipped_key(exercise, rubric, files, seed)
    files[KEY_FILE] = answer_key_json(key)
    files["README.md"] = readme(step, _step_notes(exercise, rubric, step, key, hidden))
    return files


def _shipped_key(
    exercise: Exercise, rubric: Rubric, files: dict[str, bytes], seed: int
) -> dict[str, Any]:
    """The answer key, computed by the very test functions the hand-out ships.

    They are imported back from a scratch copy of the hand-out, so the key always matches
    its tests, even when a staged test file changed after ``exercise`` was loaded.
    """
    with tempfile.TemporaryDirectory(prefix="micrograde-handout-") as scratch:
        root = Path(scratch)
        for name, content in files.items():
            if name.startswith("tests/test_step") or name == HANDOUT_MARKER:
                (root / name).parent.mkdir(parents=True, exist_ok=True)
                (root / name).write_bytes(content)
        # Uncached: a later scratch folder may get the same name.
        shipped = read_exercise(root)
    tested = replace(exercise, checks=shipped.checks)  # reference from the checkout
    return build_answer_key(tested, rubric, seed, steps=shipped.steps)


def hidden_checks(exercise: Exercise, rubric: Rubric, steps: tuple[int, ...]) -> set[str]:
    return {
        check.id
        for check in exercise.steps_checks(steps)
        if rubric.entry(check.step, check.id).visibility == "hidden"
    }


def _package_files(folder: Path, prefix: str) -> dict[str, bytes]:
    return {f"{prefix}/{path.name}": path.read_bytes() for path in sorted(folder.glob("*.py"))}


def _step_notes(
    exercise: Exercise, rubric: Rubric, step: int, key: dict[str, Any], hidden: set[str]
) -> dict[str, Any]:
    """What the README says about the step: its title, methods to write, checks."""
    entries = rubric.steps[step].entries
    public = [check for check in exercise.steps_checks((step,)) if check.id not in hidden]
    return {
        "title": rubric.steps[step].title or STEP_TITLES[step],
        "stubs": stubs_of(exercise.skeleton_dir(step) / "micrograd"),
        "checks": [
            (entries[c.id].title, entries[c.id].points, c.id in key["checks"]) for c in public
        ],
        "hidden": len(hidden),
        "skipped": sum(
            c.id not in key["checks"] and c.id not in hidden
            for c in exercise.steps_checks(tuple(range(1, step + 1)))
        ),
        "seed": key["seed"],
    }


def stubs_of(package: Path) -> list[tuple[str, str]]:
    """``(message, file)`` of every ``raise NotImplementedError("...")`` in a skeleton."""
    found = []
    for path in sorted(package.glob("*.py")):
        for node in ast.walk(syntax.parse(path.read_text(encoding="utf-8"), path.name)):
            if (
                isinstance(node, ast.Raise)
                and isinstance(node.exc, ast.Call)
                and isinstance(node.exc.func, ast.Name)
                and node.exc.func.id == "NotImplementedError"
                and node.exc.args
                and isinstance(node.exc.args[0], ast.Constant)
            ):
                found.append((node.lineno, str(node.exc.args[0].value), path.name))
    return [(message, name) for _, message, name in sorted(found, key=lambda f: (f[2], f[0]))]


def _public_rubric(exercise: Exercise, rubric: Rubric, step: int, hidden: set[str]) -> bytes:
    """The step's rubric file without the tables of hidden checks, comments kept."""
    path = exercise.rubrics_dir / f"step_{step}.toml"
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    sections: list[list[str]] = [[]]
    for line in lines:
        if _HEADER.match(line):
            carried = _trailing_comments(sections[-1])
            sections.append(carried + [line])
        else:
            sections[-1].append(line)
    drop = {f"[checks.{check_id}]" for check_id in hidden}
    text = "".join(
        line
        for section in sections
        if not section or _header_of(section) not in drop
        for line in section
    )
    expected = set(rubric.steps[step].entries) - hidden
    if set(tomllib.loads(text).get("checks", {})) != expected:
        raise ExerciseError(
            f"{path}: could not cut the hidden checks out of this rubric; "
            "write each check as one [checks.<id>] table"
        )
    return tidy_blank_lines(text).encode("utf-8")


def _trailing_comments(section: list[str]) -> list[str]:
    """Move the comment lines that end ``section`` (they introduce the next table)."""
    count = 0
    while count < len(section) and section[-1 - count].lstrip().startswith("#"):
        count += 1
    carried = section[len(section) - count :]
    del section[len(section) - count :]
    return carried


def _header_of(section: list[str]) -> str:
    return next((line.strip() for line in section if _HEADER.match(line)), "")


# -- the files around the tests ----------------------------------------------------------

CONFTEST = '''\
"""Lets plain `pytest` check your work in this folder: only pytest needs to be installed.

mg_harness/ is a copy of the grader's test harness. It loads your classes from ../micrograd
and compares what they compute with ../answer_key.json: what the reference solution computed
on the same inputs.
"""

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

from mg_harness import home  # noqa: E402


def pytest_configure(config):
    home.setup(config, HERE.parent)
'''

PYTEST_INI = """\
[pytest]
# How plain `pytest` finds the checks of this hand-out (see README.md).
testpaths = tests
python_files = test_step*.py
"""

GITIGNORE = "__pycache__/\n.pytest_cache/\n.micrograde/\n"


def readme(step: int, notes: dict[str, Any]) -> bytes:
    """The hand-out's README.md, in plain words."""
    parts = [
        f"# micrograd, step {step}: {notes['title']}\n",
        f"This folder is where you do step {step} of the micrograd exercise: a small engine "
        "that works out gradients by itself, and a tiny neural network built on top of it.",
        _readme_todo(step, notes["stubs"]),
        _README_CHECK.format(step=step, seed=notes["seed"]),
        _README_NOT_IMPLEMENTED.format(step=step),
        _readme_grader(notes["hidden"], notes["skipped"]),
        _readme_checks(step, notes["checks"]),
    ]
    return ("\n\n".join(part.strip("\n") for part in parts) + "\n").encode("utf-8")


def _readme_todo(step: int, stubs: list[tuple[str, str]]) -> str:
    done = " The work of the earlier steps is already in place." if step > 1 else ""
    items = "\n".join(
        f"- {_stub_phrase(message)}, in `micrograd/{name}`" for message, name in stubs
    )
    return (
        f"## What to do\n\nYour code lives in `micrograd/`.{done} For this step, write "
        "these methods; each of them now stops with `raise NotImplementedError(...)`:\n\n"
        f"{items}\n\nThe comments next to each one say what it must do."
    )


def _stub_phrase(message: str) -> str:
    if message.endswith(" backward"):
        return f"the `_backward` function inside `{message.removesuffix(' backward')}`"
    return f"`{message}`"


_README_CHECK = """\
## Check your work

You need Python 3.11 or newer and pytest (`pip install pytest`). In this folder, run:

    pytest              # every check of steps 1 to {step}
    pytest -x           # stop at the first check that fails
    pytest --tb=short   # show Python's full tracebacks too

Each check runs your code on some inputs and compares what it computed with what the
reference solution computed on the same inputs. Those results are in `answer_key.json`
(made with the public seed {seed}). When a check fails, it says which method to look at,
what was expected, what your code gave, and the inputs it used.

If the `micrograde` command is installed, `micrograde check` runs the same checks the way
the grader does, prints a score for each step and writes a report you can open in a
browser: `.micrograde/index.html`.
"""

_README_NOT_IMPLEMENTED = """\
## "Not implemented yet"

A method that still raises `NotImplementedError` is one you have not written yet, and its
checks fail with "... is not implemented yet". That is how step {step} starts: its checks
fail until you replace each `raise NotImplementedError(...)` line with your own code. The
checks of the earlier steps should pass from the start.
"""


def _readme_grader(hidden: int, skipped: int) -> str:
    more = (
        (
            f"- It also runs {hidden} hidden check{'s' if hidden != 1 else ''} that are not "
            "in this folder. They try the same methods on other cases.\n"
        )
        if hidden
        else ""
    )
    skips = (
        (
            '- Some checks here are skipped, with the note "only the grader checks it": '
            "they need numbers that your own code works out or picks at random (such as the "
            "order topo_sort returns, or a network's starting weights), so no answer key can "
            "hold their results. The grader runs them.\n"
        )
        if skipped
        else ""
    )
    return (
        "## What the grader does on top\n\n"
        "- It runs the same checks with new random inputs every time, so your code has to "
        "compute the answers: numbers copied from `answer_key.json` will not pass.\n"
        f"{more}{skips}"
        "- Numbers are compared with a small tolerance, so any correct way of computing "
        "them passes."
    )


def _readme_checks(step: int, checks: list[tuple[str, float, bool]]) -> str:
    rows = "\n".join(
        f"- {title} ({points:g} point{'s' if points != 1 else ''})"
        + ("" if keyed else ": checked by the grader only")
        for title, points, keyed in checks
    )
    return f"## The checks of step {step}\n\n{rows}"
