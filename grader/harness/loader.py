"""Import the student's classes inside the sandbox, once, and say what went wrong if not.

The grader's intake has already found where each class lives (a module name inside the
workspace). Here we import those modules with the workspace at the *end* of ``sys.path``,
so a student's ``random.py`` or ``json.py`` can never stand in for the standard library's.
Every import is announced on the record stream first, so the host can tell "stuck while
importing micrograd.mlp" from "stuck in a test".

In the sandbox (``toplevel`` given) the loader also puts the stand-ins for missing
display-only libraries last on ``sys.meta_path`` before any student code runs
(``standins.py``), and runs the modules intake generated for notebooks and scripts with an
``__micrograde__`` object in their namespace (``TopLevelHooks``): it announces each
top-level statement as it starts, reports each one that raised, and says which to leave
out. Those records carry checked fields only (module, cell, line, an exception's type, a
module name); the host writes every sentence a student reads.
"""

from __future__ import annotations

import importlib
import importlib.util
import math
import os
import re
import sys
from collections.abc import Callable, Iterable, Mapping
from types import FrameType
from typing import Any

from . import standins

_CELL = re.compile(r"^<notebook cell (\d+)>$")


class SubmissionImportError(Exception):
    """Importing a module of the submission failed; the cause holds the student's error."""


class MissingClass(Exception):
    """The submission defines no class of the name a check needs."""


_ABSENT = object()  # what a grafted attribute held when the class had none of its own


class Guarded(Exception):
    """Raised by a method that ran past the time limit, or crashed the test process, in an
    earlier check of this grading: it is not run again, so that no other check waits out
    the same loop (the host names it; see grader/fairness/location.py)."""

    def __init__(self, method: str, why: str) -> None:
        super().__init__(f"{method} {why} in an earlier check, so it was not run again")
        self.method = method


