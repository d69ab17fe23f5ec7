"""Limits, time budgets and sandbox options, read from ``settings.toml`` (the defaults)."""

from __future__ import annotations

import json
import math
import re
import sys
import tomllib
from collections.abc import Callable
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path
from typing import Any

from packaging.requirements import InvalidRequirement, Requirement

from grader.errors import ConfigError

DEFAULTS = Path(__file__).with_name("settings.toml")


@dataclass(frozen=True)
class Limits:
    memory_mb: int = 512
    pids: int = 128
    cpus: float = 1.0
    tmpfs_mb: int = 64
    nofile: int = 256
    output_mb: int = 8
    workspace_mb: int = 24


@dataclass(frozen=True)
class TimeBudget:
    check_seconds: float = 15.0
    import_seconds: float = 20.0
    step_seconds: float = 60.0
    startup_seconds: float = 30.0
    total_seconds: float = 240.0
    max_attempts: int = 12


@dataclass(frozen=True)
class DockerSettings:
    image: str = ""
    user: str = "10001:10001"


@dataclass(frozen=True)
class LocalSettings:
    # Accounts the local backend runs student code as when micrograde runs as root, one per
    # parallel job (see grader/sandbox/users.py); empty: as micrograde's own user.
    users: tuple[str, ...] = ()


@dataclass(frozen=True)
class SandboxSettings:
    # pip requirements course staff allow student code to import; `micrograde sandbox build
    # --settings FILE` builds a Docker image that has them, and the Gradescope export's
    # setup.sh installs them next to micrograde (docs/notebooks.md).
    packages: tuple[str, ...] = ()
    # Modules that get an inert stand-in when missing, on top of the harness's list of
    # display-only libraries (grader/harness/standins.py).
    standins: tuple[str, ...] = ()


@dataclass(frozen=True)
class Settings:
    limits: Limits = Limits()
    time: TimeBudget = TimeBudget()
    docker: DockerSettings = DockerSettings()
    local: LocalSettings = LocalSettings()
    sandbox: SandboxSettings = SandboxSettings()


def load_settings(path: Path | None = None) -> Settings:
    """The defaults from ``settings.toml``, overridden by ``path`` when given."""
    settings = _apply(Settings(), _read(DEFAULTS), str(DEFAULTS))
    return _apply(settings, _read(path), str(path)) if path else settings


def _read(path: Path) -> dict[str, Any]:
    try:
        with open(path, "rb") as handle:
            return tomllib.load(handle)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"cannot read settings file {path}: {exc}") from exc


def _apply(settings: Settings, data: dict[str, Any], source: str) -> Settings:
    sections = {f.name: getattr(settings, f.name) for f in fields(settings)}
    unknown = set(data) - set(sections)
    if unknown:
        raise ConfigError(f"{source}: unknown section(s) {sorted(unknown)}")
    updated = {}
    for name, current in sections.items():
        updated[name] = _apply_section(current, data.get(name, {}), f"{source} [{name}]")
    return replace(settings, **updated)


def _apply_section(current: Any, values: dict[str, Any], where: str) -> Any:
    known = {f.name: f for f in fields(current)}
    changes = {}
    for key, value in values.items():
        if key not in known:
            raise ConfigError(f"{where}: unknown key {key!r} (known: {', '.join(known)})")
        wanted = type(getattr(current, key))
        if wanted is tuple:
            changes[key] = _strings(value, f"{where}: {key}", _CHECKS[key])
            continue
        if wanted is float and type(value) is int:
            value = float(value)
        if type(value) is not wanted or (
            wanted in (int, float) and not (value >= 0 and math.isfinite(value))
        ):
            raise ConfigError(
                f"{where}: {key} must be a non-negative {wanted.__name__}, got {value!r}"
            )
        changes[key] = value
    return replace(current, **changes)


def _strings(value: Any, where: str, check: Callable[[str], str | None]) -> tuple[str, ...]:
    """A TOML list of distinct strings, each passing ``check`` (which names what is wrong)."""
    if type(value) is not list or any(type(item) is not str for item in value):
        raise ConfigError(f"{where} must be a list of strings, got {value!r}")
    for item in value:
        problem = check(item)
        if problem:
            raise ConfigError(f"{where}: {item!r} {problem}")
    if len(set(value)) != len(value):
        raise ConfigError(f"{where} names the same entry twice: {value!r}")
    return tuple(value)


_USER_NAME = re.compile(r"^[a-z_][a-z0-9_-]{0,31}$")


def _user_name(name: str) -> str | None:
    if not _USER_NAME.match(name):
        return "is not a user name (lower-case letters, digits, _ and -)"
    return None


def _requirement(text: str) -> str | None:
    if text.strip().startswith("-"):
        return "is a pip option, not a requirement: name packages only (e.g. 'numpy>=1.26')"
    try:
        Requirement(text)
    except InvalidRequirement as exc:
        return f"is not a pip requirement ({exc})"
    return None


_MODULE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$")


def _standin(name: str) -> str | None:
    if not _MODULE.match(name):
        return "is not a module name (such as 'plotly' or 'plotly.express')"
    if name.split(".")[0] in sys.stdlib_module_names:
        return "is part of Python's standard library, which is always there"
    return None


_CHECKS: dict[str, Callable[[str], str | None]] = {
    "users": _user_name,
    "packages": _requirement,
    "standins": _standin,
}


def settings_toml(settings: Settings) -> str:
    """Every setting as a TOML file that ``load_settings`` reads back to ``settings``."""
    lines = []
    for section, values in asdict(settings).items():
        lines.append(f"[{section}]")
        # JSON's strings, numbers and lists of strings are TOML's too (no NaN: refused above).
        lines += [f"{key} = {json.dumps(value)}" for key, value in values.items()]
        lines.append("")
    return "\n".join(lines)
