"""The fixtures every staged test may ask for, whichever mode it runs in.

``Value``, ``Neuron``, ``Layer`` and ``MLP`` are the implementation under test; ``rng`` is a
``random.Random`` seeded from the grading seed and the check's name (so both sides of a
comparison draw the same inputs, and no check's inputs depend on another's draws or on the
student's own use of the global ``random``); ``observe`` is an ``Observer``. A plugin module
(``plugin`` in the sandbox, ``home`` for students) installs a ``Context`` before tests run.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

import pytest

from .observe import Mode, Observer
from .seeding import check_id as check_id  # re-exported for the plugins
from .seeding import check_rng


@dataclass
class Context:
    mode: Mode
    seed: int
    classes: Any  # something with .get(name) -> class (a Loader, or a dict in tests)
    sink: Any = None
    key: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    current: Observer | None = None  # the observer of the check that runs
    current_sink: Any = None  # what that observer was given to write to


_context: Context | None = None


def install(context: Context) -> None:
    global _context
    _context = context


def current_observer() -> Observer | None:
    return _context.current if _context is not None else None


def current_sink() -> Any:
    """What the current observer was made to write to (a swapped one is tampering)."""
    return _context.current_sink if _context is not None else None


def forget_observer() -> None:
    """A new check starts: the previous check's observer is no longer current."""
    if _context is not None:
        _context.current = _context.current_sink = None


def _ctx() -> Context:
    if _context is None:
        raise RuntimeError("the micrograde harness was not configured")
    return _context


@pytest.fixture
def Value() -> Any:  # noqa: N802 - named after the class it provides
    return _ctx().classes.get("Value")


@pytest.fixture
def Neuron() -> Any:  # noqa: N802
    return _ctx().classes.get("Neuron")


@pytest.fixture
def Layer() -> Any:  # noqa: N802
    return _ctx().classes.get("Layer")


@pytest.fixture
def MLP() -> Any:  # noqa: N802
    return _ctx().classes.get("MLP")


@pytest.fixture
def rng(request: pytest.FixtureRequest) -> random.Random:
    return check_rng(_ctx().seed, check_id(request.node.name))


@pytest.fixture
def observe(request: pytest.FixtureRequest) -> Observer:
    ctx = _ctx()
    check = check_id(request.node.name)
    if ctx.mode is Mode.KEY:
        entry = ctx.key.get(check)
        if entry is None:
            pytest.skip("no answer-key entry for this check: only the grader checks it")
        return Observer(check, Mode.KEY, key=entry)
    sink = ctx.sink

    def emit(record: dict[str, Any]) -> None:
        sink({"kind": "obs", "check": check, **record})

    ctx.current, ctx.current_sink = Observer(check, ctx.mode, sink=emit), emit
    return ctx.current
