"""When a batch may keep an earlier result: the key of everything a result depends on.

A result stays valid while none of these changed: the submission's files (relative paths
and bytes), the grader (its version and the digest of its own files, so a patched grader
regrades), the rubrics, the staged tests and harness (``bundle_digest``), the reference
solution, the settings, the steps, the seed and the sandbox kind. The key is stored as
JSON in ``<student>/.key``, written last, so a result without a matching key is regraded.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
from dataclasses import asdict
from pathlib import Path
from typing import Any

from grader import __version__
from grader.batch.lms import Submission
from grader.exercise import Exercise
from grader.files import dump_json, write_atomic
from grader.sandbox.bundle import bundle_digest
from grader.settings import Settings

KEY_FILE = ".key"
GRADER_DIR = Path(__file__).resolve().parents[1]
# A file this large is over intake's limits and will be rejected anyway: its size and
# modification time stand for its bytes, so hashing never reads gigabytes.
HASH_CAP = 64 << 20
MAX_WALK = 20_000
_OPEN_FLAGS = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)

Key = dict[str, Any]


def batch_fingerprint(
    exercise: Exercise, settings: Settings, *, seed: int, sandbox: str, steps: tuple[int, ...]
) -> Key:
    """The part of every key that is the same for the whole batch."""
    rubrics = {f"step_{s}.toml": exercise.rubrics_dir / f"step_{s}.toml" for s in exercise.steps}
    return {
        "grader": f"{__version__}+{_files_digest(GRADER_DIR, _grader_file)}",
        "rubrics": _digest_files(rubrics),
        "tests": bundle_digest(exercise),
        "reference": _files_digest(exercise.reference_dir(5), lambda p: True),
        "settings": hashlib.sha256(
            json.dumps(asdict(settings), sort_keys=True).encode()
        ).hexdigest(),
        "steps": list(steps),
        "seed": seed,
        "sandbox": sandbox,
    }


def submission_key(submission: Submission, fingerprint: Key) -> Key:
    return {"content": content_digest(submission), **fingerprint}


def read_key(folder: Path) -> Key | None:
    try:
        data = json.loads((folder / KEY_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def write_key(folder: Path, key: Key) -> None:
    write_atomic(folder / KEY_FILE, dump_json(key))


def drop_key(folder: Path) -> None:
    """Before a result is rewritten: a crash midway must not leave an old key beside it."""
    (folder / KEY_FILE).unlink(missing_ok=True)


def changed(old: Key | None, new: Key) -> list[str]:
    """Which parts of the key differ (``["new"]`` when there was none)."""
    if old is None:
        return ["new"]
    return [name for name in new if old.get(name) != new[name]]


def content_digest(submission: Submission) -> str:
    """Hash the submission as it will be graded: each part's name, then its files."""
    digest = hashlib.sha256()
    for part in sorted(submission.parts, key=lambda p: p.name):
        digest.update(b"part\0" + part.name.encode("utf-8", "surrogateescape") + b"\0")
        _hash_entry(part.path, "", digest)
    return digest.hexdigest()


def _hash_entry(path: Path, relative: str, digest: Any) -> None:
    pending = [(path, relative)]
    walked = 0
    while pending and walked < MAX_WALK:
        current, name = pending.pop()
        walked += 1
        digest.update(name.encode("utf-8", "surrogateescape") + b"\0")
        try:
            info = os.lstat(current)
        except OSError:
            digest.update(b"gone\0")  # removed while we looked: grading will say so
            continue
        if stat.S_ISDIR(info.st_mode):
            digest.update(b"dir\0")
            children = sorted(_listing(current), reverse=True)
            pending += [(current / c, f"{name}/{c}") for c in children]
        elif stat.S_ISLNK(info.st_mode):
            digest.update(b"link\0" + os.fsencode(os.readlink(current)) + b"\0")
        elif stat.S_ISREG(info.st_mode):
            digest.update(b"file\0" + _file_digest(current, info))
        else:
            digest.update(b"special\0")  # a FIFO or device: never opened, never graded


def _listing(folder: Path) -> list[str]:
    try:
        return os.listdir(folder)
    except OSError:
        return ["<unreadable>"]  # the intake of this submission will say what is wrong


def _file_digest(path: Path, info: os.stat_result) -> bytes:
    if info.st_size > HASH_CAP:
        return f"large:{info.st_size}:{info.st_mtime_ns}".encode()
    file_hash = hashlib.sha256()
    try:
        descriptor = os.open(path, _OPEN_FLAGS)
    except OSError as error:
        return f"unreadable:{error.errno}".encode()
    with os.fdopen(descriptor, "rb") as handle:
        while chunk := handle.read(1 << 16):
            file_hash.update(chunk)
    return file_hash.digest()


def _grader_file(path: Path) -> bool:
    return "__pycache__" not in path.parts and path.suffix in (".py", ".html", ".toml", "")


def _files_digest(root: Path, keep: Any) -> str:
    files = {
        str(p.relative_to(root)): p
        for p in sorted(root.rglob("*"))
        if p.is_file() and "__pycache__" not in p.parts and keep(p)
    }
    return _digest_files(files)


def _digest_files(files: dict[str, Path]) -> str:
    digest = hashlib.sha256()
    for name, path in sorted(files.items()):
        data = path.read_bytes() if path.is_file() else b"<missing>"
        digest.update(name.encode() + b"\0" + hashlib.sha256(data).digest())
    return digest.hexdigest()
