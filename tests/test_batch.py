"""``micrograde batch``: a class folder in Canvas/Moodle naming to a gradebook, resumably.

One real batch (local backend, two jobs, twelve students) is graded once per module and
shared; the resume tests work on copies of its output. The pool's own logic (a crash in
grading one submission, the sandbox failing, Ctrl-C) is tested in-process with a fake
grading function, which takes milliseconds.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from classroom import (
    EXPECTED,
    HOSTILE,
    HOSTILE_ID,
    QUICK_SETTINGS,
    SEED,
    batch_cli,
    batch_command,
    build_class,
    planned,
    settings_file,
    zip_class,
)
from grading import REPO
from interrupt import like_a_terminal
from test_examples import MUL_BACKWARD_FAILURES

from grader.batch import run as batch_module
from grader.batch.gradebook import HEADER, normalize_failure
from grader.batch.keys import batch_fingerprint, changed, read_key
from grader.batch.run import BatchRequest, Done, resolve_seed, run_batch
from grader.batch.stop import stoppable
from grader.errors import SandboxError
from grader.exercise import STEPS, load_exercise
from grader.models import CheckResult, GradeResult, StepResult
from grader.pipeline import GradeRequest
from grader.rubric import load_rubric
from grader.sandbox.local import LocalSandbox
from grader.settings import load_settings


@pytest.fixture(scope="module")
def classroom(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The class folder, the settings file and the output of one uninterrupted batch."""
    base = tmp_path_factory.mktemp("classroom")
    folder = build_class(base / "class")
    settings = settings_file(base)
    out = base / "out"
    started = time.monotonic()
    done = batch_cli(folder, out, settings)
    assert done.returncode == 0, done.stderr
    (base / "log.txt").write_text(done.stdout + "\n" + done.stderr)
    (base / "seconds.txt").write_text(f"{time.monotonic() - started:.1f}")
    return {"class": folder, "settings": settings, "out": out, "base": base}


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def _bug_score() -> float:
    rubric = load_rubric(load_exercise())
    lost = sum(
        rubric.entry(step, cid).points for step, ids in MUL_BACKWARD_FAILURES.items() for cid in ids
    )
    return 100 - lost


def test_gradebook_header_is_the_contract(classroom: dict[str, Path]) -> None:
    first = (classroom["out"] / "gradebook.csv").read_text(encoding="utf-8").splitlines()[0]
    assert first.startswith("submission,status,score,max_score,step_1,step_2,step_3,step_4,step_5")
    assert tuple(first.split(",")) == HEADER


def test_every_student_gets_the_right_result(classroom: dict[str, Path]) -> None:
    rows = {row["submission"]: row for row in _rows(classroom["out"] / "gradebook.csv")}
    assert set(rows) == set(EXPECTED)
    for student, (status, steps, words) in EXPECTED.items():
        row = rows[student]
        assert row["status"] == status, (student, row)
        assert words in row["message"], (student, row["message"])
        assert row["seed"] == str(SEED) and row["max_score"] == "100"
        assert row["cause"] == ("submission" if status == "rejected" else ""), student
        if status == "rejected":
            assert row["score"] == "0"
            assert [row[f"step_{k}"] for k in STEPS] == [""] * 5  # nothing was graded
        elif steps is not None:
            assert [row[f"step_{k}"] for k in STEPS] == [str(s) for s in steps], student
            assert row["score"] == str(sum(steps))
    assert float(rows["bugmul_107"]["score"]) == _bug_score()
    assert rows["leeann_103"]["late"] == "yes" and rows["smithjohn_101"]["late"] == ""


def test_the_log_has_one_line_per_submission(classroom: dict[str, Path]) -> None:
    log = (classroom["base"] / "log.txt").read_text()
    assert log.splitlines()[0] == "12 to grade, 0 up to date"
    lines = [line for line in log.splitlines() if line.startswith("[")]
    assert len(lines) == 12 and lines[-1].startswith("[12/12] ")
    assert any("emptyfolder: rejected" in line and "is empty" in line for line in lines)
    assert "NOT a security boundary" in log  # --sandbox local says so
    assert float((classroom["base"] / "seconds.txt").read_text()) < 60


