"""The ``local`` backend: a subprocess with resource limits, as another user where it can.

For students on their own laptop, machines without a Docker engine, and Gradescope's
container. The harness runs in a fresh run directory with a scrubbed environment, in its
own process group, under rlimits (address space, CPU time, file size, open files, no core
dumps), and the host kills the whole group when time runs out; a last sweep kills any
process that still carries this run's marker in its environment (one that called
``setsid`` to slip out of the group).

As micrograde's own user (the default) it is NOT a security boundary: student code can read
and write whatever that user can. When micrograde runs as root and settings name sandbox
users, each run takes one of them (``users.py``): the harness runs as that unprivileged
account, which can read the interpreter and its own run directory but no secret, under
RLIMIT_NPROC as well, and every process of that account is killed at the end
(``cleanup.py``). It still shares the machine's kernel and network: Docker isolates more.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import uuid
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import IO, ClassVar

from grader.errors import SandboxError
from grader.exercise import Exercise
from grader.sandbox.base import STDERR_TAIL, Execution, ExitStatus, LinePump, Sandbox, SandboxJob
from grader.sandbox.bundle import write_bundle
from grader.sandbox.cleanup import become_subreaper, kill_user, remove_files
from grader.sandbox.users import (
    Private,
    SandboxUser,
    UserPool,
    exercise_secrets,
    secure_run_directory,
    verify,
)
from grader.settings import Limits

# Runs first in the child: apply the limits, then become the harness. (A launcher instead
# of subprocess's preexec_fn, which is unsafe once the grader runs threads.)
_LAUNCHER = """
import json, os, resource, sys
for name, value in json.loads(sys.argv[1]).items():
    resource.setrlimit(getattr(resource, name), (value, value))
