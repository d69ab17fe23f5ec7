"""The workspace's way into the Docker sandbox: a capped tar on stdin, unpacked inside.

The host side (``grader.sandbox.workspace``) and the unpacker (``grader/harness/unpack.py``)
meet here on a pipe, as they meet on the container's stdin: what the host packs comes out
whole and read-only, and a hostile tar (links, devices, climbing names, too many or too
large members, a lying length) is refused before anything is written. Over the limits, a
submission is the student's error (``rejected``), with any backend. The tests marked
``docker`` run the unpacker in a real container, with a tar the host would never send.
"""

from __future__ import annotations

import hashlib
import io
import os
import shutil
import stat
import tarfile
import threading
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest
from grading import EXAMPLES, grade

from grader.errors import SubmissionRejected
from grader.harness.unpack import HEADER, REFUSED, Refused, frame_limit, receive
from grader.sandbox.base import EOF_MARK
from grader.sandbox.docker import DockerExecution, DockerSandbox
from grader.sandbox.hardening import PYTHON, Spec, new_run_id, this_process, unpack_first
from grader.sandbox.workspace import MAX_ENTRIES, max_bytes, workspace_frame
from grader.settings import Limits, load_settings

LIMITS = Limits()


def submission(root: Path) -> Path:
    (root / "micrograd").mkdir(parents=True)
    (root / "micrograd" / "__init__.py").write_text("")
    (root / "micrograd" / "value.py").write_text("class Value:\n    pass\n")
    (root / "notes é.txt").write_bytes(b"\x00\xff" * 1000)
    (root / ("long" * 60 + ".py")).write_text("x = 1\n")
    return root


def unpack_through_a_pipe(frame: bytes, target: Path, after: bytes = b"") -> tuple[int, bytes]:
    """``receive`` on the read end of a pipe the frame (then ``after``) is written to;
    returns the member count and what was left on the pipe."""
    read_end, write_end = os.pipe()

    def write() -> None:
        try:
            with os.fdopen(write_end, "wb") as pipe:
                pipe.write(frame + after)
        except BrokenPipeError:
            pass  # refused: the reader stopped reading

    writer = threading.Thread(target=write)
    writer.start()
    try:
        with os.fdopen(read_end, "rb", buffering=0) as reader:
            count = receive(reader.fileno(), str(target), max_bytes(LIMITS), MAX_ENTRIES)
            return count, reader.read()
    finally:
        writer.join()


def test_what_the_host_packs_comes_out_whole_and_read_only(tmp_path: Path) -> None:
    source = submission(tmp_path / "source")
    target = tmp_path / "target"
    target.mkdir()
    count, rest = unpack_through_a_pipe(
        workspace_frame(source, LIMITS), target, after=b"the hidden checks"
    )
    assert rest == b"the hidden checks"  # exactly the frame was read: the rest is the harness's
    files = sorted(p.relative_to(source) for p in source.rglob("*"))
    assert sorted(p.relative_to(target) for p in target.rglob("*")) == files
    assert count == len(files)
    for name in files:
        copy = target / name
        mode = stat.S_IMODE(copy.lstat().st_mode)
        if copy.is_dir():
            assert mode == 0o555, name
        else:
            assert (copy.read_bytes(), mode) == ((source / name).read_bytes(), 0o444), name
    assert stat.S_IMODE(target.stat().st_mode) == 0o555


