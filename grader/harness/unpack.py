"""Inside the Docker sandbox: unpack the workspace the host sends on standard input.

The host shares no folder with the container (the engine may run on another machine, or
the grader in a container of its own): it writes the workspace as one frame on the
container's standard input, an 8-byte big-endian length then an uncompressed tar
(``grader.sandbox.workspace``). This runs before any student code: in the harness
(``entry.py``) once it has imported pytest and its own modules, or as ``mg_unpack.py`` in
front of another command (the probes of ``micrograde sandbox check``, which it then
``exec``s).

The tar is trusted no more than a submission: it is read whole into memory (its length is
checked first), every member must be a regular file or a folder with a plain relative
name (no absolute path, no ``..``, no links, devices or sparse files), and the number of
members and their total size are capped. Files are created with ``O_EXCL | O_NOFOLLOW``
inside ``target`` (an empty tmpfs mounted for this), then every file is made read-only
(0444) and every folder, ``target`` included, 0555, so a write to the submission fails.
The files belong to the sandbox's user, who could make them writable again with chmod:
that is no boundary, and is not meant as one (the container is thrown away after the run).

Standard library only; it reads exactly the frame's bytes from the file descriptor, so
whatever the host sends later (the hidden checks' code) is still there for the harness.
"""

from __future__ import annotations

import io
import os
import struct
import sys
import tarfile

HEADER = struct.Struct(">Q")
# Room in the frame for tar's own bytes around the files' content: each member's header
# and padding (and a PAX header for a long or non-ASCII name), and the end-of-archive
# blocks with the record padding. The host checks the same bound before it sends.
MEMBER_OVERHEAD = 3 * 512
ARCHIVE_OVERHEAD = 2 * tarfile.RECORDSIZE
REFUSED = 70  # exit status of ``main`` when the workspace is refused (EX_SOFTWARE)


class Refused(Exception):
    """The frame or the tar breaks a rule; the message says which."""


def frame_limit(max_bytes: int, max_entries: int) -> int:
    """The largest tar accepted for ``max_bytes`` of content in ``max_entries`` members."""
    return max_bytes + max_entries * MEMBER_OVERHEAD + ARCHIVE_OVERHEAD


def receive(fd: int, target: str, max_bytes: int, max_entries: int) -> int:
    """Read one frame from ``fd``, unpack it into ``target``; return the member count."""
    header = _read_exactly(fd, HEADER.size)
    (size,) = HEADER.unpack(header)
    if size > frame_limit(max_bytes, max_entries):
        raise Refused(f"the workspace frame is {size} bytes, over the limit")
    data = _read_exactly(fd, size)
    members = _members(data, max_bytes, max_entries)
    _write(data, members, target)
    _make_read_only(target)
    return len(members)


def _read_exactly(fd: int, size: int) -> bytes:
    chunks, left = [], size
    while left:
        chunk = os.read(fd, min(left, 1 << 20))
        if not chunk:
            raise Refused(f"standard input ended {left} bytes before the workspace's end")
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def _open(data: bytes) -> tarfile.TarFile:
    return tarfile.open(
        fileobj=io.BytesIO(data), mode="r:", encoding="utf-8", errors="surrogateescape"
    )


def _members(data: bytes, max_bytes: int, max_entries: int) -> list[tarfile.TarInfo]:
    """Every member, checked (before anything is written)."""
    try:
        with _open(data) as archive:
            members = archive.getmembers()
    except (tarfile.TarError, EOFError, ValueError) as exc:
        raise Refused(f"the workspace is not a readable tar: {exc}") from None
    if len(members) > max_entries:
        raise Refused(f"the workspace holds {len(members)} entries, over {max_entries}")
    total, seen = 0, set()
    for member in members:
        _check_name(member.name)
        if member.name in seen:
            raise Refused(f"{member.name!r} is in the workspace twice")
        seen.add(member.name)
        if member.type in (tarfile.REGTYPE, tarfile.AREGTYPE) and not member.issparse():
            total += member.size
        elif member.type != tarfile.DIRTYPE:
            raise Refused(f"{member.name!r} is neither a regular file nor a folder")
    if total > max_bytes:
        raise Refused(f"the workspace's files hold {total} bytes, over {max_bytes}")
    return members


def _check_name(name: str) -> None:
    parts = name.split("/")
    if not name or name.startswith("/") or "\0" in name or any(p in ("", ".", "..") for p in parts):
        raise Refused(f"the workspace holds a member with an unsafe name: {name!r}")


def _write(data: bytes, members: list[tarfile.TarInfo], target: str) -> None:
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
    with _open(data) as archive:
        for member in members:
            path = os.path.join(target, member.name)
            parent = os.path.dirname(path)
            if not os.path.isdir(parent):
                os.makedirs(parent, mode=0o755)  # raises if a file is in the way
            if member.isdir():
                os.mkdir(path, 0o755)
                continue
            source = archive.extractfile(member)
            assert source is not None  # a regular file (checked in _members)
            handle = os.open(path, flags, 0o644)
            try:
                view = memoryview(source.read())
                while view:
                    view = view[os.write(handle, view) :]
            finally:
                os.close(handle)


def _make_read_only(target: str) -> None:
    for root, folders, files in os.walk(target, topdown=False):
        for name in files:
            os.chmod(os.path.join(root, name), 0o444, follow_symlinks=False)
        for name in folders:
            os.chmod(os.path.join(root, name), 0o555, follow_symlinks=False)
    os.chmod(target, 0o555)


def main(argv: list[str]) -> int:
    """``mg_unpack.py TARGET MAX_BYTES MAX_ENTRIES COMMAND...``: unpack, then exec COMMAND."""
    target, max_bytes, max_entries, *command = argv
    try:
        receive(0, target, int(max_bytes), int(max_entries))
    except (Refused, OSError) as exc:
        print(f"micrograde: the workspace was refused: {exc}", file=sys.stderr, flush=True)
        return REFUSED
    os.execv(command[0], command)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
