"""grader.intake against hostile archives and folders: traversal, links, bombs, lies."""

from __future__ import annotations

import io
import itertools
import re
import stat
import zipfile
import zlib
from pathlib import Path
from typing import IO, cast

import pytest
from intake_cases import (
    MIB,
    SHAPES,
    VALUE,
    accepted,
    deflated_zeros,
    raw_zip,
    rejected,
    write_tree,
    write_zip,
)

from grader.errors import SubmissionRejected
from grader.intake import IntakeLimits, prepare_submission
from grader.intake.paths import member_path, read_capped

# ------------------------------------------------------------------------ hostile archives


@pytest.mark.parametrize(
    "name",
    [
        "../evil.py",
        "ok/../../evil.py",
        "/evil.py",
        "C:/evil.py",
        "C:evil.py",
        "..\\evil.py",
    ],
)
def test_escaping_archive_entries_reject_the_archive(name: str, tmp_path: Path) -> None:
    files = dict(SHAPES["package"].files) | {name: VALUE}
    reason = rejected(write_zip(tmp_path / "in" / "sub.zip", files), tmp_path)
    assert "absolute path" in reason or "points outside the archive" in reason


def test_backslash_separators_are_read_as_folders(tmp_path: Path) -> None:
    files = {name.replace("/", "\\"): text for name, text in SHAPES["package"].files.items()}
    manifest, outcome = accepted(write_zip(tmp_path / "in" / "win.zip", files), tmp_path)
    assert manifest.shape == "package"
    assert outcome.files() == SHAPES["package"].workspace


def test_symlink_entries_in_an_archive_are_skipped(tmp_path: Path) -> None:
    path = write_zip(tmp_path / "in" / "sub.zip", SHAPES["package"].files)
    with zipfile.ZipFile(path, "a") as archive:
        link = zipfile.ZipInfo("micrograd/secret.py")
        link.create_system = 3
        link.external_attr = (stat.S_IFLNK | 0o777) << 16
        archive.writestr(link, "/etc/passwd")
    manifest, outcome = accepted(path, tmp_path)
    assert outcome.files() == SHAPES["package"].workspace
    assert any("symbolic link (micrograd/secret.py)" in note for note in manifest.notes)


def test_symlinks_in_a_folder_are_never_followed(tmp_path: Path) -> None:
    outside = write_tree(tmp_path / "outside", {"secret.py": VALUE})
    source = write_tree(tmp_path / "in", {"value.py": VALUE})
    (source / "secret.py").symlink_to(outside / "secret.py")
    (source / "loop").symlink_to(source, target_is_directory=True)
    manifest, outcome = accepted(source, tmp_path)
    assert outcome.files() == {"value.py", "student_script.py"}  # and the module that runs it
    assert any("2 symbolic links (loop, secret.py)" in note for note in manifest.notes)


def test_zip_bomb_of_one_gib_of_zeros(tmp_path: Path) -> None:
    stream, crc = deflated_zeros(1024)
    path = tmp_path / "in" / "bomb.zip"
    path.parent.mkdir()
    path.write_bytes(raw_zip("value.py", stream, crc=crc, size=1024 * MIB))
    assert rejected(path, tmp_path) == (
        "value.py would unpack to 1024 MiB, over the 5 MiB limit for one file"
    )


def test_highly_compressed_entry_is_a_bomb_even_under_the_size_limits(tmp_path: Path) -> None:
    stream, crc = deflated_zeros(3)
    path = tmp_path / "in" / "bomb.zip"
    path.parent.mkdir()
    path.write_bytes(raw_zip("value.py", stream, crc=crc, size=3 * MIB))
    assert "looks like a zip bomb" in rejected(path, tmp_path)


def test_raw_zip_helper_builds_a_readable_archive() -> None:
    stream, crc = deflated_zeros(2)
    with zipfile.ZipFile(io.BytesIO(raw_zip("z.bin", stream, crc=crc, size=2 * MIB))) as archive:
        assert archive.read("z.bin") == bytes(2 * MIB)


def test_declared_size_that_lies_is_caught_while_reading(tmp_path: Path) -> None:
    data = (VALUE * 2000).encode()  # about 500 KiB that really unpack
    packer = zlib.compressobj(9, zlib.DEFLATED, -15)
    stream = packer.compress(data) + packer.flush()
    path = tmp_path / "in" / "liar.zip"
    path.parent.mkdir()
    path.write_bytes(raw_zip("value.py", stream, crc=zlib.crc32(data), size=1000))
    reason = rejected(path, tmp_path)
    assert reason.startswith("the archive is corrupt: value.py cannot be read back intact")


