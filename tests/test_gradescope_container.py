"""The Gradescope export, installed and run the way Gradescope does, in a container.

The image is Gradescope-shaped, NOT Gradescope's own (that one is Ubuntu and has network
while setup.sh runs): micrograde's offline Debian base with a Python that can make a venv
and the /autograder tree (tests/gradescope_image/Dockerfile). The export's real setup.sh
runs in it as root, once per session, with pip pointed at wheels the host downloaded
(scripts/gradescope-test-deps.sh; PIP_NO_INDEX, PIP_FIND_LINKS), and the result is kept as
an image. Then each submission gets a fresh container from it, as on Gradescope, and
run_autograder runs as root: an honest submission, the reference-loading cheat, one that
tries to read the secrets and print them, one that writes results.json itself and from a
detached process, and a fork bomb. A watcher (root, in the container) samples the sandbox
user's processes meanwhile.

Cost: the base test image is built once and reused (content-addressed tag); setup.sh and
the five submissions take about a minute.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import attacks
import pytest
from exercise_paths import REPO
from grading import EXAMPLES
from test_gradescope import validate

from grader.exercise import STEP_TITLES, load_exercise
from grader.integrations.gradescope_export import SANDBOX_USER, export_gradescope
from grader.rubric import load_rubric
from grader.settings import load_settings

pytestmark = [pytest.mark.docker, pytest.mark.slow]

BASE = "micrograde-base:bookworm"
IMAGE = "micrograde-test-gradescope"
HERE = Path(__file__).with_name("gradescope_image")
DEPS = REPO / "build" / "gradescope"
# The course's settings: a shorter check limit (the fork bomb costs one), one allowed package.
COURSE_SETTINGS = '[time]\ncheck_seconds = 6.0\n[sandbox]\npackages = ["six==1.17.0"]\n'
SETUP = f"""set -e
cp /autograder/source/run_autograder /autograder/run_autograder
cd /autograder/source
PIP_NO_INDEX=1 PIP_FIND_LINKS=/opt/wheels PIP_DISABLE_PIP_VERSION_CHECK=1 bash ./setup.sh
echo "== installed"
id -u {SANDBOX_USER}
stat -c '%a %U %n' /autograder/source/micrograde/reference \\
    /autograder/source/micrograde/rubrics /autograder/source/micrograde/tests
/autograder/micrograde-venv/bin/python -c "import six; print('six', six.__version__)"
"""
CASES: dict[str, Callable[[Path], Path]] = {
    "honest": attacks.honest,
    "cheat": attacks.reference_cheat,
    "exfiltration": attacks.exfiltration,
    "forger": attacks.results_forger,
    "fork_bomb": attacks.fork_bomb,
}


def docker(*args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["docker", *args], capture_output=True, text=True, timeout=timeout, check=False
    )


def _unavailable(reason: str) -> None:
    if os.environ.get("MICROGRADE_REQUIRE_DOCKER") == "1":
        pytest.fail(f"MICROGRADE_REQUIRE_DOCKER=1 but {reason}", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="module")
def base_image(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The Gradescope-shaped image before setup.sh (built once, kept by content)."""
    if shutil.which("docker") is None or docker("info").returncode != 0:
        _unavailable("no Docker engine answers")
    if docker("image", "inspect", BASE).returncode != 0:
        script = REPO / "grader" / "sandbox" / "image" / "build-base-image.sh"
        subprocess.run([str(script)], check=True, capture_output=True, timeout=900)
    fetched = subprocess.run(
        [str(REPO / "scripts" / "gradescope-test-deps.sh")], capture_output=True, text=True
    )
    assert fetched.returncode == 0, fetched.stderr
    context = tmp_path_factory.mktemp("gradescope-image")
    shutil.copy(HERE / "Dockerfile", context / "Dockerfile")
    for part in ("debs", "wheels"):
        shutil.copytree(DEPS / part, context / part, ignore=shutil.ignore_patterns(".*"))
    (context / "helpers").mkdir()
    for helper in ("run-case.sh", "watch.py"):
        shutil.copy(HERE / helper, context / "helpers" / helper)
    digest = hashlib.sha256(docker("image", "inspect", "-f", "{{.Id}}", BASE).stdout.encode())
    for path in sorted(p for p in context.rglob("*") if p.is_file()):
        digest.update(path.relative_to(context).as_posix().encode() + path.read_bytes())
    tag = f"{IMAGE}:base-{digest.hexdigest()[:12]}"
    if docker("image", "inspect", tag).returncode != 0:
        built = subprocess.run(
            ["docker", "build", "-q", "--build-arg", f"BASE={BASE}", "-t", tag, str(context)],
            capture_output=True,
            text=True,
            env=dict(os.environ, DOCKER_BUILDKIT="0"),
            timeout=600,
        )
        assert built.returncode == 0, built.stderr[-3000:]
    return tag