def test_each_student_has_results_report_and_key(classroom: dict[str, Path]) -> None:
    for student in EXPECTED:
        folder = classroom["out"] / student
        results = json.loads((folder / "results.json").read_text())
        assert results["submission"] == student and results["seed"] == SEED
        assert (folder / "index.html").is_file()
        assert read_key(folder) is not None


def test_the_hanging_import_only_costs_its_own_time(classroom: dict[str, Path]) -> None:
    results = json.loads((classroom["out"] / "zzhang_111" / "results.json").read_text())
    statuses = {c["status"] for s in results["steps"] for c in s["checks"]}
    # The loop at the top of the file was left out, and the class after it graded.
    assert "timeout" not in statuses and results["duration"] < 20
    assert (results["diagnosis"]["kind"], results["diagnosis"]["line"]) == ("long_running", 1)
    fast = json.loads((classroom["out"] / "smithjohn_101" / "results.json").read_text())
    assert fast["duration"] < 10


def test_checks_gradebook_and_json(classroom: dict[str, Path]) -> None:
    rows = {r["submission"]: r for r in _rows(classroom["out"] / "gradebook-checks.csv")}
    exercise = load_exercise()
    ids = [c.id for c in exercise.checks]
    header = list(next(iter(rows.values())))
    assert header == [
        "submission",
        "status",
        "score",
        "max_score",
        *ids,
        *(f"{cid}:status" for cid in ids),
    ]
    assert rows["bugmul_107"]["multiply_backward"] == "0"
    assert rows["bugmul_107"]["multiply_backward:status"] == "failed"
    assert rows["bugmul_107"]["add_backward:status"] == "passed"
    assert rows["emptyfolder"]["add_two_values"] == ""
    book = json.loads((classroom["out"] / "gradebook.json").read_text())
    assert book["seed"] == SEED and len(book["checks"]) == len(ids)
    assert [s["submission"] for s in book["submissions"]] == list(rows)


def test_overview_page(classroom: dict[str, Path]) -> None:
    html = (classroom["out"] / "index.html").read_text(encoding="utf-8")
    assert '<svg xmlns="http://www.w3.org/2000/svg"' in html and 'class="histogram"' in html
    assert "<script" not in html and HOSTILE not in html
    assert "&lt;script&gt;alert(1)&lt;!--_112" in html
    assert "./%3Cscript%3Ealert%281%29%3C%21--_112/index.html" in html
    assert "Value.__mul__ (backward)" in html  # the blamed method of the bug
    assert ", got #" in html  # grouped failures with their numbers taken out
    assert "is empty" in html and "not valid JSON" in html  # rejections with reasons
    assert (classroom["out"] / HOSTILE_ID / "index.html").is_file()


def _copy_out(classroom: dict[str, Path], tmp_path: Path) -> Path:
    out = tmp_path / "out"
    shutil.copytree(classroom["out"], out)
    return out


def test_second_run_grades_nothing_and_writes_the_same_gradebook(
    classroom: dict[str, Path], tmp_path: Path
) -> None:
    out = _copy_out(classroom, tmp_path)
    done = batch_cli(classroom["class"], out, classroom["settings"])
    assert done.returncode == 0, done.stderr
    assert planned(done.stdout) == (0, 12)
    for name in ("gradebook.csv", "gradebook-checks.csv", "gradebook.json", "index.html"):
        assert (out / name).read_bytes() == (classroom["out"] / name).read_bytes(), name


def test_changing_one_submission_regrades_only_it(
    classroom: dict[str, Path], tmp_path: Path
) -> None:
    out = _copy_out(classroom, tmp_path)
    folder = tmp_path / "class"
    shutil.copytree(classroom["class"], folder)
    broken = folder / "smithjohn_101_5001_micrograd.py"
    broken.write_text(
        broken.read_text().replace(
            "other.grad += self.data * out.grad", "other.grad += other.data * out.grad"
        )
    )
    done = batch_cli(folder, out, classroom["settings"])
    assert done.returncode == 0, done.stderr
    assert planned(done.stdout) == (1, 11)
    assert "(changed since the last run: content 1)" in done.stdout.splitlines()[0]
    assert "[1/1] smithjohn_101:" in done.stdout
    rows = {r["submission"]: r for r in _rows(out / "gradebook.csv")}
    assert float(rows["smithjohn_101"]["score"]) < 100
    assert rows["doejane_102"]["score"] == "100"


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        try:
            if (
                entry.name.isdigit()
                and int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1]) == pid
            ):
                found.append(int(entry.name))
        except (OSError, ValueError, IndexError):
            continue
    return found


