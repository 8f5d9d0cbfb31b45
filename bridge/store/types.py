"""Column types and id helpers shared by every table of the store.

``UTCDateTime`` keeps the project's rule (aware UTC datetimes everywhere) on both engines:
PostgreSQL stores ``timestamptz``; SQLite has no time zones, so the value is stored as naive
UTC text and handed back with ``tzinfo=UTC`` attached. A naive datetime handed *in* is a bug
in the caller, so it is refused rather than silently taken as local time.
"""

from __future__ import annotations

import os
import secrets
import time
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, DateTime, Dialect
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.types import TypeDecorator, TypeEngine

#: JSON on SQLite, JSONB on PostgreSQL (indexable, compact, compared by value).
JSONValue: TypeEngine[Any] = JSON().with_variant(JSONB(), "postgresql")

_counter = int.from_bytes(os.urandom(3), "big")


def new_id() -> str:
    """A 24-hex id shaped like integrator.io's ``_id`` (a MongoDB ObjectId).

    Seconds since the epoch (4 bytes) first, so ids sort by creation time, then 5 random
    bytes and a 3-byte counter so ids made in the same second by one process never collide.
    """
    global _counter
    _counter = (_counter + 1) % 0x1000000
    return f"{int(time.time()):08x}{secrets.token_hex(5)}{_counter:06x}"


def utc(value: datetime) -> datetime:
    """``value`` in UTC; refuses naive datetimes (their zone is unknown)."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"naive datetime {value.isoformat()} where an aware one is required")
    return value.astimezone(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """An aware UTC datetime on every engine (microsecond precision on both)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        value = utc(value)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)
