"""Choose a sandbox backend: ``docker``, ``local``, or ``auto`` (Docker when it can)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from grader.errors import ConfigError, SandboxUnavailableError
from grader.exercise import Exercise
from grader.sandbox.base import Sandbox
from grader.sandbox.local import LocalSandbox, missing_packages
from grader.sandbox.users import Private, resolve_users
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


def open_sandbox(
    choice: str, exercise: Exercise, settings: Settings, private: Sequence[Private] = ()
) -> Opened:
    """The backend asked for; ``auto`` falls back to ``local`` with a warning.

    ``private``: folders the local backend's sandbox users must not be able to read (the
    class folder, the output folder); it refuses to start when they can.
    """
    if choice not in CHOICES:
        raise ConfigError(f"unknown sandbox {choice!r}: use one of {', '.join(CHOICES)}")
    if choice == "local":
        return Opened(local_sandbox(exercise, settings, private), None)
    try:
        return Opened(_docker(exercise, settings), None)
    except SandboxUnavailableError as unavailable:
        if choice == "docker":
            raise
        local = local_sandbox(exercise, settings, private)
        return Opened(local, f"{unavailable}; {sandbox_warning(local)}")


def local_sandbox(
    exercise: Exercise, settings: Settings, private: Sequence[Private] = ()
) -> LocalSandbox:
    """The local backend, as the sandbox users settings name (``[local] users``) if any."""
    return LocalSandbox(exercise, resolve_users(settings.local.users), private)


def sandbox_warning(sandbox: Sandbox) -> str | None:
    """What to tell whoever grades about where student code runs; None for Docker."""
    if isinstance(sandbox, LocalSandbox) and sandbox.users:
        names = ", ".join(user.name for user in sandbox.users)
        return (
            f"grading with the local sandbox as {names}: student code cannot read the "
            "reference solution, the rubrics or other students' work, but it shares this "
            "machine's kernel and network (--sandbox docker isolates more)"
        )
    return None if sandbox.is_security_boundary else LOCAL_WARNING


def packages_warning(sandbox: Sandbox, settings: Settings) -> str | None:
    """The local backend's word when packages staff allow are not installed for it."""
    if not isinstance(sandbox, LocalSandbox):
        return None  # Docker: the image for these packages exists, or connect said so
    missing = missing_packages(settings.sandbox.packages, sandbox.python)
    if not missing:
        return None
    return (
        f"[sandbox] packages allows {', '.join(missing)}, but the local sandbox's Python "
        f"({sandbox.python}) does not have {'it' if len(missing) == 1 else 'them'}: "
        "student code that imports them will fail (pip install them there, or grade with "
        "--sandbox docker on an image built with the same --settings)"
    )


def _docker(exercise: Exercise, settings: Settings) -> Sandbox:
    try:
        from grader.sandbox.docker import DockerSandbox
    except ImportError as exc:  # the backend module itself, or the docker SDK, is missing
        raise SandboxUnavailableError(f"the Docker backend cannot load ({exc})") from exc
    return DockerSandbox.connect(exercise, settings)
