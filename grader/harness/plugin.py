"""The pytest plugin that runs inside the sandbox and streams what happened.

``entry.py`` (the bundle's ``mg_run.py``) opens the record channel, calls ``configure``
before any student code runs, and then runs one pytest session for the visible checks and,
once their code has arrived, one for the hidden checks (``run_session``). It writes one
JSON object per line:

    {"kind": "hello", "checks": n}                       a session began
    {"kind": "start", "check": ...}                      a check began
    {"kind": "loading"|"loaded", "module": ...}          importing the submission
    {"kind": "obs", "check": ..., "role": ..., ...}      one observation (see observe.py)
    {"kind": "end", "check": ..., "outcome": ..., ...}   a check finished (error, output)
    {"kind": "tamper", "check": ..., "what": [...]}      the harness was found patched
    {"kind": "hidden"}                                   send the hidden checks' code now
    {"kind": "done", "exitstatus": ...}                  every session ended normally

Nothing here is trusted by the host: the student's code runs in this process and can
rewrite any of it. The host treats every line as a claim to check against the reference;
the ``tamper`` record is evidence for staff, not a verdict. pytest-json-report produces the
per-stage details (duration, crash, captured output) that go into each ``end`` record;
this plugin streams them as they happen, so a crash or a kill loses only the check that
was running.
"""

from __future__ import annotations

import faulthandler
from collections.abc import Sequence
from types import ModuleType
from typing import Any

import pytest

from . import fixtures
from .errorinfo import describe_exception
from .fixtures import MLP, Context, Layer, Neuron, Value, observe, rng  # noqa: F401
from .loader import Loader
from .loopwatch import LoopWatch
from .observe import Mode, Observer
from .recorder import Emit, Fingerprint
from .seeding import check_id

MAX_STREAM = 4_000
_state: dict[str, Any] = {}
_stages: dict[str, dict[str, Any]] = {}
_errors: dict[str, dict[str, Any]] = {}


def configure(
    job: dict[str, Any], emit: Emit, harness: Sequence[ModuleType], watch_fd: int | None = None
) -> None:
    """Set up the run (before any student code): the job, the channel, the loader and the
    fingerprint of the harness's own modules, checked after every check. ``watch_fd``:
    where a check still running after ``job["watch"]`` seconds has its stack dumped, again
    every ``watch`` seconds, until it ends, and also where it loops (loopwatch.py); the host
    reads the last dump after a timeout)."""
    loader = Loader(
        job["workspace"],
        job.get("classes", {}),
        job.get("poisoned", []),
        emit,
        grafts=job.get("grafts"),  # a counterfactual run only: check -> class -> methods
        guard=job.get("guard"),  # methods that ran past the limit, or crashed, earlier
        toplevel=job.get("toplevel", {}),  # stand-ins, and notebooks run statement by statement
    )
    import sys

    # This very module, kept here: it leaves sys.modules before the sessions run.
    _state.update(
        loader=loader,
        job=job,
        emit=emit,
        checks=(),
        workspace=job["workspace"],
        module=sys.modules[__name__],
        watch=(watch_fd, float(job["watch"]))
        if watch_fd is not None and job.get("watch")
        else None,
    )
    if _state["watch"]:
        _state["loops"] = LoopWatch(*_state["watch"])
    fixtures.install(Context(Mode.RECORD, int(job["seed"]), loader, sink=emit))
    _state["fingerprint"] = Fingerprint(harness, {"emit": emit})


def run_session(pytest_main: Any, arguments: list[str], checks: Sequence[str]) -> int:
    """One pytest session over ``arguments`` (test files and options) for ``checks``."""
    _state["checks"] = tuple(checks)
    return int(pytest_main(arguments, plugins=[_state["module"]]))


def emit(record: dict[str, Any]) -> None:
    _state["emit"](record)


def pytest_configure(config: pytest.Config) -> None:
    emit({"kind": "hello", "checks": len(_state["checks"])})


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    wanted = set(_state["checks"])
    keep = [item for item in items if check_id(item.name) in wanted]
    dropped = [item for item in items if check_id(item.name) not in wanted]
    if dropped:
        config.hook.pytest_deselected(items=dropped)
    items[:] = keep


def pytest_runtest_logstart(nodeid: str, location: Any) -> None:
    fixtures.forget_observer()
    _state["loader"].begin_check(_check_of(nodeid))
    emit({"kind": "start", "check": _check_of(nodeid)})
    if _state.get("watch"):
        fd, seconds = _state["watch"]
        faulthandler.dump_traceback_later(seconds, repeat=True, file=fd)
        _state["loops"].start()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    yield
    if call.excinfo is not None and item.nodeid not in _errors:
        error = describe_exception(call.excinfo.value, _state["workspace"])
        error["when"] = call.when
        observer = fixtures.current_observer()
        if observer is not None and observer.current_item:
            error["item"] = observer.current_item
        _errors[item.nodeid] = error


@pytest.hookimpl(hookwrapper=True, optionalhook=True)
def pytest_json_runtest_stage(report: pytest.TestReport) -> Any:
    outcome = yield
    stage = outcome.get_result()
    if isinstance(stage, dict):
        _stages.setdefault(report.nodeid, {})[report.when] = stage


def pytest_runtest_logfinish(nodeid: str, location: Any) -> None:
    if _state.get("watch"):
        faulthandler.cancel_dump_traceback_later()
        _state["loops"].stop()
    stages = _stages.pop(nodeid, {})
    record: dict[str, Any] = {
        "kind": "end",
        "check": _check_of(nodeid),
        "outcome": _outcome(stages),
        "duration": sum(float(s.get("duration") or 0) for s in stages.values()),
        "stdout": _joined(stages, "stdout"),
        "stderr": _joined(stages, "stderr"),
    }
    if nodeid in _errors:
        record["error"] = _errors.pop(nodeid)
    _report_tampering(record["check"])
    emit(record)


def _report_tampering(check: str) -> None:
    observer = fixtures.current_observer()
    holds = {"_sink": fixtures.current_sink()}
    instances = [(observer, Observer, holds)] if observer is not None else []
    changed = _state["fingerprint"].changes(instances)
    if changed:
        emit({"kind": "tamper", "check": check, "what": changed[:20]})


def _check_of(nodeid: str) -> str:
    return check_id(nodeid.rsplit("::", 1)[-1])


def _outcome(stages: dict[str, dict[str, Any]]) -> str:
    outcomes = [s.get("outcome") for s in stages.values()]
    if "failed" in outcomes:
        return "failed"
    if "skipped" in outcomes:
        return "skipped"
    return "passed" if outcomes else "unknown"


def _joined(stages: dict[str, dict[str, Any]], stream: str) -> str:
    text = "".join(str(s.get(stream) or "") for s in stages.values())
    if len(text) > MAX_STREAM:
        return text[:MAX_STREAM] + f"\n… ({len(text) - MAX_STREAM} more characters cut)"
    return text
