"""``micrograde export gradescope``: the autograder.zip a course uploads to Gradescope.

    setup.sh            run once when Gradescope builds its image: finds (or installs) a
                        Python >= 3.11, makes a virtual environment, pip-installs micrograde
                        from the copy below (its dependencies come from PyPI) and the
                        packages staff allow ([sandbox] packages), creates the sandbox user
                        and locks the secrets away from it
    run_autograder      run for every submission: ``micrograde gradescope``
    settings.toml       every setting, with ``[local] users`` naming the sandbox user
    micrograde/         pyproject.toml, README.md, grader/, and the exercise content grading
                        needs: reference/, tests/steps/, rubrics/ (no skeletons, examples,
                        other tests or .git: nothing a student could be handed by mistake)

On Gradescope, student code runs with the local backend, as the unprivileged user
``SANDBOX_USER`` (see grader/sandbox/users.py): it can read the interpreter, its packages and
its own run directory, not the reference, the rubrics or the staged tests under
/autograder/source, nor Gradescope's submission_metadata.json, and it can write nothing the
grader writes.

The zip is deterministic (sorted names, fixed timestamps), so exporting the same checkout
twice gives the same bytes and a diff shows when the autograder really changed.
"""

from __future__ import annotations

import io
import shlex
import zipfile
from dataclasses import replace
from pathlib import Path

from grader.errors import ConfigError
from grader.exercise import Exercise
from grader.files import write_atomic
from grader.settings import LocalSettings, Settings, settings_toml

PACKAGE_DIR = Path(__file__).resolve().parents[1]
SOURCE = "micrograde"
CONTENT = ("reference", "tests/steps", "rubrics")
PROJECT_FILES = ("pyproject.toml", "README.md")
SANDBOX_USER = "micrograde-student"
SECRETS = ("reference", "rubrics", "tests")
_EPOCH = (1980, 1, 1, 0, 0, 0)

SETUP_SH = """#!/usr/bin/env bash
# Gradescope runs this once, as root, while it builds the autograder image.
set -euo pipefail
SOURCE=/autograder/source/micrograde
VENV=/autograder/micrograde-venv
export DEBIAN_FRONTEND=noninteractive

pick_python() {
    for candidate in python3.13 python3.12 python3.11 python3; do
        if command -v "$candidate" >/dev/null 2>&1 &&
           "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
            echo "$candidate"
            return 0
        fi
    done
    return 1
}

if ! PYTHON=$(pick_python); then
    # Older base images ship Python 3.10: micrograde needs 3.11 or newer.
    apt-get update -qq
    apt-get install -y -qq python3.11 python3.11-venv
    PYTHON=python3.11
fi
if ! "$PYTHON" -m venv "$VENV"; then
    # Debian and Ubuntu split venv's pip bootstrap into a package of its own.
    apt-get update -qq
    apt-get install -y -qq "$(basename "$PYTHON")-venv" || apt-get install -y -qq python3-venv
    rm -rf "$VENV"
    "$PYTHON" -m venv "$VENV"
fi
"$VENV/bin/python" -m pip install --quiet --upgrade pip
"$VENV/bin/python" -m pip install --quiet "$SOURCE"
PACKAGES=(@PACKAGES@)  # [sandbox] packages: what staff allow student code to import
if [ ${#PACKAGES[@]} -gt 0 ]; then
    "$VENV/bin/python" -m pip install --quiet "${PACKAGES[@]}"
fi
MICROGRADE_EXERCISE="$SOURCE" "$VENV/bin/micrograde" --version

# Student code runs as this unprivileged user: micrograde switches to it for every run.
SANDBOX_USER=@SANDBOX_USER@
if ! id -u "$SANDBOX_USER" >/dev/null 2>&1; then
    useradd --system --user-group --no-create-home --home-dir /nonexistent \
        --shell /usr/sbin/nologin "$SANDBOX_USER"
fi
# It may read the interpreter and its packages, and write nothing of the autograder's;
# the secrets (reference solution, rubrics, staged tests with the hidden checks) are
# root's alone. micrograde checks all of this again before it grades.
chmod -R go+rX,go-w "$VENV"
chmod go+x,go-w /autograder
chmod -R go-rwx @SECRETS@
"""

