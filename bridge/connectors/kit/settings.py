"""Checks of connection settings that several connectors share, failing as ``ConfigError``."""

from __future__ import annotations

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bridge.errors import ConfigError


def time_zone(name: str) -> ZoneInfo:
    """The IANA zone ``name`` (a system that speaks local times); ``ConfigError`` if unknown."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f"unknown timezone {name!r}") from None


def in_range(kind: str, setting: str, value: int, low: int, high: int) -> int:
    """``value`` when ``low <= value <= high``; else ``ConfigError`` naming the setting."""
    if not low <= value <= high:
        raise ConfigError(f"{kind} {setting} must be {low}..{high}, got {value}")
    return value
