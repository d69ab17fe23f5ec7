"""Choose a sandbox backend: ``docker``, ``local``, or ``auto`` (Docker when it can)."""

from __future__ import annotations

from dataclasses import dataclass

from grader.errors import ConfigError, SandboxUnavailableError
from grader.exercise import Exercise
from grader.sandbox.base import Sandbox
from grader.sandbox.local import LocalSandbox
from grader.settings import Settings

CHOICES = ("auto", "docker", "local")
LOCAL_WARNING = (
    "grading with the local sandbox: the submission runs as your own user, "
    "which is NOT a security boundary (use --sandbox docker for untrusted code)"
)


@dataclass(frozen=True)
class Opened:
    sandbox: Sandbox
    warning: str | None


def open_sandbox(choice: str, exercise: Exercise, settings: Settings) -> Opened:
    """The backend asked for; ``auto`` falls back to ``local`` with a warning."""
    if choice not in CHOICES:
        raise ConfigError(f"unknown sandbox {choice!r}: use one of {', '.join(CHOICES)}")
    if choice == "local":
        return Opened(LocalSandbox(exercise), None)
    try:
        return Opened(_docker(exercise, settings), None)
    except SandboxUnavailableError as unavailable:
        if choice == "docker":
            raise
        return Opened(LocalSandbox(exercise), f"{unavailable}; {LOCAL_WARNING}")


def _docker(exercise: Exercise, settings: Settings) -> Sandbox:
    try:
        from grader.sandbox.docker import DockerSandbox
    except ImportError as exc:  # the backend module itself, or the docker SDK, is missing
        raise SandboxUnavailableError(f"the Docker backend cannot load ({exc})") from exc
    return DockerSandbox.connect(exercise, settings)
