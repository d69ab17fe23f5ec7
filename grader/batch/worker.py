"""What a Dask worker runs for a batch: its check, grading one parcel, stopping, cleaning up.

Everything here runs in a worker process, from plain data the client sent, and returns
plain data. The worker grades with its own installed micrograde (exercise, rubrics,
reference, harness): ``report`` gives their digests so the client can refuse a worker
that differs before anything is graded, and ``grade`` compares them with the task's on
every task (computed once per worker process), so a worker that joined later is caught too.

    report(settings, kind)   who this worker is: host, version, digests, Docker engine, image
    grade(payload)           one submission -> {"result": results.json text, "retry": bool}
    stop_batch(batch)        kill that batch's sandboxes in flight (Ctrl-C on the client)
    reap()                   remove containers of graders (workers) on this host that died
    build(engine, settings)  build the sandbox image, one build per engine at a time

A worker opens each sandbox backend once (per settings) and keeps it; each batch gets its
own stoppable wrapper over it, so stopping one batch never stops another client's.
"""

from __future__ import annotations

import json
import socket
import tempfile
import threading
import time
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

from distributed import Lock, WorkerPlugin

import grader
from grader.batch.keys import batch_fingerprint
from grader.batch.parcel import unpacked
from grader.batch.run import Grading, failed, grade_guarded
from grader.batch.stop import StoppableSandbox, stoppable
from grader.errors import GraderError, SandboxError
from grader.exercise import Exercise, load_exercise
from grader.rubric import Rubric, load_rubric
from grader.sandbox.base import Sandbox
from grader.sandbox.select import open_sandbox
from grader.settings import Settings, load_settings

# The parts of a batch's key that say which grader grades: they must match the client's.
SAME_GRADER = ("grader", "rubrics", "tests", "reference", "settings")

_lock = threading.Lock()
_backends: dict[tuple[str, Settings], Sandbox] = {}
_batches: dict[str, StoppableSandbox] = {}


@cache
def settings_from(text: str) -> Settings:
    """The settings the client sent (``settings_toml``'s text), read as a file would be."""
    with tempfile.TemporaryDirectory(prefix="micrograde-settings-") as scratch:
        path = Path(scratch) / "settings.toml"
        path.write_text(text, encoding="utf-8")
        return load_settings(path)


def digests(exercise: Exercise, settings: Settings) -> dict[str, Any]:
    """What says which grader grades: version and own files, rubrics, harness, reference."""
    key = batch_fingerprint(exercise, settings, seed=0, sandbox="", steps=())
    return {name: key[name] for name in SAME_GRADER}


@cache
def _digests_at(root: Path, settings_text: str) -> dict[str, Any]:
    # Hashing micrograde's own files takes a fraction of a second: once per worker process
    # (a worker that joins mid-batch computes them at its first task, and is refused there).
    return digests(load_exercise(root), settings_from(settings_text))


def report(settings_text: str, kind: str) -> dict[str, Any]:
    """This worker, for the client's check before grading (runs through ``Client.run``)."""
    exercise, settings = load_exercise(), settings_from(settings_text)
    found: dict[str, Any] = {
        "host": socket.gethostname(),
        "version": grader.__version__,
        "digests": digests(exercise, settings),
    }
    if kind == "docker":
        found.update(_docker_report(exercise, settings))
    return found


def _docker_report(exercise: Exercise, settings: Settings) -> dict[str, Any]:
    from grader.sandbox.docker import connect_engine
    from grader.sandbox.image import expected_tag

    image = settings.docker.image or expected_tag(exercise, settings.sandbox.packages)
    try:
        client = connect_engine()
    except SandboxError as missing:
        return {"engine": None, "engine_problem": str(missing), "image": image}
    try:
        engine = str(client.info().get("ID") or "")
        present = bool(client.images.list(name=image))
    finally:
        client.close()
    return {"engine": engine, "image": image, "image_present": present}