GATE_WAIT = 120  # seconds the gated student waits for its gate before going on anyway


@pytest.fixture
def gated_class(classroom: dict[str, Path], tmp_path: Path) -> dict[str, Path]:
    """The class (without the endless import) plus one student whose import waits for a
    gate file: until the test opens the gate, that batch cannot finish.

    Interrupting "after some results, before the end" is then an order of events the test
    controls (a result written; the gate still closed), not a race against the clock.
    """
    folder = tmp_path / "class"
    shutil.copytree(classroom["class"], folder)
    (folder / "zzhang_111_5011_value.py").unlink()
    gate = tmp_path / "gate"
    solution = (REPO / "examples" / "complete" / "single_file.py").read_text()
    (folder / "gated_113_5013_micrograd.py").write_text(
        f"import os as _os, time as _time\n_until = _time.time() + {GATE_WAIT}\n"
        f"while not _os.path.exists({str(gate)!r}) and _time.time() < _until:\n"
        "    _time.sleep(0.05)\n\n" + solution
    )
    settings = tmp_path / "settings.toml"
    settings.write_text(
        QUICK_SETTINGS.replace("import_seconds = 3.0", "import_seconds = 200.0").replace(
            "total_seconds = 20.0", "total_seconds = 240.0"
        )
    )
    return {"class": folder, "gate": gate, "settings": settings, "out": tmp_path / "out"}


def _start_and_wait_for_results(command: list[str], out: Path) -> subprocess.Popen[str]:
    process = subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=like_a_terminal,
    )
    deadline = time.monotonic() + 60
    while not list(out.glob("*/.key")):
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, "no result appeared within a minute"
        time.sleep(0.05)
    return process


def _rows_but(path: Path, left_out: set[str]) -> list[dict[str, str]]:
    return [row for row in _rows(path) if row["submission"] not in left_out]


@pytest.mark.slow
def test_kill_9_then_rerun_gives_the_uninterrupted_gradebook(
    classroom: dict[str, Path], gated_class: dict[str, Path]
) -> None:
    out, settings = gated_class["out"], gated_class["settings"]
    process = _start_and_wait_for_results(batch_command(gated_class["class"], out, settings), out)
    # Freeze it first so its sandboxes can be listed, then kill -9; the sandboxes run in
    # sessions of their own, so they are ended by their ids here (the test's own cleanup).
    process.send_signal(signal.SIGSTOP)
    sandboxes = _children(process.pid)
    process.kill()
    process.wait()
    for child in sandboxes:
        try:
            os.killpg(child, signal.SIGKILL)
        except ProcessLookupError:
            pass
    kept = len(list(out.glob("*/.key")))
    assert 1 <= kept < 12 and not (out / "gradebook.csv").exists()
    assert not (out / "gated_113" / ".key").exists()  # the gate is still closed
    gated_class["gate"].touch()
    done = batch_cli(gated_class["class"], out, settings)
    assert done.returncode == 0, done.stderr
    assert planned(done.stdout) == (12 - kept, kept)
    rows = {row["submission"]: row for row in _rows(out / "gradebook.csv")}
    assert rows["gated_113"]["score"] == "100"
    for name in ("gradebook.csv", "gradebook-checks.csv"):
        # Every student both classes share has the row of the uninterrupted run.
        assert _rows_but(out / name, {"gated_113"}) == _rows_but(
            classroom["out"] / name, {"zzhang_111"}
        ), name


def test_ctrl_c_stops_cleanly_and_says_how_to_resume(gated_class: dict[str, Path]) -> None:
    out, settings = gated_class["out"], gated_class["settings"]
    process = _start_and_wait_for_results(batch_command(gated_class["class"], out, settings), out)
    sandboxes = _children(process.pid)
    process.send_signal(signal.SIGINT)
    stdout, stderr = process.communicate(timeout=30)
    assert process.returncode == 130, stderr
    assert "run the same command again" in stderr
    assert not [
        pid
        for pid in sandboxes
        if Path(f"/proc/{pid}").exists()
        and "Z" not in Path(f"/proc/{pid}/stat").read_text().split()[2]
    ]
    assert list(out.glob("*/.key")) and not (out / "gradebook.csv").exists()


