"""Grade a class: every submission of a folder, in parallel, resumable, one result each.

    class folder (or .zip) --lms--> submissions --keys--> the ones to (re)grade
        --an executor (threads here, or a Dask cluster)--> DIR/<student>/results.json
          + report + .key
        --gradebook--> gradebook.csv, gradebook-checks.csv, gradebook.json, index.html

Each result is written the moment it is ready (atomically; the key last), so killing the
batch loses only the submissions in flight and a rerun grades exactly what is missing or
changed. A student's failure, or an unexpected error while grading one submission, is that
student's result; only the instructor's or the machine's problems found before grading
(no engine, no image, a broken rubric) raise. Ctrl-C stops starting new submissions, kills
the sandboxes in flight and returns a summary that says how to resume.
"""

from __future__ import annotations

import json
import threading
import time
import traceback
from collections import Counter
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

from grader import __version__
from grader.batch.executors import (
    BatchContext,
    Done,
    Driver,
    Executor,
    Progress,
    ThreadExecutor,
)
from grader.batch.finish import ClassInfo, finish_class
from grader.batch.input import class_folder, staged
from grader.batch.keys import (
    Key,
    batch_fingerprint,
    changed,
    drop_key,
    read_key,
    submission_key,
    write_key,
)
from grader.batch.lms import Submission, discover
from grader.batch.overrides import FILE_NAME as OVERRIDES_FILE
from grader.batch.overrides import Override, read_overrides
from grader.batch.similarity import require_copydetect
from grader.batch.stop import StoppableSandbox
from grader.errors import ConfigError, SandboxError
from grader.exercise import STEPS, Exercise
from grader.files import dump_json, write_atomic
from grader.models import GradeResult
from grader.output import write_results
from grader.pipeline import GradeRequest, grade_submission, new_seed
from grader.rubric import Rubric
from grader.sandbox.base import Sandbox
from grader.settings import Settings

BATCH_FILE = "batch.json"
__all__ = ["BatchRequest", "BatchSummary", "Done", "Progress", "run_batch"]


@dataclass(frozen=True)
class BatchRequest:
    submissions: Path
    out_dir: Path
    jobs: int = 1
    seed: int | None = None
    steps: tuple[int, ...] = STEPS
    # Staff overrides; None: the overrides.csv beside the class folder, when there is one.
    overrides: Path | None = None
    # Similarity screening: None for none, else the reference sources to compare with too.
    similarity: tuple[Path, ...] | None = None


@dataclass(frozen=True)
class BatchSummary:
    out_dir: Path
    seed: int
    total: int
    up_to_date: int
    graded_now: int
    rejected: int = 0
    retry: int = 0
    interrupted: bool = False
    stopped: str | None = None  # why the batch gave up (the sandbox kept failing)
    overrides: Path | None = None  # the overrides file that was read
    warnings: tuple[str, ...] = ()  # overrides that were not applied, and why
    similarity: bool = False  # similarity.csv and similarity.html were written

    @property
    def complete(self) -> bool:
        return not self.interrupted and self.stopped is None


def run_batch(
    request: BatchRequest,
    *,
    exercise: Exercise,
    rubric: Rubric,
    settings: Settings,
    progress: Progress,
    sandbox: StoppableSandbox | None = None,
    executor: Executor | None = None,
) -> BatchSummary:
    """Grade what is not graded yet, then write the gradebooks and the overview page.

    Submissions are graded by ``executor`` (a Dask cluster, say), else on ``request.jobs``
    threads of this process in ``sandbox``; one of the two must be given. The executor is
    closed on the way out.
    """
    if executor is None:
        if sandbox is None:
            raise TypeError("run_batch needs a sandbox or an executor")
        executor = ThreadExecutor(sandbox, request.jobs, grade_one)
    if request.similarity is not None:
        require_copydetect()  # before grading, not after an hour of it
    with class_folder(request.submissions) as folder:
        _check_out_dir(folder, request.out_dir)
        submissions = discover(folder)
        if not submissions:
            raise ConfigError(
                f"{request.submissions} holds no submissions: pass the folder "
                "with one entry (file or folder) per student"
            )
        overrides_file = overrides_path(request)
        overrides = _overrides(overrides_file, submissions, exercise, rubric, request.steps)
        seed = resolve_seed(request.out_dir, request.seed)
        kind = executor.sandbox
        ctx = BatchContext(
            exercise,
            rubric,
            settings,
            request.out_dir,
            request.steps,
            seed,
            kind,
            threading.Event(),
        )
        fingerprint = batch_fingerprint(
            exercise, settings, seed=seed, sandbox=kind, steps=request.steps
        )
        todo, reasons, contents = _plan(submissions, ctx.out_dir, fingerprint)
        progress.planned(len(todo), len(submissions) - len(todo), reasons)
        pool = Driver(ctx, executor, progress)
        pool.run(todo)
        summary = BatchSummary(
            request.out_dir,
            seed,
            len(submissions),
            len(submissions) - len(todo),
            pool.graded,
            retry=pool.retry,
            interrupted=pool.interrupted,
            stopped=pool.stopped,
            overrides=overrides_file,
        )
        if not summary.complete:
            return summary
        # Still inside the class folder: similarity screening reads the submissions again.
        info = ClassInfo(exercise, rubric, request.out_dir, request.steps, seed, kind)
        finished = finish_class(submissions, info, overrides, contents, request.similarity)
    rejected = sum(r.status != "graded" for r in finished.rows)
    screened = request.similarity is not None
    return replace(summary, rejected=rejected, warnings=finished.warnings, similarity=screened)


