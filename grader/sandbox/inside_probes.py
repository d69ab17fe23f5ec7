"""The probes of ``micrograde sandbox check``, as they run INSIDE a sandbox container.

Standard library only: ``grader.sandbox.probes`` sends this file's source to the
container (``python3 -I -B -c SOURCE KIND WANT``) and reads one JSON line per result on
stdout. ``WANT`` is JSON: the limits the container should have, and lines of the
reference solution that must not be found anywhere in it.
"""

from __future__ import annotations

import errno
import json
import os
import resource
import socket
import sys
import threading
from typing import Any

_MiB = 1 << 20


def say(name: str, ok: bool, detail: str) -> None:
    print(json.dumps({"probe": name, "ok": bool(ok), "detail": detail}), flush=True)


def read(path: str) -> str | None:
    try:
        with open(path) as handle:
            return handle.read().strip()
    except OSError:
        return None


def network() -> None:
    interfaces = sorted(os.listdir("/sys/class/net"))
    probe = socket.socket()
    probe.settimeout(2)
    try:
        probe.connect(("1.1.1.1", 53))
        reached, how = True, "connected to 1.1.1.1:53"
    except OSError as exc:
        reached, how = False, f"connect to 1.1.1.1:53 failed: {exc.strerror or exc}"
    finally:
        probe.close()
    say(
        "network: only loopback",
        interfaces == ["lo"] and not reached,
        f"interfaces {interfaces}; {how}",
    )


def _write_fails(path: str) -> tuple[bool, str]:
    try:
        with open(path, "w") as handle:
            handle.write("x")
    except OSError as exc:
        return True, f"{path}: {errno.errorcode.get(exc.errno or 0, exc.errno)}"
    return False, f"wrote {path}"


def read_only() -> None:
    places = ["/probe", "/harness/probe", "/opt/venv/probe", "/workspace/probe"]
    # The workspace is a tmpfs that its unpacker made read-only: its folders and files too.
    places += ["/workspace/micrograd/probe", "/workspace/micrograd/value.py"]
    results = [_write_fails(p) for p in places]
    say(
        "root file system read-only",
        all(ok for ok, _ in results),
        "; ".join(detail for _, detail in results),
    )


def identity(want: dict[str, Any]) -> None:
    say(
        "user is not root",
        os.getuid() == want["uid"] and 0 not in (os.getuid(), os.getgid()),
        f"uid {os.getuid()}, gid {os.getgid()}",
    )
    lines = (line.split(":\t", 1) for line in open("/proc/self/status").read().splitlines())
    status = {key: value.strip() for key, value in (p for p in lines if len(p) == 2)}
    say(
        "no capabilities, no-new-privileges",
        int(status["CapEff"], 16) == 0
        and int(status["CapBnd"], 16) == 0
        and status["NoNewPrivs"] == "1",
        f"CapEff {status['CapEff']}, CapBnd {status['CapBnd']}, NoNewPrivs {status['NoNewPrivs']}",
    )
    init = read("/proc/1/comm")
    say("an init process is PID 1", init in ("docker-init", "tini"), f"PID 1 is {init}")


def cgroup_limits(want: dict[str, Any]) -> None:
    # cgroup v2 files first, then v1 (this project's CI machine runs v1).
    v2 = read("/sys/fs/cgroup/cpu.max")
    quota, period = (
        v2.split()
        if v2
        else (
            read("/sys/fs/cgroup/cpu/cpu.cfs_quota_us"),
            read("/sys/fs/cgroup/cpu/cpu.cfs_period_us"),
        )
    )
    try:
        cpus: float | None = int(quota or "") / int(period or "")
    except ValueError:
        cpus = None
    say(
        "CPU limit set",
        cpus is not None and abs(cpus - want["cpus"]) < 0.01,
        f"cgroup CPU quota {quota}/{period} = {cpus} CPU (want {want['cpus']})",
    )
    memory = read("/sys/fs/cgroup/memory.max") or read(
        "/sys/fs/cgroup/memory/memory.limit_in_bytes"
    )
    swap = read("/sys/fs/cgroup/memory.swap.max")
    memsw = read("/sys/fs/cgroup/memory/memory.memsw.limit_in_bytes")
    no_swap = swap == "0" if swap is not None else memsw in (None, memory)
    say(
        "memory limit set, no swap",
        memory == str(want["memory"]) and no_swap,
        f"memory {memory} (want {want['memory']}), memory+swap {memsw or swap}",
    )
    pids = read("/sys/fs/cgroup/pids.max") or read("/sys/fs/cgroup/pids/pids.max")
    say("pids limit set", pids == str(want["pids"]), f"pids.max {pids} (want {want['pids']})")


