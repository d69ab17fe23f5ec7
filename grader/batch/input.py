"""The class folder a batch grades: a folder as it is, or a .zip of one unpacked safely.

A class archive is the instructor's download, but what is inside it was made by students,
so it is unpacked member by member with the intake's rules (``member_path`` refuses
absolute paths and ``..``; symbolic links are skipped; sizes are counted while copying,
not trusted from the headers). Members are streamed to disk, never held in memory whole:
a student's oversized upload is unpacked as it is and then rejected by the intake of that
one submission, with its own message, instead of stopping the class.
"""

from __future__ import annotations

import os
import shutil
import stat
import tempfile
import zipfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path, PurePosixPath

from grader.batch.lms import Submission, parse_entry
from grader.errors import ConfigError, SubmissionRejected
from grader.intake.paths import is_junk_name, member_path

MiB = 1 << 20
MAX_MEMBERS = 100_000
MAX_MEMBER_BYTES = 1024 * MiB
MAX_TOTAL_BYTES = 8 * 1024 * MiB
MAX_RATIO = 200.0  # beyond this, a member of some size is a zip bomb, not a submission
RATIO_FLOOR = 1 * MiB
_CHUNK = 1 << 16
STAGE_CAP = 64 * MiB  # above every intake limit
_CORRUPT = (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError)


@contextmanager
def class_folder(source: Path) -> Iterator[Path]:
    """``source`` itself when it is a folder; a zip is unpacked into a temporary folder."""
    if source.is_dir():
        yield source
        return
    if source.suffix.lower() != ".zip" or not source.is_file():
        raise ConfigError(
            f"{source} is neither a folder nor a .zip of one: pass the folder "
            "(or archive) you downloaded from the learning platform"
        )
    with tempfile.TemporaryDirectory(prefix="micrograde-class-") as scratch:
        root = Path(scratch) / "class"
        root.mkdir()
        unpack_class_zip(source, root)
        yield _unwrap(root)


def unpack_class_zip(archive_path: Path, root: Path) -> None:
    """Write the members of the class archive under ``root`` (junk and links skipped)."""
    try:
        archive = zipfile.ZipFile(archive_path)
    except _CORRUPT as error:
        raise ConfigError(
            f"{archive_path} is not a readable zip archive ({error}): download it again"
        ) from None
    with archive:
        members = archive.infolist()
        if len(members) > MAX_MEMBERS:
            raise ConfigError(
                f"{archive_path} holds {len(members)} entries (limit "
                f"{MAX_MEMBERS}): unpack it yourself and pass the folder"
            )
        named = [(member, _name(member, archive_path)) for member in members]
        _check_sizes(members, archive_path)
        for member, relative in named:
            if _skipped(member, relative):
                continue
            _extract(archive, member, relative, root, archive_path)


def _name(member: zipfile.ZipInfo, archive_path: Path) -> PurePosixPath:
    try:
        return member_path(member.filename)
    except SubmissionRejected as bad:
        # The whole class archive is the instructor's input: a bad name there is theirs to fix.
        raise ConfigError(f"{archive_path}: {bad.reason}") from None


def _skipped(member: zipfile.ZipInfo, relative: PurePosixPath) -> bool:
    is_link = stat.S_ISLNK(member.external_attr >> 16)
    return not relative.parts or is_link or any(is_junk_name(part) for part in relative.parts)


def _check_sizes(members: list[zipfile.ZipInfo], archive_path: Path) -> None:
    total = 0
    for member in members:
        size, packed = member.file_size, max(member.compress_size, 1)
        if size > MAX_MEMBER_BYTES or (size >= RATIO_FLOOR and size > MAX_RATIO * packed):
            raise ConfigError(
                f"{archive_path}: {member.filename} would unpack to {size} "
                "bytes (too large, or a zip bomb): remove it and retry"
            )
        total += size
    if total > MAX_TOTAL_BYTES:
        raise ConfigError(
            f"{archive_path} would unpack to {total} bytes, over the "
            f"{MAX_TOTAL_BYTES} limit: unpack it yourself and pass the folder"
        )


def _extract(
    archive: zipfile.ZipFile,
    member: zipfile.ZipInfo,
    relative: PurePosixPath,
    root: Path,
    archive_path: Path,
) -> None:
    """Stream one member to ``root/relative``, never through a link, never past its size."""
    target = root.joinpath(*relative.parts)
    folder = target if member.is_dir() else target.parent
    folder.mkdir(parents=True, exist_ok=True)  # an empty folder is a student's too
    if not folder.resolve().is_relative_to(root.resolve()):
        raise ConfigError(f"{archive_path}: {member.filename} leads outside the archive")
    if member.is_dir():
        return
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    try:
        descriptor = os.open(target, flags, 0o644)
    except FileExistsError:
        return  # the same name twice in one archive: the first copy stays
    written = 0
    with os.fdopen(descriptor, "wb") as out:
        try:
            with archive.open(member) as stream:
                while chunk := stream.read(_CHUNK):
                    written += len(chunk)
                    if written > member.file_size:
                        break  # the header lied; what was copied so far is all there is
                    out.write(chunk)
        except (NotImplementedError, RuntimeError, *_CORRUPT):
            pass  # a damaged or encrypted member: its student's intake will say so


def _unwrap(root: Path) -> Path:
    """A class archive often wraps everything in one folder (``submissions/``): go inside.

    Not when that folder is itself one student's (a Moodle folder, say): a class of one.
    """
    entries = [e for e in root.iterdir() if not is_junk_name(e.name)]
    if (
        len(entries) == 1
        and entries[0].is_dir()
        and not entries[0].is_symlink()
        and parse_entry(entries[0]).platform == "plain"
    ):
        inner = [e for e in entries[0].iterdir() if not is_junk_name(e.name)]
        if len(inner) > 1:
            return entries[0]
    return root


@contextmanager
def staged(submission: Submission) -> Iterator[Path]:
    """The path to grade: the entry itself, or a temporary copy under the original names.

    A Canvas upload is renamed back (``smithjohn_1_2_value.py`` -> ``value.py``, so module
    names are the student's), and several uploads are gathered into one folder.
    """
    direct = submission.direct
    if direct is not None:
        yield direct
        return
    with tempfile.TemporaryDirectory(prefix="micrograde-stage-") as scratch:
        folder = Path(scratch) / "submission"
        folder.mkdir()
        for part in submission.parts:
            _copy_part(part.path, folder / _part_name(part.name))
        parts = list(folder.iterdir())
        yield parts[0] if len(submission.parts) == 1 and parts else folder


def _part_name(name: str) -> str:
    """An upload's original name, usable as one path component."""
    cleaned = name.replace("/", "_").replace("\\", "_").replace("\0", "_")
    return cleaned if cleaned.strip(".") else "upload"


def _copy_part(source: Path, target: Path) -> None:
    if source.is_dir() and not source.is_symlink():
        shutil.copytree(source, target, symlinks=True)  # never follow a student's link
        return
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
    try:
        descriptor = os.open(source, flags)
    except OSError:
        return  # a link or something unreadable: intake will find nothing and say so
    with os.fdopen(descriptor, "rb") as handle:
        if not stat.S_ISREG(os.fstat(descriptor).st_mode):
            return
        try:
            out = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        except FileExistsError:
            return
        with os.fdopen(out, "wb") as copy:
            left = STAGE_CAP + 1  # past intake's caps, more bytes cannot change its verdict
            while left > 0 and (chunk := handle.read(min(_CHUNK, left))):
                copy.write(chunk)
                left -= len(chunk)
