"""Run a submission's checks in a sandbox, surviving whatever the submission does.

One sandbox run executes every pending check in order and streams records back. The host
keeps the clock: each check has its own deadline (plus time to import the submission,
within its step's budget). When a check overruns, the sandbox is killed, that check is
marked ``timeout``, and a fresh sandbox continues with the checks still pending; when the
process dies (a segfault, ``os._exit``, memory), the check that was running gets the
blame and the rest go on. A module whose import hung or killed the process is "poisoned":
later runs refuse to import it again, so one bad import cannot cost one restart per check.
A module intake generated for a notebook or script announces each top-level statement, so
there the runner leaves out the statement that hung (the sandbox is told in the job's
``toplevel.skip``) and the check runs again, instead of poisoning the whole module.
Checks that already finished are never lost.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from grader.exercise import Check, Exercise
from grader.fairness.location import CLASSES, locate, place_frame
from grader.sandbox.base import EOF_MARK, Execution, Sandbox, SandboxJob
from grader.sandbox.bundle import hidden_frame
from grader.settings import Settings
from grader.wire import BadRecord, CheckRun, KeepBudget, parse_record

# A budget with less than this left is spent (a deadline met to the last float bit must
# not leave a sliver of time that no check can use).
SLACK = 1e-3
MAX_EVENTS = 200  # distinct facts about top-level code kept per submission


@dataclass
class _Attempt:
    current: CheckRun | None = None
    started: float = 0.0
    deadline: float = 0.0
    # The current check's own deadline; the time its imports took is added on top.
    check_deadline: float = 0.0
    importing: float = 0.0
    loading: str | None = None
    loading_since: float = 0.0
    failed_imports: set[str] = field(default_factory=set)
    done: bool = False
    progress: bool = False
    # The top-level statement of a generated module (notebook, script) that is running.
    statement: tuple[str, int, int] | None = None
    timed_out: CheckRun | None = None  # the check this run was killed for


class Runner:
    """Drives one submission through as many sandbox runs as its checks need."""

    def __init__(
        self,
        sandbox: Sandbox,
        exercise: Exercise,
        settings: Settings,
        clock: Callable[[], float] = time.monotonic,
        hidden: frozenset[str] = frozenset(),
        stepwise: frozenset[str] = frozenset(),
        guard: dict[str, str] | None = None,
    ) -> None:
        self.sandbox = sandbox
        self.exercise = exercise
        self.settings = settings
        self.clock = clock  # the host's clock (a fake one in tests)
        # What the host saw on the channel that the honest harness never sends (for staff).
        self.suspicions: list[str] = []
        # Hidden checks run after every visible one, and their code is sent only then.
        self.hidden = hidden
        # Generated modules that run top-level code statement by statement (intake's
        # manifest.toplevel); what the sandbox said about those statements and stand-ins
        # (checked fields only, each once), and the statements left out for running too
        # long or killing the process: (module, cell, line, "timeout" | "crash").
        self.stepwise = stepwise
        self.toplevel_events: list[dict[str, Any]] = []
        self.cut: list[tuple[str, int, int, str]] = []
        # Methods that ran past a check's limit or crashed the process, with why: later
        # runs replace them with one that raises at once, so no other check waits out the
        # same loop (shared with the counterfactual runs of the same grading).
        self.guard: dict[str, str] = guard if guard is not None else {}

    def run(
        self,
        workspace: Path,
        classes: dict[str, str],
        checks: tuple[Check, ...],
        seed: int,
        grafts: dict[str, dict[str, dict[str, str]]] | None = None,
    ) -> dict[str, CheckRun]:
        """Run ``checks``; ``grafts`` (a counterfactual run only) maps a check to the
        methods of the student's classes replaced with the reference's while it runs."""
        self._grafts = grafts or {}
        budget = self.settings.time
        self._budget = KeepBudget()
        runs = {check.id: CheckRun(check) for check in checks}
        spent = {check.step: 0.0 for check in checks}
        poisoned: dict[str, str] = {}
        stop_at = self.clock() + budget.total_seconds
        for _attempt in range(budget.max_attempts):
            self._exhaust_steps(runs, spent)
            pending = [r for r in runs.values() if r.state == "not_run" and not r.message]
            if not pending or self.clock() >= stop_at:
                break
            attempt = self._attempt(workspace, classes, pending, seed, poisoned, spent, stop_at)
            if not attempt.progress:
                break
        for run in runs.values():
            if run.state == "not_run" and not run.message:
                run.message = "this check did not run: grading stopped before reaching it"
        return runs

    def _exhaust_steps(self, runs: dict[str, CheckRun], spent: dict[int, float]) -> None:
        limit = self.settings.time.step_seconds
        for run in runs.values():
            if run.state == "not_run" and spent[run.check.step] >= limit - SLACK:
                run.state = "timeout"
                run.message = (
                    f"step {run.check.step}'s time limit ({limit:g} s) ran out "
                    "before this check could run"
                )

    def _attempt(
        self,
        workspace: Path,
        classes: dict[str, str],
        pending: list[CheckRun],
        seed: int,
        poisoned: dict[str, str],
        spent: dict[int, float],
        stop_at: float,
    ) -> _Attempt:
        pending = sorted(pending, key=lambda r: r.check.id in self.hidden)  # visible first
        visible = [r for r in pending if r.check.id not in self.hidden]
        steps = sorted({r.check.step for r in visible})
        job = {
            "seed": seed,
            "checks": [r.check.id for r in pending],
            "hidden": [r.check.id for r in pending if r.check.id in self.hidden],
            "files": [self.exercise.step_files[s].name for s in steps],
            "classes": classes,
            "poisoned": sorted(poisoned),
            "toplevel": self._toplevel_job(),
            # A check still running this long has its stack dumped (to say where it hung).
            "watch": round(max(0.2, 0.8 * self.settings.time.check_seconds), 3),
        }
        grafts = {
            r.check.id: self._grafts[r.check.id] for r in pending if r.check.id in self._grafts
        }
        if grafts:
            job["grafts"] = grafts
        if self.guard:
            job["guard"] = dict(self.guard)
        limits = self.settings.limits
        wall = max(stop_at - self.clock(), 1.0)
        execution = self.sandbox.start(SandboxJob(workspace, job, limits, wall))
        attempt = _Attempt(deadline=self.clock() + self.settings.time.startup_seconds)
        by_id = {r.check.id: r for r in pending}
        try:
            self._drive(execution, attempt, by_id, poisoned, spent, stop_at)
        finally:
            status = execution.finish()
        if attempt.current is not None:  # the process ended in the middle of a check
            crashed = attempt.current
            self._crashed(attempt, status.describe(), status.stderr_tail, poisoned)
            if crashed.state == "crashed" and not attempt.loading:
                self._locate(crashed, status.stderr_tail, workspace)
        if attempt.timed_out is not None:
            self._locate(attempt.timed_out, status.stderr_tail, workspace)
        for run in by_id.values():
            _place_error(run, workspace)
        return attempt

    def _locate(self, run: CheckRun, stderr: str, workspace: Path) -> None:
        """Name the student's method the check was stuck in (from the stack dump), and
        refuse to run it again in later runs of this grading, saying why."""
        place = locate(stderr, workspace)
        if place is None:
            return
        run.stuck_in, run.stuck_phase = place.method, place.phase
        where = f"{place.method} ({place.file}, line {place.line})"
        if run.state == "timeout":
            run.message += f"; it was still running {where}"
            why = (
                f"was still running after {self.settings.time.check_seconds:g} s in the check "
                f"{run.check.id} ({place.file}, line {place.line})"
            )
        else:
            run.message += f"; it crashed in {where}"
            why = (
                f"crashed the test process in the check {run.check.id} "
                f"({place.file}, line {place.line})"
            )
        self.guard.setdefault(place.method + (":backward" if place.phase else ""), why)

    def _drive(
        self,
        execution: Execution,
        attempt: _Attempt,
        by_id: dict[str, CheckRun],
        poisoned: dict[str, str],
        spent: dict[int, float],
        stop_at: float,
    ) -> None:
        while True:
            line = execution.next_line(attempt.deadline - self.clock())
            if line is None:
                execution.kill()
                self._timed_out(attempt, poisoned, spent, stop_at)
                return
            if line == EOF_MARK:
                return
            try:
                record = parse_record(line)
            except BadRecord as bad:
                if attempt.current is not None:
                    attempt.current.refuse(str(bad))
                continue
            if record["kind"] == "hidden":
                self._send_hidden(execution, attempt, by_id)
            elif record["kind"] == "tamper":
                self._tampered(record, attempt, by_id)
            elif record["kind"] == "toplevel":
                self._toplevel(record, attempt)
            else:
                self._handle(record, len(line), attempt, by_id, spent, stop_at)
            if attempt.done:
                return

    def _toplevel_job(self) -> dict[str, Any]:
        skip: dict[str, list[list[int]]] = {}
        for module, cell, line, _why in self.cut:
            skip.setdefault(module, []).append([cell, line])
        return {
            "modules": sorted(self.stepwise),
            "skip": skip,
            "standins": list(self.settings.sandbox.standins),
        }

    def _toplevel(self, record: dict[str, Any], attempt: _Attempt) -> None:
        module = record["module"]
        if record["event"] == "run":
            if module in self.stepwise and module == attempt.loading:
                attempt.statement = (module, record["cell"], record["line"])
            return
        event = {k: v for k, v in record.items() if k != "kind"}
        if event not in self.toplevel_events and len(self.toplevel_events) < MAX_EVENTS:
            self.toplevel_events.append(event)

    def _cut_statement(self, attempt: _Attempt, why: str) -> bool:
        """Leave out the statement that hung or killed the process while its module was
        imported, and give the check that was running back to the pending ones."""
        statement, run = attempt.statement, attempt.current
        if statement is None or run is None or statement[0] != attempt.loading:
            return False
        if any(cut[:3] == statement for cut in self.cut):
            return False  # left out already: this is something else
        self.cut.append((*statement, why))
        run.restart()
        attempt.current, attempt.progress, attempt.loading = None, True, None
        return True

    def _notice_forgery(
        self, record: dict[str, Any], current: CheckRun | None, by_id: dict[str, CheckRun]
    ) -> None:
        """Records the honest harness never sends at this point: evidence for staff."""
        kind, check = record["kind"], record.get("check")
        if kind == "start" and (
            current is not None or check not in by_id or by_id[check].state != "not_run"
        ):
            self._suspect(f"a check was started twice, or while another ran ({check})")
        elif kind in ("obs", "end") and (current is None or check != current.check.id):
            self._suspect(f"records arrived for a check that was not running ({check})")

    def _suspect(self, what: str) -> None:
        if len(self.suspicions) < 20 and what not in self.suspicions:
            self.suspicions.append(what)

    def _send_hidden(
        self, execution: Execution, attempt: _Attempt, by_id: dict[str, CheckRun]
    ) -> None:
        """The hidden checks' code, once every visible check of this run has ended."""
        early = attempt.current is not None or any(
            r.state == "not_run" for cid, r in by_id.items() if cid not in self.hidden
        )
        steps = {r.check.step for cid, r in by_id.items() if cid in self.hidden}
        if early or not steps:
            self._suspect(
                "something in the sandbox asked for the hidden checks' code before "
                "every visible check had ended"
            )
            return
        execution.send(hidden_frame(self.exercise, steps))

    def _tampered(
        self, record: dict[str, Any], attempt: _Attempt, by_id: dict[str, CheckRun]
    ) -> None:
        run = by_id.get(record["check"]) or attempt.current
        if run is not None:
            for what in record["what"]:
                run.suspect(f"the harness found {what} replaced or patched")

    def _handle(
        self,
        record: dict[str, Any],
        size: int,
        attempt: _Attempt,
        by_id: dict[str, CheckRun],
        spent: dict[int, float],
        stop_at: float,
    ) -> None:
        kind, now = record["kind"], self.clock()
        current = attempt.current
        self._notice_forgery(record, current, by_id)
        if (
            kind == "start"
            and record["check"] in by_id
            and current is None
            and by_id[record["check"]].state == "not_run"
        ):
            run = by_id[record["check"]]
            attempt.current, attempt.started, attempt.importing = run, now, 0.0
            step_left = self.settings.time.step_seconds - spent[run.check.step]
            attempt.check_deadline = min(
                now + min(self.settings.time.check_seconds, step_left), stop_at
            )
            attempt.deadline = attempt.check_deadline
        elif kind == "loading" and current is not None:
            # An import gets its own allowance on top of the check's time, for as long as
            # it lasts; once it is done, the check has its own time plus what the import took.
            attempt.loading, attempt.loading_since = record["module"], now
            attempt.deadline = min(
                attempt.check_deadline + attempt.importing + self.settings.time.import_seconds,
                stop_at,
            )
        elif kind == "loaded":
            if attempt.loading is not None and current is not None:
                attempt.importing += now - attempt.loading_since
                attempt.deadline = min(attempt.check_deadline + attempt.importing, stop_at)
            attempt.loading, attempt.statement = None, None
            if record.get("ok") is False:
                attempt.failed_imports.add(record["module"])
        elif kind == "obs" and current is not None and record["check"] == current.check.id:
            current.keep(record, size, self._budget)
        elif kind == "end" and current is not None and record["check"] == current.check.id:
            current.finish(record)
            self._explain_guarded(current)
            current.duration = now - attempt.started
            spent[current.check.step] += current.duration
            attempt.current, attempt.progress = None, True
            attempt.deadline = min(now + self.settings.time.check_seconds, stop_at)
        elif kind == "done":
            attempt.done = True

    def _explain_guarded(self, run: CheckRun) -> None:
        """An error from a method refused after it looped or crashed earlier: add what it
        did then (host-side text: the harness only names the method)."""
        error = (run.end or {}).get("error")
        if not isinstance(error, dict):
            return
        guarded = error.get("guarded")
        if isinstance(guarded, str):
            method, _, phase = guarded.partition(" ")
            why = self.guard.get(method + (":backward" if phase else ""))
            if why:
                error["guarded_why"] = why

    def _timed_out(
        self, attempt: _Attempt, poisoned: dict[str, str], spent: dict[int, float], stop_at: float
    ) -> None:
        run = attempt.current
        if run is None:
            return  # the harness did not start in time: the caller gives up on no progress
        if self._cut_statement(attempt, "timeout"):
            return
        now = self.clock()
        run.state, run.duration = "timeout", now - attempt.started
        spent[run.check.step] += run.duration
        attempt.current, attempt.progress = None, True
        if not attempt.loading:
            attempt.timed_out = run
        if attempt.loading:
            poisoned[attempt.loading] = "timeout"
            run.message = (
                f"importing {attempt.loading} did not finish in time: is there an "
                "endless loop (or a long training run) at the top level of a module?"
            )
        elif now >= stop_at:
            run.message = "the time limit for the whole submission ran out during this check"
        elif spent[run.check.step] >= self.settings.time.step_seconds - SLACK:
            run.message = (
                f"step {run.check.step}'s time limit "
                f"({self.settings.time.step_seconds:g} s) ran out during this check"
            )
        else:
            run.message = (
                f"this check did not finish within "
                f"{self.settings.time.check_seconds:g} s (an endless loop?)"
            )

    def _crashed(self, attempt: _Attempt, how: str, stderr: str, poisoned: dict[str, str]) -> None:
        run = attempt.current
        assert run is not None
        if self._cut_statement(attempt, "crash"):
            return
        run.state, run.duration = "crashed", self.clock() - attempt.started
        attempt.current, attempt.progress = None, True
        if attempt.loading:
            poisoned[attempt.loading] = "crash"
            run.message = f"the test process ended while importing {attempt.loading}: {how}"
        else:
            run.message = f"the test process ended during this check: {how}"
        # An import that failed, followed by the process dying, usually means the import
        # left something behind that kills the process (forked copies, threads filling
        # memory): do not import it again, or every later run would die the same way.
        for module in attempt.failed_imports:
            poisoned.setdefault(module, "crash after a failed import")
        tail = stderr.strip().splitlines()[-3:]
        if tail:
            run.message += " (last output: " + " / ".join(t[:200] for t in tail) + ")"


def _place_error(run: CheckRun, workspace: Path) -> None:
    """An exception whose innermost frame is a function of the student's that the frame's
    name does not place (``_div``, assigned with ``Value.__truediv__ = _div``): add the
    method it is, from the submission's own source (``method``, ``phase``; host-side)."""
    error = (run.end or {}).get("error")
    if not isinstance(error, dict) or "method" in error or not error.get("frames"):
        return
    frame = error["frames"][-1]
    function, file, line = frame.get("function"), frame.get("file"), frame.get("line")
    if not (isinstance(function, str) and isinstance(file, str) and type(line) is int):
        return
    if function.split(".")[0] in CLASSES:
        return  # its name says it already
    place = place_frame(workspace, file, line)
    if place is not None:
        error["method"], error["phase"] = place.method, place.phase