def files(want: dict[str, Any]) -> None:
    stat = os.statvfs("/tmp")
    size = stat.f_blocks * stat.f_frsize
    say(
        "/tmp is a size-capped tmpfs",
        0 < size <= want["tmpfs"],
        f"/tmp holds {size // _MiB} MiB (cap {want['tmpfs'] // _MiB} MiB)",
    )
    stat = os.statvfs("/workspace")
    size = stat.f_blocks * stat.f_frsize
    say(
        "/workspace is a size-capped tmpfs",
        0 < size <= want["workspace"] and stat.f_files <= want["entries"] + 1,
        f"/workspace holds {size // _MiB} MiB in {stat.f_files} inodes "
        f"(cap {want['workspace'] // _MiB} MiB, {want['entries']} entries)",
    )
    core = resource.getrlimit(resource.RLIMIT_CORE)
    nofile = resource.getrlimit(resource.RLIMIT_NOFILE)
    fsize = resource.getrlimit(resource.RLIMIT_FSIZE)
    say(
        "core dumps off, file limits",
        core == (0, 0) and nofile[1] == want["nofile"] and fsize[1] == want["tmpfs"],
        f"core {core}, nofile {nofile}, fsize {fsize}",
    )


def _leaks(path: str, markers: list[bytes]) -> list[str]:
    try:
        if os.path.islink(path) or os.path.getsize(path) > 4 * _MiB:
            return []
        with open(path, "rb") as handle:
            data = handle.read()
    except OSError:
        return []
    return [f"{path} holds reference text" for marker in markers if marker in data]


def no_reference(want: dict[str, Any]) -> None:
    markers = [m.encode() for m in want["markers"]]
    hits, scanned = [], 0
    for root, dirs, names in os.walk("/"):
        if root == "/":
            dirs[:] = [d for d in dirs if d not in ("proc", "sys", "dev")]
        hits += [os.path.join(root, d) for d in dirs if d in ("reference", "rubrics")]
        for name in names:
            scanned += 1
            hits += _leaks(os.path.join(root, name), markers)
    say(
        "no reference or rubric visible",
        not hits,
        "; ".join(hits[:5])
        or f"searched {scanned} files for {len(markers)} lines of the reference",
    )


def memory(want: dict[str, Any]) -> None:
    """Allocate (and touch) past the limit: the container must not survive it."""
    blocks: list[bytes] = []
    step = 16 * _MiB
    try:
        while len(blocks) * step < want["memory"] + 128 * _MiB:
            blocks.append(b"\1" * step)
            print(json.dumps({"allocated": len(blocks) * step}), flush=True)
    except MemoryError:
        print(json.dumps({"memory_error": len(blocks) * step}), flush=True)
        return
    print(json.dumps({"survived": len(blocks) * step}), flush=True)


def pids(want: dict[str, Any]) -> None:
    """Start threads (each one a task in the pids cgroup) until refused."""
    threading.stack_size(256 * 1024)
    stop, count = threading.Event(), 0
    try:
        for _ in range(want["pids"] + 64):
            threading.Thread(target=stop.wait, daemon=True).start()
            count += 1
    except (RuntimeError, OSError) as exc:
        print(json.dumps({"refused_after": count, "error": str(exc)}), flush=True)
        return
    print(json.dumps({"survived": count}), flush=True)


def static(want: dict[str, Any]) -> None:
    network()
    read_only()
    identity(want)
    cgroup_limits(want)
    files(want)
    no_reference(want)


if __name__ == "__main__":
    {"static": static, "memory": memory, "pids": pids}[sys.argv[1]](json.loads(sys.argv[2]))