@dataclass(frozen=True)
class Installed:
    image: str
    setup_output: str


def _extract(archive_path: Path, destination: Path) -> None:
    """Unzip keeping the modes the zip records, as Gradescope's unzip does."""
    with zipfile.ZipFile(archive_path) as archive:
        for info in archive.infolist():
            target = destination / info.filename
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(archive.read(info))
            target.chmod((info.external_attr >> 16) & 0o777)


@pytest.fixture(scope="module")
def installed(base_image: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Installed]:
    """The exported autograder after its setup.sh ran in the image, as root."""
    folder = tmp_path_factory.mktemp("gradescope-export")
    (folder / "course.toml").write_text(COURSE_SETTINGS)
    settings = load_settings(folder / "course.toml")
    export_gradescope(load_exercise(), folder / "autograder.zip", settings)
    _extract(folder / "autograder.zip", folder / "source")
    name = f"micrograde-test-setup-{os.getpid()}"
    image = f"{IMAGE}:ready-{os.getpid()}"
    created = docker("create", "--network", "none", "--name", name, base_image, "bash", "-c", SETUP)
    assert created.returncode == 0, created.stderr
    try:
        assert docker("cp", f"{folder / 'source'}/.", f"{name}:/autograder/source").returncode == 0
        ran = docker("start", "-a", name)
        assert ran.returncode == 0, f"setup.sh failed:\n{ran.stdout[-3000:]}{ran.stderr[-3000:]}"
        assert docker("commit", name, image).returncode == 0
    finally:
        docker("rm", "-f", name)
    try:
        yield Installed(image, ran.stdout)
    finally:
        docker("rmi", "-f", image)