def overrides_path(request: BatchRequest) -> Path | None:
    """The overrides file to read: the one asked for, else overrides.csv beside the class."""
    if request.overrides is not None:
        return request.overrides
    beside = request.submissions.resolve().parent / OVERRIDES_FILE
    return beside if beside.is_file() else None


def _overrides(
    path: Path | None,
    submissions: list[Submission],
    exercise: Exercise,
    rubric: Rubric,
    steps: tuple[int, ...],
) -> dict[str, tuple[Override, ...]]:
    if path is None:
        return {}
    checks = {c.id: rubric.entry(c.step, c.id).points for c in exercise.steps_checks(steps)}
    return read_overrides(path, {s.student for s in submissions}, checks)


def _plan(
    submissions: list[Submission], out_dir: Path, fingerprint: Key
) -> tuple[list[tuple[Submission, Key]], dict[str, int], dict[str, str]]:
    """What to (re)grade, how many submissions each part of the key sends back, and each
    submission's content digest."""
    todo, reasons, contents = [], Counter[str](), {}
    for submission in submissions:
        key = submission_key(submission, fingerprint)
        contents[submission.student] = key["content"]
        why = changed(read_key(out_dir / submission.student), key)
        if why:
            todo.append((submission, key))
            reasons.update(why)
    return todo, dict(sorted(reasons.items())), contents


def resolve_seed(out_dir: Path, requested: int | None) -> int:
    """The batch's seed: ``requested``, else the one stored by the first run, else a new one."""
    path = out_dir / BATCH_FILE
    stored = None
    try:
        stored = json.loads(path.read_text(encoding="utf-8")).get("seed")
    except (OSError, ValueError, AttributeError):
        pass
    seed = requested if requested is not None else stored
    if type(seed) is not int:
        seed = new_seed()
    if seed != stored:
        record = {
            "schema": 1,
            "seed": seed,
            "grader_version": __version__,
            "chosen_at": datetime.now(UTC).isoformat(timespec="seconds"),
        }
        write_atomic(path, dump_json(record))
    return seed


def _check_out_dir(folder: Path, out_dir: Path) -> None:
    out, inside = out_dir.resolve(), folder.resolve()
    if out.is_relative_to(inside) or inside.is_relative_to(out):
        # Either way one of them could be read or written as a student's folder.
        raise ConfigError(
            f"--out {out_dir} and the class folder {folder} are inside one "
            "another: choose an output folder beside the class folder"
        )


def grade_one(ctx: BatchContext, sandbox: Sandbox, submission: Submission, key: Key) -> Done | None:
    """Grade one submission and write its result; None when the batch was stopped meanwhile."""
    if ctx.cancel.is_set():
        return None
    clock = time.monotonic()
    grading = Grading(ctx.exercise, ctx.rubric, sandbox, ctx.settings, ctx.steps, ctx.seed)
    result, retry = grade_guarded(grading, submission.student, lambda: staged(submission))
    return record(ctx, submission, key, result, retry, time.monotonic() - clock)


def record(
    ctx: BatchContext,
    submission: Submission,
    key: Key,
    result: GradeResult,
    retry: bool,
    seconds: float,
) -> Done | None:
    """Write one graded submission's result, report and key (the key last); None when the
    batch was stopped while it was graded (a run cut short is not a result to keep)."""
    if ctx.cancel.is_set():
        return None
    result = replace(result, notes=submission.notes + result.notes)
    folder = ctx.out_dir / submission.student
    drop_key(folder)
    try:
        write_results(result, folder)
    except OSError:
        raise  # the disk is full or not writable: the batch stops (see Driver._collect)
    except Exception as error:  # noqa: BLE001 - a grader bug must cost one student, not the class
        result = failed(
            ctx.seed,
            ctx.sandbox,
            submission.student,
            "the grader could not write this "
            f"submission's results ({describe(error)}); please report it",
        )
        write_results(result, folder)
    if not retry:
        write_key(folder, key)
    return Done(
        submission.student,
        result.status,
        result.score,
        result.max_score,
        seconds,
        result.message,
        retry,
    )


@dataclass(frozen=True)
class Grading:
    """What grading one submission needs, on whichever machine it runs."""

    exercise: Exercise
    rubric: Rubric
    sandbox: Sandbox
    settings: Settings
    steps: tuple[int, ...]
    seed: int


def grade_guarded(
    grading: Grading, name: str, source: Callable[[], AbstractContextManager[Path]]
) -> tuple[GradeResult, bool]:
    """Grade the submission ``source()`` gives; never raises. The flag: the sandbox failed
    (the result is not kept, and the next run grades it again)."""
    try:
        with source() as path:
            request = GradeRequest(path, grading.steps, grading.seed, name)
            return grade_submission(
                request,
                exercise=grading.exercise,
                rubric=grading.rubric,
                sandbox=grading.sandbox,
                settings=grading.settings,
            ), False
    except SandboxError as error:
        return failed(
            grading.seed,
            grading.sandbox.name,
            name,
            f"the sandbox failed ({error}); rerun the batch to grade this submission again",
        ), True
    except Exception as error:  # noqa: BLE001 - a grader bug on one submission must not end the class
        return failed(
            grading.seed,
            grading.sandbox.name,
            name,
            f"the grader failed on this submission ({describe(error)}); "
            "this is not the student's fault: report it with this "
            "submission",
        ), False


def describe(error: BaseException) -> str:
    return traceback.format_exception_only(error)[-1].strip()


def failed(seed: int, sandbox: str, name: str, message: str) -> GradeResult:
    """The result of a submission the grader (not the student) failed on."""
    return GradeResult(
        submission=name,
        status="rejected",
        cause="grader",
        message=message,
        seed=seed,
        sandbox=sandbox,
        grader_version=__version__,
        started_at=datetime.now(UTC).isoformat(timespec="seconds"),
    )
