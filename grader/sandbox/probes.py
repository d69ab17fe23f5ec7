"""``micrograde sandbox check``: probe, from inside, that each hardened setting holds.

The probes run in containers created exactly as grading creates them (same image, same
``grader.sandbox.hardening`` settings, same ``DockerExecution``, a workspace sent on stdin
and unpacked by the same code), only the command differs: a small script that tries what
a hostile submission would try and prints one JSON line per probe. The memory and pids
probes get a container each, since the point is that the container does not survive them.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from grader.exercise import Exercise
from grader.sandbox.base import EOF_MARK, ExitStatus
from grader.sandbox.bundle import bundle_files
from grader.sandbox.docker import DockerExecution, DockerSandbox
from grader.sandbox.hardening import PYTHON, Spec, new_run_id, this_process, unpack_first
from grader.sandbox.workspace import MAX_ENTRIES, workspace_frame, workspace_tmpfs_bytes
from grader.settings import Limits, Settings

PROBE_SECONDS = 60.0
INSIDE = Path(__file__).with_name("inside_probes.py")  # what runs in the container
_MiB = 1 << 20


@dataclass(frozen=True)
class ProbeResult:
    name: str
    ok: bool
    detail: str


Say = Callable[[str], None]


def run_probes(exercise: Exercise, settings: Settings, say: Say) -> list[ProbeResult]:
    """Every probe, in production containers; the sandbox image must exist."""
    sandbox = DockerSandbox.connect(exercise, settings)
    try:
        want = wanted(exercise, settings)
        say(f"probing {sandbox.image} (three containers)")
        results = probe_static(sandbox, settings, want)
        results.append(_memory(sandbox, settings, want))
        results.append(_pids(sandbox, settings, want))
    finally:
        sandbox.close()
    return results


def wanted(exercise: Exercise, settings: Settings) -> dict[str, Any]:
    limits = settings.limits
    return {
        "uid": int(settings.docker.user.split(":")[0]),
        "cpus": limits.cpus,
        "memory": limits.memory_mb * _MiB,
        "pids": limits.pids,
        "tmpfs": limits.tmpfs_mb * _MiB,
        "workspace": workspace_tmpfs_bytes(limits),
        "entries": MAX_ENTRIES,
        "nofile": limits.nofile,
        "markers": reference_markers(exercise),
    }


def reference_markers(exercise: Exercise, count: int = 3) -> list[str]:
    """Lines of the reference solution found nowhere in the harness bundle: if one of
    them shows up inside a container, the reference got in."""
    source = (exercise.reference_dir(5) / "micrograd" / "value.py").read_text()
    bundle = b"\n".join(bundle_files(exercise).values())
    lines = {line.strip() for line in source.splitlines()}
    own = sorted(
        (line for line in lines if len(line) >= 30 and line.encode() not in bundle),
        key=len,
        reverse=True,
    )
    return own[:count]


def probe_workspace(limits: Limits) -> bytes:
    """The workspace the probes get, sent as grading sends one: a folder and a file (the
    static probe tries to write to both)."""
    with tempfile.TemporaryDirectory(prefix="micrograde-probe-") as scratch:
        (Path(scratch) / "micrograd").mkdir()
        (Path(scratch) / "micrograd" / "value.py").write_text("class Value:\n    pass\n")
        return workspace_frame(Path(scratch), limits)


def _run(
    sandbox: DockerSandbox, settings: Settings, kind: str, want: dict[str, Any]
) -> tuple[list[dict[str, Any]], ExitStatus]:
    probe = [PYTHON, "-I", "-B", "-c", INSIDE.read_text(), kind, json.dumps(want)]
    spec = Spec(
        sandbox.image,
        unpack_first(settings.limits, probe),
        {},
        settings.limits,
        settings.docker.user,
        new_run_id(),
    )
    execution = DockerExecution(
        sandbox.api, spec, this_process(), probe_workspace(settings.limits), PROBE_SECONDS
    )
    lines: list[dict[str, Any]] = []
    try:
        while (line := execution.next_line(PROBE_SECONDS)) not in (None, EOF_MARK):
            assert line is not None
            lines.append(json.loads(line))
    finally:
        status = execution.finish()
    return lines, status


def probe_static(
    sandbox: DockerSandbox, settings: Settings, want: dict[str, Any]
) -> list[ProbeResult]:
    lines, status = _run(sandbox, settings, "static", want)
    results = [ProbeResult(x["probe"], x["ok"], x["detail"]) for x in lines if "probe" in x]
    if not results or status.code != 0:
        results.append(
            ProbeResult(
                "probe container ran", False, f"{status.describe()}: {status.stderr_tail[-300:]}"
            )
        )
    return results


def _memory(sandbox: DockerSandbox, settings: Settings, want: dict[str, Any]) -> ProbeResult:
    lines, status = _run(sandbox, settings, "memory", want)
    most = max((x.get("allocated", 0) for x in lines), default=0)
    name = "memory limit holds"
    if any("survived" in x for x in lines):
        return ProbeResult(name, False, f"allocated {most >> 20} MiB, more than the limit")
    if status.oom_killed or any("memory_error" in x for x in lines):
        how = "killed by the OOM killer" if status.oom_killed else "MemoryError"
        return ProbeResult(
            name, True, f"{how} after {most >> 20} MiB (limit {want['memory'] >> 20} MiB)"
        )
    return ProbeResult(name, False, f"unexpected end: {status.describe()}")


def _pids(sandbox: DockerSandbox, settings: Settings, want: dict[str, Any]) -> ProbeResult:
    lines, status = _run(sandbox, settings, "pids", want)
    name = "pids limit holds"
    for line in lines:
        if "refused_after" in line and line["refused_after"] <= want["pids"]:
            return ProbeResult(
                name,
                True,
                f"thread {line['refused_after'] + 1} refused: "
                f"{line['error']} (limit {want['pids']})",
            )
        if "survived" in line or "refused_after" in line:
            started = line.get("survived", line.get("refused_after"))
            return ProbeResult(name, False, f"started {started} threads (limit {want['pids']})")
    return ProbeResult(name, False, f"unexpected end: {status.describe()}")
