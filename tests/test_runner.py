"""The runner (``runner.Runner``) against a fake sandbox that replays scripted record lines.

Each ``FakeSandbox.start`` asks a script function for the lines of that attempt, given the
job the runner sent (its pending checks and poisoned modules), so a test can make a check
hang, die or poison an import on the first attempt and behave on the next. Time is a fake
clock that only the scripted delays and the runner's own waits move forward: nothing
sleeps, and every duration and deadline is exact, whatever the machine's speed.
"""

import dataclasses
import json
from pathlib import Path

import pytest

from grader.exercise import Check, Exercise
from grader.runner import Runner
from grader.sandbox.base import EOF_MARK, Execution, ExitStatus, LinePump, Sandbox
from grader.settings import Settings

HANG = "hang"
EOF = "eof"
# c1, c2 and c3 belong to step 1, c4 and c5 to step 2.
CHECKS = tuple(Check(f"c{i}", 1 if i <= 3 else 2, lambda: None, ()) for i in range(1, 6))
EXERCISE = Exercise(
    Path("/nowhere"), {1: Path("test_step1_ops.py"), 2: Path("test_step2_grads.py")}, CHECKS
)
WORKSPACE = Path("/nowhere/workspace")
# Real staged test files, for the frames of hidden checks' code.
STEP_ONE, STEP_TWO = (
    Path(__file__).parent / "steps" / "test_step1_operators.py",
    Path(__file__).parent / "steps" / "test_step2_gradients.py",
)
CLEAN = ExitStatus(code=0)
SEGFAULT = ExitStatus(code=-11, stderr_tail="line 1\nline 2\nSegmentation fault\n")


def settings(**time_budget):
    budget = {
        "check_seconds": 0.25,
        "import_seconds": 0.25,
        "step_seconds": 5.0,
        "startup_seconds": 0.25,
        "total_seconds": 10.0,
        "max_attempts": 12,
        **time_budget,
    }
    base = Settings()
    return dataclasses.replace(base, time=dataclasses.replace(base.time, **budget))


def rec(kind, **fields):
    return json.dumps({"kind": kind, **fields}).encode()


def start(check):
    return rec("start", check=check)


def end(check, outcome="passed", stdout=""):
    return rec("end", check=check, outcome=outcome, duration=0.0, stdout=stdout, stderr="")


def ob(check, name, value):
    return rec("obs", check=check, role="value", name=name, value=value, tol=[1e-6, 1e-9])


def done():
    return rec("done", exitstatus=0)


# ------------------------------------------------------------------------ the fake


class FakeClock:
    """The host's clock in these tests: it moves only when told to."""

    START = 1000.0

    def __init__(self):
        self.now = self.START

    def __call__(self):
        return self.now

    def advance(self, seconds):
        self.now += max(seconds, 0.0)


class FakeExecution(Execution):
    """Replays ``[(delay_seconds, line), ...]``, then ends (``EOF``) or goes silent (``HANG``).

    Waiting (for the next line, or in silence until the runner's deadline) advances the
    fake clock by exactly that long.
    """

    def __init__(self, script, ending, status, clock):
        super().__init__(LinePump(budget=1 << 20))
        self.script = list(script)
        self.ending = ending
        self.status = status
        self.clock = clock
        self.killed = False
        self.finished = False
        self.sent = []
        self.last = clock()  # when the previous line came out
        self.head_due = None  # when the next scripted line is due

    def next_line(self, timeout):
        if self.killed:
            return EOF_MARK
        if not self.script:
            if self.ending == EOF:
                return EOF_MARK
            self.clock.advance(timeout)  # silence until the runner's deadline
            return None
        if self.head_due is None:
            self.head_due = self.last + self.script[0][0]
        wait = self.head_due - self.clock()
        if wait > timeout:
            self.clock.advance(timeout)
            return None
        self.clock.advance(wait)
        self.last, self.head_due = self.clock(), None
        return self.script.pop(0)[1]

    def kill(self):
        self.killed = True

    def send(self, data):
        self.sent.append(data)

    def finish(self):
        self.finished = True
        return ExitStatus(code=-9) if self.killed else self.status


class FakeSandbox(Sandbox):
    name = "fake"
    is_security_boundary = False

    def __init__(self, script):
        self.script = script
        self.clock = FakeClock()
        self.jobs = []
        self.executions = []

    def start(self, job):
        self.jobs.append(job.job)
        lines, ending, status = self.script(job.job)
        execution = FakeExecution(lines, ending, status, self.clock)
        self.executions.append(execution)
        return execution