os.execv(sys.argv[2], sys.argv[2:])
"""
_MiB = 1 << 20


def _rlimits(limits: Limits, wall_seconds: float, user: SandboxUser | None) -> dict[str, int]:
    rlimits = {
        # Address space, not resident memory: Python reserves more than it touches.
        "RLIMIT_AS": max(limits.memory_mb * 2, 1024) * _MiB,
        "RLIMIT_CPU": int(wall_seconds) + 5,
        "RLIMIT_FSIZE": limits.tmpfs_mb * _MiB,
        "RLIMIT_NOFILE": limits.nofile,
        "RLIMIT_CORE": 0,
    }
    if user is not None:
        # Counted per user, so only where the user is the sandbox's alone.
        rlimits["RLIMIT_NPROC"] = limits.pids
    return rlimits


class LocalSandbox(Sandbox):
    name: ClassVar[str] = "local"
    is_security_boundary: ClassVar[bool] = False

    def __init__(
        self,
        exercise: Exercise,
        users: Sequence[SandboxUser] = (),
        private: Sequence[Private] = (),
        python: str = sys.executable,
    ) -> None:
        """``users``: run as these (one per concurrent run), after proving that none of
        them can read the exercise's secrets or ``private``; ``python``: the interpreter
        the harness runs with (it needs pytest and pytest-json-report)."""
        self.users = tuple(users)
        self.python = python
        if self.users:
            verify(self.users, python, (*exercise_secrets(exercise), *private))
            become_subreaper()
        self._pool = UserPool(self.users)
        self._cache = Path(tempfile.mkdtemp(prefix="micrograde-bundle-"))
        self._bundle = write_bundle(exercise, self._cache / "harness")

    def start(self, job: SandboxJob) -> LocalExecution:
        user = self._pool.acquire() if self.users else None
        root = None
        try:
            if user is not None:
                _clean_up(user)  # whatever an earlier grader left behind
            root = Path(tempfile.mkdtemp(prefix="micrograde-run-"))
            shutil.copytree(self._bundle, root / "harness")
            shutil.copytree(job.workspace, root / "workspace", symlinks=True)
            for name in ("home", "tmp"):
                (root / name).mkdir()
            if user is not None:
                secure_run_directory(
                    root,
                    user,
                    [root / "harness", root / "workspace"],
                    [root / "home", root / "tmp"],
                )
            return LocalExecution(root, job, self.python, user, self._pool.release)
        except BaseException:
            if root is not None:
                shutil.rmtree(root, ignore_errors=True)
            if user is not None:
                self._pool.release(user)
            raise

    def close(self) -> None:
        shutil.rmtree(self._cache, ignore_errors=True)


class LocalExecution(Execution):
    def __init__(
        self,
        root: Path,
        job: SandboxJob,
        python: str,
        user: SandboxUser | None,
        release: Callable[[SandboxUser], None],
    ) -> None:
        super().__init__(LinePump(job.limits.output_mb * _MiB))
        self._root = root
        self._user, self._release = user, release
        self._marker = uuid.uuid4().hex
        self._stderr = bytearray()
        spec = dict(job.job, workspace=str(root / "workspace"))
        self._proc = subprocess.Popen(
            [
                python,
                "-I",
                "-S",
                "-c",
                _LAUNCHER,
                json.dumps(_rlimits(job.limits, job.wall_seconds, user)),
                python,
                "-I",
                "-B",
                str(root / "harness" / "mg_run.py"),
            ],
            cwd=root / "tmp",
            env=self._environment(spec),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,
            # subprocess switches user itself (no preexec_fn); user= alone would keep
            # root's supplementary groups, hence extra_groups=[].
            user=None if user is None else user.uid,
            group=None if user is None else user.gid,
            extra_groups=None if user is None else [],
            umask=-1 if user is None else 0o077,
        )
        assert self._proc.stdout is not None and self._proc.stderr is not None
        self._threads = [
            self.pump.start(_chunks(self._proc.stdout), self.kill),
            _drain(self._proc.stderr, self._stderr),
        ]

    def _environment(self, spec: dict[str, object]) -> dict[str, str]:
        return {
            "PATH": "/usr/local/bin:/usr/bin:/bin",
            "LANG": "C.UTF-8",
            "HOME": str(self._root / "home"),
            "TMPDIR": str(self._root / "tmp"),
            "PYTHONDONTWRITEBYTECODE": "1",
            "PYTHONUNBUFFERED": "1",
            "OMP_NUM_THREADS": "1",
            "OPENBLAS_NUM_THREADS": "1",
            "MG_JOB": json.dumps(spec),
            "MG_RUN": self._marker,
        }

    def send(self, data: bytes) -> None:
        # On a thread: a harness that does not read (its stdin taken by student code) must
        # not block the host.
        stdin = self._proc.stdin
        assert stdin is not None
        threading.Thread(target=_write_all, args=(stdin, data), daemon=True).start()

    def kill(self) -> None:
        try:
            os.killpg(self._proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        if self._user is not None:  # the leader is Popen's to reap, not ours
            kill_user(self._user.uid, spare=self._proc.pid)

    def finish(self) -> ExitStatus:
        try:
            code = self._proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.kill()
            code = self._proc.wait()
        self.kill()  # the group may outlive its leader
        _sweep(self._marker)
        user = self._user
        survivors = _clean_up(user) if user is not None else 0
        for thread in self._threads:
            thread.join(timeout=5)
        shutil.rmtree(self._root, ignore_errors=True)
        if user is not None:
            self._release(user)
            if survivors:
                raise SandboxError(
                    f"{survivors} processes of the sandbox user {user.name} survived "
                    f"SIGKILL: see `ps -u {user.name}` before grading on"
                )
        return ExitStatus(
            code=code,
            output_exceeded=self.pump.exceeded,
            stderr_tail=self._stderr[-STDERR_TAIL:].decode("utf-8", "replace"),
        )


def _write_all(stream: IO[bytes], data: bytes) -> None:
    try:
        stream.write(data)
        stream.flush()
    except (OSError, ValueError):  # the process ended, or the pipe was closed
        pass


def _clean_up(user: SandboxUser) -> int:
    """Kill every process of ``user``, remove its scratch files; how many survived."""
    survivors = kill_user(user.uid)
    remove_files(user.uid)
    return survivors


def _chunks(stream: IO[bytes]) -> Iterator[bytes]:
    return iter(lambda: stream.read1(65536), b"")  # type: ignore[attr-defined]


def _drain(stream: IO[bytes], tail: bytearray) -> threading.Thread:
    def run() -> None:
        for chunk in iter(lambda: stream.read1(65536), b""):  # type: ignore[attr-defined]
            tail.extend(chunk)
            del tail[:-STDERR_TAIL]

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def _sweep(marker: str) -> None:
    """Kill every process whose environment carries this run's marker."""
    needle = f"MG_RUN={marker}".encode()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if needle in (entry / "environ").read_bytes().split(b"\0"):
                os.kill(int(entry.name), signal.SIGKILL)
        except (OSError, ValueError):
            continue


_INSTALLED = (
    "import importlib.metadata as m, json; "
    "print(json.dumps([[d.metadata['Name'] or '', d.version] for d in m.distributions()]))"
)


def missing_packages(packages: Sequence[str], python: str = sys.executable) -> list[str]:
    """The requirements in ``packages`` that ``python`` (the interpreter this backend runs
    student code with) does not satisfy: student code that imports them will fail."""
    if not packages:
        return []
    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name

    try:
        done = subprocess.run(
            [python, "-I", "-c", _INSTALLED], capture_output=True, text=True, timeout=60
        )
        listed = json.loads(done.stdout) if done.returncode == 0 else []
    except (OSError, subprocess.TimeoutExpired, ValueError):
        listed = []
    installed = {canonicalize_name(name): version for name, version in listed}
    missing = []
    for text in packages:
        wanted = Requirement(text)
        version = installed.get(canonicalize_name(wanted.name))
        if version is None or not wanted.specifier.contains(version, prereleases=True):
            missing.append(text)
    return missing
