"""micrograde: an autograder for the five-step micrograd exercise.

The library behind the ``micrograde`` command (which is a thin layer over it)::

    from grader import GradeRequest, grade_submission, load_exercise, load_rubric, \\
        load_settings, open_sandbox, write_results

    exercise, settings = load_exercise(), load_settings()
    opened = open_sandbox("auto", exercise, settings)
    try:
        result = grade_submission(GradeRequest(Path("submission.zip")), exercise=exercise,
                                  rubric=load_rubric(exercise), sandbox=opened.sandbox,
                                  settings=settings)
    finally:
        opened.sandbox.close()
    write_results(result, Path("out"))

The names below are imported on first use, so ``import grader`` stays cheap (the command
line starts in a fraction of a second) and no module depends on this one but for
``__version__``.

The data path of one submission, top-down (one module each)::

    intake/ -> runner (sandbox/, wire) -> trusted -> judge -> feedback -> scoring
            -> pipeline (GradeResult, models) -> output (results.json) + report/
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

# Where each public name lives (tests/test_architecture.py checks this against __all__).
_HOMES = {
    "grader.pipeline": ("GradeRequest", "grade_submission"),
    "grader.models": ("CheckResult", "GradeResult", "StepResult"),
    "grader.exercise": ("Exercise", "load_exercise"),
    "grader.rubric": ("Rubric", "load_rubric"),
    "grader.settings": ("Settings", "load_settings"),
    "grader.sandbox.base": ("Sandbox",),
    "grader.sandbox.select": ("open_sandbox",),
    "grader.output": ("write_results",),
    "grader.batch.run": ("BatchRequest", "run_batch"),
    "grader.selfcheck": ("run_selfcheck",),
    "grader.errors": (
        "ConfigError",
        "ExerciseError",
        "GraderError",
        "RubricError",
        "SandboxError",
        "SandboxUnavailableError",
        "SubmissionRejected",
    ),
}
_EXPORTS = {name: module for module, names in _HOMES.items() for name in names}
__all__ = [
    "__version__",
    "BatchRequest",
    "CheckResult",
    "ConfigError",
    "Exercise",
    "ExerciseError",
    "GradeRequest",
    "GradeResult",
    "GraderError",
    "Rubric",
    "RubricError",
    "Sandbox",
    "SandboxError",
    "SandboxUnavailableError",
    "Settings",
    "StepResult",
    "SubmissionRejected",
    "grade_submission",
    "load_exercise",
    "load_rubric",
    "load_settings",
    "open_sandbox",
    "run_batch",
    "run_selfcheck",
    "write_results",
]

if TYPE_CHECKING:  # what type checkers see; at run time __getattr__ imports on demand
    from grader.batch.run import BatchRequest, run_batch
    from grader.errors import (
        ConfigError,
        ExerciseError,
        GraderError,
        RubricError,
        SandboxError,
        SandboxUnavailableError,
        SubmissionRejected,
    )
    from grader.exercise import Exercise, load_exercise
    from grader.models import CheckResult, GradeResult, StepResult
    from grader.output import write_results
    from grader.pipeline import GradeRequest, grade_submission
    from grader.rubric import Rubric, load_rubric
    from grader.sandbox.base import Sandbox
    from grader.sandbox.select import open_sandbox
    from grader.selfcheck import run_selfcheck
    from grader.settings import Settings, load_settings


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'grader' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
