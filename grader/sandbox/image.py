"""The sandbox image: its content-addressed tag, and how to build it without a registry.

The tag is ``micrograde-sandbox:<grader version>-<12 hex digits>``, the digits hashing
everything that decides what runs inside: the harness bundle (harness, staged tests,
pytest.ini), the Dockerfile, the pinned versions of pytest and pytest-json-report, and the
packages course staff allow (``[sandbox] packages`` in the settings, sorted). Change any of
them and the grader asks for an image that does not exist yet, so a stale harness (or a
missing package) is never graded with; ``micrograde sandbox build`` (with the same
``--settings``) makes the missing one.

The build context is assembled in a temporary directory (see docs/docker.md):

    Dockerfile   grader/sandbox/image/Dockerfile (its base is the build argument BASE)
    wheels/      pip, pytest, pytest-json-report and the allowed packages, as wheels the
                 *host* downloaded, and packages.txt (the allowed packages, one a line)
    bundle/      grader.sandbox.bundle.write_bundle, byte-compiled (see _compile_bundle)

Where no container registry answers, the base is made from Debian packages by
``grader/sandbox/image/build-base-image.sh`` (debootstrap + docker import). Nothing here runs at
grading time: grading only looks the tag up, it never builds or pulls.
"""

from __future__ import annotations

import compileall
import hashlib
import importlib.metadata
import json
import os
import py_compile
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from grader import __version__
from grader.errors import SandboxImageError
from grader.exercise import Exercise
from grader.sandbox.bundle import bundle_digest, write_bundle

DOCKERFILE = Path(__file__).with_name("image") / "Dockerfile"
REPOSITORY = "micrograde-sandbox"
DEFAULT_BASE = "python:3.11-slim"
OFFLINE_BASE = "micrograde-base:bookworm"
# Both bases carry CPython 3.11 (the official slim image and Debian bookworm's python3).
IMAGE_PYTHON = "3.11"
PINNED = ("pytest", "pytest-json-report")
BASE_SCRIPT = Path(__file__).with_name("image") / "build-base-image.sh"

Say = Callable[[str], None]


def pinned_requirements() -> tuple[str, ...]:
    """pytest and its JSON plugin at the host's versions, so both sides behave alike."""
    try:
        return tuple(f"{name}=={importlib.metadata.version(name)}" for name in PINNED)
    except importlib.metadata.PackageNotFoundError as exc:
        raise SandboxImageError(
            f"{exc.name} is not installed on the host: reinstall micrograde (pip install -e .)"
        ) from exc


def content_hash(exercise: Exercise, packages: Sequence[str] = ()) -> str:
    digest = hashlib.sha256()
    digest.update(bundle_digest(exercise).encode() + b"\0")
    digest.update(hashlib.sha256(DOCKERFILE.read_bytes()).digest())
    digest.update("\0".join(pinned_requirements()).encode())
    if packages:
        digest.update(b"\0packages\0" + "\0".join(sorted(packages)).encode())
    return digest.hexdigest()[:12]


def expected_tag(exercise: Exercise, packages: Sequence[str] = ()) -> str:
    """The image this grader (its version, harness, tests, pins and allowed packages) must
    run in."""
    return f"{REPOSITORY}:{__version__}-{content_hash(exercise, packages)}"


@dataclass(frozen=True)
class BuildPlan:
    tag: str
    base: str
    offline: bool
    packages: tuple[str, ...] = ()


def plan_build(
    client: Any,
    exercise: Exercise,
    base: str | None,
    offline: bool,
    say: Say,
    packages: Sequence[str] = (),
) -> BuildPlan:
    """Decide which base to build on, making the offline base when it is needed."""
    tag = expected_tag(exercise, packages)
    packages = tuple(packages)
    if offline:
        _ensure_offline_base(client, say)
        return BuildPlan(tag, OFFLINE_BASE, True, packages)
    wanted = base or DEFAULT_BASE
    if _present(client, wanted) or _registry_answers(client, wanted):
        return BuildPlan(tag, wanted, False, packages)
    if base:
        raise SandboxImageError(
            f"the base image {base} is not on this machine and no registry answers: "
            f"load it (docker load) or build offline with `micrograde sandbox build --offline`"
        )
    say(f"no registry answers for {DEFAULT_BASE}: building offline on {OFFLINE_BASE}")
    _ensure_offline_base(client, say)
    return BuildPlan(tag, OFFLINE_BASE, True, packages)


