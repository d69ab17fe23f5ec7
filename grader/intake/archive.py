"""Read a .zip submission member by member, never with extractall.

Every member name is checked before anything is read (absolute paths, ``..``, drive letters
and backslash tricks reject the whole archive: an archive built that way is either broken
or hostile). Declared sizes are checked up front and the bytes are counted again while
reading, because declared sizes can lie. Symbolic-link members are skipped, and an archive
inside the archive is not opened.
"""

from __future__ import annotations

import stat
import zipfile
import zlib
from pathlib import Path, PurePosixPath

from grader.errors import SubmissionRejected
from grader.intake.collect import Collector
from grader.intake.model import Gathered, IntakeLimits, describe_bytes, list_paths
from grader.intake.paths import member_path, read_capped

_CORRUPT = (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError)


def gather_zip(path: Path, limits: IntakeLimits) -> Gathered:
    """Read the sources and notebooks of the archive at ``path`` into memory."""
    on_disk = path.stat().st_size
    if on_disk > limits.max_total_bytes:
        raise SubmissionRejected(
            f"{path.name} is {describe_bytes(on_disk)}, over the "
            f"{describe_bytes(limits.max_total_bytes)} limit for a submission"
        )
    try:
        archive = zipfile.ZipFile(path)
    except _CORRUPT as error:
        raise SubmissionRejected(f"{path.name} is not a readable zip archive ({error})") from None
    with archive:
        return _gather_members(archive, limits)


def _gather_members(archive: zipfile.ZipFile, limits: IntakeLimits) -> Gathered:
    members = archive.infolist()
    if len(members) > limits.max_entries:
        raise SubmissionRejected(
            f"the archive holds {len(members)} entries, more than the limit of "
            f"{limits.max_entries}; hand in only your sources"
        )
    # Name every member first, so one bad name rejects the archive before anything is read.
    named = [(member, member_path(member.filename)) for member in members]
    _check_declared_sizes(members, limits)
    collector = Collector(limits, "the archive")
    for member, relative in named:
        if member.is_dir() or not relative.parts:
            continue
        if _is_link(member):
            collector.skip_link(relative)
            continue
        kind = collector.classify(relative)
        if kind in ("source", "notebook"):
            collector.keep(relative, kind, _read_member(archive, member, relative, collector))
    gathered = collector.result()
    if not gathered.archives:
        return gathered
    note = (
        f"ignored {list_paths(gathered.archives)}: an archive inside the archive "
        "is not opened; put its files in the outer archive instead"
    )
    return _with_notes(gathered, (note,))


def _with_notes(gathered: Gathered, extra: tuple[str, ...]) -> Gathered:
    return Gathered(
        gathered.sources,
        gathered.notebooks,
        gathered.archives,
        gathered.others,
        gathered.entry_count,
        gathered.notes + extra,
    )


def _is_link(member: zipfile.ZipInfo) -> bool:
    """Whether a member is a symbolic link (Unix mode bits live in the high 16 bits)."""
    return stat.S_ISLNK(member.external_attr >> 16)


def _check_declared_sizes(members: list[zipfile.ZipInfo], limits: IntakeLimits) -> None:
    """Reject an archive whose own headers announce too much data or a zip bomb."""
    total = 0
    for member in members:
        size = member.file_size
        if size > limits.max_file_bytes:
            raise SubmissionRejected(
                f"{member.filename} would unpack to {describe_bytes(size)}, over the "
                f"{describe_bytes(limits.max_file_bytes)} limit for one file"
            )
        packed = max(member.compress_size, 1)
        if size >= limits.ratio_floor_bytes and size > limits.max_compression_ratio * packed:
            raise SubmissionRejected(
                f"{member.filename} is compressed {size // packed} times over (the limit is "
                f"{limits.max_compression_ratio:g}); this looks like a zip bomb"
            )
        total += size
    if total > limits.max_total_bytes:
        raise SubmissionRejected(
            f"the archive would unpack to {describe_bytes(total)}, over the "
            f"{describe_bytes(limits.max_total_bytes)} limit for a submission"
        )


def _read_member(
    archive: zipfile.ZipFile, member: zipfile.ZipInfo, relative: PurePosixPath, collector: Collector
) -> bytes:
    """Read one member in full, counting its bytes against the limits as they arrive."""
    if member.flag_bits & 0x1:
        raise SubmissionRejected(f"{relative} is password-protected; hand in a plain archive")
    try:
        with archive.open(member) as stream:
            data = read_capped(stream, collector.read_cap())
    except NotImplementedError:
        raise SubmissionRejected(
            f"{relative} uses a compression method Python cannot read; "
            "rebuild the archive with ordinary (deflate) compression"
        ) from None
    except _CORRUPT as error:
        raise SubmissionRejected(
            f"the archive is corrupt: {relative} cannot be read back intact ({error})"
        ) from None
    if data is None:
        raise collector.over_cap(relative)
    if len(data) != member.file_size:
        raise SubmissionRejected(
            f"the archive is corrupt: {relative} holds {len(data)} bytes but its header "
            f"says {member.file_size}"
        )
    return data
