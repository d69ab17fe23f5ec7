"""Import the student's classes inside the sandbox, once, and say what went wrong if not.

The grader's intake has already found where each class lives (a module name inside the
workspace). Here we import those modules with the workspace at the *end* of ``sys.path``,
so a student's ``random.py`` or ``json.py`` can never stand in for the standard library's.
Every import is announced on the record stream first, so the host can tell "stuck while
importing micrograd.mlp" from "stuck in a test".
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Mapping
from typing import Any


class SubmissionImportError(Exception):
    """Importing a module of the submission failed; the cause holds the student's error."""


class MissingClass(Exception):
    """The submission defines no class of the name a check needs."""


class Loader:
    """Hands out the submission's classes, importing each module at most once.

    ``graft`` (a counterfactual run only: see grader/fairness/counterfactual.py) maps a
    class name to methods' source, which replace the student's methods of that name on the
    student's class before it is handed out; everything else stays the student's.
    """

    def __init__(
        self,
        workspace: str,
        classes: Mapping[str, str],
        poisoned: list[str],
        emit: Callable[[dict[str, Any]], None],
        graft: Mapping[str, Mapping[str, str]] | None = None,
    ) -> None:
        self._classes = dict(classes)
        self._poisoned = set(poisoned)
        self._emit = emit
        self._graft = {name: dict(methods) for name, methods in (graft or {}).items()}
        self._modules: dict[str, Any] = {}
        self._failures: dict[str, BaseException] = {}
        if workspace not in sys.path:
            sys.path.append(workspace)

    def get(self, name: str) -> Any:
        found = self._class(name)
        while self._graft:  # every graft at once: a check may never ask for Value itself
            graft_name, methods = next(iter(self._graft.items()))
            del self._graft[graft_name]
            self._apply_graft(found if graft_name == name else self._class(graft_name), methods)
        return found

    def _class(self, name: str) -> Any:
        module_name = self._classes.get(name)
        if module_name is None:
            raise MissingClass(f"no class named {name} was found in your submission")
        module = self._import(module_name)
        try:
            found = getattr(module, name)
        except AttributeError:
            raise MissingClass(f"{module_name} has no class named {name} after import") from None
        if not isinstance(found, type):
            raise MissingClass(f"{module_name}.{name} is not a class")
        return found

    def _apply_graft(self, cls: type, methods: Mapping[str, str]) -> None:
        import math
        import random

        namespace: dict[str, Any] = {"math": math, "random": random}
        for other in ("Value", "Neuron", "Layer", "MLP"):
            if any(other in source for source in methods.values()):
                namespace[other] = cls if other == cls.__name__ else self._class(other)
        for name, source in methods.items():
            scope = dict(namespace)
            exec(compile(source, f"<reference {cls.__name__}.{name}>", "exec"), scope)
            setattr(cls, name, scope[name])

    def _import(self, module_name: str) -> Any:
        if module_name in self._modules:
            return self._modules[module_name]
        if module_name in self._poisoned:
            raise SubmissionImportError(
                f"importing {module_name} hung, or stopped the test process, in an earlier "
                "run, so it was not tried again (an endless loop, exit or crash at import "
                "time?)"
            )
        failure = self._failures.get(module_name)
        if failure is None:
            self._emit({"kind": "loading", "module": module_name})
            try:
                self._modules[module_name] = importlib.import_module(module_name)
            except (Exception, SystemExit) as exc:  # noqa: BLE001 - student code at import
                self._failures[module_name] = failure = exc
            self._emit({"kind": "loaded", "module": module_name, "ok": failure is None})
        if failure is not None:
            raise SubmissionImportError(
                f"importing {module_name} failed: {type(failure).__name__}: {_safe_str(failure)}"
            ) from failure
        return self._modules[module_name]


def _safe_str(exc: BaseException) -> str:
    try:
        return str(exc)[:500]
    except Exception:  # noqa: BLE001 - a student's __str__ may raise anything
        return "<unprintable>"
