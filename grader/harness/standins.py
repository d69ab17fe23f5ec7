"""Inert stand-ins for display-only libraries that the sandbox does not have.

Notebooks import plotting and display libraries (``matplotlib.pyplot``, ``graphviz`` for
``draw_dot``, ``IPython.display``, ``tqdm``, ``google.colab``) that have nothing to do with
the classes being graded. When one of them is not installed, ``install`` makes importing it
succeed anyway: the module is a stand-in whose every attribute, call and item is another
stand-in, which does nothing. ``tqdm`` still iterates over what it wraps, so a training loop
written ``for k in tqdm(range(20))`` runs all twenty epochs.

A stand-in is only ever a last resort: the finder sits at the *end* of ``sys.meta_path``,
so an installed package (one course staff allowed, or one on the student's laptop) is always
imported for real. Only names on the list get one (``DEFAULT`` plus what staff add in the
settings): a library whose results the code needs, such as ``numpy``, is never faked.

Each stand-in module made is reported (``on_made``) with the module name and, when a
student frame is on the stack, where it was imported; the host writes the note. Standard
library only: this runs in the sandbox, next to student code.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import opcode
import sys
import types
from collections.abc import Callable, Iterable, Iterator
from typing import Any

#: Display-only libraries that get a stand-in when they are missing (docs/notebooks.md).
DEFAULT: tuple[str, ...] = (
    "matplotlib",
    "seaborn",
    "graphviz",
    "IPython",
    "ipywidgets",
    "tqdm",
    "google.colab",
)
_PROGRESS = "tqdm"
_UNPACK = opcode.opmap["UNPACK_SEQUENCE"]
_UNPACK_EX = opcode.opmap["UNPACK_EX"]
_EXTENDED = opcode.opmap["EXTENDED_ARG"]
_MAX_UNPACK = 64

# (module name, student frame or None) for each stand-in module made.
Made = Callable[[str, types.FrameType | None], None]


def _dunder(name: str) -> bool:
    return name.startswith("__") and name.endswith("__")


def _unpack_count(frame: types.FrameType | None) -> int:
    """How many items the instruction that asked for an iterator unpacks (0: not unpacking).

    ``fig, ax = plt.subplots()`` iterates the stand-in from an UNPACK_SEQUENCE 2: exactly
    two items make it work. A ``for`` loop or ``list(...)`` gets none, so it ends at once.
    """
    if frame is None:
        return 0
    code, at = frame.f_code.co_code, frame.f_lasti
    try:
        op, arg = code[at], code[at + 1]
        if at >= 2 and code[at - 2] == _EXTENDED:
            arg |= code[at - 1] << 8
    except IndexError:
        return 0
    if op == _UNPACK:
        return min(arg, _MAX_UNPACK)
    if op == _UNPACK_EX:
        return min((arg & 0xFF) + (arg >> 8), _MAX_UNPACK)
    return 0


class StandIn:
    """Anything: calling it, reading an attribute or an item gives another stand-in."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        object.__setattr__(self, "_standin_name", str(args[0]) if args else "stand-in")

    def _child(self, suffix: str) -> StandIn:
        return StandIn(object.__getattribute__(self, "_standin_name") + suffix)

    def __getattr__(self, name: str) -> Any:
        if _dunder(name):
            raise AttributeError(name)
        return self._child(f".{name}")

    def __call__(self, *args: Any, **kwargs: Any) -> StandIn:
        return self._child("()")

    def __getitem__(self, key: Any) -> StandIn:
        return self._child("[]")

    def __setitem__(self, key: Any, value: Any) -> None:
        return None

    def __delitem__(self, key: Any) -> None:
        return None

    def __iter__(self) -> Iterator[StandIn]:
        count = _unpack_count(sys._getframe(1))
        return iter([self._child("[]") for _ in range(count)])

    def __len__(self) -> int:
        return 0

    def __contains__(self, item: Any) -> bool:
        return False

    def __bool__(self) -> bool:
        return True

    def __enter__(self) -> StandIn:
        return self

    def __exit__(self, *exc: object) -> None:
        return None  # never swallow the student's exceptions

    def __repr__(self) -> str:
        return f"<stand-in for {object.__getattribute__(self, '_standin_name')}>"

    def __format__(self, spec: str) -> str:
        return repr(self)

    def __mro_entries__(self, bases: tuple[Any, ...]) -> tuple[type, ...]:
        return (StandIn,)  # class MyGraph(graphviz.Digraph): ... still works

    def _operation(self, *other: Any) -> StandIn:
        return self._child("")

    __add__ = __radd__ = __sub__ = __rsub__ = __mul__ = __rmul__ = _operation
    __truediv__ = __rtruediv__ = __floordiv__ = __rfloordiv__ = _operation
    __mod__ = __rmod__ = __pow__ = __rpow__ = __matmul__ = __rmatmul__ = _operation
    __neg__ = __pos__ = __abs__ = _operation


