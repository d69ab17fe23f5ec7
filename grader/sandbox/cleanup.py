"""After a sandbox user's run: kill every process of that user, remove its scratch files.

A process group and a marker in the environment miss processes that left both (``setsid``
and a fresh environment); a user id cannot be left without privileges. So every process
whose real, effective, saved or file-system uid is the sandbox user's is killed, through a
pidfd so that a pid reused in between is never hit, until none is left. Killed orphans are
reparented to the grader (a child subreaper) and reaped here: a zombie still counts against
its user's RLIMIT_NPROC, and the same user grades the next submission of its job slot.

Files the user left in the machine's shared scratch folders (``/tmp``, ``/var/tmp``,
``/dev/shm``) are removed too, so the next student of that slot finds none of them.
"""

from __future__ import annotations

import ctypes
import os
import shutil
import signal
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

PR_SET_CHILD_SUBREAPER = 36
KILL_SECONDS = 5.0
SCRATCH = ("/tmp", "/var/tmp", "/dev/shm")


@dataclass(frozen=True)
class _Process:
    pid: int
    parent: int
    uids: frozenset[int]
    zombie: bool


def become_subreaper() -> None:
    """Orphans of this process's children become its children (not init's), to be reaped."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
    except (OSError, AttributeError):
        pass  # not Linux: orphans go to init, which reaps them in its own time


def kill_user(uid: int, spare: int | None = None) -> int:
    """SIGKILL every process of ``uid`` until none is left; the number still alive after
    ``KILL_SECONDS`` (0 when all died). ``spare``: a child whose exit status a
    ``subprocess.Popen`` still has to collect, never reaped here."""
    deadline = time.monotonic() + KILL_SECONDS
    while True:
        mine = [p for p in _processes() if uid in p.uids]
        _reap([p for p in mine if p.zombie and p.parent == os.getpid() and p.pid != spare])
        live = [p.pid for p in mine if not p.zombie]
        if not live or time.monotonic() > deadline:
            return len(live)
        for pid in live:
            _kill(pid, uid)
        time.sleep(0.005)


def remove_files(uid: int) -> None:
    """Remove what ``uid`` owns at the top of the shared scratch folders."""
    for folder in SCRATCH:
        try:
            entries = list(os.scandir(folder))
        except OSError:
            continue
        for entry in entries:
            try:
                if entry.stat(follow_symlinks=False).st_uid != uid:
                    continue
                if entry.is_dir(follow_symlinks=False):
                    shutil.rmtree(entry.path, ignore_errors=True)
                else:
                    os.unlink(entry.path)
            except OSError:
                continue


def user_processes(uid: int) -> list[int]:
    """Processes of ``uid`` that are alive (not zombies)."""
    return [p.pid for p in _processes() if uid in p.uids and not p.zombie]


def _processes() -> Iterator[_Process]:
    for name in os.listdir("/proc"):
        if name.isdigit():
            process = _read(int(name))
            if process is not None:
                yield process


def _read(pid: int) -> _Process | None:
    try:
        with open(f"/proc/{pid}/status", encoding="utf-8", errors="replace") as handle:
            fields = dict(line.split(":", 1) for line in handle if ":" in line)
        uids = frozenset(int(value) for value in fields["Uid"].split())
        return _Process(pid, int(fields["PPid"]), uids, fields["State"].strip()[:1] == "Z")
    except (OSError, KeyError, ValueError):
        return None  # gone already


def _kill(pid: int, uid: int) -> None:
    try:
        handle = os.pidfd_open(pid)
    except ProcessLookupError:
        return
    except OSError:  # no pidfd here (Linux < 5.3): plain kill, the pid was checked just now
        _signal(lambda: os.kill(pid, signal.SIGKILL))
        return
    try:
        # The pidfd pins the process: if its status still shows the user, it is the one.
        process = _read(pid)
        if process is not None and uid in process.uids:
            _signal(lambda: signal.pidfd_send_signal(handle, signal.SIGKILL))
    finally:
        os.close(handle)


def _signal(send: Callable[[], object]) -> None:
    try:
        send()
    except OSError:
        pass  # it died meanwhile


def _reap(zombies: list[_Process]) -> None:
    for zombie in zombies:
        try:
            os.waitpid(zombie.pid, os.WNOHANG)
        except ChildProcessError:
            pass
