"""The Docker backend against the real engine: grading, probes, errors, clean-up.

Tests marked ``docker`` need an engine (see ``docker_sandbox`` in conftest.py: they skip
without one unless ``MICROGRADE_REQUIRE_DOCKER=1``). Those that test what happens with
*no* engine or image run everywhere: they point ``DOCKER_HOST`` at nothing, or name an
image that does not exist. Hostile submissions are in test_hostile.py.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from interrupt import like_a_terminal

from grader import __version__
from grader.errors import SandboxUnavailableError
from grader.exercise import load_exercise, read_exercise
from grader.sandbox.base import EOF_MARK
from grader.sandbox.docker import DockerExecution, DockerSandbox
from grader.sandbox.hardening import PYTHON, Spec, new_run_id, this_process
from grader.sandbox.image import expected_tag
from grader.sandbox.probes import probe_static, probe_workspace, reference_markers, wanted
from grader.sandbox.select import open_sandbox
from grader.settings import load_settings

REPO = Path(__file__).resolve().parents[1]
COMPLETE = REPO / "examples" / "complete" / "package"
NO_ENGINE = "unix:///nonexistent/docker.sock"


def micrograde(
    *args: str, env: dict[str, str] | None = None, cwd: Path | None = None, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "grader", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **(env or {})},
        cwd=cwd,
        check=False,
    )


def labelled(api: Any, pid: int) -> list[dict[str, Any]]:
    return list(api.containers(all=True, filters={"label": f"micrograde.pid={pid}"}))


def sleeper(sandbox: DockerSandbox, seconds: float = 120) -> DockerExecution:
    """A container of the production kind that does nothing but sleep (and reads nothing
    of the workspace it is sent)."""
    settings = load_settings()
    spec = Spec(
        sandbox.image,
        [PYTHON, "-I", "-c", f"import time; time.sleep({seconds})"],
        {},
        settings.limits,
        settings.docker.user,
        new_run_id(),
    )
    frame = probe_workspace(settings.limits)
    return DockerExecution(sandbox.api, spec, this_process(), frame, seconds)


# ------------------------------------------------------------------ grading end to end


@pytest.mark.docker
def test_cli_grades_the_complete_example_with_full_marks(
    docker_sandbox: DockerSandbox, docker_clean_host: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    done = micrograde(
        "grade",
        str(COMPLETE),
        "--sandbox",
        "docker",
        "--out",
        str(out),
        env={"TMPDIR": str(docker_clean_host)},
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    result = json.loads((out / "results.json").read_text())
    assert (result["sandbox"], result["score"], result["max_score"]) == ("docker", 100, 100)
    assert "warning" not in done.stderr
    assert [p.name for p in tmp_path.iterdir()] == ["out"]  # nothing beside the output


@pytest.mark.docker
def test_sandbox_check_passes_every_probe() -> None:
    done = micrograde("sandbox", "check")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "FAIL" not in done.stdout
    assert "no reference or rubric visible" in done.stdout


@pytest.mark.docker
def test_the_probe_would_see_reference_text_that_got_in(
    docker_sandbox: DockerSandbox, docker_clean_host: Path
) -> None:
    # The probe searches the container for lines of the reference; hand it a line that
    # *is* in the image (from the harness) to show that a leak would be caught.
    exercise, settings = load_exercise(), load_settings()
    harness_line = "def pytest_collection_modifyitems(config: pytest.Config, items:"
    assert reference_markers(exercise), "the reference has no line of its own to look for"
    want = dict(wanted(exercise, settings), markers=[harness_line])
    results = {r.name: r for r in probe_static(docker_sandbox, settings, want)}
    leak = results["no reference or rubric visible"]
    assert not leak.ok and "/harness/mg_harness/plugin.py" in leak.detail


# ----------------------------------------------------------- engine and image missing


def test_docker_without_engine_exits_3_and_names_the_fix(tmp_path: Path) -> None:
    done = micrograde(
        "grade",
        str(COMPLETE),
        "--sandbox",
        "docker",
        "--out",
        str(tmp_path / "out"),
        env={"DOCKER_HOST": NO_ENGINE},
    )
    assert done.returncode == 3
    assert "no Docker engine answers" in done.stderr
    assert "dockerd --bridge=none --iptables=false" in done.stderr  # how to start one
    assert not (tmp_path / "out").exists()


def test_auto_without_engine_grades_locally_with_a_visible_warning(tmp_path: Path) -> None:
    done = micrograde(
        "grade",
        str(COMPLETE),
        "--sandbox",
        "auto",
        "--out",
        str(tmp_path / "out"),
        env={"DOCKER_HOST": NO_ENGINE},
    )
    assert done.returncode == 0, done.stderr
    assert "warning:" in done.stderr and "NOT a security boundary" in done.stderr
    assert json.loads((tmp_path / "out" / "results.json").read_text())["sandbox"] == "local"


@pytest.mark.docker
def test_docker_without_the_image_exits_3_and_names_the_fix(
    docker_sandbox: DockerSandbox, tmp_path: Path
) -> None:
    settings = tmp_path / "settings.toml"
    settings.write_text('[docker]\nimage = "micrograde-sandbox:not-built-yet"\n')
    done = micrograde(
        "grade",
        str(COMPLETE),
        "--sandbox",
        "docker",
        "--settings",
        str(settings),
        "--out",
        str(tmp_path / "out"),
    )
    assert done.returncode == 3
    assert "micrograde-sandbox:not-built-yet" in done.stderr
    assert "[docker] image" in done.stderr and "micrograde sandbox build" in done.stderr


@pytest.mark.docker
def test_auto_uses_docker_when_engine_and_image_are_there(docker_sandbox: DockerSandbox) -> None:
    opened = open_sandbox("auto", load_exercise(), load_settings())
    try:
        assert (opened.sandbox.name, opened.warning) == ("docker", None)
    finally:
        opened.sandbox.close()


def test_the_image_tag_follows_the_harness(tmp_path: Path) -> None:
    exercise = load_exercise()
    copy = tmp_path / "exercise"
    (copy / "tests").mkdir(parents=True)
    steps = copy / "tests" / "steps"
    steps.mkdir()
    for path in exercise.step_files.values():
        (steps / path.name).write_bytes(path.read_bytes())
    shutil.copytree(exercise.rubrics_dir, copy / "rubrics")
    copied = load_exercise(copy)
    assert expected_tag(copied) == expected_tag(exercise)
    # Which checks are hidden decides what the image holds (their code is left out).
    rubric = copy / "rubrics" / "step_1.toml"
    rubric.write_text(rubric.read_text().replace('visibility = "hidden"', 'visibility = "visible"'))
    assert expected_tag(read_exercise(copy)) != expected_tag(exercise)
    rubric.write_text((exercise.rubrics_dir / "step_1.toml").read_text())
    first = copied.step_files[1]
    first.write_text(first.read_text() + "\n# one more line\n")
    assert expected_tag(read_exercise(copy)) != expected_tag(exercise)
    assert expected_tag(exercise).startswith(f"micrograde-sandbox:{__version__}-")


def test_the_image_tag_follows_the_packages_staff_allow() -> None:
    exercise = load_exercise()
    plain = expected_tag(exercise)
    assert expected_tag(exercise, ["numpy"]) != plain
    assert expected_tag(exercise, ["numpy", "six"]) == expected_tag(exercise, ["six", "numpy"])
    assert expected_tag(exercise, ["numpy>=2"]) != expected_tag(exercise, ["numpy"])
    assert expected_tag(exercise, []) == plain


# ------------------------------------------------------------ kill, finish, clean-up


@pytest.mark.docker
def test_kill_is_immediate_and_idempotent(
    docker_sandbox: DockerSandbox, docker_clean_host: Path
) -> None:
    execution = sleeper(docker_sandbox)
    started = time.monotonic()
    execution.kill()
    execution.kill()
    assert execution.next_line(10) == EOF_MARK
    status = execution.finish()
    execution.kill()  # after finish too
    assert time.monotonic() - started < 5
    assert status.code == 137 and not status.oom_killed


@pytest.mark.docker
def test_finish_removes_everything_even_when_the_engine_call_fails(
    docker_sandbox: DockerSandbox, docker_clean_host: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    execution = sleeper(docker_sandbox)

    def broken_wait(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("the engine said something unexpected")

    monkeypatch.setattr(execution._api, "wait", broken_wait)
    execution.kill()  # so that finish waits for the exit status (and meets the failure)
    with pytest.raises(RuntimeError):
        execution.finish()
    # docker_clean_host asserts that the container and its directory are gone


GRADER = """
from grader import __version__
from grader.errors import SandboxUnavailableError
from grader.exercise import load_exercise
from grader.sandbox.docker import DockerSandbox
from grader.settings import load_settings
from test_docker_sandbox import sleeper