def build_image(client: Any, exercise: Exercise, plan: BuildPlan, say: Say) -> str:
    """Build ``plan.tag`` from a fresh context; return the image id."""
    from docker.errors import APIError, BuildError

    with tempfile.TemporaryDirectory(prefix="micrograde-build-") as scratch:
        context = Path(scratch)
        download_wheels(context / "wheels", say, plan.packages)
        (context / "wheels" / "packages.txt").write_text(
            "".join(f"{package}\n" for package in plan.packages), encoding="utf-8"
        )
        shutil.copyfile(DOCKERFILE, context / "Dockerfile")
        _compile_bundle(write_bundle(exercise, context / "bundle"))
        if expected_tag(exercise, plan.packages) != plan.tag:  # the tag names the context
            raise SandboxImageError(
                "the harness, staged tests or Dockerfile changed while "
                "the build context was made: run the build again"
            )
        say(f"building {plan.tag} on {plan.base}")
        try:
            image, _log = client.images.build(
                path=str(context),
                tag=plan.tag,
                buildargs={"BASE": plan.base},
                # Not "micrograde=1": containers inherit image labels, and that one marks
                # the containers a grader started (`sandbox clean` removes them).
                labels={
                    "micrograde.hash": plan.tag.rsplit("-", 1)[-1],
                    "micrograde.packages": json.dumps(sorted(plan.packages)),
                },
                rm=True,
                forcerm=True,
                pull=False,
            )
        except BuildError as exc:
            tail = " / ".join(
                str(e.get("stream", e.get("error", ""))).strip() for e in list(exc.build_log)[-5:]
            )
            raise SandboxImageError(f"docker build failed: {exc.msg} ({tail})") from exc
        except APIError as exc:
            raise SandboxImageError(f"docker build failed: {exc.explanation}") from exc
    return str(image.id)


def download_wheels(destination: Path, say: Say, packages: Sequence[str] = ()) -> None:
    """``pip download`` of the pinned wheels and the allowed packages (with everything they
    need) for the image's Python: wheels only, never an sdist (the image has no compiler)."""
    destination.mkdir(parents=True, exist_ok=True)
    requirements = ["pip", *pinned_requirements(), *packages]
    say(f"downloading wheels: {' '.join(requirements)}")
    # The same flags as scripts/download-wheels.sh: wheels for the image's interpreter,
    # whatever runs this, through this machine's pip configuration (index, find-links).
    command = [
        sys.executable,
        "-m",
        "pip",
        "download",
        "--disable-pip-version-check",
        "--no-input",
        "--progress-bar",
        "off",
        "--dest",
        str(destination),
        "--only-binary=:all:",
        "--implementation",
        "cp",
        "--python-version",
        IMAGE_PYTHON,
        "--abi",
        "cp311",
        "--abi",
        "abi3",
        "--abi",
        "none",
        "--platform",
        "manylinux_2_28_x86_64",
        "--platform",
        "manylinux_2_17_x86_64",
        "--platform",
        "manylinux2014_x86_64",
        "--platform",
        "any",
        *requirements,
    ]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        tail = "\n".join(done.stderr.strip().splitlines()[-8:])
        allowed = f" (and the allowed packages: {', '.join(packages)})" if packages else ""
        raise SandboxImageError(
            f"pip download failed: the wheels for the image{allowed} are downloaded on this "
            "machine as wheels for CPython 3.11 on Linux x86_64, so it needs a package index "
            f"(PyPI, or a mirror set with PIP_INDEX_URL) that has them:\n{tail}"
        )


def _compile_bundle(bundle: Path) -> None:
    # The sandbox never writes bytecode (read-only root, -B), so without this the harness
    # is compiled again at every container start. unchecked-hash: valid whatever the file
    # times become inside the image.
    compileall.compile_dir(
        bundle, quiet=1, invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH
    )


def _present(client: Any, name: str) -> bool:
    from docker.errors import ImageNotFound

    try:
        client.images.get(name)
    except ImageNotFound:
        return False
    return True


def _registry_answers(client: Any, name: str) -> bool:
    from docker.errors import APIError

    try:
        client.images.get_registry_data(name)
    except APIError:
        return False
    return True


def _ensure_offline_base(client: Any, say: Say) -> None:
    if _present(client, OFFLINE_BASE):
        return
    script = BASE_SCRIPT
    say(f"making {OFFLINE_BASE} with {script.name} (debootstrap; about a minute)")
    done = subprocess.run(
        ["bash", str(script)],
        env=dict(os.environ, BASE_IMAGE=OFFLINE_BASE),
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        tail = "\n".join(done.stderr.strip().splitlines()[-10:])
        raise SandboxImageError(
            f"{script.name} failed (it needs root, debootstrap and "
            f"network access to a Debian mirror):\n{tail}"
        )


def remove_stale_images(client: Any, keep: str) -> list[str]:
    """Untag (and so delete) every micrograde-sandbox image but ``keep``; skip any in use."""
    from docker.errors import APIError

    removed = []
    for image in client.images.list(name=REPOSITORY):
        for tag in image.tags:
            if tag == keep:
                continue
            try:
                client.images.remove(tag)
            except APIError:
                continue  # a container (of a grader still running) uses it
            removed.append(tag)
    return removed
