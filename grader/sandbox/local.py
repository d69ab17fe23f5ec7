"""The ``local`` backend: a subprocess with resource limits. NOT a security boundary.

For students on their own laptop and for machines without a Docker engine. The harness
runs in a fresh temporary directory with a scrubbed environment, in its own process
group, under rlimits (address space, CPU time, file size, open files, no core dumps), and
the host kills the whole group when time runs out; a last sweep kills any process that
still carries this run's marker in its environment (one that called ``setsid`` to slip
out of the group). Student code still runs as the grader's own user and can read and
write whatever that user can: use the ``docker`` backend for code you do not trust.
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
from collections.abc import Iterator
from pathlib import Path
from typing import IO, ClassVar

from grader.exercise import Exercise
from grader.sandbox.base import STDERR_TAIL, Execution, ExitStatus, LinePump, Sandbox, SandboxJob
from grader.sandbox.bundle import write_bundle
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


def _rlimits(limits: Limits, wall_seconds: float) -> dict[str, int]:
    return {
        # Address space, not resident memory: Python reserves more than it touches.
        "RLIMIT_AS": max(limits.memory_mb * 2, 1024) * _MiB,
        "RLIMIT_CPU": int(wall_seconds) + 5,
        "RLIMIT_FSIZE": limits.tmpfs_mb * _MiB,
        "RLIMIT_NOFILE": limits.nofile,
        "RLIMIT_CORE": 0,
    }


class LocalSandbox(Sandbox):
    name: ClassVar[str] = "local"
    is_security_boundary: ClassVar[bool] = False

    def __init__(self, exercise: Exercise) -> None:
        self._cache = Path(tempfile.mkdtemp(prefix="micrograde-bundle-"))
        self._bundle = write_bundle(exercise, self._cache / "harness")

    def start(self, job: SandboxJob) -> LocalExecution:
        root = Path(tempfile.mkdtemp(prefix="micrograde-run-"))
        try:
            shutil.copytree(self._bundle, root / "harness")
            shutil.copytree(job.workspace, root / "workspace", symlinks=True)
            for name in ("home", "tmp"):
                (root / name).mkdir()
            return LocalExecution(root, job)
        except BaseException:
            shutil.rmtree(root, ignore_errors=True)
            raise

    def close(self) -> None:
        shutil.rmtree(self._cache, ignore_errors=True)


class LocalExecution(Execution):
    def __init__(self, root: Path, job: SandboxJob) -> None:
        super().__init__(LinePump(job.limits.output_mb * _MiB))
        self._root = root
        self._marker = uuid.uuid4().hex
        self._stderr = bytearray()
        spec = dict(job.job, workspace=str(root / "workspace"))
        self._proc = subprocess.Popen(
            [
                sys.executable,
                "-I",
                "-S",
                "-c",
                _LAUNCHER,
                json.dumps(_rlimits(job.limits, job.wall_seconds)),
                sys.executable,
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

    def finish(self) -> ExitStatus:
        try:
            code = self._proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.kill()
            code = self._proc.wait()
        self.kill()  # the group may outlive its leader
        _sweep(self._marker)
        for thread in self._threads:
            thread.join(timeout=5)
        shutil.rmtree(self._root, ignore_errors=True)
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
