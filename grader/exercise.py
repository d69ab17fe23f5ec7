"""Where the exercise lives, and what its checks are.

The exercise content sits beside the package in a checkout: ``reference/step_k``,
``skeletons/step_k``, ``tests/steps/test_step{k}_*.py`` and ``rubrics/step_{k}.toml``. A
check is one function of a staged test file; its id is the function's name without the
``test_`` prefix, unique across all steps. Only the trusted host imports these modules.

A student's hand-out (``micrograde handout``) is an exercise too, with fewer parts: its
``handout.json`` names the step it was made for, its ``tests/`` holds the staged test files
of steps 1..step (public checks only) and its ``rubrics/`` the matching rubrics. It has no
reference solution and no skeletons.
"""

from __future__ import annotations

import importlib.util
import inspect
import json
import os
import re
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from types import ModuleType, SimpleNamespace
from typing import Any

from grader.errors import ExerciseError

STEPS = (1, 2, 3, 4, 5)
STEP_TITLES = {
    1: "Operators",
    2: "Gradients",
    3: "Activations",
    4: "Multi-layer perceptron",
    5: "Training",
}
_STEP_FILE = re.compile(r"^test_step(\d)_\w+\.py$")
FIXTURES = frozenset({"Value", "Neuron", "Layer", "MLP", "rng", "observe"})
HANDOUT_MARKER = "handout.json"


@dataclass(frozen=True)
class Check:
    """One staged test function: a unit of grading."""

    id: str
    step: int
    function: Callable[..., Any]
    fixtures: tuple[str, ...]


@dataclass(frozen=True)
class Exercise:
    """The exercise content found under ``root``."""

    root: Path
    step_files: dict[int, Path]
    checks: tuple[Check, ...]
    # A hand-out holds steps 1..handout_step only; a checkout holds all five.
    handout_step: int | None = None

    @property
    def steps(self) -> tuple[int, ...]:
        """The steps whose staged tests this exercise holds."""
        return tuple(sorted(self.step_files))

    def steps_checks(self, steps: tuple[int, ...]) -> tuple[Check, ...]:
        return tuple(check for check in self.checks if check.step in steps)

    def check(self, check_id: str) -> Check:
        for check in self.checks:
            if check.id == check_id:
                return check
        raise KeyError(check_id)

    def reference_dir(self, step: int = 5) -> Path:
        return self.root / "reference" / f"step_{step}"

    def skeleton_dir(self, step: int) -> Path:
        return self.root / "skeletons" / f"step_{step}"

    @property
    def steps_dir(self) -> Path:
        if self.handout_step is not None:
            return self.root / "tests"
        return self.root / "tests" / "steps"

    @property
    def rubrics_dir(self) -> Path:
        return self.root / "rubrics"


def default_root() -> Path:
    """``$MICROGRADE_EXERCISE`` if set, else the checkout this package was installed from."""
    configured = os.environ.get("MICROGRADE_EXERCISE")
    return Path(configured) if configured else Path(__file__).resolve().parents[1]


def load_exercise(root: Path | None = None) -> Exercise:
    """Find the staged test files under ``root`` (a checkout or a hand-out); collect checks.

    Without ``root``, the one ``default_root`` names now (``$MICROGRADE_EXERCISE`` may change
    between calls); each folder is read once per process.
    """
    return _cached((root or default_root()).resolve())


def read_exercise(root: Path) -> Exercise:
    """``load_exercise`` without the cache (a folder whose content may have changed)."""
    root = root.resolve()
    handout_step = _handout_step(root)
    steps = STEPS if handout_step is None else tuple(range(1, handout_step + 1))
    steps_dir = root / "tests" if handout_step is not None else root / "tests" / "steps"
    if not steps_dir.is_dir() and handout_step is not None:
        raise ExerciseError(f"the hand-out at {root} has no tests/ folder")
    if not steps_dir.is_dir():
        raise ExerciseError(
            f"no staged tests at {steps_dir}: point MICROGRADE_EXERCISE at a "
            "checkout of micrograde (it holds reference/, tests/steps/, rubrics/)"
        )
    files = {
        int(m.group(1)): path
        for path in sorted(steps_dir.iterdir())
        if (m := _STEP_FILE.match(path.name))
    }
    if sorted(files) != list(steps):
        raise ExerciseError(
            f"{steps_dir} should hold one test_step<k>_*.py file per step {steps[0]}-{steps[-1]}"
        )
    checks = [check for step in steps for check in _checks_of(step, files[step])]
    _require_unique(checks)
    return Exercise(root, files, tuple(checks), handout_step)


