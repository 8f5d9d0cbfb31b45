"""Column types and id helpers shared by every table of the store.

``UTCDateTime`` keeps the project's rule (aware UTC datetimes everywhere) on both engines:
PostgreSQL stores ``timestamptz``; SQLite has no time zones, so the value is stored as naive
UTC text and handed back with ``tzinfo=UTC`` attached. A naive datetime handed *in* is a bug
in the caller, so it is refused rather than silently taken as local time.
"""

from __future__ import annotations

import os
import secrets
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import JSON, DateTime, Dialect
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.types import TypeDecorator, TypeEngine

#: JSON on SQLite, JSONB on PostgreSQL (indexable, compact, compared by value).
JSONValue: TypeEngine[Any] = JSON().with_variant(JSONB(), "postgresql")


class _IdState:
    """Per-process parts of :func:`new_id`, renewed in a forked child."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        self.process = secrets.token_hex(5)
        # Starts low in its range so a process makes millions of ids before it wraps.
        self.counter = secrets.randbelow(0x800000)


_ids = _IdState()
os.register_at_fork(after_in_child=_ids.reset)


def new_id() -> str:
    """A 24-hex id shaped like integrator.io's ``_id`` (a MongoDB ObjectId).

    Seconds since the epoch (4 bytes), a random value fixed per process (5 bytes) and a
    counter (3 bytes): unique across processes, and ids made by one process sort in the
    order they were made, which breaks ties between rows created in the same millisecond.
    """
    with _ids.lock:
        _ids.counter = (_ids.counter + 1) % 0x1000000
        return f"{int(time.time()):08x}{_ids.process}{_ids.counter:06x}"


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

    def bind_processor(self, dialect: Dialect) -> Callable[[datetime | None], Any] | None:
        process = super().bind_processor(dialect)
        if process is None:
            return None
        # A page of id links is written with one timestamp (``now``) in two columns of
        # every row: converting it once, not per row and column, was a fifth of writing
        # the page. Keyed by identity: a datetime is immutable, and the reference held
        # here keeps its id from passing to another object. One (value, result) tuple,
        # swapped whole, so threads sharing this processor read a matching pair.
        last: tuple[datetime | None, Any] = (None, None)

        def bind(value: datetime | None) -> Any:
            nonlocal last
            seen, result = last
            if value is seen and value is not None:
                return result
            result = process(value)
            last = (value, result)
            return result

        return bind

    def result_processor(self, dialect: Dialect, coltype: object) -> Callable[[Any], Any] | None:
        slow = super().result_processor(dialect, coltype)
        if dialect.name != "sqlite" or slow is None:
            return slow

        # SQLite hands back naive UTC text: parsed with its zone in one call, rather than
        # parsed and then given the zone by ``replace`` (ten times as long; a page of id
        # links reads two timestamps per row). Text of another shape takes the long way.
        def process(value: Any) -> datetime | None:
            if value is None:
                return None
            try:
                parsed = datetime.fromisoformat(value + "+00:00")
            except (TypeError, ValueError):
                parsed = None
            # (A date alone parses, but without the zone.)
            if parsed is not None and parsed.tzinfo is UTC:
                return parsed
            return cast(datetime | None, slow(value))

        return process

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)
