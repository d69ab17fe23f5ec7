"""The hardened container settings (DESIGN.md principle 7), in one place.

Every container micrograde starts, whether it grades a submission or runs the probes of
``micrograde sandbox check``, is created by ``create_container`` below, so the probes
test exactly what grading uses. The equivalent ``docker run`` line is in docs/docker.md.
"""

from __future__ import annotations

import os
import socket
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from grader.sandbox.workspace import unpack_limits, workspace_tmpfs
from grader.settings import Limits

WORKSPACE = "/workspace"
PYTHON = "/opt/venv/bin/python3"  # the image's venv (see the Dockerfile); not via PATH
LABEL = "micrograde"
_MiB = 1 << 20
# Time the in-container backstop (`timeout -s KILL`) allows beyond the host's wall limit:
# the host kills first; the backstop only matters when the grader itself died (kill -9).
BACKSTOP_GRACE = 30


@dataclass(frozen=True)
class Owner:
    """Who started a container: this process, told apart from a later one with its pid."""

    pid: int
    started: str
    host: str

    def labels(self, run: str) -> dict[str, str]:
        return {
            LABEL: "1",
            f"{LABEL}.run": run,
            f"{LABEL}.pid": str(self.pid),
            f"{LABEL}.pidstart": self.started,
            f"{LABEL}.host": self.host,
        }


def process_start(pid: int) -> str | None:
    """The start time of ``pid`` in clock ticks since boot (None: no such process)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # Field 2 (the command name) may hold spaces and parentheses: split after the last ')'.
    return stat.rsplit(")", 1)[1].split()[19]


def this_process() -> Owner:
    pid = os.getpid()
    return Owner(pid, process_start(pid) or "", socket.gethostname())


def new_run_id() -> str:
    return uuid.uuid4().hex


@dataclass(frozen=True)
class Spec:
    """One container to create: what it runs and with which limits."""

    image: str
    command: list[str]
    environment: dict[str, str]
    limits: Limits
    user: str
    run: str = ""


def harness_command(wall_seconds: float) -> list[str]:
    backstop = int(wall_seconds) + BACKSTOP_GRACE
    return ["timeout", "-s", "KILL", str(backstop), PYTHON, "-I", "-B", "-u", "/harness/mg_run.py"]


def unpack_first(limits: Limits, command: list[str]) -> list[str]:
    """``command`` behind the unpacker, for a command other than the harness (which
    unpacks the workspace itself): the probes of ``micrograde sandbox check``."""
    max_bytes, max_entries = unpack_limits(limits)
    unpack = [PYTHON, "-I", "-B", "/harness/mg_unpack.py", WORKSPACE, str(max_bytes)]
    return [*unpack, str(max_entries), *command]


def harness_environment(job: str) -> dict[str, str]:
    # Explicit and minimal; nothing of the grader's own environment goes in. (The image's
    # ENV, e.g. PATH and LANG, stays: Docker can override those but not drop them.)
    return {
        "MG_JOB": job,
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONUNBUFFERED": "1",
        "HOME": "/tmp",
        "TMPDIR": "/tmp",
        "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1",
        "OMP_NUM_THREADS": "1",
        "OPENBLAS_NUM_THREADS": "1",
    }


def host_config(api: Any, limits: Limits, user: str) -> Any:
    from docker.types import LogConfig, Ulimit

    memory = limits.memory_mb * _MiB
    return api.create_host_config(
        network_mode="none",
        mem_limit=memory,
        memswap_limit=memory,  # equal: no swap on top of the memory
        pids_limit=limits.pids,
        nano_cpus=int(limits.cpus * 1e9),
        read_only=True,
        tmpfs={
            "/tmp": f"rw,nosuid,nodev,noexec,size={limits.tmpfs_mb}m,mode=1777",
            # Empty; filled from the container's stdin (grader.sandbox.workspace), no bind
            # mount: the engine need not share a file system with the grader.
            WORKSPACE: workspace_tmpfs(limits, user),
        },
        shm_size=limits.tmpfs_mb * _MiB,  # /dev/shm is writable too: cap it the same way
        cap_drop=["ALL"],
        security_opt=["no-new-privileges"],
        init=True,
        ulimits=[
            Ulimit(name="core", soft=0, hard=0),
            Ulimit(name="nofile", soft=limits.nofile, hard=limits.nofile),
            Ulimit(name="fsize", soft=limits.tmpfs_mb * _MiB, hard=limits.tmpfs_mb * _MiB),
        ],
        # No log at all: the grader reads the output through attach, with its own cap;
        # a json-file log would have no size limit by default.
        log_config=LogConfig(type=LogConfig.types.NONE),
    )


def create_container(api: Any, spec: Spec, owner: Owner) -> str:
    """Create (not start) a hardened container; return its id."""
    created = api.create_container(
        spec.image,
        command=spec.command,
        environment=spec.environment,
        user=spec.user,
        working_dir="/tmp",
        labels=owner.labels(spec.run or new_run_id()),
        network_disabled=True,
        # The workspace arrives there first, then (once the visible checks ran) the hidden
        # checks' code; the records go out on stdout, a stream of their own.
        stdin_open=True,
        tty=False,
        host_config=host_config(api, spec.limits, spec.user),
    )
    return str(created["Id"])