class Loader:
    """Hands out the submission's classes, importing each module at most once.

    ``grafts`` (a counterfactual run only: see grader/fairness/counterfactual.py) maps a
    check to class names to methods' source, which replace the student's methods of that
    name on the student's class while that check runs (``begin_check`` puts the student's
    back before the next); everything else stays the student's.
    """

    def __init__(
        self,
        workspace: str,
        classes: Mapping[str, str],
        poisoned: list[str],
        emit: Callable[[dict[str, Any]], None],
        grafts: Mapping[str, Mapping[str, Mapping[str, str]]] | None = None,
        toplevel: Mapping[str, Any] | None = None,
        guard: Mapping[str, str] | None = None,
    ) -> None:
        """``toplevel``: ``{"modules": [...], "skip": {module: [[cell, line], ...]},
        "standins": [...]}`` in the sandbox; None at home (no stand-ins there)."""
        self._classes = dict(classes)
        self._poisoned = set(poisoned)
        self._emit = emit
        self._grafts = {check: dict(by_class) for check, by_class in (grafts or {}).items()}
        self._pending: dict[str, Any] = {}  # the graft of the check now running, not yet applied
        self._grafted: list[tuple[type, str, Any]] = []  # (class, attribute, what it held)
        self._guard = dict(guard or {})
        self._modules: dict[str, Any] = {}
        self._failures: dict[str, BaseException] = {}
        self._stepwise = dict((toplevel or {}).get("skip", {}))
        for name in (toplevel or {}).get("modules", []):
            self._stepwise.setdefault(name, [])
        if workspace not in sys.path:
            sys.path.append(workspace)
        if self._poisoned:
            # Imported by another module too (``from .value import Value`` in mlp.py): that
            # import is refused at once as well, instead of hanging again.
            sys.meta_path.insert(0, _Refused(self._poisoned))
        if toplevel is not None:
            names = [*standins.DEFAULT, *toplevel.get("standins", [])]
            standins.install(names, self._stood_in, _student_file(workspace))

    def get(self, name: str) -> Any:
        found = self._class(name)
        while self._guard:
            key, why = self._guard.popitem()
            method, _, phase = key.partition(":")
            cls_name, _, attribute = method.partition(".")
            try:
                cls = found if cls_name == name else self._class(cls_name)
            except MissingClass:
                continue
            original = getattr(cls, attribute, None)
            if phase == "backward" and callable(original):
                setattr(cls, attribute, _guarded_backward(original, method, why))
            else:
                setattr(cls, attribute, _guarded(method, why))
        while self._pending:  # every graft at once: a check may never ask for Value itself
            graft_name, methods = next(iter(self._pending.items()))
            del self._pending[graft_name]
            self._apply_graft(found if graft_name == name else self._class(graft_name), methods)
        return found

    def begin_check(self, check: str) -> None:
        """A check starts: undo the previous check's graft; its own (if any) is applied when
        it first asks for a class (after the guard, so a grafted method is the reference's
        even where the student's looped)."""
        while self._grafted:
            cls, attribute, held = self._grafted.pop()
            if held is _ABSENT:
                delattr(cls, attribute)
            else:
                setattr(cls, attribute, held)
        self._pending = dict(self._grafts.get(check, {}))

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
            if name.endswith(":forward"):
                # The student's method, with the value of the node it returns set right: a
                # check of its backward, judged with a correct forward value.
                name = name.removesuffix(":forward")
                replacement = _forward_fixed(getattr(cls, name, None), name)
            else:
                scope = dict(namespace)
                exec(compile(source, f"<reference {cls.__name__}.{name}>", "exec"), scope)
                replacement = scope[name]
            self._grafted.append((cls, name, cls.__dict__.get(name, _ABSENT)))
            setattr(cls, name, replacement)

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
                self._modules[module_name] = self._run(module_name)
            except (Exception, SystemExit) as exc:  # noqa: BLE001 - student code at import
                self._failures[module_name] = failure = exc
            self._emit({"kind": "loaded", "module": module_name, "ok": failure is None})
        if failure is not None:
            raise SubmissionImportError(
                f"importing {module_name} failed: {type(failure).__name__}: {_safe_str(failure)}"
            ) from failure
        return self._modules[module_name]

    def _run(self, module_name: str) -> Any:
        if module_name not in self._stepwise:
            return importlib.import_module(module_name)
        spec = importlib.util.find_spec(module_name)
        if spec is None or spec.loader is None:
            raise ModuleNotFoundError(f"No module named {module_name!r}", name=module_name)
        module = importlib.util.module_from_spec(spec)
        skip = self._stepwise[module_name]
        module.__dict__["__micrograde__"] = TopLevelHooks(module_name, self._emit, skip)
        sys.modules[module_name] = module
        try:
            spec.loader.exec_module(module)
        except BaseException:
            sys.modules.pop(module_name, None)
            raise
        return module

    def _stood_in(self, name: str, frame: FrameType | None) -> None:
        record = {"kind": "toplevel", "event": "standin", "name": name, **_where(frame)}
        self._emit(record)


# The contract's forward values, on the operands' data: (self's data, the other operand's
# data, or the number itself).
_FORWARD: dict[str, Callable[[Any, Any], Any]] = {
    "__add__": lambda a, b: a + b,
    "__radd__": lambda a, b: b + a,
    "__mul__": lambda a, b: a * b,
    "__rmul__": lambda a, b: b * a,
    "__pow__": lambda a, b: a**b,
    "__neg__": lambda a, b: -a,
    "__sub__": lambda a, b: a - b,
    "__rsub__": lambda a, b: b - a,
    "__truediv__": lambda a, b: a / b,
    "__rtruediv__": lambda a, b: b / a,
    "tanh": lambda a, b: math.tanh(a),
    "relu": lambda a, b: 0.0 if a < 0 else a,
}


def _forward_fixed(student: Any, name: str) -> Callable[..., Any]:
    """The student's method, with the node it returns set right: its value, any copy of
    that value its backward closed over (``t`` in ``(1 - t**2) * out.grad``), and, when it
    keeps none, its children. Its backward is the student's, run on a correct forward."""
    forward = _FORWARD.get(name)
    unary = name in ("tanh", "relu", "__neg__")

    def method(self: Any, *args: Any, **kwargs: Any) -> Any:
        out = student(self, *args, **kwargs)
        other = args[0] if args else None
        try:
            held = out.data
            out.data = forward(self.data, getattr(other, "data", other))  # type: ignore[misc]
            _closed_over(out, held, out.data)
            _children_kept(out, (self,) if unary else (self, other))
        except Exception:  # noqa: BLE001 - left as the student's: the check says what differs
            pass
        return out

    return method


