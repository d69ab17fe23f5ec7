"""Where a batch's submissions are graded: one interface, the thread pool behind it by default.

    run_batch --submit(ctx, submission, key)--> Executor --Future[Done | None]--> drive()
                                                 ├── ThreadExecutor   threads of this process
                                                 └── DaskExecutor     a Dask cluster
                                                                      (grader/batch/distributed.py)

Whatever grades, this process writes every result (``<student>/results.json``, the report,
the key) the moment it lands, so resuming and the gradebooks do not depend on where the
grading ran. ``drive`` keeps a short queue of submissions in flight (Ctrl-C then has
little to cancel), reports each finished one, and stops the batch when the sandbox keeps
failing (the breaker).
"""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from grader.batch.keys import Key
from grader.batch.lms import Submission
from grader.batch.stop import StoppableSandbox
from grader.errors import GraderError
from grader.exercise import Exercise
from grader.rubric import Rubric
from grader.settings import Settings

# After this many sandbox failures in a row the machine, not the submissions, is at fault.
BREAKER_MIN = 3


@dataclass(frozen=True)
class Done:
    """One submission finished in this run (what progress reports show)."""

    student: str
    status: str
    score: float
    max_score: float
    duration: float
    message: str
    retry: bool = False  # the sandbox failed: the next run grades it again


class Progress(Protocol):
    def planned(self, to_grade: int, up_to_date: int, reasons: dict[str, int]) -> None:
        """``reasons``: what changed since the last run -> how many submissions it affects."""

    def finished(self, done: Done) -> None: ...


@dataclass(frozen=True)
class BatchContext:
    """What every submission of one batch is graded with, and where its result goes."""

    exercise: Exercise
    rubric: Rubric
    settings: Settings
    out_dir: Path
    steps: tuple[int, ...]
    seed: int
    sandbox: str  # the sandbox kind the results record ("docker" or "local")
    cancel: threading.Event


class Executor(ABC):
    """Grades submissions somewhere; ``submit`` returns a future of the written result."""

    @property
    @abstractmethod
    def sandbox(self) -> str:
        """The kind of sandbox student code runs in (results and keys record it)."""

    @property
    @abstractmethod
    def slots(self) -> int:
        """How many submissions can be graded at the same time."""

    @abstractmethod
    def submit(self, ctx: BatchContext, submission: Submission, key: Key) -> Future[Done | None]:
        """Grade ``submission``; the future's ``Done`` comes after its result is written,
        None when the batch was stopped meanwhile (nothing written)."""

    @abstractmethod
    def stop(self) -> None:
        """Stop what is in flight (sandboxes killed, their containers removed)."""

    def close(self) -> None:  # noqa: B027 - optional for executors with nothing to release
        """Release what the executor holds (threads, connections); waits for writes."""


GradeOne = Callable[[BatchContext, StoppableSandbox, Submission, Key], "Done | None"]


class ThreadExecutor(Executor):
    """``jobs`` threads of this process, each grading one submission at a time."""

    def __init__(self, sandbox: StoppableSandbox, jobs: int, grade_one: GradeOne) -> None:
        self._sandbox, self._jobs, self._grade_one = sandbox, max(jobs, 1), grade_one
        self._pool = ThreadPoolExecutor(self._jobs, thread_name_prefix="micrograde-batch")

    @property
    def sandbox(self) -> str:
        return self._sandbox.name

    @property
    def slots(self) -> int:
        return self._jobs

    def submit(self, ctx: BatchContext, submission: Submission, key: Key) -> Future[Done | None]:
        return self._pool.submit(self._grade_one, ctx, self._sandbox, submission, key)

    def stop(self) -> None:
        self._sandbox.stop_all()

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)


class Driver:
    """Feeds an executor, collects what finishes, reports it; the caller's thread waits."""

    def __init__(self, ctx: BatchContext, executor: Executor, progress: Progress) -> None:
        self.ctx, self.executor, self.progress = ctx, executor, progress
        self.graded = self.retry = self._retry_run = 0
        self.interrupted = False
        self.stopped: str | None = None

    def run(self, todo: list[tuple[Submission, Key]]) -> None:
        try:
            self._drive(iter(todo))
        except KeyboardInterrupt:
            self.interrupted = True
        finally:
            if self.interrupted or self.stopped or self.ctx.cancel.is_set():
                self.ctx.cancel.set()
                self.executor.stop()
            self.executor.close()

    def _drive(self, todo: Iterator[tuple[Submission, Key]]) -> None:
        running: set[Future[Done | None]] = set()
        slots = self.executor.slots
        # A short queue, not the whole class: Ctrl-C then has little to cancel.
        while True:
            while len(running) < 2 * slots and (item := next(todo, None)) is not None:
                running.add(self.executor.submit(self.ctx, *item))
            if not running or self.stopped:
                return
            finished, running = wait(running, timeout=1.0, return_when=FIRST_COMPLETED)
            for future in finished:
                self._collect(future)

    def _collect(self, future: Future[Done | None]) -> None:
        try:
            done = future.result()
        except OSError as error:  # writing a result failed: the disk, not the student
            self.ctx.cancel.set()
            raise GraderError(
                f"cannot write results into {self.ctx.out_dir}: {error} "
                "(free some space or fix permissions, then rerun)"
            ) from error
        if done is None:
            return
        self.graded += not done.retry
        self.retry += done.retry
        self._retry_run = self._retry_run + 1 if done.retry else 0
        self.progress.finished(done)
        if self._retry_run >= max(BREAKER_MIN, self.executor.slots + 1):
            self.stopped = (
                f"the sandbox failed for {self._retry_run} submissions in a row "
                f"(last: {done.message})"
            )
