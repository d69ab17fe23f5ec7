"""The one small interface every sandbox backend implements.

A backend starts the harness on one submission (``Sandbox.start``) and hands back an
``Execution``: a stream of record lines (the harness's stdout, capped) and a way to kill
the run. What the lines *mean* is the runner's business; the backend only moves bytes,
enforces its limits and cleans up after itself, whatever happens.
"""

from __future__ import annotations

import queue
import threading
from abc import ABC, abstractmethod
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from grader.settings import Limits

MAX_LINE = 1 << 20  # one record line; longer lines are dropped (and counted)
STDERR_TAIL = 8_000


@dataclass(frozen=True)
class SandboxJob:
    """What to run: the student's workspace and the harness's job description."""

    workspace: Path
    job: dict[str, Any]
    limits: Limits
    wall_seconds: float


@dataclass(frozen=True)
class ExitStatus:
    """How a sandbox run ended, as far as the backend can tell."""

    code: int | None
    oom_killed: bool = False
    output_exceeded: bool = False
    stderr_tail: str = ""

    def describe(self) -> str:
        if self.oom_killed:
            return "it ran out of memory and was stopped"
        if self.output_exceeded:
            return "it wrote more output than allowed and was stopped"
        signal = (
            -self.code
            if self.code is not None and self.code < 0
            else self.code - 128
            if self.code is not None and self.code > 128
            else None
        )
        if signal is not None:
            return _SIGNALS.get(signal, f"it was ended by signal {signal}")
        return f"it exited with status {self.code}"


_SIGNALS = {
    11: "it crashed with a segmentation fault (signal 11), which in Python usually means "
    "recursion far deeper than the interpreter's stack allows",
    9: "it was killed (signal 9), most often for using more memory than allowed",
    6: "it aborted (signal 6)",
    25: "it wrote a file larger than allowed (signal 25)",
}


EOF_MARK = b""


@dataclass
class LinePump:
    """Reads chunks on a thread, splits them into lines, enforces the byte budget."""

    budget: int
    lines: queue.Queue[bytes] = field(default_factory=queue.Queue)
    exceeded: bool = False
    _total: int = 0

    def start(self, chunks: Iterable[bytes], on_exceeded: Any) -> threading.Thread:
        thread = threading.Thread(target=self._run, args=(chunks, on_exceeded), daemon=True)
        thread.start()
        return thread

    def _run(self, chunks: Iterable[bytes], on_exceeded: Any) -> None:
        pending = b""
        try:
            for chunk in chunks:
                self._total += len(chunk)
                if self._total > self.budget:
                    self.exceeded = True
                    on_exceeded()
                    break
                pending = self._split(pending + chunk)
        except Exception:  # noqa: BLE001 - a broken pipe or socket ends the stream like EOF
            pass
        finally:
            if pending and len(pending) <= MAX_LINE:
                self.lines.put(pending)
            self.lines.put(EOF_MARK)

    def _split(self, data: bytes) -> bytes:
        *complete, rest = data.split(b"\n")
        for line in complete:
            if len(line) <= MAX_LINE:
                self.lines.put(line)
        if len(rest) > MAX_LINE:
            return b""
        return rest


class Execution(ABC):
    """One running sandbox."""

    def __init__(self, pump: LinePump) -> None:
        self.pump = pump

    def next_line(self, timeout: float) -> bytes | None:
        """The next record line; ``EOF_MARK`` at the end; None if nothing came in time."""
        try:
            return self.pump.lines.get(timeout=max(timeout, 0.0))
        except queue.Empty:
            return None

    @abstractmethod
    def send(self, data: bytes) -> None:
        """Write ``data`` to the harness's standard input (the hidden checks' code)."""

    @abstractmethod
    def kill(self) -> None:
        """Stop the run now (idempotent)."""

    @abstractmethod
    def finish(self) -> ExitStatus:
        """Wait for the end (after EOF or kill), release everything, say how it ended."""


class Sandbox(ABC):
    """A place where untrusted code runs."""

    name: ClassVar[str]
    is_security_boundary: ClassVar[bool]

    @abstractmethod
    def start(self, job: SandboxJob) -> Execution:
        """Start the harness on ``job``; raise ``SandboxError`` if it cannot start at all."""

    def close(self) -> None:  # noqa: B027 - optional for backends with nothing to release
        """Release resources shared between runs (connections, cached bundles)."""
