"""Real sandbox users, and a micrograde they can run, for the tests of ``[local] users``.

The accounts are made with ``useradd`` (idempotently; root only). micrograde's development
venv lives where other users cannot enter (its Python is under /root), so these tests build
a virtual environment of Debian's python3.11 under /var/tmp/micrograde-tests, which every
user can enter, with micrograde's dependencies from the wheels
``scripts/gradescope-test-deps.sh`` downloads; the grader itself runs from a private copy
of ``grader/`` on PYTHONPATH (a checkout the sandbox user could read holds the reference),
grading a private copy of the exercise (``MICROGRADE_EXERCISE``).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from exercise_paths import REPO

USERS = ("micrograde-test1", "micrograde-test2")
SYSTEM_PYTHON = "/usr/bin/python3.11"
WHEELS = REPO / "build" / "gradescope" / "wheels"
VENVS = Path("/var/tmp/micrograde-tests")
NEW_USER = ["useradd", "--system", "--user-group", "--no-create-home"]


def require_root() -> None:
    if os.geteuid() != 0:
        pytest.skip("switching to sandbox users needs root")
    if not Path(SYSTEM_PYTHON).is_file():
        pytest.skip(f"no {SYSTEM_PYTHON} for an interpreter every user can run")


def ensure_users() -> tuple[str, ...]:
    for name in USERS:
        if subprocess.run(["id", "-u", name], capture_output=True).returncode != 0:
            subprocess.run(
                [*NEW_USER, "--shell", "/usr/sbin/nologin", name], check=True, capture_output=True
            )
    return USERS


def dependencies() -> list[str]:
    with open(REPO / "pyproject.toml", "rb") as handle:
        return list(tomllib.load(handle)["project"]["dependencies"])


def readable_venv() -> Path:
    """A venv of Debian's Python with micrograde's dependencies, that any user can run."""
    subprocess.run(
        [str(REPO / "scripts" / "gradescope-test-deps.sh")], check=True, capture_output=True
    )
    wheels = sorted(p.name for p in WHEELS.glob("*.whl"))
    key = hashlib.sha256(json.dumps([SYSTEM_PYTHON, dependencies(), wheels]).encode())
    venv = VENVS / f"venv-{key.hexdigest()[:12]}"
    if (venv / "ready").is_file():
        return venv
    VENVS.mkdir(parents=True, exist_ok=True)
    VENVS.chmod(0o755)
    scratch = Path(tempfile.mkdtemp(prefix="building-", dir=VENVS))
    subprocess.run([SYSTEM_PYTHON, "-m", "venv", "--without-pip", scratch], check=True)
    subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(scratch / "bin" / "python"), "install"]
        + ["--quiet", "--no-index", "--find-links", str(WHEELS), *dependencies()],
        check=True,
        capture_output=True,
    )
    scratch.chmod(0o755)
    (scratch / "ready").touch()
    try:
        scratch.rename(venv)
    except OSError:  # built meanwhile by another run: use that one
        shutil.rmtree(scratch, ignore_errors=True)
    return venv


@dataclass(frozen=True)
class Installation:
    """micrograde as course staff would run it: root, a venv users can read, private data."""

    python: Path
    home: Path  # private (0700): the grader's copy, the exercise, settings, outputs

    @property
    def exercise(self) -> Path:
        return self.home / "exercise"

    def settings(self, users: tuple[str, ...]) -> Path:
        """A settings file naming ``users`` as the sandbox users."""
        path = self.home / f"settings-{'-'.join(users)}.toml"
        path.write_text(f"[local]\nusers = {json.dumps(list(users))}\n")
        return path

    def run(self, *args: str | Path, timeout: float = 180) -> subprocess.CompletedProcess[str]:
        env = {
            "PATH": "/usr/local/bin:/usr/bin:/bin",
            "LANG": "C.UTF-8",
            "PYTHONPATH": str(self.home / "package"),
            "MICROGRADE_EXERCISE": str(self.exercise),
        }
        return subprocess.run(
            [str(self.python), "-m", "grader", *map(str, args)],
            capture_output=True,
            text=True,
            env=env,
            cwd=self.home,
            timeout=timeout,
        )

    def grade(self, submission: Path, out: Path, *options: str | Path) -> dict[str, Any]:
        done = self.run("grade", submission, "--sandbox", "local", "--out", out, *options)
        assert done.returncode in (0, 1), done.stderr
        result: dict[str, Any] = json.loads((out / "results.json").read_text())
        return result


def install(home: Path) -> Installation:
    """A private copy of the grader and of the exercise (its secrets locked) in ``home``."""
    home.chmod(0o700)
    shutil.copytree(REPO / "grader", home / "package" / "grader", ignore=_no_bytecode)
    for part in ("reference", "rubrics", "tests/steps"):
        shutil.copytree(REPO / part, home / "exercise" / part, ignore=_no_bytecode)
    return Installation(readable_venv() / "bin" / "python", home)


def _no_bytecode(folder: str, names: list[str]) -> list[str]:
    return [name for name in names if name == "__pycache__"]


def user_processes(name: str) -> list[int]:
    from grader.sandbox.cleanup import user_processes as of_uid

    return of_uid(int(subprocess.run(["id", "-u", name], capture_output=True).stdout))