def test_a_zip_of_the_class_folder(tmp_path: Path) -> None:
    folder = tmp_path / "class"
    folder.mkdir()
    shutil.copy(
        Path(__file__).parents[1] / "examples" / "complete" / "single_file.py",
        folder / "smithjohn_101_5001_micrograd.py",
    )
    (folder / "alice").mkdir()
    (folder / "__MACOSX").mkdir()
    (folder / "__MACOSX" / "._x").write_text("junk")
    archive = zip_class(folder, tmp_path / "class.zip")
    done = batch_cli(archive, tmp_path / "out", settings_file(tmp_path), "--steps", "1")
    assert done.returncode == 0, done.stderr
    rows = {r["submission"]: r for r in _rows(tmp_path / "out" / "gradebook.csv")}
    assert set(rows) == {"alice", "smithjohn_101"}
    assert rows["smithjohn_101"]["score"] == "20" and rows["smithjohn_101"]["step_2"] == ""
    assert rows["alice"]["status"] == "rejected"


def test_out_inside_the_class_folder_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "class"
    folder.mkdir()
    (folder / "alice.py").write_text("x = 1\n")
    done = batch_cli(folder, folder / "results", settings_file(tmp_path))
    assert done.returncode == 2 and "inside one another" in done.stderr


# ------------------------------------------------------------------ in-process, fake grading


def _passing(request: GradeRequest, **_: Any) -> GradeResult:
    exercise, rubric = load_exercise(), load_rubric(load_exercise())
    steps = tuple(
        StepResult(
            step,
            rubric.steps[step].title,
            tuple(
                CheckResult(
                    c.id,
                    rubric.entry(step, c.id).title,
                    "passed",
                    rubric.entry(step, c.id).points,
                    rubric.entry(step, c.id).points,
                    "visible",
                    "Passed.",
                )
                for c in exercise.steps_checks((step,))
            ),
        )
        for step in STEPS
    )
    return GradeResult(
        submission=request.name or "",
        status="graded",
        message="ok",
        seed=request.seed or 0,
        sandbox="local",
        steps=steps,
        duration=0.01,
    )


class _Recorder:
    def __init__(self, on_finish: Callable[[Done], None] | None = None) -> None:
        self.done: list[Done] = []
        self.on_finish = on_finish

    def planned(self, to_grade: int, up_to_date: int, reasons: dict[str, int]) -> None:
        self.plan = (to_grade, up_to_date)
        self.reasons = reasons

    def finished(self, done: Done) -> None:
        self.done.append(done)
        if self.on_finish:
            self.on_finish(done)


def _small_class(tmp_path: Path, count: int = 6) -> Path:
    folder = tmp_path / "class"
    folder.mkdir()
    for index in range(count):
        (folder / f"student{index:02d}.py").write_text(f"# {index}\n")
    return folder


def _run(tmp_path: Path, progress: _Recorder, jobs: int = 2) -> Any:
    exercise = load_exercise()
    sandbox = stoppable(LocalSandbox(exercise))
    try:
        return run_batch(
            BatchRequest(_small_class(tmp_path), tmp_path / "out", jobs, SEED),
            exercise=exercise,
            rubric=load_rubric(exercise),
            sandbox=sandbox,
            settings=load_settings(),
            progress=progress,
        )
    finally:
        sandbox.close()


