"""Engines for the two supported databases, and the SQLite settings that make it shareable.

SQLite is the default (one file, no server); several threads and processes may use the same
file, so every connection gets WAL (readers never block the writer), a busy timeout (a
writer waits for the lock instead of failing), and foreign keys. Write transactions start
with ``BEGIN IMMEDIATE``: a deferred transaction that reads first and writes later can fail
at once with "database is locked" when another writer committed in between, whatever the
busy timeout; taking the write lock up front makes writers queue instead.

PostgreSQL URLs use psycopg 3 whatever driver they name (``postgresql://`` would otherwise
mean psycopg2, which the project does not install).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, Connection, make_url
from sqlalchemy.pool import StaticPool

from bridge.errors import ConfigError

#: Execution option that makes a SQLite transaction take the write lock when it begins.
WRITE_LOCK = "bridge_write_lock"
SQLITE_BUSY_TIMEOUT_MS = 30_000


def normalize_url(url: str | URL) -> URL:
    """Parse ``url``; PostgreSQL URLs get the psycopg 3 driver."""
    try:
        parsed = make_url(url)
    except Exception as exc:  # sqlalchemy raises ArgumentError, but also ValueError on ports
        raise ConfigError(f"store.url is not a database URL: {exc}") from None
    backend = parsed.get_backend_name()
    if backend == "postgresql":
        return parsed.set(drivername="postgresql+psycopg")
    if backend == "sqlite":
        return parsed.set(drivername="sqlite")
    raise ConfigError(f"store.url: unsupported database {backend!r} (use sqlite or postgresql)")


def is_memory_sqlite(url: URL) -> bool:
    return url.get_backend_name() == "sqlite" and url.database in (None, "", ":memory:")


def make_engine(url: str | URL, *, echo: bool = False) -> Engine:
    """An engine for ``url`` with the settings this module describes."""
    parsed = normalize_url(url)
    if parsed.get_backend_name() == "postgresql":
        return create_engine(parsed, echo=echo, pool_pre_ping=True, pool_size=5)
    options: dict[str, Any] = {"connect_args": {"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000}}
    if is_memory_sqlite(parsed):
        # One shared connection, or every session would see its own empty database; so an
        # in-memory store (tests, throwaway demos) is for one thread at a time.
        options = {
            "connect_args": {"check_same_thread": False},
            "poolclass": StaticPool,
        }
    engine = create_engine(parsed, echo=echo, **options)
    _configure_sqlite(engine, wal=not is_memory_sqlite(parsed))
    return engine


def _configure_sqlite(engine: Engine, *, wal: bool) -> None:
    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Hand transaction control to SQLAlchemy (the driver's own BEGIN handling would
        # defeat BEGIN IMMEDIATE and savepoints).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            # First: switching to WAL needs the lock too, and another process may hold it
            # for a while (migrating the schema on a busy machine).
            cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
            if wal:
                cursor.execute("PRAGMA journal_mode=WAL")
                # Safe in WAL (no corruption); a power cut may drop the last commits, which
                # a rerun of the sync redoes, for a large saving on every commit.
                cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA foreign_keys=ON")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def on_begin(connection: Connection) -> None:
        immediate = connection.get_execution_options().get(WRITE_LOCK, False)
        # Straight to the driver: every store call and every page of a sync begins a
        # transaction, and exec_driver_sql's statement machinery cost as much as the
        # rest of opening one. (Nothing is lost: no event or log wants to see BEGIN.)
        driver = connection.connection.driver_connection
        assert driver is not None
        driver.execute("BEGIN IMMEDIATE" if immediate else "BEGIN")
