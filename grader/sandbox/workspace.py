"""The submission's workspace as the Docker sandbox receives it: a capped tar on stdin.

The host shares no folder with the container, so the same grader works whether the
engine is local, remote (``DOCKER_HOST``) or reached through its socket from inside
another container. ``workspace_frame`` packs the workspace into an uncompressed tar
(regular files and folders only, with fixed owners, modes and times) behind an 8-byte
length; the backend writes it on the container's standard input as soon as the container
has started, and ``grader/harness/unpack.py`` unpacks it, before any student code runs,
into ``/workspace``: a tmpfs of its own (``workspace_tmpfs``), owned by the sandbox's user,
made read-only once unpacked. The same limits bound both sides: ``[limits] workspace_mb``
of file content and ``MAX_ENTRIES`` files and folders.

``check_workspace`` applies those limits right after intake, whatever the backend, so a
workspace over them is the student's error (a ``rejected`` result), never a sandbox
failure.
"""

from __future__ import annotations

import io
import os
import stat
import tarfile
from pathlib import Path

from grader.errors import ConfigError, SandboxError, SubmissionRejected
from grader.harness.unpack import HEADER, frame_limit
from grader.intake.model import IntakeLimits, describe_bytes
from grader.settings import Limits

_MiB = 1 << 20
_PAGE = 4096  # a tmpfs gives each non-empty file at least one page
# Intake's cap on the files and folders it reads, twice over: it adds an __init__.py to a
# folder that lacks one, and a module of its own for a notebook or a script.
MAX_ENTRIES = 2 * IntakeLimits().max_entries


def max_bytes(limits: Limits) -> int:
    return limits.workspace_mb * _MiB


def check_workspace(workspace: Path, limits: Limits) -> None:
    """Raise ``SubmissionRejected`` when the workspace is over the sandbox's limits."""
    workspace_frame(workspace, limits)


def workspace_frame(workspace: Path, limits: Limits) -> bytes:
    """The workspace as a length-prefixed tar (``SubmissionRejected`` when too large)."""
    buffer = io.BytesIO()
    entries, content = 0, 0
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as archive:
        for path in _walk(workspace):
            entries += 1
            if entries > MAX_ENTRIES:
                raise SubmissionRejected(
                    f"the submission, as prepared for grading, holds more than {MAX_ENTRIES} "
                    "files and folders; hand in only your sources"
                )
            info = _entry(path, path.relative_to(workspace).as_posix())
            content += info.size
            if content > max_bytes(limits):
                raise SubmissionRejected(
                    f"the submission, as prepared for grading, holds more than "
                    f"{describe_bytes(max_bytes(limits))} of files (the limit); hand in "
                    "only your sources"
                )
            if info.isdir():
                archive.addfile(info)
            else:
                with path.open("rb") as handle:
                    archive.addfile(info, handle)
    data = buffer.getvalue()
    if len(data) > frame_limit(max_bytes(limits), MAX_ENTRIES):
        raise SubmissionRejected(  # only very long file names make the tar that much larger
            "the submission's file names are too long to be graded: shorten them"
        )
    return HEADER.pack(len(data)) + data


def _walk(root: Path) -> list[Path]:
    """Every file and folder under ``root``, each folder before its content, sorted."""
    found = []
    for folder, dirs, files in os.walk(root):
        dirs.sort()
        here = Path(folder)
        found += [here / name for name in dirs]
        found += [here / name for name in sorted(files)]
    return sorted(found, key=lambda p: p.relative_to(root).parts)


def _entry(path: Path, name: str) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    mode = path.lstat().st_mode
    if stat.S_ISDIR(mode):
        info.type, info.mode = tarfile.DIRTYPE, 0o755
    elif stat.S_ISREG(mode):
        info.type, info.mode, info.size = tarfile.REGTYPE, 0o644, path.lstat().st_size
    else:  # intake writes regular files and folders only
        raise SandboxError(f"the workspace holds {name}, neither a regular file nor a folder")
    return info


def unpack_limits(limits: Limits) -> tuple[int, int]:
    """What the unpacker inside accepts: (bytes of content, files and folders)."""
    return max_bytes(limits), MAX_ENTRIES


def workspace_tmpfs(limits: Limits, user: str) -> str:
    """Mount options of the ``/workspace`` tmpfs: room for the content (and one page per
    file), one inode per entry, owned by the sandbox's user until the unpacker is done."""
    uid, gid = numeric_ids(user)
    return (
        f"rw,nosuid,nodev,noexec,size={workspace_tmpfs_bytes(limits) // 1024}k,"
        f"nr_inodes={MAX_ENTRIES + 1},"
        f"mode=0755,uid={uid},gid={gid}"
    )


def workspace_tmpfs_bytes(limits: Limits) -> int:
    """The size of the ``/workspace`` tmpfs (whole KiB)."""
    return max_bytes(limits) + MAX_ENTRIES * _PAGE


def numeric_ids(user: str) -> tuple[int, int]:
    """``[docker] user`` as (uid, gid): the workspace's tmpfs is mounted for them."""
    uid, _, gid = user.partition(":")
    if not (uid.isdigit() and gid.isdigit()):
        raise ConfigError(
            f"[docker] user must be numeric, as UID:GID (such as 10001:10001), got {user!r}"
        )
    return int(uid), int(gid)
