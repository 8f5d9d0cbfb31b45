"""A connection's settings as its connector reads them, and the checks several share.

Each connector reads its options through :class:`Options` in its constructor, so an
option's name, type and default are written once, where it is used (``from_config`` hands
the settings over whole instead of naming every option again).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
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


class Options:
    """Typed reads of a connection's settings, each with its default.

    The settings hold secrets too: the ``repr`` names the settings, never their values.
    """

    __slots__ = ("_values",)

    def __init__(self, values: Mapping[str, Any] | None = None) -> None:
        self._values: Mapping[str, Any] = values or {}

    def text(self, name: str, default: str) -> str:
        return str(self._values.get(name, default))

    def integer(self, name: str, default: int) -> int:
        return int(self._values.get(name, default))

    def number(self, name: str, default: float) -> float:
        return float(self._values.get(name, default))

    def flag(self, name: str, default: bool = False) -> bool:
        return bool(self._values.get(name, default))

    def __repr__(self) -> str:
        return f"Options({', '.join(sorted(self._values))})"


#: No settings given: every option at its default.
DEFAULTS = Options()