def grade(payload: dict[str, Any]) -> dict[str, Any]:
    """Grade one parcel; the result as results.json text, or ``{"stopped": True}``."""
    clock = time.monotonic()
    host = socket.gethostname()
    exercise, settings = load_exercise(), settings_from(payload["settings"])
    steps, seed, name = tuple(payload["steps"]), int(payload["seed"]), str(payload["student"])
    mine = {**_digests_at(exercise.root, payload["settings"]), "version": grader.__version__}
    theirs = {**payload["digests"], "version": payload["version"]}
    if mine != theirs:
        differ = sorted(part for part in theirs if mine.get(part) != theirs[part])
        raise GraderError(f"the worker on {host} grades with another micrograde ({differ})")
    try:
        sandbox = _batch_sandbox(payload["batch"], payload["sandbox"], exercise, settings)
    except GraderError as error:
        result = failed(seed, payload["sandbox"], name, f"the sandbox failed on {host} ({error})")
        return _envelope(result.to_json(), True, clock, host)
    grading = Grading(exercise, _rubric(exercise), sandbox, settings, steps, seed)
    result, retry = grade_guarded(grading, name, lambda: unpacked(payload["parcel"]))
    if sandbox.stopped:
        return {"stopped": True, "host": host}
    return _envelope(result.to_json(), retry, clock, host)


def _envelope(result: dict[str, Any], retry: bool, clock: float, host: str) -> dict[str, Any]:
    # NaN stays NaN through the text: the client's results.json writer refuses it, as it
    # would have refused it had the grading run there.
    text = json.dumps(result)
    return {"result": text, "retry": retry, "seconds": time.monotonic() - clock, "host": host}


def _rubric(exercise: Exercise) -> Rubric:
    return _rubric_at(exercise.root)


@cache
def _rubric_at(root: Path) -> Rubric:
    return load_rubric(load_exercise(root))


def _batch_sandbox(
    batch: str, kind: str, exercise: Exercise, settings: Settings
) -> StoppableSandbox:
    with _lock:
        wrapped = _batches.get(batch)
        if wrapped is not None:
            return wrapped
        key = (kind, settings)
        backend = _backends.get(key)
        if backend is None:
            backend = _backends[key] = open_sandbox(kind, exercise, settings).sandbox
        wrapped = _batches[batch] = stoppable(backend)
        return wrapped


def stop_batch(batch: str) -> int:
    """Kill the sandboxes of ``batch`` running here (Docker's are then removed); later
    runs of that batch refuse to start. Returns how many were running."""
    with _lock:
        wrapped = _batches.get(batch)
    if wrapped is None:
        return 0
    running = wrapped.running
    wrapped.stop_all()
    return running


def forget_batch(batch: str) -> None:
    with _lock:
        _batches.pop(batch, None)


def reap() -> list[str]:
    """Remove the containers (and run folders) of micrograde processes on this host that
    are gone, such as a worker killed with SIGKILL; never a live one's. Returns their ids."""
    from docker.errors import DockerException

    from grader.sandbox.docker import connect_engine
    from grader.sandbox.reaper import clean_leftovers

    try:
        client = connect_engine()
    except SandboxError:
        return []  # no engine here: nothing of ours can be left in it
    try:
        return list(clean_leftovers(client.api).containers)
    except (DockerException, OSError):
        return []  # best effort: `micrograde sandbox clean` reports what it cannot remove
    finally:
        client.close()


class Reaper(WorkerPlugin):
    """At every worker's start (a restarted one too): ``reap`` on its host, in the
    background so the worker does not wait for the engine."""

    name = "micrograde-reaper"

    def setup(self, worker: Any) -> None:
        threading.Thread(target=reap, name="micrograde-reaper", daemon=True).start()


def build(engine: str, settings_text: str, make: Callable[[str], str] | None = None) -> str:
    """Make the sandbox image on this worker's engine (``make``, by default
    ``make_image``), one build per engine at a time: a Dask lock named after the engine
    serializes every worker that asks, whichever client sent them."""
    with Lock(build_lock_name(engine)):  # type: ignore[no-untyped-call]
        return (make or make_image)(settings_text)


def make_image(settings_text: str) -> str:
    """Build the sandbox image unless it is there (the last holder of the lock may have
    built it); the offline base when no registry answers, as ``sandbox build`` does."""
    from grader.sandbox.docker import connect_engine
    from grader.sandbox.image import build_image, expected_tag, plan_build

    exercise, settings = load_exercise(), settings_from(settings_text)
    packages = settings.sandbox.packages
    tag = expected_tag(exercise, packages)
    client = connect_engine()
    try:
        if client.images.list(name=tag):
            return f"{tag} was there already"
        plan = plan_build(client, exercise, None, False, lambda said: None, packages)
        build_image(client, exercise, plan, lambda said: None)
    finally:
        client.close()
    return f"built {tag} on {plan.base}"


def build_lock_name(engine: str) -> str:
    return f"micrograde-build-{engine}"
