"""Run the staged tests with plain pytest against any solution: a developer's tool.

    MICROGRADE_SOLUTION=reference/step_5 pytest tests/steps
    MICROGRADE_SOLUTION=skeletons/step_3 pytest tests/steps/test_step3_activations.py

MICROGRADE_SOLUTION names a folder holding a ``micrograd/`` package. Every check, hidden
ones included, is compared with an answer key computed on the fly from the reference
solution (seed $MICROGRADE_SEED, default the public seed), exactly as a student's hand-out
compares with its answer_key.json. Checks that replay the solution's own data through the
reference (``observe.given``) are skipped: only a real grading can judge them.

The grader never reads this file: its sandbox runs pytest with --noconftest on a copy of
the test files, and the project's own test run skips tests/steps (norecursedirs in
pyproject.toml).
"""

import os
from pathlib import Path

import pytest

HOW = (
    "the staged tests need a solution to run against: set MICROGRADE_SOLUTION to a folder "
    "holding micrograd/, e.g. `MICROGRADE_SOLUTION=reference/step_5 pytest tests/steps`"
)
_skip_reason = None


def pytest_configure(config):
    global _skip_reason
    solution = os.environ.get("MICROGRADE_SOLUTION")
    if not solution:
        _skip_reason = HOW
        return
    try:
        from grader.exercise import load_exercise
        from grader.handout.answer_key import PUBLIC_SEED, build_answer_key
        from grader.harness import home
        from grader.rubric import load_rubric
    except ImportError as exc:
        _skip_reason = f"micrograde is not importable ({exc}): `pip install -e .` first"
        return
    root = Path(solution).resolve()
    if not (root / "micrograd").is_dir():
        raise pytest.UsageError(f"MICROGRADE_SOLUTION={solution}: {root} holds no micrograd/")
    exercise = load_exercise()
    seed = int(os.environ.get("MICROGRADE_SEED", PUBLIC_SEED))
    key = build_answer_key(exercise, load_rubric(exercise), seed, hidden=True)
    home.setup(config, root, key)


def pytest_collection_modifyitems(config, items):
    if _skip_reason:
        for item in items:
            item.add_marker(pytest.mark.skip(reason=_skip_reason))


def pytest_report_header(config):
    return [f"micrograde: {_skip_reason}"] if _skip_reason else []