execution = sleeper(DockerSandbox.connect(load_exercise(), load_settings()))
print(execution._id, flush=True)
try:
    execution.next_line(600)
finally:
    execution.finish()
"""


@pytest.fixture
def grader_process(docker_clean_host: Path, tmp_path: Path) -> Iterator[Any]:
    """Start a grader process that runs one sleeping container; yield (process, id)."""
    env = {**os.environ, "TMPDIR": str(docker_clean_host), "PYTHONPATH": str(Path(__file__).parent)}
    process = subprocess.Popen(
        [sys.executable, "-c", GRADER],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
        cwd=tmp_path,
        preexec_fn=like_a_terminal,
    )
    assert process.stdout is not None
    container = process.stdout.readline().strip()
    assert container, "the grader process did not start its container"
    try:
        yield process, container
    finally:
        process.kill()
        process.wait()


@pytest.mark.docker
@pytest.mark.parametrize(
    "signum",
    [signal.SIGTERM, signal.SIGINT, signal.SIGHUP],
    ids=lambda signum: signal.Signals(signum).name,
)
def test_a_grader_stopped_by_a_signal_removes_its_containers(
    docker_sandbox: DockerSandbox, grader_process: Any, signum: int
) -> None:
    process, container = grader_process
    assert [c["Id"] for c in labelled(docker_sandbox.api, process.pid)] == [container]
    process.send_signal(signum)
    process.wait(timeout=30)
    assert labelled(docker_sandbox.api, process.pid) == []


@pytest.mark.docker
def test_sandbox_clean_removes_what_a_killed_grader_left(
    docker_sandbox: DockerSandbox, grader_process: Any, docker_clean_host: Path
) -> None:
    process, container = grader_process
    mine = sleeper(docker_sandbox)  # a grader that is alive: clean must keep its container
    try:
        process.kill()  # SIGKILL: no handler runs
        process.wait()
        assert [c["Id"] for c in labelled(docker_sandbox.api, process.pid)] == [container]
        assert list(docker_clean_host.iterdir()) == []  # a run writes nothing on the host
        done = micrograde("sandbox", "clean", env={"TMPDIR": str(docker_clean_host)})
        assert done.returncode == 0, done.stderr
        assert f"removed container {container[:12]}" in done.stdout
        assert "left to graders still running" in done.stdout
        assert labelled(docker_sandbox.api, process.pid) == []
        assert len(labelled(docker_sandbox.api, os.getpid())) == 1
    finally:
        mine.kill()
        mine.finish()


@pytest.mark.docker
def test_the_next_grader_removes_what_a_killed_grader_left(
    docker_sandbox: DockerSandbox,
    grader_process: Any,
    docker_clean_host: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    process, container = grader_process
    mine = sleeper(docker_sandbox)  # a live grader's container: must survive
    try:
        process.kill()  # SIGKILL: no handler runs
        process.wait()
        monkeypatch.setenv("TMPDIR", str(docker_clean_host))
        monkeypatch.setattr(tempfile, "tempdir", None)
        DockerSandbox.connect(load_exercise(), load_settings()).close()
        assert labelled(docker_sandbox.api, process.pid) == []
        assert len(labelled(docker_sandbox.api, os.getpid())) == 1
    finally:
        mine.kill()
        mine.finish()


@pytest.mark.docker
def test_a_harness_without_its_image_is_refused(
    docker_sandbox: DockerSandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    # As after an edit of a staged test: the tag the grader wants was never built.
    monkeypatch.setattr(
        "grader.sandbox.docker.expected_tag",
        lambda exercise, packages=(): "micrograde-sandbox:0.0.0-000000000000",
    )
    with pytest.raises(SandboxUnavailableError, match="run `micrograde sandbox build`"):
        DockerSandbox.connect(load_exercise(), load_settings())