def harness(behaviour, status=CLEAN):
    """A script that plays the harness: checks in job order, each per ``behaviour[id]``.

    Behaviours: "pass" (start, one observation, end), "hang" (start, then silence),
    "die" (start, then the process is gone), "hang-import:<module>" and
    "die-import:<module>" (the check starts importing <module>; a poisoned module is
    refused, which ends the check with an ImportError instead).
    """

    def script(job):
        lines = [(0, rec("hello", checks=len(job["checks"])))]
        for check in job["checks"]:
            action = behaviour.get(check, "pass")
            lines.append((0, start(check)))
            if ":" in action:
                action, module = action.split(":")
                if module in job["poisoned"]:
                    lines.append((0, end(check, "failed", stdout=f"refused {module}")))
                    continue
                lines += [(0, rec("loading", module=module))]
                action = action.removesuffix("-import")
            if action == "hang":
                return lines, HANG, status
            if action == "die":
                return lines, EOF, status
            lines += [(0, ob(check, "x", int(check[1:]))), (0, end(check))]
        return lines + [(0, done())], EOF, status

    return script


def run(script, checks=CHECKS, **budget):
    sandbox = FakeSandbox(script)
    runs = Runner(sandbox, EXERCISE, settings(**budget), clock=sandbox.clock).run(
        WORKSPACE, {"Value": "micrograd.value"}, checks, seed=42
    )
    return runs, sandbox


def elapsed(sandbox):
    """How far the fake clock moved during the run."""
    return sandbox.clock() - FakeClock.START


def states(runs):
    return {cid: r.state for cid, r in runs.items()}


# ------------------------------------------------------------------------------ cases


def test_all_checks_finish_in_one_attempt():
    runs, sandbox = run(harness({}))
    assert states(runs) == dict.fromkeys(runs, "finished")
    assert len(sandbox.jobs) == 1
    job = sandbox.jobs[0]
    assert job["checks"] == ["c1", "c2", "c3", "c4", "c5"]
    assert job["files"] == ["test_step1_ops.py", "test_step2_grads.py"]
    assert (job["seed"], job["poisoned"], job["classes"]) == (42, [], {"Value": "micrograd.value"})
    assert not sandbox.executions[0].killed and sandbox.executions[0].finished
    for cid, check_run in runs.items():
        assert [o["value"] for o in check_run.observations] == [int(cid[1:])]
        assert check_run.end["check"] == cid and check_run.message == ""


def test_only_the_steps_of_pending_checks_are_sent():
    runs, sandbox = run(harness({}), checks=CHECKS[3:])
    assert sandbox.jobs[0]["files"] == ["test_step2_grads.py"]
    assert set(runs) == {"c4", "c5"}


def test_a_hanging_check_times_out_and_a_new_sandbox_runs_the_rest():
    runs, sandbox = run(harness({"c2": "hang"}))
    assert states(runs) == {
        "c1": "finished",
        "c2": "timeout",
        "c3": "finished",
        "c4": "finished",
        "c5": "finished",
    }
    assert runs["c2"].message == "this check did not finish within 0.25 s (an endless loop?)"
    assert runs["c2"].duration == pytest.approx(0.25)
    first, second = sandbox.executions
    assert first.killed and first.finished and not second.killed
    assert [job["checks"] for job in sandbox.jobs] == [
        ["c1", "c2", "c3", "c4", "c5"],
        ["c3", "c4", "c5"],
    ]


def test_a_process_that_dies_mid_check_crashes_only_that_check():
    runs, sandbox = run(harness({"c3": "die"}, status=SEGFAULT))
    assert states(runs) == {
        "c1": "finished",
        "c2": "finished",
        "c3": "crashed",
        "c4": "finished",
        "c5": "finished",
    }
    assert runs["c3"].message == (
        "the test process ended during this check: it crashed with a segmentation fault "
        "(signal 11), which in Python usually means recursion far deeper than the "
        "interpreter's stack allows "
        "(last output: line 1 / line 2 / Segmentation fault)"
    )
    assert [job["checks"] for job in sandbox.jobs] == [["c1", "c2", "c3", "c4", "c5"], ["c4", "c5"]]
    assert not sandbox.executions[0].killed


