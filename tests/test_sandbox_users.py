"""``[local] users``: the local backend runs student code as unprivileged sandbox users.

Real accounts (made with useradd), real privilege drops, real processes: micrograde runs as
root from a venv every user can read, grading a private copy of the exercise, through its
command line (see sandbox_users.py). Needs root; skipped otherwise.
"""

from __future__ import annotations

import json
import re
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import attacks
import pytest
from exercise_paths import REPO
from grading import EXAMPLES
from sandbox_users import Installation, ensure_users, install, require_root, user_processes

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def grader(tmp_path_factory: pytest.TempPathFactory) -> Installation:
    require_root()
    ensure_users()
    return install(tmp_path_factory.mktemp("installation"))


@pytest.fixture
def shared_folder() -> Iterator[Path]:
    """A folder in /tmp that every user can read (mode 755)."""
    folder = Path(tempfile.mkdtemp(prefix="micrograde-test-shared-"))
    folder.chmod(0o755)
    yield folder
    subprocess.run(["rm", "-rf", str(folder)], check=True)


def _uid(name: str) -> int:
    return int(subprocess.run(["id", "-u", name], capture_output=True, text=True).stdout)


def _check(result: dict[str, Any], check_id: str) -> dict[str, Any]:
    (check,) = [c for s in result["steps"] for c in s["checks"] if c["id"] == check_id]
    return check


def _failed(result: dict[str, Any]) -> list[str]:
    return [c["id"] for s in result["steps"] for c in s["checks"] if c["status"] != "passed"]


def test_the_reference_loading_cheat_gets_full_marks_as_root_and_nothing_as_a_sandbox_user(
    grader: Installation,
) -> None:
    cheat = attacks.reference_cheat(grader.home / "cheat", root=str(grader.exercise))
    as_root = grader.grade(cheat, grader.home / "as-root")
    assert as_root["score"] == 100  # what the cheat gets where nothing stops it
    isolated = grader.settings(("micrograde-test1",))
    as_user = grader.grade(cheat, grader.home / "as-user", "--settings", isolated)
    assert as_user["status"] == "graded" and as_user["score"] == 0
    feedback = _check(as_user, "add_two_values")["feedback"]
    assert "importing micrograd.value failed: PermissionError" in feedback
    assert user_processes("micrograde-test1") == []


def test_an_honest_submission_gets_full_marks_as_a_sandbox_user(grader: Installation) -> None:
    settings = grader.settings(("micrograde-test1",))
    submission = attacks.complete(grader.home / "honest")  # private, like every submission
    result = grader.grade(submission, grader.home / "honest-out", "--settings", settings)
    assert result["score"] == 100


def test_each_job_runs_as_its_own_user_and_cannot_read_or_signal_the_other(
    grader: Installation,
) -> None:
    folder = grader.home / "class"
    attacks.neighbour_spy(folder / "spy")
    attacks.slow_honest(folder / "neighbour")
    users = ("micrograde-test1", "micrograde-test2")
    out = grader.home / "class-out"
    done = grader.run(
        "batch", folder, "--out", out, "--jobs", "2", "--sandbox", "local",
        "--settings", grader.settings(users),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert json.loads((out / "neighbour" / "results.json").read_text())["score"] == 100
    spy = json.loads((out / "spy" / "results.json").read_text())
    assert _failed(spy) == [attacks.ONCE_CHECK]
    report = _check(spy, attacks.ONCE_CHECK)["feedback"]
    ids = re.search(r"^.*?uid=(\d+) .*signal neighbour uid=(\d+): (\w+)", report)
    assert ids is not None, report
    assert {int(ids[1]), int(ids[2])} == {_uid(name) for name in users}
    assert ids[3] == "PermissionError"  # it may not even ask whether the other is alive
    assert "groups=[]" in report
    assert "home: mode 700 mine True" in report and "tmp: mode 700 mine True" in report
    assert "harness writable: False" in report and "workspace writable: False" in report
    assert "neighbours: 1;" in report
    assert "list neighbour: PermissionError" in report
    assert "read neighbour: PermissionError" in report


def test_processes_and_scratch_files_of_the_sandbox_user_do_not_outlive_its_run(
    grader: Installation,
) -> None:
    submission = attacks.leftovers(grader.home / "leftovers")
    settings = grader.settings(("micrograde-test1",))
    result = grader.grade(submission, grader.home / "leftovers-out", "--settings", settings)
    report = _check(result, attacks.ONCE_CHECK)["feedback"]
    left = re.search(r"left file=(\S+) pid=(\d+)", report)
    assert left is not None, report  # the file was written, the sleeper started
    assert not Path(left.group(1)).exists()
    try:
        cmdline = Path(f"/proc/{left.group(2)}/cmdline").read_bytes()
    except OSError:
        cmdline = b""
    assert b"mg-sleeper" not in cmdline
    assert user_processes("micrograde-test1") == []


def _refused(done: subprocess.CompletedProcess[str], *needles: str) -> None:
    assert done.returncode == 2, done.stderr
    for needle in needles:
        assert needle in done.stderr


def test_a_readable_reference_is_refused_before_grading(grader: Installation) -> None:
    # The checkout's own exercise: its reference is readable by everybody here.
    done = subprocess.run(
        [str(grader.python), "-m", "grader", "grade", str(EXAMPLES / "complete" / "package"),
         "--sandbox", "local", "--out", str(grader.home / "never"),
         "--settings", str(grader.settings(("micrograde-test1",)))],
        capture_output=True, text=True, cwd=grader.home,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(grader.home / "package"),
             "MICROGRADE_EXERCISE": str(REPO)},
    )  # fmt: skip
    _refused(done, f"micrograde-test1 can read {REPO / 'reference'}", "chmod -R go-rwx")
    assert not (grader.home / "never" / "results.json").exists()


