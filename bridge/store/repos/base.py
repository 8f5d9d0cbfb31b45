"""What every repository shares: how it gets a session, the query shapes they all use
(get by key, first match, a page of a listing, count, one UPDATE or DELETE, upsert by key),
and the frozen records they return.

A repository never opens transactions of its own choosing: it asks its *scope* for a
session. On the :class:`~bridge.store.Store` itself the scope is a fresh transaction per
call (committed when the call returns); inside ``store.transaction()`` it is one shared
session, so several repositories' writes commit or roll back together.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from datetime import UTC, datetime
from itertools import islice
from typing import Any, ClassVar, Generic, Self, TypeVar, cast

from sqlalchemy import Executable, Select, Table, delete, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session
from sqlalchemy.sql.dml import Insert

from bridge.errors import NotFound
from bridge.store.crypto import SecretCipher
from bridge.store.types import new_id

#: ``scope(write)`` -> a context manager yielding a session inside a transaction.
SessionScope = Callable[[bool], AbstractContextManager[Session]]

T = TypeVar("T")
R = TypeVar("R", bound="Record")
M = TypeVar("M")
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


def filter_conditions(
    filters: Mapping[str, object], conditions: Mapping[str, Callable[[Any], Any]]
) -> list[Any]:
    """The WHERE conditions of ``filters``: ``conditions`` maps each filter's name to the
    condition of its value; a filter left out or None does not filter."""
    if unknown := set(filters) - set(conditions):
        raise TypeError(f"unknown filter(s): {', '.join(sorted(unknown))}")
    given = {name: value for name, value in filters.items() if value is not None}
    return [make(given[name]) for name, make in conditions.items() if name in given]


def existing(session: Session, model: type[M], key: Any, what: str, **options: Any) -> M:
    """The row of ``model`` with primary key ``key``; NotFound ("no <what> <key>") if none."""
    row = session.get(model, key, **options)
    if row is None:
        raise NotFound(f"no {what} {key}")
    return row


class Record:
    """Base of the frozen dataclasses repositories return instead of ORM rows.

    ``from_row`` reads each field from the row's attribute of the same name; a record whose
    row holds mutable JSON overrides it to hand out copies (see :func:`record_of`).
    """

    __slots__ = ()
    __dataclass_fields__: ClassVar[dict[str, Any]]

    @classmethod
    def from_row(cls, row: Any) -> Self:
        return record_of(cls, row)


def record_of(cls: type[R], row: Any, **converted: Any) -> R:
    """A ``cls`` of ``row``'s attributes, except the fields given ``converted``."""
    names = [name for name in cls.__dataclass_fields__ if name not in converted]
    return cls(**{name: getattr(row, name) for name in names}, **converted)


