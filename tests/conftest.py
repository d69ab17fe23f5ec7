"""Fixtures shared across the test suite.

``chromium``: a real headless Chromium driven by Playwright, for tests marked ``browser``.
Playwright's own browser downloads are never used (this project's machines reach package
registries only): it drives Debian's ``chromium`` package. Without that browser or the
playwright package the browser tests skip, unless ``MICROGRADE_REQUIRE_BROWSER=1`` (set by
CI), in which case they fail and say what is missing.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from browser import DESKTOP, Visit

from grader.exercise import Exercise, load_exercise
from grader.rubric import Rubric, load_rubric

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _chromium_path() -> str | None:
    for candidate in (
        "/usr/bin/chromium",
        shutil.which("chromium"),
        shutil.which("chromium-browser"),
    ):
        if candidate and Path(candidate).is_file():
            return candidate
    return None


def _browser_missing() -> str | None:
    """Why the browser tests cannot run here, or None when they can."""
    if importlib.util.find_spec("playwright") is None:
        return "the playwright package is not installed (pip install playwright)"
    if _chromium_path() is None:
        return "no chromium executable (apt-get install -y chromium)"
    return None


@pytest.fixture(scope="session")
def chromium() -> Iterator[Any]:
    """A Playwright browser context of headless Chromium with a fresh, throwaway profile."""
    missing = _browser_missing()
    if missing and os.environ.get("MICROGRADE_REQUIRE_BROWSER") == "1":
        pytest.fail(f"MICROGRADE_REQUIRE_BROWSER=1 but {missing}", pytrace=False)
    if missing:
        pytest.skip(missing)
    from playwright.sync_api import sync_playwright

    with (
        tempfile.TemporaryDirectory(prefix="micrograde-chromium-") as profile,
        sync_playwright() as playwright,
    ):
        context = playwright.chromium.launch_persistent_context(
            profile,
            executable_path=_chromium_path(),
            args=CHROMIUM_ARGS,
            headless=True,
            viewport={"width": 1280, "height": 900},
            offline=True,
        )
        try:
            yield context
        finally:
            context.close()


# ------------------------------------------------------------------------------ docker
#
# ``docker_sandbox``: the real Docker backend, for tests marked ``docker``. Without an
# engine they skip, unless ``MICROGRADE_REQUIRE_DOCKER=1`` (set by CI), in which case they
# fail and say what is missing. A missing sandbox image is built once per session, on the
# offline path (``micrograde sandbox build --offline``), as CI has no container registry.

BUILD_SECONDS = 900  # the offline base takes ~1.5 min (debootstrap) when it is missing too


@pytest.fixture
def open_page(chromium: Any) -> Iterator[Any]:
    """``open_page(path, viewport)``: load a file:// page, recording errors and requests."""
    opened: list[Any] = []

    def visit(path: Path, viewport: dict[str, int] | None = None) -> Visit:
        page = chromium.new_page()
        opened.append(page)
        seen = Visit(page)
        page.on("console", lambda m: seen.errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: seen.errors.append(str(e)))
        page.on("request", lambda r: seen.requests.append(r.url))
        page.on("dialog", lambda d: seen.errors.append(f"a dialog opened: {d.message}"))
        page.set_viewport_size(viewport or DESKTOP)
        page.goto(path.resolve().as_uri(), wait_until="load")
        return seen

    yield visit
    for page in opened:
        page.close()


def _docker_unavailable(reason: str) -> None:
    if os.environ.get("MICROGRADE_REQUIRE_DOCKER") == "1":
        pytest.fail(f"MICROGRADE_REQUIRE_DOCKER=1 but {reason}", pytrace=False)
    pytest.skip(reason)


