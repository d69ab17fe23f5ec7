"""A sandbox that a batch can stop all at once: Ctrl-C kills every run in flight.

It wraps any backend and keeps the executions it started; ``stop_all`` kills them through
the ``Execution.kill`` every backend already has (Docker's ``finish`` then removes the
container) and refuses to start new ones. A wrapper rather than a new method on
``Sandbox``: every backend gets it without a change, and a single ``grade`` never pays for it.
"""

from __future__ import annotations

import functools
import threading
from typing import ClassVar

from grader.errors import SandboxError
from grader.sandbox.base import Execution, ExitStatus, Sandbox, SandboxJob

STOPPED = "the batch is stopping: no new sandbox was started"


class StoppableSandbox(Sandbox):
    """Delegates to ``inner``; ``stop_all`` kills what runs and blocks what would start."""

    name: ClassVar[str] = "stoppable"
    is_security_boundary: ClassVar[bool] = False

    def __init__(self, inner: Sandbox) -> None:
        self.inner = inner
        self._lock = threading.Lock()
        self._live: set[Execution] = set()
        self._stopped = False

    @property
    def stopped(self) -> bool:
        return self._stopped

    @property
    def running(self) -> int:
        """How many runs are in flight."""
        with self._lock:
            return len(self._live)

    def start(self, job: SandboxJob) -> Execution:
        if self._stopped:
            raise SandboxError(STOPPED)
        execution = self.inner.start(job)
        with self._lock:
            if not self._stopped:
                self._live.add(execution)
                return _Tracked(execution, self)
        # stop_all ran while this one was starting: it never saw it, so end it here.
        execution.kill()
        execution.finish()
        raise SandboxError(STOPPED)

    def stop_all(self) -> None:
        """Kill every run in flight (from any thread); later ``start`` calls refuse."""
        with self._lock:
            self._stopped = True
            live = list(self._live)
        for execution in live:
            execution.kill()

    def forget(self, execution: Execution) -> None:
        with self._lock:
            self._live.discard(execution)

    def close(self) -> None:
        self.inner.close()


class _Tracked(Execution):
    def __init__(self, inner: Execution, owner: StoppableSandbox) -> None:
        super().__init__(inner.pump)
        self._inner = inner
        self._owner = owner

    def next_line(self, timeout: float) -> bytes | None:
        return self._inner.next_line(timeout)

    def send(self, data: bytes) -> None:
        self._inner.send(data)

    def kill(self) -> None:
        self._inner.kill()

    def finish(self) -> ExitStatus:
        try:
            return self._inner.finish()
        finally:
            self._owner.forget(self._inner)


def stoppable(inner: Sandbox) -> StoppableSandbox:
    """Wrap ``inner``, reporting its ``name`` (results record where the code ran)."""
    return _wrapper_class(type(inner))(inner)


@functools.cache
def _wrapper_class(backend: type[Sandbox]) -> type[StoppableSandbox]:
    # ``name`` is a class attribute of every backend, so the wrapper needs a class per
    # backend to report it; one is made the first time a backend is wrapped.
    return type(
        f"Stoppable{backend.__name__}",
        (StoppableSandbox,),
        {"name": backend.name, "is_security_boundary": backend.is_security_boundary},
    )
