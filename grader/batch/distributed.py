"""Grade a batch on a Dask cluster: the ``Executor`` whose workers are other processes.

    client: staged submission --pack--> parcel --client.submit(worker.grade)--> scheduler
    worker: parcel --unpacked--> grade_submission in its own sandbox --> results.json text
    client: text --result_from_json--> record(): results.json, report, key (as the pool does)

Tasks carry plain data (the parcel, seed, steps, the settings as TOML, the digests of what
grades) and return plain data, so this process alone writes the results, the keys and the
gradebooks, and a batch resumes whether it ran here or there.

Faults: a check's time limit is kept inside the task, by the worker's clock (the runner
already does that); a worker that dies mid-task has its task rescheduled by Dask, up to
the scheduler's ``allowed-failures``; a submission whose task killed that many workers
ends as that student's "grader failed" result (``KilledWorker``), never as a lost batch.
The same submission is never written twice: each has one future, and a result that lands
after Ctrl-C is dropped. Containers of a dead worker are removed by ``worker.reap`` on its
host, when a worker starts (the ``Reaper`` plugin) and after the batch.

With Docker, tasks ask for one unit of the ``docker`` resource when workers advertise it
(``dask worker --resources docker=N``), so no host runs more than N containers.
"""

from __future__ import annotations

import json
import re
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from grader import __version__
from grader.batch import worker
from grader.batch.cluster import ClusterRequest, connected, problems, refuse
from grader.batch.executors import BatchContext, Done, Executor
from grader.batch.input import staged
from grader.batch.keys import Key
from grader.batch.lms import Submission
from grader.batch.parcel import ParcelTooLarge, pack
from grader.batch.run import describe, failed, record
from grader.errors import ClusterError, ConfigError, GraderError
from grader.exercise import Exercise
from grader.models import GradeResult, result_from_json
from grader.settings import Settings, settings_toml

RESOURCE = "docker"
STOP_WAIT = 20.0  # seconds to wait, after Ctrl-C, for workers to remove their containers

Say = Callable[[str], None]


@dataclass(frozen=True)
class Plan:
    """What every task of the batch carries, and how tasks are placed."""

    kind: str
    settings: str  # settings_toml
    digests: dict[str, Any]
    resources: dict[str, int] | None
    slots: int
    tries: int  # a task is given to this many workers before it is that student's error


class DaskExecutor(Executor):
    """Submits each submission as one Dask task; writes each result as it lands."""

    def __init__(self, client: Any, plan: Plan) -> None:
        self._client, self._plan = client, plan
        self._batch = uuid.uuid4().hex
        self._count = 0
        self._lock = threading.Lock()
        self._remote: dict[str, Any] = {}
        # This process renders the reports; two threads keep that off the driver's thread.
        self._writer = ThreadPoolExecutor(2, thread_name_prefix="micrograde-write")

    @property
    def sandbox(self) -> str:
        return self._plan.kind

    @property
    def slots(self) -> int:
        return self._plan.slots

    @property
    def batch(self) -> str:
        return self._batch

    def submit(self, ctx: BatchContext, submission: Submission, key: Key) -> Future[Done | None]:
        outcome: Future[Done | None] = Future()
        clock = time.monotonic()
        try:
            with staged(submission) as source:
                parcel = pack(source)
        except ParcelTooLarge as large:
            result = _rejected(ctx, submission.student, str(large))
            return self._writer.submit(record, ctx, submission, key, result, False, 0.0)
        remote = self._client.submit(
            worker.grade,
            self._payload(ctx, submission.student, parcel),
            key=self._task_key(submission.student),
            pure=False,
            resources=self._plan.resources,
        )
        with self._lock:
            self._remote[remote.key] = remote

        def landed(done: Any) -> None:
            try:
                self._writer.submit(self._land, ctx, submission, key, done, clock, outcome)
            except RuntimeError:  # the writer is shut: the batch is over
                outcome.set_result(None)

        remote.add_done_callback(landed)
        return outcome

    def _payload(self, ctx: BatchContext, student: str, parcel: Any) -> dict[str, Any]:
        return {
            "batch": self._batch,
            "student": student,
            "parcel": parcel,
            "seed": ctx.seed,
            "steps": list(ctx.steps),
            "settings": self._plan.settings,
            "sandbox": self._plan.kind,
            "digests": self._plan.digests,
            "version": __version__,
        }

    def _task_key(self, student: str) -> str:
        with self._lock:
            self._count += 1
            count = self._count
        return (
            f"micrograde-{self._batch[:12]}-{count}-{re.sub(r'[^A-Za-z0-9_.-]', '_', student)[:40]}"
        )

    def _land(
        self,
        ctx: BatchContext,
        submission: Submission,
        key: Key,
        remote: Any,
        clock: float,
        outcome: Future[Done | None],
    ) -> None:
        with self._lock:
            self._remote.pop(remote.key, None)
        try:
            outcome.set_result(self._landed(ctx, submission, key, remote, clock))
        except BaseException as error:  # noqa: BLE001 - the driver re-raises it (a full disk)
            outcome.set_exception(error)

    def _landed(
        self, ctx: BatchContext, submission: Submission, key: Key, remote: Any, clock: float
    ) -> Done | None:
        from distributed import KilledWorker

        if ctx.cancel.is_set():
            return None  # stopped: what comes back now may have been cut short
        name, retry = submission.student, False
        error = remote.exception() if remote.status == "error" else None
        if remote.status not in ("finished", "error"):  # cancelled by no one here: lost
            message = f"the cluster lost this submission's task ({remote.status}); rerun the batch"
            result, retry = failed(ctx.seed, ctx.sandbox, name, message), True
        elif isinstance(error, KilledWorker):
            result = failed(ctx.seed, ctx.sandbox, name, _killed_message(self._plan.tries))
        elif isinstance(error, GraderError):  # a worker that joined after the check, say
            result = failed(ctx.seed, ctx.sandbox, name, f"{error}; rerun the batch")
            retry = True
        elif error is not None:
            message = (
                f"the grader failed on this submission ({describe(error)}); this is not "
                "the student's fault: report it with this submission"
            )
            result = failed(ctx.seed, ctx.sandbox, name, message)
        else:
            data = remote.result()
            if data.get("stopped"):
                return None
            result, retry = result_from_json(json.loads(data["result"])), bool(data["retry"])
            return record(ctx, submission, key, result, retry, float(data["seconds"]))
        return record(ctx, submission, key, result, retry, time.monotonic() - clock)

    def stop(self) -> None:
        """Cancel what waits, kill what runs (each worker removes its containers), and wait
        until the workers say nothing of this batch runs any more."""
        with self._lock:
            remote = list(self._remote.values())
        self._client.cancel(remote)
        deadline = time.monotonic() + STOP_WAIT
        while time.monotonic() < deadline:
            running = self._client.run(worker.stop_batch, self._batch, on_error="ignore")
            if not any(running.values()):
                break
            time.sleep(0.2)

    def close(self) -> None:
        self._writer.shutdown(wait=True)
        self._client.run(worker.forget_batch, self._batch, on_error="ignore")