def test_a_hang_while_importing_poisons_the_module():
    runs, sandbox = run(
        harness({"c1": "hang-import:micrograd.mlp", "c4": "hang-import:micrograd.mlp"})
    )
    assert runs["c1"].state == "timeout"
    assert runs["c1"].message.startswith(
        "importing micrograd.mlp did not finish in time: is there an endless loop"
    )
    # The import got its own allowance (0.25 s) on top of the check's (0.25 s).
    assert runs["c1"].duration == pytest.approx(0.5)
    assert [job["poisoned"] for job in sandbox.jobs] == [[], ["micrograd.mlp"]]
    assert runs["c4"].state == "finished" and runs["c4"].end["stdout"] == "refused micrograd.mlp"
    assert len(sandbox.jobs) == 2


def test_an_imports_allowance_covers_the_import_only():
    # c1 imports for 0.2 s (within its 0.25 s allowance), then loops: it gets its own
    # 0.25 s on top of the 0.2 s the import took, not the whole allowance on top.
    def script(job):
        if job["checks"][0] != "c1":
            return harness({})(job)
        lines = [
            (0, start("c1")),
            (0, rec("loading", module="micrograd.value")),
            (0.2, rec("loaded", module="micrograd.value", ok=True)),
        ]
        return lines, HANG, CLEAN

    runs, sandbox = run(script, checks=CHECKS[:2])
    assert runs["c1"].state == "timeout"
    assert runs["c1"].duration == pytest.approx(0.45)
    assert runs["c1"].message == "this check did not finish within 0.25 s (an endless loop?)"
    assert sandbox.jobs[1]["poisoned"] == []


def test_a_crash_while_importing_poisons_the_module():
    runs, sandbox = run(harness({"c2": "die-import:micrograd.value"}, status=SEGFAULT))
    assert runs["c2"].state == "crashed"
    assert runs["c2"].message.startswith(
        "the test process ended while importing micrograd.value: it crashed with a "
        "segmentation fault (signal 11)"
    )
    assert [job["poisoned"] for job in sandbox.jobs] == [[], ["micrograd.value"]]
    assert states(runs) == {
        "c1": "finished",
        "c2": "crashed",
        "c3": "finished",
        "c4": "finished",
        "c5": "finished",
    }


def test_a_module_that_loaded_is_not_poisoned():
    def script(job):
        lines = [
            (0, start("c1")),
            (0, rec("loading", module="micrograd.value")),
            (0, rec("loaded", module="micrograd.value")),
        ]
        return lines, HANG, CLEAN

    runs, sandbox = run(script, checks=CHECKS[:1])
    assert runs["c1"].state == "timeout"
    assert runs["c1"].message.startswith("this check did not finish")
    assert sandbox.jobs[0]["poisoned"] == [] and len(sandbox.jobs) == 1


def test_when_a_steps_budget_runs_out_its_remaining_checks_time_out_unrun():
    # c1 takes 0.1 s of step 1's 0.4 s; c2 hangs and is stopped when the step's time is up.
    def script(job):
        if job["checks"][0] != "c1":
            return harness({})(job)
        lines = [(0, start("c1")), (0.1, end("c1")), (0, start("c2"))]
        return lines, HANG, CLEAN

    runs, sandbox = run(script, check_seconds=1.0, step_seconds=0.4)
    assert states(runs) == {
        "c1": "finished",
        "c2": "timeout",
        "c3": "timeout",
        "c4": "finished",
        "c5": "finished",
    }
    assert runs["c2"].message == "step 1's time limit (0.4 s) ran out during this check"
    assert runs["c2"].duration == pytest.approx(0.3)  # the step's budget, not the check's
    assert runs["c3"].message == "step 1's time limit (0.4 s) ran out before this check could run"
    assert [job["checks"] for job in sandbox.jobs] == [["c1", "c2", "c3", "c4", "c5"], ["c4", "c5"]]


def test_the_total_budget_stops_grading():
    runs, sandbox = run(harness({"c2": "hang"}), check_seconds=5.0, total_seconds=0.3)
    assert states(runs) == {
        "c1": "finished",
        "c2": "timeout",
        "c3": "not_run",
        "c4": "not_run",
        "c5": "not_run",
    }
    assert runs["c2"].message == "the time limit for the whole submission ran out during this check"
    assert runs["c2"].duration == pytest.approx(0.3)  # the submission's budget
    assert runs["c3"].message == "this check did not run: grading stopped before reaching it"
    assert len(sandbox.jobs) == 1


def test_max_attempts_bounds_the_restarts():
    every_check_dies = harness(dict.fromkeys(("c1", "c2", "c3", "c4", "c5"), "die"))
    runs, sandbox = run(every_check_dies, max_attempts=3)
    assert states(runs) == {
        "c1": "crashed",
        "c2": "crashed",
        "c3": "crashed",
        "c4": "not_run",
        "c5": "not_run",
    }
    assert len(sandbox.jobs) == 3
    assert runs["c4"].message == "this check did not run: grading stopped before reaching it"


