"""Path rules shared by every kind of submission: junk, safe names, capped reads, safe writes.

Intake never trusts a path that came from a submission. Archive member names are parsed
into relative paths and refused when they try to climb out; writes go through
``write_tree``, which refuses anything that would land outside the workspace and never
follows or replaces a link.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path, PurePosixPath
from typing import IO

from grader.errors import SubmissionRejected

# Folders that learning platforms, operating systems, editors and tools leave behind.
# Anything whose name starts with "." (.DS_Store, ._value.py, .git/, .ipynb_checkpoints/,
# .venv/) is junk as well; see is_junk_name.
JUNK_NAMES = frozenset(
    {"__MACOSX", "__pycache__", "Thumbs.db", "desktop.ini", "venv", "site-packages", "node_modules"}
)

_DRIVE = re.compile(r"^[A-Za-z]:")
_CHUNK = 64 * 1024


def is_junk_name(name: str) -> bool:
    """Whether one path component is system, editor or tool debris, not the student's work."""
    return name.startswith(".") or name in JUNK_NAMES


def junk_label(path: PurePosixPath, is_dir: bool = False) -> str | None:
    """Name the kind of junk a path is (for a note), or None when it is not junk."""
    for index, part in enumerate(path.parts):
        if not is_junk_name(part):
            continue
        if part.startswith("._"):
            return "._* resource forks"
        last = index == len(path.parts) - 1
        return part if last and not is_dir else part + "/"
    return None


def member_path(name: str) -> PurePosixPath:
    """Turn an archive member name into a safe relative path, or reject the archive.

    Backslashes are read as separators (old Windows tools write them) so that a name like
    ``..\\evil.py`` is caught by the same ``..`` rule as ``../evil.py``.
    """
    unified = name.replace("\\", "/")
    if "\x00" in unified:
        raise SubmissionRejected(f"the archive has an entry with a NUL byte in its name: {name!r}")
    parts = [part for part in unified.split("/") if part not in ("", ".")]
    if unified.startswith("/") or (parts and _DRIVE.match(parts[0])):
        raise SubmissionRejected(
            f"the archive has an entry with an absolute path ({name!r}); "
            "archives must only hold relative paths"
        )
    if ".." in parts:
        raise SubmissionRejected(
            f"the archive has an entry that points outside the archive ({name!r}); "
            "rebuild the archive from the project folder"
        )
    return PurePosixPath(*parts)


def read_capped(stream: IO[bytes], cap: int) -> bytes | None:
    """Read a whole stream, or return None as soon as it holds more than ``cap`` bytes.

    Declared sizes (an archive header, a stat taken before the read) can lie, so the bytes
    are counted as they arrive rather than trusted up front.
    """
    chunks: list[bytes] = []
    total = 0
    while True:
        chunk = stream.read(min(_CHUNK, cap + 1 - total))
        if not chunk:
            return b"".join(chunks)
        total += len(chunk)
        if total > cap:
            return None
        chunks.append(chunk)


def write_tree(workspace: Path, files: Mapping[PurePosixPath, bytes]) -> None:
    """Write files under ``workspace``; refuse any path that would end up outside it."""
    root = workspace.resolve()
    for relative, data in sorted(files.items()):
        target = _inside(root, relative)
        target.parent.mkdir(parents=True, exist_ok=True)
        if not target.parent.resolve().is_relative_to(root):
            raise ValueError(f"refusing to write {relative}: its folder leads outside")
        # O_EXCL never follows or replaces an existing entry (a link or an earlier file).
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
        descriptor = os.open(target, flags, 0o644)
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data)


def _inside(root: Path, relative: PurePosixPath) -> Path:
    """Join a relative path onto root after checking it cannot climb out."""
    parts = relative.parts
    if relative.is_absolute() or not parts or any(part in ("", ".", "..") for part in parts):
        raise ValueError(f"refusing to write {relative!s}: not a plain relative path")
    return root.joinpath(*parts)