_cached = cache(read_exercise)


def _handout_step(root: Path) -> int | None:
    """The step a hand-out was made for (from its marker), or None for a checkout."""
    marker = root / HANDOUT_MARKER
    if not marker.is_file():
        return None
    try:
        step = json.loads(marker.read_text(encoding="utf-8")).get("step")
    except (OSError, UnicodeDecodeError, ValueError, AttributeError) as exc:
        raise ExerciseError(f"{marker} cannot be read: {exc}") from exc
    if type(step) is not int or step not in STEPS:
        raise ExerciseError(f"{marker}: 'step' must be a step number from 1 to 5")
    return step


def _checks_of(step: int, path: Path) -> Iterator[Check]:
    module = _import_file(path, f"_micrograde_steps.{path.stem}")
    for name, function in vars(module).items():
        if not (name.startswith("test_") and inspect.isfunction(function)):
            continue
        params = tuple(inspect.signature(function).parameters)
        unknown = set(params) - FIXTURES
        if unknown:
            raise ExerciseError(f"{path.name}::{name} asks for unknown fixtures {sorted(unknown)}")
        yield Check(name[5:], step, function, params)


def _require_unique(checks: list[Check]) -> None:
    seen: dict[str, int] = {}
    for check in checks:
        if check.id in seen:
            raise ExerciseError(
                f"check id {check.id!r} is used in step {seen[check.id]} "
                f"and step {check.step}: ids must be unique"
            )
        seen[check.id] = check.step


def _import_file(path: Path, name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ExerciseError(f"cannot import {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@contextmanager
def _micrograd_aliased() -> Iterator[None]:
    """Let a solution's ``from micrograd.value import Value`` resolve while it loads."""
    saved = {
        k: sys.modules.pop(k)
        for k in list(sys.modules)
        if k == "micrograd" or k.startswith("micrograd.")
    }
    try:
        yield
    finally:
        for k in [k for k in sys.modules if k == "micrograd" or k.startswith("micrograd.")]:
            del sys.modules[k]
        sys.modules.update(saved)


@contextmanager
def _no_bytecode() -> Iterator[None]:
    """Keep __pycache__ out of reference/ and skeletons/ (skeletons are handed out)."""
    saved, sys.dont_write_bytecode = sys.dont_write_bytecode, True
    try:
        yield
    finally:
        sys.dont_write_bytecode = saved


def load_solution(package_dir: Path) -> SimpleNamespace:
    """Import a trusted solution package (``reference/step_k/micrograd``); its classes."""
    with _micrograd_aliased(), _no_bytecode():
        spec = importlib.util.spec_from_file_location(
            "micrograd", package_dir / "__init__.py", submodule_search_locations=[str(package_dir)]
        )
        if spec is None or spec.loader is None:
            raise ExerciseError(f"cannot import the solution at {package_dir}")
        package = importlib.util.module_from_spec(spec)
        sys.modules["micrograd"] = package
        spec.loader.exec_module(package)
        found: dict[str, Any] = {}
        for module_name, classes in (("value", ("Value",)), ("mlp", ("Neuron", "Layer", "MLP"))):
            if (package_dir / f"{module_name}.py").exists():
                module = importlib.import_module(f"micrograd.{module_name}")
                found.update({c: getattr(module, c) for c in classes if hasattr(module, c)})
    return SimpleNamespace(**found)
