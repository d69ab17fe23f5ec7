"""Understand a class folder downloaded from a learning platform: who handed in what.

One entry per student is the plain case (``alice/``, ``bob.py``, ``carol.zip``): the entry's
name, without its extension, is the student id. Two platforms name their downloads so
that several entries can belong to one student:

    Canvas   smithjohn_12345_987654_value.py          lastfirst_userid_fileid_original
             smithjohn_LATE_12345_987655_mlp-1.py     a late one; "-1" marks a re-upload
    Moodle   John Smith_123456_assignsubmission_file_/            a folder per student
             John Smith_123456_assignsubmission_file_value.py     or flat files

A Canvas student with several files becomes one submission (a folder of their original file
names); of a file uploaded more than once, the newest (highest file id, then highest ``-N``
suffix) is kept under its original name. Student ids become folder names in the output, so
they are made safe: no path separators, no control characters, no leading dot, not one of
the batch's own file names, and unique (case-insensitively, for macOS and Windows disks).
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from grader.intake.paths import is_junk_name

Platform = Literal["canvas", "moodle", "plain"]

_CANVAS = re.compile(
    r"^(?P<name>[^_]+)_(?:(?P<late>LATE)_)?(?P<user>\d+)_(?P<file>\d+)_"
    r"(?P<original>.+)$"
)
_MOODLE = re.compile(
    r"^(?P<name>.+?)_(?P<user>\d+)_assignsubmission_(?P<plugin>[a-z]+)_"
    r"(?P<original>.*)$"
)
# Canvas renames a re-uploaded file "value-1.py", "value-2.py" (before the extension).
_RESUBMITTED = re.compile(r"^(?P<stem>.+?)-(?P<number>\d+)(?P<suffix>\.[^.]*)?$")
_GRADABLE_SUFFIXES = (".py", ".zip", ".ipynb")
# The files a batch writes next to the student folders; no student may be called that.
RESERVED_NAMES = frozenset(
    {
        "index.html",
        "gradebook.csv",
        "gradebook-checks.csv",
        "gradebook.json",
        "batch.json",
        "students",
        "similarity.csv",
        "similarity.html",
    }
)
MAX_ID_BYTES = 120  # folder names are capped at 255 bytes; leave room for suffixes


@dataclass(frozen=True)
class Part:
    """One file or folder of a submission, and the name the student gave it."""

    path: Path
    name: str


@dataclass(frozen=True)
class Submission:
    """What one student handed in, as found in the class folder."""

    student: str
    parts: tuple[Part, ...]
    platform: Platform
    user_id: str | None = None
    late: bool = False
    notes: tuple[str, ...] = ()

    @property
    def direct(self) -> Path | None:
        """The path to grade as it is, when nothing has to be renamed or gathered."""
        if len(self.parts) != 1:
            return None
        part = self.parts[0]
        # A folder's own name means nothing to intake; a file's name can (module names).
        return part.path if part.path.is_dir() or part.path.name == part.name else None


@dataclass(frozen=True)
class _Upload:
    """One entry of the class folder, parsed."""

    path: Path
    platform: Platform
    group: str  # entries with the same group belong to the same student
    name: str  # the student's name as the platform wrote it
    user_id: str | None
    original: str
    file_id: int = 0
    late: bool = False
    plugin: str = "file"


def discover(folder: Path) -> list[Submission]:
    """The submissions in ``folder``, sorted by student id (junk such as .DS_Store skipped)."""
    uploads = [
        parse_entry(entry)
        for entry in sorted(folder.iterdir(), key=lambda p: p.name)
        if not is_junk_name(entry.name)
    ]
    grouped: dict[str, list[_Upload]] = defaultdict(list)
    for upload in uploads:
        grouped[upload.group].append(upload)
    drafts = [_submission(items) for _, items in sorted(grouped.items())]
    return assign_ids(drafts)


def parse_entry(path: Path) -> _Upload:
    """Read the platform's naming scheme off one entry of the class folder."""
    name = path.name
    moodle = _MOODLE.match(name)
    if moodle:
        original = moodle["original"] or name
        return _Upload(
            path,
            "moodle",
            f"moodle:{moodle['user']}",
            moodle["name"],
            moodle["user"],
            original,
            plugin=moodle["plugin"],
        )
    canvas = _CANVAS.match(name)
    if canvas:
        return _Upload(
            path,
            "canvas",
            f"canvas:{canvas['user']}",
            canvas["name"],
            canvas["user"],
            canvas["original"],
            int(canvas["file"]),
            late=canvas["late"] is not None,
        )
    stem = name
    if path.suffix.lower() in _GRADABLE_SUFFIXES and not path.is_dir():
        stem = name[: -len(path.suffix)] or name
    return _Upload(path, "plain", f"plain:{name}", stem, None, name)