class Repository:
    def __init__(self, scope: SessionScope, cipher: SecretCipher) -> None:
        self._scope = scope
        self._cipher = cipher

    def _read(self) -> AbstractContextManager[Session]:
        return self._scope(False)

    def _write(self) -> AbstractContextManager[Session]:
        return self._scope(True)

    def _get(self, model: type[Any], key: Any, record: type[R], *, live: bool = False) -> R | None:
        """The record of ``model``'s row with primary key ``key``, if there is one.

        ``live``: only while the row's ``expires_at`` has not passed.
        """
        with self._read() as session:
            row = session.get(model, key)
            if row is None or (live and row.expires_at <= now_utc()):
                return None
            return record.from_row(row)

    def _first(self, query: Select[Any], record: type[R]) -> R | None:
        with self._read() as session:
            row = session.scalars(query).first()
            return record.from_row(row) if row is not None else None

    def _list(
        self, query: Select[Any], record: type[R], *, skip: int = 0, limit: int | None = None
    ) -> list[R]:
        """The records of ``query``'s rows (ordered by the query), ``limit`` after ``skip``."""
        if skip:
            query = query.offset(skip)
        if limit is not None:
            query = query.limit(limit)
        with self._read() as session:
            return [record.from_row(row) for row in session.scalars(query)]

    def _count(self, source: Any, *conditions: Any) -> int:
        """How many rows of ``source`` (a model or a subquery) meet every condition."""
        with self._read() as session:
            query = select(func.count()).select_from(source).where(*conditions)
            return int(session.scalar(query) or 0)

    def _change(self, statement: Executable) -> int:
        """Run one UPDATE or DELETE in a write; how many rows it changed."""
        with self._write() as session:
            return int(session.execute(statement).rowcount)  # type: ignore[attr-defined]

    def _add(self, row: Any, record: type[R], *, savepoint: bool = False) -> R:
        """Insert ``row``; its record, with the values the database gave it.

        ``savepoint``: inside one, so an insert refused (a duplicate name) raises and leaves
        an enclosing ``store.transaction()`` usable.
        """
        with self._write() as session:
            if savepoint:
                with session.begin_nested():
                    session.add(row)
            else:
                session.add(row)
                session.flush()
            return record.from_row(row)

    def _put(self, model: type[Any], key: dict[str, Any], record: type[R], **values: Any) -> R:
        """Create or replace the row with primary key ``key``: ``values`` set, its
        ``created_at`` kept, ``last_modified`` now."""
        now = ms(now_utc())
        with self._write() as session:
            row = session.get(model, key)
            if row is None:
                row = model(**key, created_at=now)
                session.add(row)
            for name, value in values.items():
                setattr(row, name, value)
            row.last_modified = now
            session.flush()
            return record.from_row(row)

    def _upsert(
        self,
        model: type[Any],
        values: dict[str, Any],
        *,
        keys: Sequence[str],
        update: Sequence[str],
    ) -> None:
        """Insert ``values`` into ``model``'s table, or update ``update`` where ``keys`` match."""
        with self._write() as session:
            table = cast(Table, model.__table__)
            session.execute(upsert(session, table, values, keys=keys, update=update))


def dialect_insert(session: Session) -> Callable[..., Any]:
    """The ``insert`` of ``session``'s engine that has ``.on_conflict_do_update``.

    Both SQLite (3.24+) and PostgreSQL take the same ``ON CONFLICT`` statement; only the
    constructor differs.
    """
    dialect = session.get_bind().dialect.name
    return postgresql.insert if dialect == "postgresql" else sqlite.insert


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

    ``where(excluded)`` may restrict the update; ``excluded`` is the proposed row, ``table``
    the existing one.
    """
    stmt = dialect_insert(session)(table).values(values)
    set_ = {name: stmt.excluded[name] for name in update}
    condition = where(stmt.excluded) if where is not None else None
    return stmt.on_conflict_do_update(index_elements=list(keys), set_=set_, where=condition)


def new_row(model: Callable[..., M], **values: Any) -> M:
    """A new row of an integrator.io-shaped table: a fresh ``id``, created and last
    modified now (to the millisecond, as integrator.io reports them)."""
    now = ms(now_utc())
    return model(id=new_id(), created_at=now, last_modified=now, **values)


class ResourceRepo(Repository, Generic[R]):
    """Integrator.io-shaped resources: an ``id``, a unique ``name``, listed oldest first."""

    model: type[Any]
    record: type[R]

    def get(self, resource_id: str) -> R | None:
        return self._get(self.model, resource_id, self.record)

    def by_name(self, name: str) -> R | None:
        return self._first(select(self.model).filter_by(name=name), self.record)

    def all(self, *, skip: int = 0, limit: int = 100) -> list[R]:
        query = select(self.model).order_by(self.model.created_at, self.model.id)
        return self._list(query, self.record, skip=skip, limit=limit)

    def delete(self, resource_id: str) -> bool:
        """Delete it, and by cascade what belongs to it; False if there was none."""
        return bool(self._change(delete(self.model).filter_by(id=resource_id)))
