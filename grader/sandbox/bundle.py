"""The harness bundle: everything the sandbox needs besides the student's code.

    mg_run.py        entry point (grader/harness/entry.py)
    mg_harness/      the relocatable harness package (grader/harness/*.py)
    steps/           the staged test files (tests/steps/test_step*.py, no conftest)
    pytest.ini       a fixed configuration, so nothing in the submission can supply one

The reference solution and rubrics are never part of it. ``bundle_digest`` hashes exactly
these files, so a Docker image built from a different harness is never used by mistake.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from grader.exercise import Exercise

HARNESS_DIR = Path(__file__).resolve().parents[1] / "harness"
PYTEST_INI = "[pytest]\npython_files = test_step*.py\npython_functions = test_*\n"


def bundle_files(exercise: Exercise) -> dict[str, bytes]:
    """Relative path in the bundle -> content."""
    files = {
        "pytest.ini": PYTEST_INI.encode(),
        "mg_run.py": (HARNESS_DIR / "entry.py").read_bytes(),
    }
    for source in sorted(HARNESS_DIR.glob("*.py")):
        files[f"mg_harness/{source.name}"] = source.read_bytes()
    for step_file in sorted(exercise.step_files.values()):
        files[f"steps/{step_file.name}"] = step_file.read_bytes()
    return files


def bundle_digest(exercise: Exercise) -> str:
    digest = hashlib.sha256()
    for name, content in sorted(bundle_files(exercise).items()):
        digest.update(name.encode() + b"\0" + hashlib.sha256(content).digest())
    return digest.hexdigest()


def write_bundle(exercise: Exercise, destination: Path) -> Path:
    """Write the bundle into ``destination`` (created; must not exist yet)."""
    destination.mkdir(parents=True)
    for name, content in bundle_files(exercise).items():
        target = destination / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content)
    return destination
