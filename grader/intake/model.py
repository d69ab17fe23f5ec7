"""The data intake works with: its limits, the manifest it returns and what it gathered.

Everything here is a frozen dataclass: intake reads a submission once into memory (its
sources are small and capped by ``IntakeLimits``), decides, then writes; nothing is
shared or mutated between those stages.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from types import MappingProxyType
from typing import Literal

#: The classes of the exercise, in the order the steps introduce them.
CLASS_NAMES: tuple[str, ...] = ("Value", "Neuron", "Layer", "MLP")

#: How the submission was laid out; ``other`` is anything gradable that fits no usual shape.
Shape = Literal["package", "karpathy", "single_file", "loose_files", "notebook", "other"]

MIB = 1024 * 1024


@dataclass(frozen=True)
class IntakeLimits:
    """Caps on what intake will read, so a hostile or careless submission cannot fill the disk.

    They apply to archives (declared sizes and the bytes really read) and to folders (the
    files intake reads). A submission over a limit is rejected, not truncated: a cut-off
    source would only produce confusing errors later.
    """

    max_entries: int = 2000
    max_total_bytes: int = 20 * MIB
    max_file_bytes: int = 5 * MIB
    max_compression_ratio: float = 100.0
    # Small files can compress absurdly well (a line of 2,000 '#' characters) without being
    # dangerous; the ratio check only bites where a ratio could hide a large payload.
    ratio_floor_bytes: int = 64 * 1024


@dataclass(frozen=True)
class Statement:
    """One top-level statement (or several on one line): its lines and its names."""

    first: int  # 1-based, decorators included
    last: int
    binds: frozenset[str] = frozenset()
    reads: frozenset[str] = frozenset()
    # (name bound, top-level module) for each name an import statement binds
    imports: tuple[tuple[str, str], ...] = ()
    future: tuple[str, ...] = ()  # from __future__ import ...
    needed: bool = False

    @property
    def modules(self) -> frozenset[str]:
        """The top-level modules this statement imports."""
        return frozenset(module for _, module in self.imports)


@dataclass(frozen=True)
class Source:
    """One notebook cell (``cell`` counts every cell, from 1) or a script (``cell`` 0)."""

    cell: int
    text: str
    statements: tuple[Statement, ...] | None  # None: it does not parse

    @property
    def line_count(self) -> int:
        return max(len(self.text.splitlines()), 1)


@dataclass(frozen=True)
class TopLevel:
    """A module intake generated to run top-level code one statement at a time.

    ``kind`` says what it replays: a notebook's cells, or a single-file script (whose
    ``label`` is the script's file name, beside the generated module in the workspace).
    """

    kind: Literal["notebook", "script"]
    label: str
    sources: tuple[Source, ...]


@dataclass(frozen=True)
class Manifest:
    """Where the exercise's classes are in a prepared workspace, and what intake noticed.

    ``classes`` maps each class name found ("Value", "Neuron", "Layer", "MLP") to the dotted
    module name to import from the workspace root, e.g. ``{"Value": "micrograd.value"}``.
    ``notes`` are plain-English sentences meant for the student's report.
    """

    classes: Mapping[str, str]
    shape: Shape
    notes: tuple[str, ...]
    # The generated modules that run top-level code statement by statement, by module name.
    toplevel: Mapping[str, TopLevel] = field(default_factory=lambda: MappingProxyType({}))
    # Files holding the exercise's classes that do not parse: (file, line or None, message),
    # and the note about each among ``notes`` (dropped when the diagnosis says it instead).
    unparsable: tuple[tuple[str, int | None, str], ...] = ()
    parse_notes: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))


@dataclass(frozen=True)
class Gathered:
    """What was read from a submission before any decision about its layout.

    Paths are relative to the submission's top (the folder, or the archive's root).
    ``others`` are the non-Python files that were seen and left behind.
    """

    sources: Mapping[PurePosixPath, bytes]
    notebooks: Mapping[PurePosixPath, bytes]
    archives: tuple[PurePosixPath, ...]
    others: tuple[PurePosixPath, ...]
    entry_count: int
    notes: tuple[str, ...]


@dataclass(frozen=True)
class Plan:
    """The files to write into the workspace and the manifest that describes them."""

    files: Mapping[PurePosixPath, bytes]
    manifest: Manifest


def describe_bytes(count: int) -> str:
    """Say a size the way a person would read it ("5 MiB", "12.3 KiB")."""
    if count >= MIB:
        return f"{count / MIB:.1f} MiB".replace(".0 ", " ")
    if count >= 1024:
        return f"{count / 1024:.1f} KiB".replace(".0 ", " ")
    return f"{count} bytes"


def join_and(words: Sequence[str]) -> str:
    """``a``, ``a and b``, ``a, b and c``: words joined for a sentence."""
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def list_paths(paths: list[PurePosixPath] | tuple[PurePosixPath, ...], limit: int = 8) -> str:
    """Join paths for a message, shortening long lists ("a.py, b.py and 12 more")."""
    names = [str(path) for path in paths]
    if len(names) <= limit:
        return ", ".join(names)
    return ", ".join(names[:limit]) + f" and {len(names) - limit} more"