def _killed_message(tries: int) -> str:
    return (
        f"the grader failed on this submission: the worker grading it died {tries} times "
        "(a machine lost, or the grader itself out of memory), each time it was given "
        "to another one; this is not the student's fault: report it with this submission"
    )


def _rejected(ctx: BatchContext, student: str, reason: str) -> GradeResult:
    from dataclasses import replace

    return replace(failed(ctx.seed, ctx.sandbox, student, reason), cause="submission")


@contextmanager
def cluster_executor(
    request: ClusterRequest, choice: str, exercise: Exercise, settings: Settings, say: Say
) -> Iterator[DaskExecutor]:
    """A checked cluster's executor; after the batch, dead workers' containers are reaped."""
    if settings.local.users:
        raise ConfigError(
            "[local] users (sandbox users) are for one machine: grade on a cluster with "
            "--sandbox docker, or without those settings"
        )
    kind = "local" if choice == "local" else "docker"  # auto: Docker, never a silent fallback
    with connected(request) as client:
        plan = checked_plan(client, request, kind, exercise, settings, say)
        if kind == "docker":
            client.register_plugin(worker.Reaper(), name=worker.Reaper.name)
        executor = DaskExecutor(client, plan)
        try:
            yield executor
        finally:
            if kind == "docker":
                client.run(worker.reap, on_error="ignore")


def checked_plan(
    client: Any,
    request: ClusterRequest,
    kind: str,
    exercise: Exercise,
    settings: Settings,
    say: Say,
) -> Plan:
    """Check every worker (building missing images when asked); refuse unfit ones."""
    text = settings_toml(settings)
    digests = worker.digests(exercise, settings)
    expected = {"version": __version__, "digests": digests, "named_image": settings.docker.image}
    workers = client.scheduler_info()["workers"]
    if not workers:
        raise ClusterError("the Dask cluster has no workers: start some (docs/scale.md)")
    reports = client.run(worker.report, text, kind, on_error="return")
    found, builds = problems(reports, expected, kind, request.build_missing)
    refuse(found)
    if builds:
        _build(client, builds, text, say)
        reports = client.run(worker.report, text, kind, on_error="return")
        refuse(problems(reports, expected, kind, False)[0])
    advertised = [info.get("resources", {}).get(RESOURCE) for info in workers.values()]
    units = [int(count) for count in advertised if count]
    resources = {RESOURCE: 1} if kind == "docker" and units else None
    slots = sum(units) if resources else sum(int(i.get("nthreads", 1)) for i in workers.values())
    tries = int(client.run_on_scheduler(lambda dask_scheduler: dask_scheduler.allowed_failures))
    return Plan(kind, text, digests, resources, max(slots, 1), tries + 1)


def _build(client: Any, builds: dict[str, str], text: str, say: Say) -> None:
    """One build per engine, on one of its workers, all engines at once."""
    futures = {
        engine: client.submit(
            worker.build,
            engine,
            text,
            workers=[address],
            allow_other_workers=False,
            pure=False,
            key=f"micrograde-build-{engine[:24]}-{uuid.uuid4().hex[:8]}",
        )
        for engine, address in builds.items()
    }
    say(f"building the sandbox image on {len(futures)} Docker engine(s) (--build-missing)")
    for engine, future in futures.items():
        try:
            say(f"{builds[engine]}: {future.result()}")
        except GraderError as error:
            raise ClusterError(f"worker {builds[engine]}: {error}") from None