def test_an_unexpected_error_on_one_submission_is_its_result(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def grade(request: GradeRequest, **kwargs: Any) -> GradeResult:
        if request.name == "student03":
            raise RuntimeError("boom")
        return _passing(request)

    monkeypatch.setattr(batch_module, "grade_submission", grade)
    summary = _run(tmp_path, _Recorder())
    assert summary.complete and summary.graded_now == 6 and summary.rejected == 1
    rows = {r["submission"]: r for r in _rows(tmp_path / "out" / "gradebook.csv")}
    assert rows["student03"]["status"] == "rejected"
    assert (
        "the grader failed on this submission (RuntimeError: boom)" in rows["student03"]["message"]
    )
    # The grader's fault, not the student's: said in the gradebook and in results.json.
    assert rows["student03"]["cause"] == "grader"
    results = json.loads((tmp_path / "out" / "student03" / "results.json").read_text())
    assert results["cause"] == "grader"
    assert rows["student04"]["score"] == "100" and rows["student04"]["cause"] == ""


def test_a_sandbox_failure_is_retried_by_the_next_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def grade(request: GradeRequest, **kwargs: Any) -> GradeResult:
        if request.name == "student02":
            raise SandboxError("the engine went away")
        return _passing(request)

    monkeypatch.setattr(batch_module, "grade_submission", grade)
    summary = _run(tmp_path, _Recorder())
    assert summary.retry == 1 and summary.graded_now == 5
    assert read_key(tmp_path / "out" / "student02") is None  # so a rerun grades it again
    monkeypatch.setattr(batch_module, "grade_submission", _passing)
    shutil.rmtree(tmp_path / "class")
    progress = _Recorder()
    _run(tmp_path, progress)
    assert progress.plan == (1, 5)


def test_the_batch_stops_when_the_sandbox_keeps_failing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def grade(request: GradeRequest, **kwargs: Any) -> GradeResult:
        raise SandboxError("no engine")

    monkeypatch.setattr(batch_module, "grade_submission", grade)
    summary = _run(tmp_path, _Recorder(), jobs=1)
    assert summary.stopped and "in a row" in summary.stopped
    assert not (tmp_path / "out" / "gradebook.csv").exists()


def test_interrupt_keeps_finished_results_and_writes_no_gradebook(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(batch_module, "grade_submission", _passing)

    def interrupt(done: Done) -> None:
        raise KeyboardInterrupt

    summary = _run(tmp_path, _Recorder(interrupt), jobs=1)
    assert summary.interrupted and not summary.complete
    assert 1 <= len(list((tmp_path / "out").glob("*/.key"))) < 6
    assert not (tmp_path / "out" / "gradebook.csv").exists()


def test_stop_all_kills_runs_in_flight_and_refuses_new_ones(tmp_path: Path) -> None:
    from grader.sandbox.base import SandboxJob

    exercise = load_exercise()
    sandbox = stoppable(LocalSandbox(exercise))
    assert sandbox.name == "local"
    workspace = tmp_path / "ws"
    workspace.mkdir()
    (workspace / "value.py").write_text("while True:\n    pass\n")
    job = {
        "seed": 1,
        "checks": ["add_two_values"],
        "files": ["test_step1_operators.py"],
        "classes": {"Value": "value"},
        "poisoned": [],
    }
    execution = sandbox.start(SandboxJob(workspace, job, load_settings().limits, 60))
    started = time.monotonic()
    sandbox.stop_all()
    status = execution.finish()
    assert status.code == -signal.SIGKILL and time.monotonic() - started < 10
    with pytest.raises(SandboxError):
        sandbox.start(SandboxJob(workspace, job, load_settings().limits, 60))
    sandbox.close()


def test_seed_is_stored_reused_and_overridden(tmp_path: Path) -> None:
    first = resolve_seed(tmp_path, None)
    assert resolve_seed(tmp_path, None) == first
    assert resolve_seed(tmp_path, 7) == 7
    assert resolve_seed(tmp_path, None) == 7
    assert json.loads((tmp_path / "batch.json").read_text())["seed"] == 7


def test_the_key_changes_with_everything_a_result_depends_on(tmp_path: Path) -> None:
    exercise, settings = load_exercise(), load_settings()
    base = batch_fingerprint(exercise, settings, seed=1, sandbox="docker", steps=STEPS)
    assert changed(base, dict(base)) == []
    assert changed(
        base, batch_fingerprint(exercise, settings, seed=2, sandbox="docker", steps=STEPS)
    ) == ["seed"]
    assert changed(
        base, batch_fingerprint(exercise, settings, seed=1, sandbox="local", steps=STEPS)
    ) == ["sandbox"]
    quicker = load_settings(settings_file(tmp_path))
    assert "settings" in changed(
        base, batch_fingerprint(exercise, quicker, seed=1, sandbox="docker", steps=STEPS)
    )
    assert changed(None, base) == ["new"]


def test_failures_group_without_their_numbers() -> None:
    one = normalize_failure("Look at Value.__mul__. x: expected 1.23, got 4.5. Inputs: a = 1")
    two = normalize_failure("Look at Value.__mul__. x: expected 2.2, got -1.0e-3. Inputs: b")
    assert one == two == "Look at Value.__mul__. x: expected #, got #."
    assert normalize_failure("x2w2.grad: expected 3") == "x2w2.grad: expected #"


# ------------------------------------------------------------------ the Docker backend


def _docker_class(tmp_path: Path) -> Path:
    folder = tmp_path / "class"
    folder.mkdir()
    complete = Path(__file__).parents[1] / "examples" / "complete"
    shutil.copy(complete / "single_file.py", folder / "a_complete.py")
    value = (complete / "loose_files" / "value.py").read_text()
    (folder / "b_hangs.py").write_text("while True:\n    pass\n\n" + value)
    shutil.copy(complete / "single_file.py", folder / "c_complete.py")
    return folder


def _docker_run(tmp_path: Path, sandbox: Any, progress: _Recorder) -> Any:
    exercise = load_exercise()
    request = BatchRequest(_docker_class(tmp_path), tmp_path / "out", 2, SEED, (1,))
    # Not closed here: the session's Docker sandbox is shared with other tests.
    return run_batch(
        request,
        exercise=exercise,
        rubric=load_rubric(exercise),
        sandbox=stoppable(sandbox),
        progress=progress,
        settings=load_settings(settings_file(tmp_path)),
    )


@pytest.mark.docker
def test_docker_batch_grades_in_parallel(
    docker_sandbox: Any, docker_clean_host: Path, tmp_path: Path
) -> None:
    summary = _docker_run(tmp_path, docker_sandbox, _Recorder())
    assert summary.complete and summary.graded_now == 3
    rows = {r["submission"]: r for r in _rows(tmp_path / "out" / "gradebook.csv")}
    assert rows["a_complete"]["score"] == rows["c_complete"]["score"] == "20"
    # Its endless loop (at the top of a single file) was left out and its class graded.
    assert rows["b_hangs"]["score"] == "20"
    results = json.loads((tmp_path / "out" / "a_complete" / "results.json").read_text())
    assert results["sandbox"] == "docker"
    assert read_key(tmp_path / "out" / "a_complete")["sandbox"] == "docker"  # type: ignore[index]


@pytest.mark.docker
def test_docker_interrupt_removes_the_containers_in_flight(
    docker_sandbox: Any, docker_clean_host: Path, tmp_path: Path
) -> None:
    def interrupt(done: Done) -> None:
        raise KeyboardInterrupt

    started = time.monotonic()
    summary = _docker_run(tmp_path, docker_sandbox, _Recorder(interrupt))
    assert summary.interrupted
    assert time.monotonic() - started < 15  # the hanging one was killed, not waited for
    assert read_key(tmp_path / "out" / "a_complete") is not None
    assert read_key(tmp_path / "out" / "b_hangs") is None
    # docker_clean_host then checks that no container or temporary file is left behind.


def test_a_file_name_that_is_not_utf8_does_not_stop_the_batch(tmp_path: Path) -> None:
    folder = tmp_path / "class"
    folder.mkdir()
    single = Path(__file__).parents[1] / "examples" / "complete" / "single_file.py"
    (folder / "alice.py").write_bytes(single.read_bytes())
    with open(os.fsencode(folder) + b"/caf\xe9.py", "wb") as handle:
        handle.write(single.read_bytes())
    done = batch_cli(folder, tmp_path / "out", settings_file(tmp_path), "--steps", "1")
    assert done.returncode == 0, done.stderr
    rows = {r["submission"]: r for r in _rows(tmp_path / "out" / "gradebook.csv")}
    assert set(rows) == {"alice", "caf"} and rows["alice"]["score"] == "20"
    (tmp_path / "out" / "gradebook.csv").read_text(encoding="utf-8")  # valid UTF-8 throughout