class Progress:
    """``tqdm(iterable)``: iterates over ``iterable`` as it is; the bar itself is inert."""

    def __init__(self, iterable: Iterable[Any] | None = None, *args: Any, **kwargs: Any) -> None:
        self._iterable = iterable

    def __iter__(self) -> Iterator[Any]:
        return iter(self._iterable if self._iterable is not None else ())

    def __len__(self) -> int:
        try:
            return len(self._iterable)  # type: ignore[arg-type]
        except TypeError:
            return 0

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def __getattr__(self, name: str) -> Any:
        if _dunder(name):
            raise AttributeError(name)
        return StandIn(f"tqdm.{name}")

    @staticmethod
    def write(*args: Any, **kwargs: Any) -> None:
        return None


def _trange(*args: Any, **kwargs: Any) -> Progress:
    return Progress(range(*args))


class StandInModule(types.ModuleType):
    """A module whose every missing attribute is a stand-in (and a package, for submodules)."""

    def __getattr__(self, name: str) -> Any:
        if _dunder(name):
            raise AttributeError(name)
        if self.__name__.split(".")[0] == _PROGRESS:
            if name in ("tqdm", "tqdm_notebook"):
                return Progress
            if name in ("trange", "tnrange"):
                return _trange
        return StandIn(f"{self.__name__}.{name}")


class _Loader(importlib.abc.Loader):
    def __init__(self, finder: StandInFinder, inert: bool) -> None:
        self._finder, self._inert = finder, inert

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> types.ModuleType:
        module = StandInModule(spec.name) if self._inert else types.ModuleType(spec.name)
        module.__path__ = []  # a package, so that submodules (matplotlib.pyplot) import
        return module

    def exec_module(self, module: types.ModuleType) -> None:
        if self._inert:
            self._finder.made(module.__name__)


class StandInFinder(importlib.abc.MetaPathFinder):
    """Finds stand-ins for listed names that no other finder found (so: never installed)."""

    def __init__(self, names: Iterable[str], on_made: Made, is_student: Callable[[str], bool]):
        self.names = tuple(dict.fromkeys(names))
        self._on_made = on_made
        self._is_student = is_student

    def _kind(self, fullname: str) -> str | None:
        for name in self.names:
            if fullname == name or fullname.startswith(name + "."):
                return "inert"
            if name.startswith(fullname + "."):
                return "parent"  # google, for google.colab: an empty package, not a stand-in
        return None

    def find_spec(
        self, fullname: str, path: Any = None, target: types.ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        kind = self._kind(fullname)
        if kind is None:
            return None
        loader = _Loader(self, kind == "inert")
        return importlib.machinery.ModuleSpec(fullname, loader, is_package=True)

    def made(self, fullname: str) -> None:
        frame: types.FrameType | None = sys._getframe(1)
        while frame is not None and not self._is_student(frame.f_code.co_filename):
            frame = frame.f_back
        self._on_made(fullname, frame)


def install(names: Iterable[str], on_made: Made, is_student: Callable[[str], bool]) -> None:
    """Put a finder for ``names`` last on ``sys.meta_path`` (once; a later call replaces it)."""
    sys.meta_path[:] = [f for f in sys.meta_path if not isinstance(f, StandInFinder)]
    sys.meta_path.append(StandInFinder(names, on_made, is_student))
