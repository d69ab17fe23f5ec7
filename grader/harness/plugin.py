"""The pytest plugin that runs inside the sandbox and streams what happened.

Started by ``entry.py`` with the job description in ``$MG_JOB`` and a file descriptor for
records in ``$MG_RECORD_FD``. It writes one JSON object per line:

    {"kind": "start", "check": ...}                      a check began
    {"kind": "loading"|"loaded", "module": ...}          importing the submission
    {"kind": "obs", "check": ..., "role": ..., ...}      one observation (see observe.py)
    {"kind": "end", "check": ..., "outcome": ..., ...}   a check finished (error, output)
    {"kind": "done", "exitstatus": ...}                  the session ended normally

Nothing here is trusted by the host: the student's code runs in this process and can
rewrite any of it. The host treats every line as a claim to check against the reference.
pytest-json-report produces the per-stage details (duration, crash, captured output) that
go into each ``end`` record; this plugin streams them as they happen, so a crash or a kill
loses only the check that was running.
"""

from __future__ import annotations

import json
import os
from typing import Any

import pytest

from . import fixtures
from .errorinfo import describe_exception
from .fixtures import MLP, Context, Layer, Neuron, Value, observe, rng  # noqa: F401
from .loader import Loader
from .observe import Mode
from .seeding import check_id

MAX_STREAM = 4_000
JOB: dict[str, Any] = json.loads(os.environ.get("MG_JOB", "{}"))
_out = os.fdopen(int(os.environ.get("MG_RECORD_FD", "1")), "wb", buffering=0, closefd=False)
_stages: dict[str, dict[str, Any]] = {}
_errors: dict[str, dict[str, Any]] = {}


_PID = os.getpid()


def emit(record: dict[str, Any]) -> None:
    # Only the harness's own process speaks: copies that student code forked (a fork bomb
    # at import time) would otherwise interleave their own runs of later checks.
    if os.getpid() == _PID:
        _out.write(json.dumps(record, separators=(",", ":")).encode() + b"\n")


def pytest_configure(config: pytest.Config) -> None:
    workspace = JOB["workspace"]
    loader = Loader(workspace, JOB.get("classes", {}), JOB.get("poisoned", []), emit)
    fixtures.install(Context(Mode.RECORD, int(JOB["seed"]), loader, sink=emit))
    emit({"kind": "hello", "checks": len(JOB.get("checks", []))})


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    wanted = set(JOB.get("checks", []))
    keep = [item for item in items if check_id(item.name) in wanted]
    dropped = [item for item in items if check_id(item.name) not in wanted]
    if dropped:
        config.hook.pytest_deselected(items=dropped)
    items[:] = keep


def pytest_runtest_logstart(nodeid: str, location: Any) -> None:
    emit({"kind": "start", "check": _check_of(nodeid)})


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    yield
    if call.excinfo is not None and item.nodeid not in _errors:
        error = describe_exception(call.excinfo.value, JOB["workspace"])
        error["when"] = call.when
        _errors[item.nodeid] = error


@pytest.hookimpl(hookwrapper=True, optionalhook=True)
def pytest_json_runtest_stage(report: pytest.TestReport) -> Any:
    outcome = yield
    stage = outcome.get_result()
    if isinstance(stage, dict):
        _stages.setdefault(report.nodeid, {})[report.when] = stage


def pytest_runtest_logfinish(nodeid: str, location: Any) -> None:
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
    emit(record)


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    emit({"kind": "done", "exitstatus": int(exitstatus)})


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