@pytest.mark.parametrize(
    ("lines", "ending"),
    [
        ([], HANG),
        ([(0, rec("hello", checks=5)), (0, b"garbage"), (0, start("nope"))], HANG),
        ([(0, b"not json")], EOF),
        ([(0, done())], EOF),
    ],
    ids=["silent", "junk-then-silent", "junk-then-exit", "done-without-checks"],
)
def test_an_attempt_without_progress_stops_grading(lines, ending):
    runs, sandbox = run(lambda job: (lines, ending, ExitStatus(1)))
    assert states(runs) == dict.fromkeys(runs, "not_run")
    assert {r.message for r in runs.values()} == {
        "this check did not run: grading stopped before reaching it"
    }
    assert len(sandbox.jobs) == 1
    assert sandbox.executions[0].killed is (ending == HANG)


def test_junk_and_records_for_other_checks_are_ignored():
    def script(job):
        if job["checks"][0] != "c1":
            return harness({})(job)
        lines = [
            (0, b"\x00\xff not a record"),
            (0, ob("c1", "before start", 0)),
            (0, start("c1")),
            (0, b'{"kind": "obs", "check": "c1"}'),
            (0, b"[]"),
            (0, end("c2", stdout="forged end")),  # not the current check
            (0, ob("c2", "forged", 99)),  # an observation for another check
            (0, start("c3")),  # a start while c1 is running
            (0, ob("c1", "real", 1)),
            (0, end("c1")),
            (0, ob("c1", "after end", 2)),  # c1 is no longer current
            (0, start("c2")),
            (0, ob("c2", "real", 2)),
            (0, end("c2")),
            (0, done()),
        ]
        return lines, EOF, CLEAN

    runs, sandbox = run(script, checks=CHECKS[:3])
    assert [o["name"] for o in runs["c1"].observations] == ["real"]
    assert [o["name"] for o in runs["c2"].observations] == ["real"]
    assert runs["c2"].end["stdout"] == ""
    assert states(runs) == {"c1": "finished", "c2": "finished", "c3": "finished"}
    assert [job["checks"] for job in sandbox.jobs] == [["c1", "c2", "c3"], ["c3"]]


def test_an_end_for_a_check_that_is_not_pending_is_ignored():
    def script(job):
        lines = [(0, start("c9")), (0, end("c9")), (0, start("c1")), (0, end("c1")), (0, done())]
        return lines, EOF, CLEAN

    runs, sandbox = run(script, checks=CHECKS[:1])
    assert states(runs) == {"c1": "finished"}


def test_a_done_record_ends_the_attempt():
    def script(job):
        if job["checks"] == ["c1", "c2"]:
            # After "done" the runner must stop reading: these lines are never looked at,
            # and the silence after them would otherwise cost a timeout.
            lines = [
                (0, start("c1")),
                (0, end("c1")),
                (0, done()),
                (0, start("c2")),
                (0, end("c2")),
            ]
            return lines, HANG, CLEAN
        return harness({})(job)

    runs, sandbox = run(script, checks=CHECKS[:2])
    assert elapsed(sandbox) == 0.0  # no deadline was waited out
    assert states(runs) == {"c1": "finished", "c2": "finished"}
    assert [job["checks"] for job in sandbox.jobs] == [["c1", "c2"], ["c2"]]
    assert not any(execution.killed for execution in sandbox.executions)


def test_observations_are_attached_to_the_check_that_was_running():
    def script(job):
        lines = []
        for check in job["checks"]:
            lines += [
                (0, start(check)),
                (0, ob(check, "first", check)),
                (0, ob(check, "second", [check])),
            ]
            lines += [(0, end(check))]
        return lines + [(0, done())], EOF, CLEAN

    runs, _ = run(script)
    for cid, check_run in runs.items():
        assert [(o["name"], o["value"]) for o in check_run.observations] == [
            ("first", cid),
            ("second", [cid]),
        ]
        assert check_run.givens == {}


def test_a_slow_start_within_the_startup_budget_is_not_the_checks_time():
    def script(job):
        lines = [(0.1, rec("hello", checks=1)), (0, start("c1")), (0, end("c1")), (0, done())]
        return lines, EOF, CLEAN

    runs, sandbox = run(script, checks=CHECKS[:1])
    assert states(runs) == {"c1": "finished"}
    assert runs["c1"].duration == 0.0
    assert elapsed(sandbox) == pytest.approx(0.1)


