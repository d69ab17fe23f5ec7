"""A class folder as Canvas and Moodle download it, built from the bundled examples.

Twelve students: complete solutions in every shape, a partial one, a bug, a syntax error,
an empty folder, a notebook that is not JSON, a file whose top level never ends and a
hostile name. ``EXPECTED`` says what each must get; ``batch_cli`` runs ``micrograde batch``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

from grading import EXAMPLES, REPO

from grader.exercise import load_exercise

SEED = 99  # tests/test_examples.py knows exactly what the __mul__ bug loses at this seed
HOSTILE = "<script>alert(1)<!--"
HOSTILE_ID = f"{HOSTILE}_112"
# Small budgets keep the hanging import short; the checks themselves take well under 1 s.
# The import allowance is not tighter than 3 s: with both cores busy (the tests run beside
# each other), a notebook's first statement was once seen to take over 1 s and be left out.
QUICK_SETTINGS = """\
[time]
check_seconds = 4.0
import_seconds = 3.0
startup_seconds = 15.0
step_seconds = 30.0
total_seconds = 20.0
"""

CHECKS = len(load_exercise().checks)
ALL_PASSED, NONE_PASSED = f"{CHECKS} of {CHECKS}", f"0 of {CHECKS}"

# student id -> (status, step scores or None, words in the message)
EXPECTED: dict[str, tuple[str, tuple[int, ...] | None, str]] = {
    "smithjohn_101": ("graded", (20, 20, 20, 20, 20), ALL_PASSED),
    "doejane_102": ("graded", (20, 20, 20, 20, 20), ALL_PASSED),
    "leeann_103": ("graded", (20, 20, 20, 20, 20), ALL_PASSED),
    "parkmin_104": ("graded", (20, 20, 20, 20, 20), ALL_PASSED),
    "Kim_Karp_105": ("graded", (20, 20, 20, 20, 20), ALL_PASSED),
    "partial_step3": ("graded", (20, 20, 20, 0, 0), "checks passed"),
    "bugmul_107": ("graded", None, "checks passed"),  # checked against the rubric
    "broken_108": ("graded", (0, 0, 0, 0, 0), NONE_PASSED),
    "emptyfolder": ("rejected", None, "is empty"),
    "badnb_110": ("rejected", None, "not valid JSON"),
    # a loop at the top of a single file: left out, the class after it still graded
    "zzhang_111": ("graded", (20, 20, 20, 0, 0), "ran longer than the grader allows"),
    HOSTILE_ID: ("graded", (20, 20, 20, 20, 20), ALL_PASSED),
}


def build_class(root: Path) -> Path:
    """Write the twelve entries into ``root`` (created) and return it."""
    root.mkdir(parents=True)
    complete = EXAMPLES / "complete"
    shutil.copy(complete / "single_file.py", root / "smithjohn_101_5001_micrograd.py")
    shutil.copy(complete / "loose_files" / "value.py", root / "doejane_102_5002_value.py")
    shutil.copy(complete / "loose_files" / "mlp.py", root / "doejane_102_5003_mlp.py")
    shutil.copy(complete / "package.zip", root / "leeann_LATE_103_5004_package.zip")
    shutil.copy(complete / "notebook.ipynb", root / "parkmin_104_5005_notebook.ipynb")
    shutil.copytree(complete / "karpathy", root / "Kim Karp_105_assignsubmission_file_")
    shutil.copytree(EXAMPLES / "partial_step3", root / "partial_step3")
    _zip_folder(EXAMPLES / "bug_mul_backward", root / "bugmul_107_5007_solution.zip")
    (root / "broken_108_5008_value.py").write_text("class Value(:\n    pass\n")
    (root / "emptyfolder").mkdir()
    (root / "badnb_110_5010_notebook.ipynb").write_text("this is not a notebook")
    value = (REPO / "reference" / "step_5" / "micrograd" / "value.py").read_text()
    (root / "zzhang_111_5011_value.py").write_text("while True:\n    pass\n\n" + value)
    shutil.copytree(complete / "package", root / f"{HOSTILE}_112_assignsubmission_file_")
    return root


def _zip_folder(folder: Path, target: Path) -> None:
    with zipfile.ZipFile(target, "w") as archive:
        for path in sorted(folder.rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts:
                archive.write(path, path.relative_to(folder).as_posix())


def zip_class(folder: Path, target: Path, wrapper: str = "submissions") -> Path:
    """A .zip of the class folder, everything under one wrapper folder (as staff zip it)."""
    with zipfile.ZipFile(target, "w") as archive:
        for path in sorted(folder.rglob("*")):
            name = f"{wrapper}/{path.relative_to(folder).as_posix()}"
            if path.is_dir():
                archive.writestr(name + "/", b"")
            else:
                archive.write(path, name)
    return target


def batch_command(source: Path, out: Path, settings: Path, *extra: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "grader",
        "batch",
        str(source),
        "--out",
        str(out),
        "--sandbox",
        "local",
        "--jobs",
        "2",
        "--seed",
        str(SEED),
        "--settings",
        str(settings),
        *extra,
    ]


def batch_cli(
    source: Path, out: Path, settings: Path, *extra: str, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    """Run ``micrograde batch`` (not on a terminal: plain log lines)."""
    return subprocess.run(
        batch_command(source, out, settings, *extra),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        env=_env(),
    )


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env.pop("MICROGRADE_EXERCISE", None)
    return env


def settings_file(folder: Path) -> Path:
    path = folder / "settings.toml"
    path.write_text(QUICK_SETTINGS)
    return path


def planned(stdout: str) -> tuple[int, int]:
    """(to grade, up to date) from the batch's first line."""
    first = stdout.splitlines()[0].split()
    return int(first[0]), int(first[3])
