"""Read a folder submission (and single files) without ever following a symbolic link.

The walk uses ``os.scandir`` with ``follow_symlinks=False`` and opens files with
``O_NOFOLLOW``, so a link planted in a submission can neither pull a file from elsewhere
on the grading machine into the workspace nor send the walk into a loop.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path, PurePosixPath

from grader.errors import SubmissionRejected
from grader.intake.collect import Collector, Kind
from grader.intake.model import Gathered, IntakeLimits
from grader.intake.paths import read_capped

# Without O_NONBLOCK, opening a FIFO someone left in a folder would hang the grader.
_OPEN_FLAGS = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)


def gather_folder(root: Path, limits: IntakeLimits) -> Gathered:
    """Read every source and notebook under ``root`` into memory."""
    collector = Collector(limits, "the folder")
    pending: list[tuple[Path, PurePosixPath]] = [(root, PurePosixPath())]
    # An explicit stack rather than recursion: the entry limit bounds the work, and a
    # deeply nested folder cannot exhaust Python's recursion limit.
    while pending:
        directory, relative = pending.pop()
        for entry in _sorted_entries(directory):
            child = relative / entry.name
            collector.count_entry()
            if entry.is_symlink():
                collector.skip_link(child)
            elif entry.is_dir(follow_symlinks=False):
                if not collector.skip_junk(child, is_dir=True):
                    pending.append((Path(entry.path), child))
            elif entry.is_file(follow_symlinks=False):
                _take_file(Path(entry.path), child, collector)
    return collector.result()


def gather_file(path: Path, kind: Kind, limits: IntakeLimits) -> Gathered:
    """Read a single .py or .ipynb handed in on its own."""
    collector = Collector(limits, "the submission")
    collector.keep(
        PurePosixPath(path.name), kind, read_regular_file(path, PurePosixPath(path.name), collector)
    )
    return collector.result()


def read_regular_file(path: Path, relative: PurePosixPath, collector: Collector) -> bytes:
    """Read one regular file under the collector's caps, refusing links and special files."""
    try:
        descriptor = os.open(path, _OPEN_FLAGS)
    except OSError as error:
        raise SubmissionRejected(f"could not read {relative}: {error.strerror}") from None
    with os.fdopen(descriptor, "rb") as handle:
        if not stat.S_ISREG(os.fstat(descriptor).st_mode):
            raise SubmissionRejected(f"{relative} is not a regular file")
        try:
            data = read_capped(handle, collector.read_cap())
        except OSError as error:
            raise SubmissionRejected(f"could not read {relative}: {error.strerror}") from None
    if data is None:
        raise collector.over_cap(relative)
    return data


def _take_file(path: Path, relative: PurePosixPath, collector: Collector) -> None:
    kind = collector.classify(relative)
    if kind in ("source", "notebook"):
        collector.keep(relative, kind, read_regular_file(path, relative, collector))


def _sorted_entries(directory: Path) -> list[os.DirEntry[str]]:
    """The entries of one folder in name order, so every run sees the same sequence."""
    try:
        with os.scandir(directory) as entries:
            return sorted(entries, key=lambda entry: entry.name)
    except OSError as error:
        raise SubmissionRejected(
            f"could not list a folder of the submission: {error.strerror}"
        ) from None