def test_a_harness_that_does_not_start_in_time_is_stopped():
    def script(job):
        return [(1.0, rec("hello", checks=1)), (0, start("c1"))], EOF, CLEAN

    runs, sandbox = run(script, checks=CHECKS[:1], startup_seconds=0.1)
    assert elapsed(sandbox) == pytest.approx(0.1)
    assert sandbox.executions[0].killed
    assert runs["c1"].state == "not_run"


def test_a_line_the_host_cannot_read_is_charged_to_the_running_check():
    huge = b'{"kind": "obs", "check": "c1", "role": "value", "name": "x", "value": 1' + (
        b"0" * 400 + b"}"
    )

    def script(job):
        lines = [
            (0, start("c1")),
            (0, huge),
            (0, b"garbage"),
            (0, ob("c1", "x", 1)),
            (0, end("c1")),
            (0, b"more garbage between checks"),
            (0, start("c2")),
            (0, end("c2")),
            (0, done()),
        ]
        return lines, EOF, CLEAN

    runs, _ = run(script, checks=CHECKS[:2])
    assert runs["c1"].unreadable_count == 2
    assert runs["c1"].unreadable[0] == "an integer of 401 digits (more than 20)"
    assert runs["c2"].unreadable_count == 0


def test_what_the_host_keeps_is_capped_per_check_and_per_submission(monkeypatch):
    import grader.wire as wire

    monkeypatch.setattr(wire, "KEEP_CHECK_BYTES", 300)
    monkeypatch.setattr(wire, "KEEP_TOTAL_BYTES", 500)
    big = "y" * (wire.KEEP_STREAM + 10)

    def script(job):
        lines = []
        for check in job["checks"]:
            lines += [(0, start(check))]
            lines += [(0, ob(check, f"v{i}", "x" * 50)) for i in range(4)]
            lines += [
                (0, end(check, stdout=big)),
            ]
        return lines + [(0, done())], EOF, CLEAN

    runs, _ = run(script, checks=CHECKS[:3])
    kept = [len(runs[c].observations) for c in ("c1", "c2", "c3")]
    size = len(ob("c1", "v0", "x" * 50))  # every observation line has this size
    per_check, left, expected = 300 // size, 500, []
    for _ in range(3):
        expected.append(min(4, per_check, left // size))
        left -= expected[-1] * size
    assert kept == expected and expected[0] == 2 and expected[-1] < 2
    assert all(runs[c].cut_bytes > 0 for c in ("c1", "c2", "c3"))
    stdout = runs["c1"].end["stdout"]
    assert stdout.startswith("y" * wire.KEEP_STREAM)
    assert stdout.endswith("(10 more characters were not kept)")


def test_hidden_checks_run_last_and_get_their_code_only_after_the_visible_ones():
    hidden = frozenset({"c2", "c4"})

    def script(job):
        # The harness: visible checks, then it asks for the hidden code, then runs them.
        visible = [c for c in job["checks"] if c not in job["hidden"]]
        lines = []
        for check in visible:
            lines += [(0, start(check)), (0, end(check))]
        lines += [(0, rec("hidden"))]
        for check in job["hidden"]:
            lines += [(0, start(check)), (0, end(check))]
        return lines + [(0, done())], EOF, CLEAN

    sandbox = FakeSandbox(script)
    exercise = dataclasses.replace(EXERCISE, step_files={1: STEP_ONE, 2: STEP_TWO})
    runs = Runner(sandbox, exercise, settings(), clock=sandbox.clock, hidden=hidden).run(
        WORKSPACE, {}, CHECKS, seed=1
    )
    job = sandbox.jobs[0]
    assert job["checks"] == ["c1", "c3", "c5", "c2", "c4"] and job["hidden"] == ["c2", "c4"]
    assert job["files"] == [STEP_ONE.name, STEP_TWO.name]
    (frame,) = sandbox.executions[0].sent
    files = json.loads(frame[8:])["files"]
    assert files == {STEP_ONE.name: STEP_ONE.read_text(), STEP_TWO.name: STEP_TWO.read_text()}
    assert states(runs) == dict.fromkeys(runs, "finished")


def test_an_early_request_for_hidden_code_gets_nothing_and_is_noted():
    def script(job):
        lines = [
            (0, rec("hidden")),
            (0, start("c1")),
            (0, rec("hidden")),
            (0, end("c1")),
            (0, start("c1")),
            (0, done()),
        ]
        return lines, EOF, CLEAN

    sandbox = FakeSandbox(script)
    exercise = dataclasses.replace(EXERCISE, step_files={1: STEP_ONE, 2: STEP_TWO})
    runner = Runner(sandbox, exercise, settings(), clock=sandbox.clock, hidden=frozenset({"c2"}))
    runner.run(WORKSPACE, {}, CHECKS[:2], seed=1)
    assert sandbox.executions[0].sent == []
    assert any("asked for the hidden checks' code" in s for s in runner.suspicions)
    assert any("started twice" in s for s in runner.suspicions)


# ------------------------------------------------------- top-level statements (notebooks)

NOTEBOOK = "student_notebook"


def toplevel(event, cell, line, module=NOTEBOOK, **fields):
    return rec("toplevel", event=event, module=module, cell=cell, line=line, **fields)


def notebook_harness(stuck_at, ending=HANG, status=CLEAN):
    """The first check imports the notebook module, whose statements announce themselves;
    the one at ``stuck_at`` (cell, line) hangs (or dies) unless the job says to skip it."""

    def script(job):
        skip = job["toplevel"]["skip"].get(NOTEBOOK, [])
        lines = [(0, rec("hello", checks=len(job["checks"])))]
        for index, check in enumerate(job["checks"]):
            lines.append((0, start(check)))
            if index == 0:
                lines += [(0, rec("loading", module=NOTEBOOK)), (0, toplevel("run", 2, 1))]
                lines.append((0, toplevel("raised", 2, 1, error="ModuleNotFoundError", name="np")))
                if list(stuck_at) not in skip:
                    lines.append((0, toplevel("run", *stuck_at)))
                    return lines, ending, status
                lines.append((0, rec("loaded", module=NOTEBOOK, ok=True)))
            lines += [(0, ob(check, "x", 1)), (0, end(check))]
        return lines + [(0, done())], EOF, status

    return script


def run_notebook(script, stepwise=frozenset({NOTEBOOK})):
    sandbox = FakeSandbox(script)
    runner = Runner(sandbox, EXERCISE, settings(), clock=sandbox.clock, stepwise=stepwise)
    runs = runner.run(WORKSPACE, {"Value": NOTEBOOK}, CHECKS, seed=42)
    return runs, sandbox, runner


@pytest.mark.parametrize(
    ("ending", "status", "why"), [(HANG, CLEAN, "timeout"), (EOF, SEGFAULT, "crash")]
)
def test_a_statement_that_hangs_or_kills_the_import_is_left_out_and_its_check_reruns(
    ending, status, why
):
    runs, sandbox, runner = run_notebook(notebook_harness((7, 3), ending, status))
    assert states(runs) == dict.fromkeys(runs, "finished")  # c1 ran again, and passed
    assert runner.cut == [(NOTEBOOK, 7, 3, why)]
    assert [job["toplevel"]["skip"] for job in sandbox.jobs] == [{}, {NOTEBOOK: [[7, 3]]}]
    assert [job["poisoned"] for job in sandbox.jobs] == [[], []]
    assert sandbox.jobs[0]["toplevel"] == {"modules": [NOTEBOOK], "skip": {}, "standins": []}
    # What the statements did is kept once, however many runs repeated it.
    assert runner.toplevel_events == [
        {"event": "raised", "module": NOTEBOOK, "cell": 2, "line": 1,
         "error": "ModuleNotFoundError", "name": "np"}
    ]  # fmt: skip


def test_a_module_that_is_not_run_statement_by_statement_is_poisoned_as_before():
    runs, sandbox, runner = run_notebook(notebook_harness((7, 3)), stepwise=frozenset())
    assert runs["c1"].state == "timeout" and runner.cut == []
    assert sandbox.jobs[1]["poisoned"] == [NOTEBOOK]


def test_a_statement_left_out_once_is_not_left_out_again():
    # Announcing a statement already left out (a forger, or the same statement reached
    # another way) cannot buy another free rerun: the check times out.
    def script(job):
        lines = [(0, start("c1")), (0, rec("loading", module=NOTEBOOK))]
        return lines + [(0, toplevel("run", 7, 3))], HANG, CLEAN

    runs, sandbox, runner = run_notebook(script)
    assert runner.cut == [(NOTEBOOK, 7, 3, "timeout")]
    assert runs["c1"].state == "timeout"
    assert sandbox.jobs[-1]["poisoned"] == [NOTEBOOK]
