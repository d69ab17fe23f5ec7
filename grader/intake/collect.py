"""The bookkeeping shared by the folder walker and the archive reader.

Both see a stream of relative paths; the collector decides what each one is (a source to
read, a notebook, junk, another file), keeps the byte and entry budgets, and turns what it
skipped into plain-English notes.
"""

from __future__ import annotations

from pathlib import PurePosixPath
from typing import Literal

from grader.errors import SubmissionRejected
from grader.intake.model import Gathered, IntakeLimits, describe_bytes, list_paths
from grader.intake.paths import junk_label

Kind = Literal["source", "notebook", "archive", "other", "junk"]


def kind_of(path: PurePosixPath) -> Kind:
    """Classify a file by its path alone (junk first, then by suffix)."""
    if junk_label(path) is not None:
        return "junk"
    suffix = path.suffix.lower()
    if suffix == ".py":
        return "source"
    if suffix == ".ipynb":
        return "notebook"
    if suffix == ".zip":
        return "archive"
    return "other"


class Collector:
    """Accumulates one submission's files and notes while enforcing ``IntakeLimits``."""

    def __init__(self, limits: IntakeLimits, where: str) -> None:
        self.limits = limits
        self.where = where  # "the folder" or "the archive", for messages
        self.sources: dict[PurePosixPath, bytes] = {}
        self.notebooks: dict[PurePosixPath, bytes] = {}
        self.archives: list[PurePosixPath] = []
        self.others: list[PurePosixPath] = []
        self.junk: set[str] = set()
        self.links: list[PurePosixPath] = []
        self.repeated: list[PurePosixPath] = []
        self.entries = 0
        self.total = 0

    def count_entry(self) -> None:
        """Count one file or folder against the entry limit."""
        self.entries += 1
        if self.entries > self.limits.max_entries:
            raise SubmissionRejected(
                f"{self.where} holds more than {self.limits.max_entries} files and folders; "
                "hand in only your sources"
            )

    def skip_junk(self, path: PurePosixPath, is_dir: bool = False) -> bool:
        """Record ``path`` as junk and return True when it is junk."""
        label = junk_label(path, is_dir)
        if label is None:
            return False
        self.junk.add(label)
        return True

    def skip_link(self, path: PurePosixPath) -> None:
        """Record a symbolic link that was not followed."""
        self.links.append(path)

    def classify(self, path: PurePosixPath) -> Kind:
        """Say what a file is and remember the files that will not be read."""
        kind = kind_of(path)
        if kind == "junk":
            self.skip_junk(path)
        elif kind == "archive":
            self.archives.append(path)
        elif kind == "other":
            self.others.append(path)
        return kind

    def read_cap(self) -> int:
        """How many bytes the next file may hold under both the file and total limits."""
        return min(self.limits.max_file_bytes, self.limits.max_total_bytes - self.total)

    def over_cap(self, path: PurePosixPath) -> SubmissionRejected:
        """The rejection for a file that held more bytes than ``read_cap`` allowed."""
        if self.read_cap() == self.limits.max_file_bytes:
            limit = describe_bytes(self.limits.max_file_bytes)
            return SubmissionRejected(f"{path} is larger than {limit}, the limit for one file")
        total = describe_bytes(self.limits.max_total_bytes)
        return SubmissionRejected(f"the sources in {self.where} add up to more than {total}")

    def keep(self, path: PurePosixPath, kind: Kind, data: bytes) -> None:
        """Keep a source or notebook that was read in full."""
        self.total += len(data)
        target = self.sources if kind == "source" else self.notebooks
        if path in target:
            self.repeated.append(path)
        target[path] = data

    def result(self) -> Gathered:
        """Freeze what was collected, with notes on everything that was left behind."""
        return Gathered(
            sources=dict(self.sources),
            notebooks=dict(self.notebooks),
            archives=tuple(self.archives),
            others=tuple(sorted(self.others)),
            entry_count=len(self.sources)
            + len(self.notebooks)
            + len(self.archives)
            + len(self.others),
            notes=tuple(self._notes()),
        )

    def _notes(self) -> list[str]:
        notes: list[str] = []
        if self.junk:
            notes.append(f"ignored system and editor files: {', '.join(sorted(self.junk))}")
        if self.links:
            notes.append(
                f"skipped {_count(len(self.links), 'symbolic link')} "
                f"({list_paths(sorted(self.links))}): links are never followed"
            )
        if self.repeated:
            notes.append(
                f"{self.where} lists {list_paths(sorted(self.repeated))} more than once; "
                "used the last copy"
            )
        if self.others:
            notes.append(
                f"ignored {_count(len(self.others), 'file')} that "
                f"{'is' if len(self.others) == 1 else 'are'} not Python source: "
                f"{list_paths(sorted(self.others))}"
            )
        return notes


def _count(number: int, noun: str) -> str:
    """'1 file', '3 files'."""
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"
