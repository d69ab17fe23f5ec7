"""Limits and time budgets, read from ``settings.toml`` (the documented defaults)."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

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
class Settings:
    limits: Limits = Limits()
    time: TimeBudget = TimeBudget()
    docker: DockerSettings = DockerSettings()


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
    sections = {"limits": settings.limits, "time": settings.time, "docker": settings.docker}
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
        if wanted is float and type(value) is int:
            value = float(value)
        if type(value) is not wanted or (wanted in (int, float) and value < 0):
            raise ConfigError(
                f"{where}: {key} must be a non-negative {wanted.__name__}, got {value!r}"
            )
        changes[key] = value
    return replace(current, **changes)
