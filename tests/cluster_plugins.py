"""Code that tests/test_distributed.py runs inside real Dask workers.

The workers it starts have ``tests/`` on their ``PYTHONPATH``, so these are imported there
by name (as any code a client sends by reference).
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

from distributed import WorkerPlugin


class DieOn(WorkerPlugin):
    """Kills its worker process (as a machine lost would) when a task whose key holds
    ``marker`` starts executing there."""

    name = "test-die-on"

    def __init__(self, marker: str) -> None:
        self.marker = marker

    def transition(self, key: Any, start: str, finish: str, **kwargs: Any) -> None:
        if finish == "executing" and self.marker in str(key):
            os._exit(1)


def fake_version(version: str) -> str:
    """Make this worker report another micrograde version; returns the real one.

    Only the version the worker reports changes: the modules that copy the real one when
    imported (the grader's digest, the image's tag, the results) are imported first."""
    import grader.batch.worker
    import grader.pipeline
    import grader.sandbox.image  # noqa: F401

    real = grader.__version__
    grader.__version__ = version
    return real


def pid() -> int:
    return os.getpid()


def recording_make(log: str, seconds: float) -> Any:
    """A stand-in for building the image: writes when it starts and ends to ``log``."""

    def make(settings_text: str) -> str:
        with open(log, "a") as handle:
            handle.write(f"start {time.time()} {os.getpid()}\n")
        time.sleep(seconds)
        with open(log, "a") as handle:
            handle.write(f"end {time.time()} {os.getpid()}\n")
        return "made"

    return make


def intervals(log: Path) -> list[tuple[float, float]]:
    """(start, end) of each recorded build, in start order."""
    starts: dict[str, float] = {}
    found = []
    for line in log.read_text().splitlines():
        what, when, who = line.split()
        if what == "start":
            starts[who] = float(when)
        else:
            found.append((starts.pop(who), float(when)))
    return sorted(found)


def executing(dask_worker: Any) -> list[str]:
    """The keys of the tasks this worker is running now."""
    return [str(task.key) for task in dask_worker.state.executing]