def _submission(uploads: list[_Upload]) -> Submission:
    first = uploads[0]
    if first.platform == "plain":
        return Submission(first.name, (Part(first.path, first.original),), "plain")
    if first.platform == "moodle":
        files = [u for u in uploads if u.plugin == "file"]
        # Only file uploads are graded; a student with none keeps the rest, so that the
        # rejection they get says what was there.
        uploads = files or uploads
        notes: tuple[str, ...] = ()
        kept = uploads
    else:
        kept, notes = newest_uploads(uploads)
    parts = tuple(
        Part(u.path, strip_resubmission(u.original) if u.platform == "canvas" else u.original)
        for u in kept
    )
    return Submission(
        f"{first.name}_{first.user_id}",
        parts,
        first.platform,
        first.user_id,
        late=any(u.late for u in kept),
        notes=notes,
    )


def newest_uploads(uploads: Iterable[_Upload]) -> tuple[list[_Upload], tuple[str, ...]]:
    """Of each original file name, the newest upload (highest file id, then ``-N``)."""
    by_name: dict[str, list[_Upload]] = defaultdict(list)
    for upload in uploads:
        by_name[strip_resubmission(upload.original)].append(upload)
    kept, notes = [], []
    for original, versions in sorted(by_name.items()):
        versions.sort(key=lambda u: (u.file_id, _resubmission_number(u.original)))
        kept.append(versions[-1])
        if len(versions) > 1:
            notes.append(
                f"{original} was uploaded {len(versions)} times: graded the newest "
                f"({versions[-1].path.name})"
            )
    return kept, tuple(notes)


def strip_resubmission(original: str) -> str:
    """``value-2.py`` -> ``value.py`` (Canvas's mark of a re-uploaded file)."""
    match = _RESUBMITTED.match(original)
    return f"{match['stem']}{match['suffix'] or ''}" if match else original


def _resubmission_number(original: str) -> int:
    match = _RESUBMITTED.match(original)
    return int(match["number"]) if match else 0


def assign_ids(drafts: list[Submission]) -> list[Submission]:
    """Make every student id a safe folder name, unique; sorted by id (ignoring case).

    Collisions are settled in a fixed order (the parsed id, then the first entry's name),
    so the same class folder always gives the same ids and a rerun finds its results.
    """
    taken: set[str] = set()
    named = []
    ordered = sorted(drafts, key=lambda d: (safe_id(d.student), d.parts[0].path.name))
    for draft in ordered:
        base = safe_id(draft.student)
        student, number = base, 2
        while student.casefold() in taken:
            student, number = f"{base}-{number}", number + 1
        taken.add(student.casefold())
        named.append(
            Submission(student, draft.parts, draft.platform, draft.user_id, draft.late, draft.notes)
        )
    return sorted(named, key=lambda s: (s.student.casefold(), s.student))


def safe_id(raw: str) -> str:
    """A folder name made from ``raw``: readable, never a path, never hidden, never empty.

    Whitespace and control characters become ``_``, path separators too; a leading dot or
    a leading spreadsheet-formula character (``=+-@``) is dropped, so that the id can head
    a CSV row that staff open in a spreadsheet.
    """
    text = unicodedata.normalize("NFC", raw)
    text = "".join("_" if _unsafe(ch) else ch for ch in text)
    text = re.sub(r"_{2,}", "_", text).lstrip(".=+-@_").rstrip("._ ")
    encoded = text.encode("utf-8")[:MAX_ID_BYTES]
    text = encoded.decode("utf-8", "ignore").rstrip("._ ")
    if not text:
        text = "student"
    if text.casefold() in RESERVED_NAMES:
        text = f"{text}_"
    return text


def _unsafe(ch: str) -> bool:
    return ch in "/\\" or ch.isspace() or unicodedata.category(ch).startswith("C")
