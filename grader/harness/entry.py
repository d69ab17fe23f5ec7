"""Entry point inside the sandbox: ``python -I <harness>/mg_run.py``.

Copied to the root of the harness bundle as ``mg_run.py``. In the Docker sandbox, once it
has imported pytest and its own modules, it unpacks the workspace the host sends on
standard input (``unpack.py``; the job says so with its ``unpack`` limits). It keeps the
original stdout for the record stream and points file descriptor 1 at stderr, so nothing
that prints outside pytest's capture can interleave with the records. Before any student
code runs it configures the harness and then makes it unreachable by name (its folder
leaves ``sys.path``, its modules leave ``sys.modules``: importing ``mg_harness`` again
gives a fresh copy that grading never uses). Then it runs pytest with a fixed configuration that
no file of the submission can change (``--noconftest``, our own ini file and rootdir, no
plugin autoloading, no cache): first on the visible checks, from the public staged tests
in the bundle; then, when the job has hidden checks, it asks the host for their code,
which arrives on standard input only now, and runs them.
"""

import json
import os
import struct
import sys
import tempfile
from typing import BinaryIO

FRAME_HEADER = struct.Struct(">Q")
MAX_FRAME = 16 << 20


def main() -> int:
    here = os.path.dirname(os.path.abspath(__file__))
    record_fd = os.dup(1)
    # The real stderr, kept before pytest captures fd 2: where a check that runs too long
    # has its stack dumped (faulthandler), for the host to read after it kills the run.
    watch_fd = os.dup(2)
    os.dup2(2, 1)
    os.environ["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    job = json.loads(os.environ.pop("MG_JOB"))
    sys.path.insert(0, here)
    import pytest
    from mg_harness import plugin, recorder, unpack  # type: ignore[import-not-found]

    if "unpack" in job:
        try:
            unpack.receive(0, job["workspace"], *job["unpack"])
        except (unpack.Refused, OSError) as exc:
            print(f"micrograde: the workspace was refused: {exc}", file=sys.stderr, flush=True)
            return int(unpack.REFUSED)

    emit = recorder.open_channel(record_fd)
    harness = [m for name, m in sys.modules.items() if name.startswith("mg_harness.")]
    plugin.configure(job, emit, harness, watch_fd)
    _unreachable_by_name(here)
    hidden = list(job.get("hidden", []))
    visible = [check for check in job["checks"] if check not in hidden]
    status = 0
    if visible:
        files = [os.path.join(here, "steps", name) for name in job["files"]]
        status = plugin.run_session(pytest.main, _arguments(here, files), visible)
    if hidden:
        emit({"kind": "hidden"})
        files = _receive_hidden(sys.stdin.buffer)
        if files:
            status = max(status, plugin.run_session(pytest.main, _arguments(here, files), hidden))
    emit({"kind": "done", "exitstatus": int(status)})
    return int(status)


def _unreachable_by_name(here: str) -> None:
    while here in sys.path:
        sys.path.remove(here)
    for name in [n for n in sys.modules if n == "mg_harness" or n.startswith("mg_harness.")]:
        del sys.modules[name]


def _receive_hidden(stream: BinaryIO) -> list[str]:
    """The hidden checks' test files, written to a private folder; [] if none came."""
    header = _read(stream, FRAME_HEADER.size)
    if header is None:
        return []
    (size,) = FRAME_HEADER.unpack(header)
    payload = _read(stream, size) if size <= MAX_FRAME else None
    if payload is None:
        return []
    folder = tempfile.mkdtemp(prefix="mg-")
    paths = []
    for name, source in sorted(json.loads(payload.decode("utf-8"))["files"].items()):
        path = os.path.join(folder, os.path.basename(name))
        with open(path, "w", encoding="utf-8") as handle:
            handle.write(source)
        paths.append(path)
    return paths


def _read(stream: BinaryIO, size: int) -> bytes | None:
    data = b""
    while len(data) < size:
        chunk = stream.read(size - len(data))
        if not chunk:
            return None
        data += chunk
    return data


def _arguments(here: str, files: list[str]) -> list[str]:
    return [
        *files,
        "-c",
        os.path.join(here, "pytest.ini"),
        "--rootdir",
        here,
        "--noconftest",
        "-p",
        "no:cacheprovider",
        "-p",
        "no:stepwise",
        "-p",
        "pytest_jsonreport.plugin",
        "--json-report",
        "--json-report-file=none",
        "--json-report-omit",
        "collectors",
        "log",
        "warnings",
        "keywords",
        "--import-mode=importlib",
        "-q",
        "--tb=short",
        "--no-header",
    ]


if __name__ == "__main__":
    sys.exit(main())