def test_a_submission_class_or_output_folder_readable_by_sandbox_users_is_refused(
    grader: Installation, shared_folder: Path
) -> None:
    settings = grader.settings(("micrograde-test1", "micrograde-test2"))
    (shared_folder / "class").mkdir()
    attacks.complete(shared_folder / "class" / "alice")
    done = grader.run(
        "batch", shared_folder / "class", "--out", grader.home / "out", "--jobs", "1",
        "--sandbox", "local", "--settings", settings,
    )  # fmt: skip
    _refused(done, f"can read {shared_folder / 'class'} (the class folder)")
    (grader.home / "class-2").mkdir()
    (shared_folder / "out").mkdir(mode=0o755)
    done = grader.run(
        "batch", grader.home / "class-2", "--out", shared_folder / "out", "--jobs", "1",
        "--sandbox", "local", "--settings", settings,
    )  # fmt: skip
    _refused(done, f"can read {shared_folder / 'out'} (the output folder)")
    done = grader.run(
        "grade", shared_folder / "class" / "alice", "--out", grader.home / "out",
        "--sandbox", "local", "--settings", settings,
    )  # fmt: skip
    _refused(done, f"can read {shared_folder / 'class' / 'alice'} (the submission)")


def test_a_new_output_folder_is_made_private(grader: Installation, shared_folder: Path) -> None:
    out = shared_folder / "new" / "results"
    settings = grader.settings(("micrograde-test1",))
    submission = attacks.complete(grader.home / "for-new-out")
    assert grader.grade(submission, out, "--settings", settings)["score"] == 100
    assert out.stat().st_mode & 0o077 == 0


def test_an_interpreter_the_sandbox_user_cannot_run_is_refused(grader: Installation) -> None:
    # micrograde's development venv: its Python lies under /root, which others cannot enter.
    done = subprocess.run(
        [str(REPO / ".venv" / "bin" / "python"), "-m", "grader", "grade",
         str(EXAMPLES / "complete" / "package"), "--sandbox", "local",
         "--out", str(grader.home / "never"),
         "--settings", str(grader.settings(("micrograde-test1",)))],
        capture_output=True, text=True, cwd=grader.home,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(grader.home / "package"),
             "MICROGRADE_EXERCISE": str(grader.exercise)},
    )  # fmt: skip
    if not Path("/root").stat().st_mode & 0o001:
        _refused(done, "micrograde-test1 cannot run", "every sandbox user can read")
    else:  # a machine where everybody may enter /root: the interpreter works
        assert done.returncode == 0, done.stderr


@pytest.mark.parametrize(
    ("users", "options", "problem"),
    [
        (("nobody-here-mg",), (), "there is no user 'nobody-here-mg'"),
        (("root",), (), "'root' is root or in root's group"),
        (("micrograde-test1", "micrograde-test2"), ("--jobs", "3"), "--jobs 3 needs 3 sandbox"),
    ],
    ids=["unknown", "root", "more-jobs-than-users"],
)
def test_sandbox_users_that_cannot_work_are_refused(
    grader: Installation, users: tuple[str, ...], options: tuple[str, ...], problem: str
) -> None:
    (grader.home / "empty-class").mkdir(exist_ok=True)
    done = grader.run(
        "batch", grader.home / "empty-class", "--out", grader.home / "refused-out",
        "--sandbox", "local", "--settings", grader.settings(users), *options,
    )  # fmt: skip
    _refused(done, problem)
