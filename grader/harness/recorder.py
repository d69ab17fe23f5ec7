"""The record channel out of the sandbox, and evidence that the harness was tampered with.

Student code runs in this process, so nothing here is out of its reach; the verdicts do
not depend on it (the host binds every reported value to observations it checks). What
this module does is raise the bar and leave evidence:

- ``open_channel`` returns the one function that writes records. The functions it needs
  (``json.dumps``, ``os.write``, ``os.getpid``) are captured when it is made, so patching
  ``json`` or ``os`` later changes nothing, and only the harness's own process speaks
  (copies forked by student code stay silent).
- ``Fingerprint`` remembers, before any student code runs, every function and class of
  the harness's modules (their identity, their code, their attributes). ``changes`` then
  names whatever was replaced or patched since: the plugin reports it after every check
  as a ``tamper`` record, which the host turns into a note for staff.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable
from types import FunctionType, ModuleType
from typing import Any

Emit = Callable[[dict[str, Any]], None]


def open_channel(fd: int) -> Emit:
    """A function writing one JSON record per line to ``fd``, whole, from this process only."""
    dumps, write, getpid, pid = json.dumps, os.write, os.getpid, os.getpid()

    def emit(record: dict[str, Any]) -> None:
        if getpid() != pid:
            return
        data = memoryview(dumps(record, separators=(",", ":")).encode() + b"\n")
        while data:
            data = data[write(fd, data) :]

    return emit


def _fingerprint(value: Any) -> Any:
    """What identifies a harness object: functions by code and closure, classes by members."""
    if isinstance(value, FunctionType):
        cells = tuple(id(c.cell_contents) for c in value.__closure__ or () if _filled(c))
        return ("function", id(value), value.__code__, value.__defaults__, cells)
    if isinstance(value, type):
        return (
            "class",
            id(value),
            tuple(
                sorted(
                    (name, _fingerprint(member))
                    for name, member in vars(value).items()
                    if isinstance(member, FunctionType | staticmethod | classmethod | property)
                )
            ),
        )
    return ("value", id(value))


def _filled(cell: Any) -> bool:
    try:
        cell.cell_contents  # noqa: B018 - an empty cell raises
    except ValueError:
        return False
    return True


class Fingerprint:
    """The harness as it was before student code ran."""

    def __init__(self, modules: Iterable[ModuleType], extra: dict[str, Any]) -> None:
        self._modules = {module.__name__.rsplit(".", 1)[-1]: module for module in modules}
        self._seen = self._take(extra)
        self._extra = extra
        self.reported: set[str] = set()
        # One name per object, where it was defined: a class that three harness modules
        # import (``fixtures.Observer``, ``plugin.Observer``) is reported once, as
        # ``observe.Observer``, whichever of those names was patched.
        defined_in = {m.__name__: short for short, m in self._modules.items()}
        self._home: dict[str, str] = {}
        for short, module in self._modules.items():
            for name, value in list(vars(module).items()):
                home = defined_in.get(getattr(value, "__module__", None) or "")
                if home and f"{short}.{name}" in self._seen:
                    self._home[f"{short}.{name}"] = f"{home}.{value.__qualname__}"

    def _take(self, extra: dict[str, Any]) -> dict[str, Any]:
        seen: dict[str, Any] = {}
        for short, module in self._modules.items():
            for name, value in list(vars(module).items()):
                if isinstance(value, FunctionType | type) and not name.startswith("__"):
                    seen[f"{short}.{name}"] = _fingerprint(value)
        seen.update({name: _fingerprint(value) for name, value in extra.items()})
        return seen

    def changes(self, instances: Iterable[tuple[Any, type, dict[str, Any]]] = ()) -> list[str]:
        """What was replaced or patched since the fingerprint was taken (each named once).

        ``instances``: (object, the class it must be, attributes it must hold) triples, e.g.
        the check's observer and the sink it writes to: a swapped class, a method shadowed
        on the object itself, or an attribute pointing elsewhere is a change too.
        """
        now = self._take(self._extra)
        found = sorted(
            {
                self._home.get(name, name)
                for name in set(self._seen) | set(now)
                if self._seen.get(name) != now.get(name)
            }
        )
        for instance, cls, holds in instances:
            if type(instance) is not cls:
                found.append(f"the {cls.__name__} object's class")
                continue
            shadowed = {name for name in vars(instance) if name in vars(cls)}
            shadowed |= {
                name for name, value in holds.items() if vars(instance).get(name) is not value
            }
            found += [f"{cls.__name__}.{name} (on the object)" for name in sorted(shadowed)]
        new = [item for item in found if item not in self.reported]
        self.reported.update(new)
        return new
