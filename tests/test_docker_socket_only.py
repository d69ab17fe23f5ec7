"""The grader in a container that shares nothing with the engine's host but its socket.

As where a worker runs in a container and drives the host's engine through
/var/run/docker.sock, or drives a remote ``DOCKER_HOST``: no folder of the grader exists
where the engine runs, so the workspace must reach each sandbox on its stdin. The grader's
image (tests/socket_image/Dockerfile) is layered on the sandbox image, with micrograde
installed from a wheel built here and the exercise copied in; it is built once and kept
by content. In it, with only the socket mounted, ``micrograde grade --sandbox docker``
grades an example (it loses the checks it loses on the host, and only those) and
``micrograde sandbox check`` passes every hardening probe; afterwards no container of that
grader is left.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from exercise_paths import REPO
from grading import EXAMPLES
from test_examples import MUL_BACKWARD_FAILURES

from grader.sandbox.docker import DockerSandbox
from grader.sandbox.image import pinned_requirements

pytestmark = [pytest.mark.docker, pytest.mark.slow]

SOCKET = "/var/run/docker.sock"
IMAGE = "micrograde-test-socket-grader"
HERE = Path(__file__).with_name("socket_image")
WHEELS = REPO / "build" / "socket-grader" / "wheels"  # dependencies, kept between sessions
EXAMPLE = "bug_mul_backward"
SEED = 7


def run(*command: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False)


def dependency_wheels() -> Path:
    """micrograde's dependencies (pytest pinned as the sandbox image pins it), pip, and
    setuptools (which builds micrograde's wheel: this venv's own is too old alone)."""
    import tomllib

    declared = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["dependencies"]
    pinned = {p.split("==")[0] for p in pinned_requirements()}
    wanted = ["pip", "setuptools>=70.1", *pinned_requirements()]  # setuptools: to build
    wanted += [r for r in declared if r.split(">")[0].split("=")[0] not in pinned]
    stamp = WHEELS / ".stamp"
    if not (stamp.is_file() and stamp.read_text() == " ".join(wanted)):
        fetched = subprocess.run(
            [str(REPO / "scripts" / "download-wheels.sh"), str(WHEELS), *wanted],
            capture_output=True,
            text=True,
            env={**os.environ, "PYTHON": sys.executable},  # pip's own settings too
            check=False,
        )
        assert fetched.returncode == 0, fetched.stderr[-2000:]
        stamp.write_text(" ".join(wanted))
    return WHEELS


def micrograde_wheel(destination: Path, source: Path) -> None:
    """A wheel of this checkout, built from a copy of its sources in ``source`` (so that
    no build/ folder is left in the checkout)."""
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(REPO / name, source / name)
    shutil.copytree(REPO / "grader", source / "grader", ignore=shutil.ignore_patterns("*.pyc"))
    built = run(
        sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-index",
        "--find-links", str(destination), "--wheel-dir", str(destination), str(source),
    )  # fmt: skip
    assert built.returncode == 0, built.stderr[-2000:]


EXERCISE = ("reference", "rubrics", "tests/steps")


def image_tag(sandbox_image: str, wheels: Path) -> str:
    """Content-keyed: the sandbox image's id, the Dockerfile, the dependency wheels, the
    sources of micrograde's wheel, the exercise and the example."""
    inspect = run("docker", "image", "inspect", "-f", "{{.Id}}", sandbox_image)
    digest = hashlib.sha256(inspect.stdout.encode())
    files = [HERE / "Dockerfile", REPO / "pyproject.toml", REPO / "README.md"]
    for folder in (wheels, REPO / "grader", EXAMPLES / EXAMPLE, *(REPO / p for p in EXERCISE)):
        files += sorted(folder.rglob("*"))
    for path in files:
        if path.is_file() and path.suffix != ".pyc" and not path.name.startswith("."):
            digest.update(path.as_posix().encode() + b"\0" + path.read_bytes())
    return f"{IMAGE}:{digest.hexdigest()[:12]}"


@pytest.fixture(scope="session")
def grader_image(docker_sandbox: DockerSandbox, tmp_path_factory: pytest.TempPathFactory) -> str:
    """The grader's image, built when no image has this content yet."""
    wheels = dependency_wheels()
    tag = image_tag(docker_sandbox.image, wheels)
    if run("docker", "image", "inspect", tag).returncode == 0:
        return tag
    scratch = tmp_path_factory.mktemp("socket-grader")
    context = scratch / "context"
    context.mkdir()
    shutil.copy(HERE / "Dockerfile", context / "Dockerfile")
    shutil.copytree(wheels, context / "wheels", ignore=shutil.ignore_patterns(".*"))
    micrograde_wheel(context / "wheels", scratch / "source")
    ignore = shutil.ignore_patterns("__pycache__")
    for part in EXERCISE:
        shutil.copytree(REPO / part, context / "exercise" / part, ignore=ignore)
    shutil.copytree(EXAMPLES / EXAMPLE, context / "examples" / EXAMPLE, ignore=ignore)
    built = run(
        "docker", "build", "-q", "--build-arg", f"SANDBOX={docker_sandbox.image}", "-t", tag,
        str(context),
    )  # fmt: skip
    assert built.returncode == 0, built.stderr[-3000:]
    return tag


def in_grader_container(image: str, script: str) -> tuple[subprocess.CompletedProcess[str], str]:
    """Run ``script`` in a fresh grader container with only the socket mounted; return
    its output and the hostname the grader's containers are labelled with."""
    host = f"mg-socket-{uuid.uuid4().hex[:12]}"
    name = f"{host}-grader"
    created = run(
        "docker",
        "create",
        "--name",
        name,
        "--hostname",
        host,
        "--network",
        "none",
        "-v",
        f"{SOCKET}:{SOCKET}",
        image,
        "sh",
        "-c",
        script,
    )
    assert created.returncode == 0, created.stderr
    try:
        mounts = json.loads(run("docker", "inspect", "-f", "{{json .Mounts}}", name).stdout)
        assert [(m["Source"], m["Destination"]) for m in mounts] == [(SOCKET, SOCKET)]
        return run("docker", "start", "--attach", name), host
    finally:
        run("docker", "rm", "--force", name)


def test_a_grader_with_only_the_engine_socket_grades_with_full_hardening(
    grader_image: str, docker_sandbox: DockerSandbox, tmp_path: Path
) -> None:
    script = (
        f"micrograde grade /opt/examples/{EXAMPLE} --sandbox docker --seed {SEED} "
        "--out /tmp/out >&2 && cat /tmp/out/results.json && echo '\n=====' "
        "&& micrograde sandbox check"
    )
    done, host = in_grader_container(grader_image, script)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    results, _, check = done.stdout.partition("\n=====\n")
    graded = json.loads(results)
    assert (graded["sandbox"], graded["status"]) == ("docker", "graded")
    failing = {
        step["step"]: {c["id"] for c in step["checks"] if c["status"] != "passed"}
        for step in graded["steps"]
    }
    # What the same example loses on the host (test_examples.py), and nothing else.
    assert {k: v for k, v in failing.items() if v} == MUL_BACKWARD_FAILURES
    assert 0 < graded["score"] < graded["max_score"] == 100
    probes = [line for line in check.splitlines() if line.startswith(("pass ", "FAIL "))]
    assert len(probes) == 14 and all(line.startswith("pass ") for line in probes), check
    assert "14 of 14 probes passed" in check
    left = docker_sandbox.api.containers(all=True, filters={"label": f"micrograde.host={host}"})
    assert left == [], "the grader in the container left containers behind"
