"""A submission as plain data, so that another machine can grade it as this one would.

The client packs what ``staged`` gives (a file, or a folder) into a parcel: its name and
one entry per file system entry, in name order, as ``(kind, relative path, data)``::

    ("dir",     b"sub",        b"")
    ("file",    b"sub/a.py",   <its bytes>)
    ("link",    b"sub/b.py",   <where the link points>)   never followed
    ("special", b"sub/fifo",   b"")                        a FIFO or device: never opened
    ("unreadable" / "closed", ...)                         a file / folder that could not be read

Paths are bytes (a file name need not be UTF-8). A worker unpacks the parcel into a
temporary folder and grades that: links come back as links and anything that is not a
file, folder or link as a FIFO, so the intake sees the same tree and says the same things
(it never follows a link nor opens a special file). A file is sent up to ``STAGE_CAP`` + 1
bytes, as ``staged`` copies it: past the intake's caps, more bytes cannot change its
verdict. A submission of more than ``MAX_ENTRIES`` entries or ``MAX_BYTES`` bytes is not
sent at all (``ParcelTooLarge``): the client records it as rejected.
"""

from __future__ import annotations

import os
import stat
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from grader.batch.input import STAGE_CAP

MAX_ENTRIES = 20_000
MAX_BYTES = 512 << 20
_CHUNK = 1 << 16
_READ_FLAGS = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)

Parcel = dict[str, Any]


class ParcelTooLarge(Exception):
    """The submission is too large to send to another machine; the message says why."""


def pack(source: Path) -> Parcel:
    """``source`` (a file, a folder or a link) and everything under it, as plain data."""
    entries: list[tuple[str, bytes, bytes]] = []
    total = 0
    pending = [(os.fsencode(source), b"")]
    while pending:
        path, relative = pending.pop()
        kind, data, children = _entry(path)
        total += len(data)
        entries.append((kind, relative, data))
        if len(entries) > MAX_ENTRIES or total > MAX_BYTES:
            raise ParcelTooLarge(
                f"the submission holds more than {MAX_ENTRIES:,} entries or "
                f"{MAX_BYTES >> 20} MiB: too large to send to the cluster's workers"
            )
        pending += [(path + b"/" + c, (relative + b"/" if relative else b"") + c) for c in children]
    return {"name": os.fsencode(source.name), "entries": entries, "bytes": total}


def _entry(path: bytes) -> tuple[str, bytes, list[bytes]]:
    try:
        info = os.lstat(path)
    except OSError:
        return "gone", b"", []
    if stat.S_ISLNK(info.st_mode):
        return "link", os.readlink(path), []
    if stat.S_ISDIR(info.st_mode):
        try:
            children = sorted(os.listdir(path), reverse=True)
        except OSError:
            return "closed", b"", []
        return "dir", b"", children
    if stat.S_ISREG(info.st_mode):
        data = _read(path)
        return ("file", data, []) if data is not None else ("unreadable", b"", [])
    return "special", b"", []


def _read(path: bytes) -> bytes | None:
    try:
        descriptor = os.open(path, _READ_FLAGS)
    except OSError:
        return None
    with os.fdopen(descriptor, "rb") as handle:
        chunks, left = [], STAGE_CAP + 1
        try:
            while left > 0 and (chunk := handle.read(min(_CHUNK, left))):
                chunks.append(chunk)
                left -= len(chunk)
        except OSError:
            return None
    return b"".join(chunks)


@contextmanager
def unpacked(parcel: Parcel) -> Iterator[Path]:
    """The parcel written into a fresh temporary folder; the path to grade."""
    with tempfile.TemporaryDirectory(prefix="micrograde-parcel-") as scratch:
        root = os.fsencode(scratch)
        name = bytes(parcel["name"]) or b"submission"
        top = root + b"/" + name.replace(b"/", b"_")
        for kind, relative, data in parcel["entries"]:
            _write(top + (b"/" + bytes(relative) if relative else b""), str(kind), bytes(data))
        yield Path(os.fsdecode(top))


def _write(path: bytes, kind: str, data: bytes) -> None:
    if b"/../" in path + b"/" or b"\0" in path:
        return  # not something pack writes; never outside the folder
    if kind == "dir":
        os.mkdir(path, 0o755)
    elif kind == "file":
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data)
    elif kind == "link":
        os.symlink(data, path)
    elif kind == "unreadable":
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o000))
    elif kind == "closed":  # a folder that could not be listed
        os.mkdir(path, 0o000)
    elif kind == "special":
        os.mkfifo(path, 0o644)
    # "gone": removed while it was packed; the intake will not find it either