def tar_of(*members: tuple[tarfile.TarInfo, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as archive:
        for info, data in members:
            info.size = len(data) if info.isreg() else 0
            archive.addfile(info, io.BytesIO(data) if info.isreg() else None)
    return HEADER.pack(len(buffer.getvalue())) + buffer.getvalue()


def member(name: str, kind: bytes = tarfile.REGTYPE, link: str = "") -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type, info.linkname = kind, link
    return info


ok_file = (member("ok.py"), b"x = 1\n")
# Each case: the frame (made when the test runs) and what the refusal says.
HOSTILE: dict[str, tuple[Callable[[], bytes], str]] = {
    "symlink": (lambda: tar_of(ok_file, (member("a", tarfile.SYMTYPE, "/etc"), b"")), "neither"),
    "hard link": (lambda: tar_of(ok_file, (member("b", tarfile.LNKTYPE, "ok.py"), b"")), "neither"),
    "device": (lambda: tar_of((member("dev", tarfile.CHRTYPE), b"")), "neither"),
    "fifo": (lambda: tar_of((member("fifo", tarfile.FIFOTYPE), b"")), "neither"),
    "parent": (lambda: tar_of(ok_file, (member("../escaped.py"), b"x")), "unsafe name"),
    "inner parent": (lambda: tar_of((member("a/../../escaped.py"), b"x")), "unsafe name"),
    "absolute": (lambda: tar_of((member("/tmp/escaped.py"), b"x")), "unsafe name"),
    "twice": (lambda: tar_of(ok_file, ok_file), "twice"),
    "file as folder": (lambda: tar_of(ok_file, (member("ok.py/in.py"), b"x")), "File exists"),
    "not a tar": (lambda: HEADER.pack(2048) + b"\x07" * 2048, "not a readable tar"),
    "too large": (
        lambda: HEADER.pack(frame_limit(max_bytes(LIMITS), MAX_ENTRIES) + 1),
        "over the limit",
    ),
    "cut short": (lambda: tar_of(ok_file)[:-700], "ended"),
    "content over": (
        lambda: tar_of((member("f0"), b"\0" * max_bytes(LIMITS)), (member("f1"), b"x")),
        "bytes, over",
    ),
    "members over": (
        lambda: tar_of(*[(member(f"d{i}", tarfile.DIRTYPE), b"") for i in range(MAX_ENTRIES + 1)]),
        "entries, over",
    ),
}


@pytest.mark.parametrize("case", list(HOSTILE))
def test_a_hostile_tar_is_refused_with_nothing_outside_written(tmp_path: Path, case: str) -> None:
    make, says = HOSTILE[case]
    target = tmp_path / "workspace"
    target.mkdir()
    with pytest.raises((Refused, OSError), match=says):
        unpack_through_a_pipe(make(), target)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["workspace"]
    if case not in ("file as folder",):  # refused before anything was written
        assert list(target.iterdir()) == []


def test_a_workspace_over_the_limits_is_refused_by_the_host(tmp_path: Path) -> None:
    big = tmp_path / "big"
    big.mkdir()
    (big / "data.py").write_bytes(b"#" * (2 << 20))
    with pytest.raises(SubmissionRejected, match="more than 1 MiB of files"):
        workspace_frame(big, replace(LIMITS, workspace_mb=1))
    many = tmp_path / "many"
    many.mkdir()
    for i in range(MAX_ENTRIES + 1):
        (many / f"m{i}.py").touch()
    with pytest.raises(SubmissionRejected, match=f"more than {MAX_ENTRIES} files and folders"):
        workspace_frame(many, LIMITS)


def test_a_submission_over_the_workspace_limit_is_the_students_error(tmp_path: Path) -> None:
    folder = Path(shutil.copytree(EXAMPLES / "complete" / "package", tmp_path / "student"))
    (folder / "micrograd" / "notes.py").write_text("#" * (2 << 20) + "\n")  # 2 MiB
    settings = load_settings()
    tight = replace(settings, limits=replace(settings.limits, workspace_mb=1))
    result = grade(folder, settings=tight)
    assert (result.status, result.cause) == ("rejected", "submission")
    assert "more than 1 MiB of files" in result.message
    assert grade(folder, steps=(1,)).status == "graded"  # under the default limit


# ------------------------------------------------------------------ inside a container


def unpacking_container(
    sandbox: DockerSandbox, frame: bytes, command: list[str]
) -> tuple[list[bytes], int | None, str]:
    """Run ``command`` behind the image's unpacker, with ``frame`` on its stdin."""
    settings = load_settings()
    spec = Spec(
        sandbox.image,
        unpack_first(settings.limits, command),
        {},
        settings.limits,
        settings.docker.user,
        new_run_id(),
    )
    execution = DockerExecution(sandbox.api, spec, this_process(), frame, 60)
    lines: list[bytes] = []
    try:
        while (line := execution.next_line(60)) not in (None, EOF_MARK):
            assert line is not None
            lines.append(line)
    finally:
        status = execution.finish()
    return lines, status.code, status.stderr_tail


@pytest.mark.docker
def test_the_image_unpacks_a_full_size_workspace(
    docker_sandbox: DockerSandbox, docker_clean_host: Path, tmp_path: Path
) -> None:
    source = tmp_path / "source"
    source.mkdir()
    chunk = max_bytes(LIMITS) // 4
    for i in range(4):  # the whole limit, in files of 6 MiB
        (source / f"part{i}.bin").write_bytes(os.urandom(chunk))
    frame = workspace_frame(source, LIMITS)
    digest = "import hashlib, os; print(sorted((n, hashlib.sha256(open('/workspace/' + n, 'rb')"
    digest += ".read()).hexdigest()) for n in os.listdir('/workspace')))"
    lines, code, stderr = unpacking_container(docker_sandbox, frame, [PYTHON, "-I", "-c", digest])
    want = sorted((p.name, hashlib.sha256(p.read_bytes()).hexdigest()) for p in source.iterdir())
    assert (code, lines) == (0, [str(want).encode()]), stderr


@pytest.mark.docker
@pytest.mark.parametrize("case", ["symlink", "parent", "device", "too large"])
def test_the_image_refuses_a_hostile_tar_before_the_command_runs(
    docker_sandbox: DockerSandbox, docker_clean_host: Path, case: str
) -> None:
    make, says = HOSTILE[case]
    lines, code, stderr = unpacking_container(
        docker_sandbox, make(), [PYTHON, "-I", "-c", "print('the command ran')"]
    )
    assert (code, lines) == (REFUSED, [])
    assert "the workspace was refused" in stderr and says in stderr
