"""No container outlives the grader: live tracking, exit handlers, and ``sandbox clean``.

Each container is registered here from the moment it is created until ``finish`` has
removed it. If the grader ends while some are still registered (Ctrl-C, SIGTERM, SIGHUP,
an exception nobody caught) the handlers below remove them on the way out. Only ``kill
-9`` (or a power cut) gets past that; for those, every container carries labels naming its
grader process, and ``clean_leftovers`` (``micrograde sandbox clean``) removes the ones
whose process is gone.
"""

from __future__ import annotations

import atexit
import os
import re
import shutil
import signal
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any

from grader.errors import SandboxError
from grader.sandbox.hardening import LABEL, process_start, this_process

# Graders before the workspace went in on stdin copied it into such a directory per run
# (bind-mounted into the container); ``clean`` still removes the ones a killed grader left.
RUN_DIR_PREFIX = "micrograde-docker-"
_RUN_DIR = re.compile(rf"^{RUN_DIR_PREFIX}(\d+)-")


@dataclass(frozen=True)
class _Live:
    api: Any
    directory: Path | None


_lock = threading.Lock()
_live: dict[str, _Live] = {}
_closing = False
_atexit_registered = False
_signals_installed = False


def track(container: str, api: Any, directory: Path | None) -> None:
    """Register a created container; refuse (and remove it) when the grader is exiting."""
    install_handlers()
    with _lock:
        if not _closing:
            _live[container] = _Live(api, directory)
            return
    remove(api, container, directory)
    raise SandboxError("the grader is shutting down: no new sandbox was started")


def release(container: str) -> None:
    with _lock:
        _live.pop(container, None)


def remove(api: Any, container: str, directory: Path | None) -> None:
    """Remove a container (force: it may still run) and its run directory; never raises."""
    from docker.errors import DockerException
    from requests.exceptions import RequestException

    try:
        api.remove_container(container, force=True)
    except (DockerException, RequestException):
        pass  # gone already, or the engine went away: `sandbox clean` is the last resort
    if directory is not None:
        shutil.rmtree(directory, ignore_errors=True)


def reap_all() -> None:
    """Remove every container this process still has; later ``track`` calls refuse."""
    global _closing
    with _lock:
        _closing = True
        live = dict(_live)
        _live.clear()
    for container, entry in live.items():
        remove(entry.api, container, entry.directory)


def install_handlers() -> None:
    """atexit once; SIGTERM/SIGHUP handlers once, as soon as called from the main thread."""
    global _atexit_registered, _signals_installed
    with _lock:
        first, _atexit_registered = not _atexit_registered, True
    if first:
        atexit.register(reap_all)
    if _signals_installed or threading.current_thread() is not threading.main_thread():
        return  # signal handlers can only be set from the main thread; atexit still works
    _signals_installed = True
    for signum in (signal.SIGTERM, signal.SIGHUP):
        # Only where nobody else has a say: a host application's own handler wins.
        if signal.getsignal(signum) is signal.SIG_DFL:
            signal.signal(signum, _on_signal)


def _on_signal(signum: int, frame: FrameType | None) -> None:
    reap_all()
    # Then die of the same signal, as if we had never caught it (exit status 128+n).
    signal.signal(signum, signal.SIG_DFL)
    os.kill(os.getpid(), signum)


@dataclass(frozen=True)
class Cleaned:
    containers: tuple[str, ...]
    directories: tuple[str, ...]
    kept: int  # labelled containers left alone: their grader is still running


def clean_leftovers(api: Any, everything: bool = False) -> Cleaned:
    """Remove labelled containers (and run directories) whose grader process is gone."""
    removed, kept = [], 0
    me = this_process()
    for info in api.containers(all=True, filters={"label": f"{LABEL}=1"}):
        labels = info.get("Labels") or {}
        if not everything and _owner_alive(labels, me.host):
            kept += 1
            continue
        remove(api, info["Id"], None)
        removed.append(info["Id"][:12])
    return Cleaned(tuple(removed), tuple(_clean_directories(everything)), kept)


def _owner_alive(labels: dict[str, str], host: str) -> bool:
    if labels.get(f"{LABEL}.host", host) != host:
        return True  # started from another machine or container: we cannot tell, keep it
    try:
        pid = int(labels.get(f"{LABEL}.pid", ""))
    except ValueError:
        return True  # not started by a grader (by hand, say): not ours to judge
    started = process_start(pid)
    return started is not None and started == labels.get(f"{LABEL}.pidstart", started)


def _clean_directories(everything: bool) -> list[str]:
    removed = []
    for path in Path(tempfile.gettempdir()).glob(f"{RUN_DIR_PREFIX}*"):
        match = _RUN_DIR.match(path.name)
        if match is None or not path.is_dir() or path.is_symlink():
            continue
        pid = int(match.group(1))
        if pid == os.getpid():
            continue  # this process's own runs are still in use
        if everything or process_start(pid) is None:
            shutil.rmtree(path, ignore_errors=True)
            removed.append(str(path))
    return removed
