"""Find where the exercise's classes are defined, statically, without running student code.

A module "defines" a class when a top-level ``class Value`` (etc.) statement is in it. When
a file does not parse or is not UTF-8, ast cannot help, so a line-anchored regex still
tells which module the student meant; the grader then reports the import failure in each
check instead of rejecting the whole submission.
"""

from __future__ import annotations

import ast
import io
import re
import tokenize
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import PurePosixPath

from grader import syntax
from grader.intake.model import CLASS_NAMES, join_and, list_paths

_CLASS_LINE = re.compile(r"^class\s+(" + "|".join(CLASS_NAMES) + r")\b", re.MULTILINE)

# Where the exercise's own layout and Karpathy's original put each class.
_CANONICAL = {
    "Value": "micrograd/value.py",
    "Neuron": "micrograd/mlp.py",
    "Layer": "micrograd/mlp.py",
    "MLP": "micrograd/mlp.py",
}
_KARPATHY = {
    "Value": "micrograd/engine.py",
    "Neuron": "micrograd/nn.py",
    "Layer": "micrograd/nn.py",
    "MLP": "micrograd/nn.py",
}


@dataclass(frozen=True)
class Scan:
    """What one module (or notebook cell) defines, and why it may fail to import."""

    classes: tuple[str, ...]
    problem: str | None = None
    # When the file does not parse: the line (if Python says) and Python's message.
    syntax: tuple[int | None, str] | None = None


def decode_source(data: bytes) -> tuple[str | None, str | None]:
    """Decode source bytes the way Python would (coding cookie, BOM, else UTF-8).

    Returns the text, or None and a plain-English reason when Python could not read it.
    """
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    except SyntaxError as error:
        return None, _why_undecodable(data, error.msg)
    try:
        return data.decode(encoding), None
    except UnicodeDecodeError:
        return None, _why_undecodable(data, f"not valid {encoding}")


def _why_undecodable(data: bytes, detail: str) -> str:
    """Tell a stray non-UTF-8 byte (the usual case: a file saved as Latin-1) from a bad cookie."""
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        return (
            f"is not UTF-8 text (first bad byte on line {line}); "
            "save it as UTF-8 so Python can import it"
        )
    return f"cannot be decoded ({detail})"


def scan_bytes(data: bytes, label: str) -> Scan:
    """Scan a source file for the exercise's classes."""
    text, problem = decode_source(data)
    if text is None:
        # Latin-1 maps every byte to a character, so the regex can still read the file.
        fallback = data.decode("latin-1")
        return Scan(_regex_classes(fallback), f"{label} {problem}")
    return scan_text(text, label)


def scan_text(text: str, label: str) -> Scan:
    """Scan decoded source text for top-level class statements (ast first, regex as fallback)."""
    try:
        tree = syntax.parse(text, label)
    except SyntaxError as error:
        where = f"line {error.lineno}: " if error.lineno else ""
        return Scan(
            _regex_classes(text),
            f"{label} does not parse ({where}{error.msg})",
            (error.lineno, str(error.msg)),
        )
    except (ValueError, RecursionError, MemoryError) as error:
        return Scan(_regex_classes(text), f"{label} does not parse ({error})")
    found = {node.name for node in tree.body if isinstance(node, ast.ClassDef)}
    return Scan(tuple(name for name in CLASS_NAMES if name in found))


def _regex_classes(text: str) -> tuple[str, ...]:
    found = set(_CLASS_LINE.findall(text))
    return tuple(name for name in CLASS_NAMES if name in found)


def choose_modules(
    scans: Mapping[PurePosixPath, Scan],
) -> tuple[dict[str, PurePosixPath], list[str]]:
    """Pick the file that defines each class, with notes naming the duplicates left aside.

    Preference: the exercise's layout (micrograd/value.py, micrograd/mlp.py), then
    Karpathy's names (micrograd/engine.py, micrograd/nn.py), then the shallowest path,
    then alphabetical order so every run picks the same file.
    """
    chosen: dict[str, PurePosixPath] = {}
    ignored: dict[tuple[PurePosixPath, tuple[PurePosixPath, ...]], list[str]] = {}
    for name in CLASS_NAMES:
        candidates = sorted(
            (path for path, scan in scans.items() if name in scan.classes),
            key=lambda path: _preference(name, path),
        )
        if not candidates:
            continue
        chosen[name] = candidates[0]
        if len(candidates) > 1:
            ignored.setdefault((candidates[0], tuple(candidates[1:])), []).append(name)
    notes = [
        f"{join_and(names)} {'is' if len(names) == 1 else 'are'} defined in more than one "
        f"file: graded {used}, ignored {list_paths(rest)}"
        for (used, rest), names in ignored.items()
    ]
    return chosen, notes


def _preference(name: str, path: PurePosixPath) -> tuple[bool, bool, int, str]:
    text = path.as_posix()
    return (text != _CANONICAL[name], text != _KARPATHY[name], len(path.parts), text)
