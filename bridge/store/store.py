"""The :class:`Store`: engine, sessions, repositories and migrations for one database URL."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from importlib import resources

from alembic import command
from alembic.config import Config as AlembicConfig
from sqlalchemy import text
from sqlalchemy.engine import URL
from sqlalchemy.orm import Session, sessionmaker

from bridge.config import Config, StoreConfig
from bridge.store.crypto import SECRET_KEY_ENV, SecretCipher
from bridge.store.engine import WRITE_LOCK, make_engine
from bridge.store.repos import Repositories

#: Any constant will do: the advisory lock only has to mean "a migration is running".
_MIGRATION_LOCK_KEY = 0x50A9B41D6E


def alembic_config(url: str | URL | None = None) -> AlembicConfig:
    """Alembic's config for the migrations shipped in this package."""
    config = AlembicConfig()
    config.set_main_option(
        "script_location", str(resources.files("bridge.store").joinpath("migrations"))
    )
    if url is not None:
        rendered = url.render_as_string(hide_password=False) if isinstance(url, URL) else url
        config.set_main_option("sqlalchemy.url", rendered.replace("%", "%%"))
    return config


class Store(Repositories):
    """One database: ``Store(url)`` then ``store.jobs.create(...)`` etc.

    Each repository call on the store runs in its own transaction. To make several writes
    atomic (a batch's id links and the checkpoint after it), use :meth:`transaction`.
    The secret key (Fernet, see :mod:`bridge.store.crypto`) defaults to the
    ``SOAPBRIDGE_SECRET_KEY`` environment variable; without one, everything works except
    storing or reading connection secrets and webhook tokens.
    """

    def __init__(
        self, url: str | URL, *, secret_key: str | None = None, echo: bool = False
    ) -> None:
        self.engine = make_engine(url, echo=echo)
        self.url = self.engine.url
        self._reader = sessionmaker(self.engine, expire_on_commit=False)
        self._writer = sessionmaker(
            self.engine.execution_options(**{WRITE_LOCK: True}), expire_on_commit=False
        )
        self.cipher = SecretCipher(secret_key or os.environ.get(SECRET_KEY_ENV))
        super().__init__(self._call_scope, self.cipher)

    @classmethod
    def from_config(cls, config: StoreConfig) -> Store:
        """The store a ``[store]`` table names (not migrated: see :meth:`migrate`)."""
        return cls(config.url, secret_key=config.secret_key)

    def __repr__(self) -> str:
        return f"Store({self.url.render_as_string(hide_password=True)!r})"

    @property
    def dialect(self) -> str:
        """``sqlite`` or ``postgresql``."""
        return self.engine.dialect.name

    @contextmanager
    def _call_scope(self, write: bool) -> Iterator[Session]:
        maker = self._writer if write else self._reader
        with maker.begin() as session:
            yield session

    @contextmanager
    def transaction(self) -> Iterator[Repositories]:
        """Repositories sharing one write transaction, committed when the block ends.

        Inside the block, write through ``tx`` only: on SQLite this transaction holds the
        database's write lock, so a write through ``store`` would wait for it (and time out).
        """
        with self._writer.begin() as session:
            yield self._sharing(session, writable=True)

    @contextmanager
    def reading(self) -> Iterator[Repositories]:
        """Repositories sharing one read transaction: look-ups that belong together (a
        sync page's tombstones and id links) open one session, not one each.

        Read only: a write through it raises TypeError (write through the store).
        """
        with self._reader.begin() as session:
            yield self._sharing(session, writable=False)

    def _sharing(self, session: Session, *, writable: bool) -> Repositories:
        @contextmanager
        def shared(write: bool) -> Iterator[Session]:
            if write and not writable:
                raise TypeError("store.reading() is read only: write through the store")
            yield session

        return Repositories(shared, self.cipher)

    def ping(self) -> bool:
        """Whether the database answers (for health checks); never raises."""
        try:
            with self.engine.connect() as connection:
                return connection.execute(text("SELECT 1")).scalar() == 1
        except Exception:  # any failure means "not healthy"; the caller only needs a yes/no
            return False

    def migrate(self, revision: str = "head") -> None:
        """Bring the schema to ``revision`` (Alembic upgrade), safe to call from many processes."""
        self._run_alembic(lambda config: command.upgrade(config, revision))

    def downgrade(self, revision: str = "base") -> None:
        self._run_alembic(lambda config: command.downgrade(config, revision))

    def current_revision(self) -> str | None:
        from alembic.runtime.migration import MigrationContext

        with self.engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()

    def _run_alembic(self, run: Callable[[AlembicConfig], None]) -> None:
        config = alembic_config(self.url)
        writer = self.engine.execution_options(**{WRITE_LOCK: True})
        with writer.begin() as connection:
            if self.dialect == "postgresql":
                # Two processes starting together must not both create the tables; SQLite
                # is already serialised by BEGIN IMMEDIATE.
                lock = text("SELECT pg_advisory_xact_lock(:key)")
                connection.execute(lock, {"key": _MIGRATION_LOCK_KEY})
            config.attributes["connection"] = connection
            run(config)

    def dispose(self) -> None:
        """Close pooled connections (call in a child process after fork, and at exit)."""
        self.engine.dispose()


def open_store(config: Config) -> Store:
    """The configured store, migrated to the current schema (what every command starts with)."""
    store = Store.from_config(config.store)
    store.migrate()
    return store