RUN_AUTOGRADER = """#!/usr/bin/env bash
# Gradescope runs this for every submission; it must leave results/results.json behind.
export MICROGRADE_EXERCISE=/autograder/source/micrograde
RESULTS=/autograder/results/results.json
mkdir -p /autograder/results
# Only micrograde writes the results; student code runs as another user, which must not
# read Gradescope's metadata either (the student's name, email and earlier results).
chmod go-w /autograder/results
chmod go-rwx /autograder/submission_metadata.json 2>/dev/null || true
/autograder/micrograde-venv/bin/micrograde gradescope \\
    --submission /autograder/submission --results "$RESULTS" \\
    --settings /autograder/source/settings.toml
if [ ! -s "$RESULTS" ]; then
    # micrograde could not even start (it writes results.json on every failure of its
    # own): without this file Gradescope only says the autograder failed to execute.
    cat > "$RESULTS" <<'JSON'
{"score": 0, "execution_time": 0, "output_format": "text", "stdout_visibility": "hidden",
 "tests": [], "output":
 "The autograder could not start (not a problem with your code): tell the course staff."}
JSON
fi
exit 0
"""


def export_gradescope(exercise: Exercise, out: Path, settings: Settings | None = None) -> list[str]:
    """Write the autograder zip to ``out``; returns the names it holds."""
    files = autograder_files(exercise, settings or Settings())
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, (data, mode) in sorted(files.items()):
            info = zipfile.ZipInfo(name, date_time=_EPOCH)
            info.external_attr = (0o100000 | mode) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, data)
    write_atomic(out, buffer.getvalue())
    return sorted(files)


def autograder_files(exercise: Exercise, settings: Settings) -> dict[str, tuple[bytes, int]]:
    """Name in the zip -> (bytes, file mode). ``settings`` go along, with the sandbox user."""
    if exercise.handout_step is not None:
        raise ConfigError(
            f"{exercise.root} is a student hand-out: export from a checkout of "
            "micrograde (unset MICROGRADE_EXERCISE)"
        )
    project = PACKAGE_DIR.parent
    missing = [name for name in PROJECT_FILES if not (project / name).is_file()]
    if missing:
        raise ConfigError(
            f"{project} has no {', '.join(missing)}: export from a checkout of "
            "micrograde installed with `pip install -e .`"
        )
    graded_with = replace(settings, local=LocalSettings(users=(SANDBOX_USER,)))
    files = {
        "setup.sh": (setup_script(settings).encode(), 0o755),
        "run_autograder": (RUN_AUTOGRADER.encode(), 0o755),
        "settings.toml": (settings_toml(graded_with).encode(), 0o644),
    }
    for name in PROJECT_FILES:
        files[f"{SOURCE}/{name}"] = ((project / name).read_bytes(), 0o644)
    _add_tree(files, PACKAGE_DIR, f"{SOURCE}/grader")
    for part in CONTENT:
        folder = exercise.root / part
        if not folder.is_dir():
            raise ConfigError(f"{folder} is missing: the exercise content is incomplete")
        _add_tree(files, folder, f"{SOURCE}/{part}")
    return files


def setup_script(settings: Settings) -> str:
    """setup.sh, with the allowed packages and the sandbox user written in (shell-quoted)."""
    secrets = " ".join(f'"$SOURCE/{part}"' for part in SECRETS)
    return (
        SETUP_SH.replace("@PACKAGES@", " ".join(map(shlex.quote, settings.sandbox.packages)))
        .replace("@SANDBOX_USER@", shlex.quote(SANDBOX_USER))
        .replace("@SECRETS@", secrets)
    )


def _add_tree(files: dict[str, tuple[bytes, int]], folder: Path, prefix: str) -> None:
    for path in sorted(folder.rglob("*")):
        relative = path.relative_to(folder)
        if any(part.startswith(".") or part == "__pycache__" for part in relative.parts):
            continue
        if path.is_file() and not path.is_symlink() and path.suffix != ".pyc":
            files[f"{prefix}/{relative.as_posix()}"] = (path.read_bytes(), 0o644)