def _closed_over(out: Any, held: Any, right: Any) -> None:
    """Where the node's backward closed over the wrong forward value, the right one."""
    if type(held) not in (int, float) or held == right:
        return
    for cell in getattr(getattr(out, "_backward", None), "__closure__", None) or ():
        try:
            content = cell.cell_contents
        except ValueError:  # an empty cell
            continue
        if type(content) in (int, float) and content == held:
            cell.cell_contents = right


def _children_kept(out: Any, operands: tuple[Any, ...]) -> None:
    """A node that keeps no children gets its operands (when they are all nodes) as its
    children, in the container its class uses (``prev``, or Karpathy's ``_prev``)."""
    if not all(isinstance(operand, type(out)) for operand in operands):
        return
    for attribute in ("prev", "_prev"):
        kept = getattr(out, attribute, None)
        if isinstance(kept, (set, frozenset, tuple, list)):
            if not kept:
                setattr(out, attribute, type(kept)(operands))
            return


class _Refused:
    """A finder that refuses the modules whose import hung or crashed in an earlier run."""

    def __init__(self, names: set[str]) -> None:
        self._names = frozenset(names)

    def find_spec(self, name: str, path: Any = None, target: Any = None) -> None:
        if name in self._names:
            raise ImportError(
                f"importing {name} hung, or stopped the test process, in an earlier run, so it "
                "was not tried again (an endless loop, exit or crash at import time?)",
                name=name,
            )


def _guarded(method: str, why: str) -> Callable[..., Any]:
    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise Guarded(method, why)

    return refuse


def _guarded_backward(original: Callable[..., Any], method: str, why: str) -> Callable[..., Any]:
    """``method`` as the student wrote it, except that the nodes it makes get a backward
    that raises (their own looped or crashed)."""

    def operator(*args: Any, **kwargs: Any) -> Any:
        out = original(*args, **kwargs)
        try:
            out._backward = _guarded(f"{method} backward", why)
        except Exception:  # noqa: BLE001 - a student's node may refuse attributes
            pass
        return out

    return operator


class TopLevelHooks:
    """What a generated module (notebook, script) calls while it runs its statements."""

    def __init__(
        self, module: str, emit: Callable[[dict[str, Any]], None], skip: Iterable[Any]
    ) -> None:
        self.skip = frozenset((int(cell), int(line)) for cell, line in skip)
        self._module, self._emit = module, emit

    def announce(self, cell: int, line: int) -> None:
        self._emit(
            {"kind": "toplevel", "event": "run", "module": self._module, "cell": cell, "line": line}
        )

    def raised(self, cell: int, line: int, error: BaseException) -> None:
        record: dict[str, Any] = {
            "kind": "toplevel",
            "event": "raised",
            "module": self._module,
            "cell": cell,
            "line": line,
            "error": type(error).__name__[:100],
        }
        # The module an import did not find, or the name a NameError did not find.
        name = getattr(error, "name", None) if isinstance(error, ImportError | NameError) else None
        if type(name) is str:
            record["name"] = name[:200]
        self._emit(record)


def _student_file(workspace: str) -> Callable[[str], bool]:
    prefix = workspace.rstrip(os.sep) + os.sep

    def is_student(filename: str) -> bool:
        return filename.startswith(prefix) or _CELL.match(filename) is not None

    return is_student


def _where(frame: FrameType | None) -> dict[str, Any]:
    """The student's module, cell (0 outside a notebook) and line that imported a stand-in."""
    if frame is None:
        return {"module": "", "cell": 0, "line": 0}
    module = frame.f_globals.get("__name__")
    cell = _CELL.match(frame.f_code.co_filename)
    number = int(cell.group(1)[:7]) if cell else 0
    return {
        "module": module[:200] if type(module) is str else "",
        "cell": number,
        "line": min(frame.f_lineno or 0, 10**7),
    }


def _safe_str(exc: BaseException) -> str:
    try:
        return str(exc)[:500]
    except Exception:  # noqa: BLE001 - a student's __str__ may raise anything
        return "<unprintable>"