@pytest.fixture(scope="module")
def outcomes(installed: Installed, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Each case graded in a fresh container: run_autograder's exit, results, the watcher."""
    found = {}
    for name, build in CASES.items():
        submission = build(tmp_path_factory.mktemp("cases") / name)
        ran = docker(
            "run", "--rm", "--network", "none", "--pids-limit", "1024", "--memory", "2g",
            "-v", f"{submission}:/mnt/submission:ro", installed.image, "/opt/mgtest/run-case.sh",
            timeout=300,
        )  # fmt: skip
        assert ran.returncode == 0, ran.stderr[-3000:]
        found[name] = json.loads(ran.stdout.strip().splitlines()[-1])
    return found


def _results(outcome: dict[str, Any]) -> dict[str, Any]:
    assert outcome["exit"] == 0, outcome["stdout"]
    data: dict[str, Any] = json.loads(outcome["results"])
    validate(data)
    return data


def _test(data: dict[str, Any], step: int, check: str) -> dict[str, Any]:
    title = load_rubric(load_exercise()).entry(step, check).title
    name = f"Step {step} ({STEP_TITLES[step]}): {title}"
    (test,) = [t for t in data["tests"] if t["name"] == name]
    return test


def _failed(data: dict[str, Any]) -> list[str]:
    return [t["name"] for t in data["tests"] if t["status"] != "passed"]


def _fragments(text: str) -> set[str]:
    """Pieces of ``text`` long enough to be its own, cut at quotes, backslashes and lines
    (so that they read the same in results.json, raw or as a Python repr)."""
    return {piece.strip() for piece in re.split(r"[\n\"'\\]", text) if len(piece.strip()) >= 30}


def test_setup_sh_installs_micrograde_and_the_allowed_package_and_locks_the_secrets(
    installed: Installed,
) -> None:
    after = installed.setup_output.split("== installed\n", 1)[1].splitlines()
    assert int(after[0]) > 0  # the sandbox user exists, and is not root
    for part in ("reference", "rubrics", "tests"):
        assert f"700 root /autograder/source/micrograde/{part}" in after
    assert "six 1.17.0" in after


def test_an_honest_submission_gets_full_marks(outcomes: dict[str, Any]) -> None:
    data = _results(outcomes["honest"])  # it imports six: allowed packages reach the sandbox
    assert data["score"] == 100 and data["extra_data"]["status"] == "graded"
    assert f"as {SANDBOX_USER}" in outcomes["honest"]["stdout"]
    assert outcomes["honest"]["watch"]["max"] >= 1 and outcomes["honest"]["watch"]["left"] == 0


def test_the_reference_loading_cheat_gets_what_its_own_code_deserves(
    outcomes: dict[str, Any],
) -> None:
    data = _results(outcomes["cheat"])
    assert data["score"] == 0 and data["extra_data"]["status"] == "graded"
    assert all(t["status"] == "failed" for t in data["tests"])
    visible = " ".join(t["output"] for t in data["tests"] if t["visibility"] == "visible")
    assert "importing micrograd.value failed: PermissionError" in visible


def test_a_submission_cannot_read_the_rubrics_the_reference_or_the_metadata(
    outcomes: dict[str, Any],
) -> None:
    data = _results(outcomes["exfiltration"])
    text = json.dumps(data)
    for what in ("rubrics", "reference", "staged-tests", "metadata"):
        assert f"NOT-READ {what}: PermissionError" in text  # it tried, and was refused
    assert "LISTED rubric files: 0" in text
    exercise = load_exercise()
    rubric = load_rubric(exercise)
    secrets = {
        piece
        for step in rubric.steps.values()
        for entry in step.entries.values()
        if entry.visibility == "hidden"
        for piece in _fragments(entry.hint)
    }
    own = (EXAMPLES / "complete" / "package" / "micrograd" / "value.py").read_text()
    for module in ("value.py", "mlp.py"):
        code = (exercise.reference_dir(5) / "micrograd" / module).read_text()
        secrets |= {piece for piece in _fragments(code) if piece not in own}
    secrets |= {"SECRET-METADATA", "student@example.org"}
    assert secrets and not [piece for piece in secrets if piece in text]


def test_a_submission_cannot_read_the_hidden_checks_code(outcomes: dict[str, Any]) -> None:
    text = json.dumps(_results(outcomes["exfiltration"]))
    source = (REPO / "tests" / "steps" / "test_step3_activations.py").read_text()
    hidden = source[source.index("def test_karpathy_checks") :].split("\ndef ", 1)[0]
    # The run directory's staged tests are readable (the public checks the student has
    # anyway), but the hidden check's code is not in them: it arrives only after every
    # visible check has ended, and what the sandbox says then is never shown.
    assert "bundle-hidden-check" in text
    assert not [piece for piece in _fragments(hidden) if piece in text]


def test_writing_results_json_from_the_submission_changes_nothing(
    outcomes: dict[str, Any],
) -> None:
    outcome = outcomes["forger"]
    data = _results(outcome)
    assert "FORGED" not in outcome["results"] and data["extra_data"]["status"] == "graded"
    hooked = _test(data, 1, attacks.ONCE_CHECK)
    assert "direct write to results.json: PermissionError" in hooked["output"]
    assert _failed(data) == [hooked["name"]] and data["score"] == 100 - hooked["max_score"]
    # The detached writer ran (the watcher saw it) and was killed with everything else.
    assert "mg-detached-writer" in outcome["watch"]["markers"]
    assert outcome["watch"]["left"] == 0


def test_a_fork_bomb_is_bounded_and_the_submission_graded(outcomes: dict[str, Any]) -> None:
    outcome = outcomes["fork_bomb"]
    data = _results(outcome)
    hooked = _test(data, 1, attacks.ONCE_CHECK)
    assert "did not finish within" in hooked["output"]
    assert "still running Value.__rtruediv__" in hooked["output"]
    # The hung method is refused in later runs instead of waited for again: a check that
    # owns another item of it (its backward) cannot be judged, and says why; every other
    # check passed.
    refused = [t for t in data["tests"] if t["status"] != "passed" and t is not hooked]
    assert all("so it was not run again here" in t["output"] for t in refused), refused
    assert len(refused) <= 1
    lost = hooked["max_score"] + sum(t["max_score"] for t in refused)
    assert data["score"] == 100 - lost
    pids = load_settings().limits.pids  # RLIMIT_NPROC of the sandbox user
    assert pids // 2 <= outcome["watch"]["max"] <= pids
    assert outcome["watch"]["left"] == 0