def _build_sandbox_image(*options: str) -> str | None:
    """Run ``micrograde sandbox build --offline``; None when it worked, else why not."""
    import subprocess
    import sys

    try:
        done = subprocess.run(
            [sys.executable, "-m", "grader", "sandbox", "build", "--offline", *options],
            capture_output=True,
            text=True,
            timeout=BUILD_SECONDS,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return f"`micrograde sandbox build --offline` took over {BUILD_SECONDS} s"
    if done.returncode != 0:
        return f"`micrograde sandbox build --offline` failed: {done.stderr.strip()[-800:]}"
    return None


def _connected(settings_path: Path | None = None) -> Any:
    """A ``DockerSandbox`` for these settings, building its image first when it is missing."""
    from grader.errors import SandboxUnavailableError
    from grader.exercise import load_exercise
    from grader.sandbox.docker import DockerSandbox
    from grader.settings import load_settings

    exercise, settings = load_exercise(), load_settings(settings_path)
    try:
        return DockerSandbox.connect(exercise, settings)
    except SandboxUnavailableError:
        options = ("--settings", str(settings_path)) if settings_path else ()
        failure = _build_sandbox_image(*options)
        if failure:
            _docker_unavailable(failure)
        return DockerSandbox.connect(exercise, settings)


@pytest.fixture(scope="session")
def docker_sandbox() -> Iterator[Any]:
    """A connected ``DockerSandbox`` (the image for this harness built if it was missing)."""
    from grader.errors import SandboxUnavailableError
    from grader.sandbox.docker import connect_engine

    try:
        connect_engine().close()
    except SandboxUnavailableError as missing:
        _docker_unavailable(str(missing))
    sandbox = _connected()
    try:
        yield sandbox
    finally:
        sandbox.close()


NUMPY_SETTINGS = Path(__file__).parent / "data" / "numpy-settings.toml"


@pytest.fixture(scope="session")
def numpy_docker_sandbox(docker_sandbox: Any) -> Iterator[Any]:
    """A ``DockerSandbox`` on the image built with ``[sandbox] packages = ["numpy"]``
    (tests/data/numpy-settings.toml; built if it is missing, as CI does in .ci/run)."""
    sandbox = _connected(NUMPY_SETTINGS)
    try:
        yield sandbox
    finally:
        sandbox.close()


def _stray_container_processes(api: Any) -> list[str]:
    """Host processes still in the cgroup of a container that no longer exists."""
    import re

    # Containers listed before and after the scan: one another test (another pytest worker)
    # starts meanwhile is not taken for a removed one.
    existing = {c["Id"] for c in api.containers(all=True)}
    found: list[tuple[str, str]] = []
    for entry in Path("/proc").iterdir():
        try:
            cgroups = (entry / "cgroup").read_text() if entry.name.isdigit() else ""
        except OSError:
            continue
        found += [(entry.name, i) for i in set(re.findall(r"/docker/([0-9a-f]{64})", cgroups))]
    existing |= {c["Id"] for c in api.containers(all=True)}
    return [f"pid {pid} of container {i[:12]}" for pid, i in found if i not in existing]


@pytest.fixture
def docker_clean_host(
    docker_sandbox: Any, tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Path]:
    """A private temporary directory for the test; afterwards, asserts that the run left
    no labelled container of this process, no process of a removed container, and nothing
    in that temporary directory (the per-run copies of submissions, the intake's)."""
    private = tmp_path_factory.mktemp("tempdir")
    monkeypatch.setattr(tempfile, "tempdir", str(private))
    yield private
    api = docker_sandbox.api
    mine = api.containers(all=True, filters={"label": f"micrograde.pid={os.getpid()}"})
    assert not mine, f"containers left behind: {[c['Id'][:12] for c in mine]}"
    assert not _stray_container_processes(api)
    assert sorted(p.name for p in private.iterdir()) == []


@pytest.fixture(scope="session")
def exercise() -> Exercise:
    """The exercise content of this checkout (reference, staged tests, rubrics)."""
    return load_exercise()


@pytest.fixture(scope="session")
def rubric(exercise: Exercise) -> Rubric:
    return load_rubric(exercise)


# ------------------------------------------------------------------ results.json schema
#
# Every micrograde results.json that any test writes under pytest's temporary folders is
# validated against docs/results.schema.json when the session ends (tests/results_schema.py).
# Additions to results.json must extend the schema: its objects are closed.


@pytest.fixture(scope="session", autouse=True)
def every_results_json_follows_the_schema(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[None]:
    from results_schema import sweep

    yield
    count, found = sweep(tmp_path_factory.getbasetemp())
    if found:
        shown = "\n".join(found[:20])
        pytest.fail(
            f"{len(found)} problem(s) in the {count} results.json files the tests wrote:\n{shown}",
            pytrace=False,
        )
    print(f"\nresults schema: {count} results.json files written by the tests are valid")


# The files that take longest (seen with --durations), started first: the workers take one
# file at a time (--dist loadfile), so long files left for the end keep one worker busy
# while the other waits. Only the order changes; nothing is skipped.
HEAVY_FIRST = (
    "test_hostile.py",
    "test_cheating.py",
    "test_batch.py",
    "test_distributed.py",
    "test_exercise_properties.py",
    "test_gradescope_container.py",
    "test_docker_socket_only.py",
    "test_trust.py",
    "test_examples.py",
    "test_handout.py",
    "test_notebook_grading.py",
    "test_sandbox_users.py",
    "test_fault_pairs.py",
    "test_docker_sandbox.py",
    "test_report_browser.py",
    "test_trust_recorder.py",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    rank = {name: i for i, name in enumerate(HEAVY_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))  # stable within a file