def test_total_size_limit(tmp_path: Path) -> None:
    limits = IntakeLimits(max_total_bytes=100_000, max_file_bytes=60_000)
    files = {f"m{index}.py": "#" * 40_000 for index in range(3)} | {"value.py": VALUE}
    reason = rejected(write_zip(tmp_path / "in" / "sub.zip", files), tmp_path, limits)
    assert reason.startswith("the archive would unpack to")
    reason = rejected(write_tree(tmp_path / "in" / "dir", files), tmp_path / "d", limits)
    assert reason.startswith("the sources in the folder add up to more than")


def test_single_file_limit_counts_the_bytes_of_a_folder(tmp_path: Path) -> None:
    source = write_tree(tmp_path / "in", {"value.py": VALUE + "#" * 2000})
    reason = rejected(source, tmp_path, IntakeLimits(max_file_bytes=1000))
    assert reason == "value.py is larger than 1000 bytes, the limit for one file"


def test_entry_limit(tmp_path: Path) -> None:
    files = {f"m{index}.py": "" for index in range(5)} | {"value.py": VALUE}
    limits = IntakeLimits(max_entries=5)
    reason = rejected(write_zip(tmp_path / "in" / "sub.zip", files), tmp_path, limits)
    assert "more than the limit of 5" in reason
    reason = rejected(write_tree(tmp_path / "in" / "dir", files), tmp_path / "d", limits)
    assert "more than 5 files and folders" in reason


def test_zip_inside_the_zip_is_not_opened(tmp_path: Path) -> None:
    inner = write_zip(tmp_path / "inner" / "inner.zip", {"value.py": VALUE}).read_bytes()
    files = dict(SHAPES["package"].files) | {"extra/inner.zip": inner}
    manifest, outcome = accepted(write_zip(tmp_path / "in" / "sub.zip", files), tmp_path)
    assert outcome.files() == SHAPES["package"].workspace
    assert any("extra/inner.zip: an archive inside the archive" in n for n in manifest.notes)
    only = write_zip(tmp_path / "in" / "only.zip", {"inner.zip": inner})
    assert rejected(only, tmp_path / "o").endswith("it holds only: inner.zip")


@pytest.mark.parametrize("damage", ["text", "truncated", "encrypted"])
def test_corrupt_archives(damage: str, tmp_path: Path) -> None:
    path = write_zip(tmp_path / "in" / "sub.zip", SHAPES["package"].files)
    if damage == "text":
        path.write_text("not a zip at all")
    elif damage == "truncated":
        path.write_bytes(path.read_bytes()[:-30])
    else:
        data = VALUE.encode()
        path.write_bytes(
            raw_zip(
                "value.py",
                zlib.compress(data)[2:-4],
                crc=zlib.crc32(data),
                size=len(data),
                flags=0x1,
            )
        )
    reason = rejected(path, tmp_path)
    expected = {
        "text": "sub.zip is not a readable zip archive",
        "truncated": "sub.zip is not a readable zip archive",
        "encrypted": "value.py is password-protected",
    }[damage]
    assert reason.startswith(expected)


def test_repeated_archive_entries_keep_the_last(tmp_path: Path) -> None:
    path = write_zip(tmp_path / "in" / "sub.zip", {"value.py": "x = 1\n"})
    with zipfile.ZipFile(path, "a") as archive, pytest.warns(UserWarning, match="Duplicate"):
        archive.writestr("value.py", VALUE)
    manifest, outcome = accepted(path, tmp_path)
    assert (outcome.workspace / "value.py").read_text() == VALUE
    assert any("more than once" in note for note in manifest.notes)


def test_workspace_must_be_an_empty_folder(tmp_path: Path) -> None:
    source = write_tree(tmp_path / "in", {"value.py": VALUE})
    (tmp_path / "ws").mkdir()
    (tmp_path / "ws" / "left.txt").write_text("x")
    with pytest.raises(ValueError, match="must be empty"):
        prepare_submission(source, tmp_path / "ws")


# ------------------------------------------------------------------------------ the helpers


def test_read_capped_counts_bytes_instead_of_trusting_sizes() -> None:
    assert read_capped(io.BytesIO(b"x" * 100), 100) == b"x" * 100
    assert read_capped(io.BytesIO(b"x" * 101), 100) is None

    class Endless(io.RawIOBase):
        def readable(self) -> bool:
            return True

        def readinto(self, buffer: bytearray) -> int:  # type: ignore[override]
            buffer[:] = b"\0" * len(buffer)
            return len(buffer)

    assert read_capped(cast(IO[bytes], io.BufferedReader(Endless())), 10 * MIB) is None


def test_member_path_is_always_relative_and_inside() -> None:
    # Every name of up to 5 characters over the alphabet that path tricks are made of.
    names = [
        "".join(chars)
        for length in range(6)
        for chars in itertools.product("./\\C:a", repeat=length)
    ]
    for name in names:
        try:
            path = member_path(name)
        except SubmissionRejected:
            continue
        assert not path.is_absolute(), name
        assert ".." not in path.parts and "\\" not in str(path), name
        assert not path.parts or not re.match(r"[A-Za-z]:", path.parts[0]), name
