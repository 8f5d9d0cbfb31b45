"""What every repository shares: how it gets a session, and dialect-neutral upserts.

A repository never opens transactions of its own choosing: it asks its *scope* for a
session. On the :class:`~bridge.store.Store` itself the scope is a fresh transaction per
call (committed when the call returns); inside ``store.transaction()`` it is one shared
session, so several repositories' writes commit or roll back together.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import AbstractContextManager
from datetime import UTC, datetime
from itertools import islice
from typing import Any, TypeVar

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session
from sqlalchemy.sql.dml import Insert

from bridge.store.crypto import SecretCipher

#: ``scope(write)`` -> a context manager yielding a session inside a transaction.
SessionScope = Callable[[bool], AbstractContextManager[Session]]

T = TypeVar("T")
#: Bound parameters per IN (...) list; well under every engine's limit.
CHUNK = 500


def now_utc() -> datetime:
    return datetime.now(UTC)


def ms(value: datetime) -> datetime:
    """``value`` truncated to milliseconds (integrator.io's ``lastModified`` precision)."""
    return value.replace(microsecond=value.microsecond // 1000 * 1000)


def chunked(items: Iterable[T], size: int = CHUNK) -> Iterator[list[T]]:
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk


class Repository:
    def __init__(self, scope: SessionScope, cipher: SecretCipher) -> None:
        self._scope = scope
        self._cipher = cipher

    def _read(self) -> AbstractContextManager[Session]:
        return self._scope(False)

    def _write(self) -> AbstractContextManager[Session]:
        return self._scope(True)


def upsert(
    session: Session,
    table: Table,
    values: dict[str, Any] | Sequence[dict[str, Any]],
    *,
    keys: Sequence[str],
    update: Sequence[str],
    where: Callable[[Any], Any] | None = None,
) -> Insert:
    """``INSERT ... ON CONFLICT (keys) DO UPDATE SET update... [WHERE where]`` for either engine.

    Both SQLite (3.24+) and PostgreSQL take the same statement; only the constructor differs.
    ``where(excluded)`` may restrict the update; ``excluded`` is the proposed row, ``table``
    the existing one.
    """
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    stmt = insert(table).values(values)
    set_ = {name: stmt.excluded[name] for name in update}
    condition = where(stmt.excluded) if where is not None else None
    return stmt.on_conflict_do_update(index_elements=list(keys), set_=set_, where=condition)
