"""The facade's state in SQLite, shared by every worker process of ``soapbridge serve``.

Interim home until the project store carries the same two maps: the tables are the
facade's own (``facade_entity_ids``, ``facade_cursors``) in the store's SQLite file, in
WAL mode so workers read while one writes. entityIds come from one AUTOINCREMENT column,
so an id once given is never given again, across workers and restarts.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any

from bridge.errors import ConfigError

_SCHEMA = """
CREATE TABLE IF NOT EXISTS facade_entity_ids (
    entity_id INTEGER PRIMARY KEY AUTOINCREMENT,
    scope TEXT NOT NULL,
    crm_id TEXT NOT NULL,
    UNIQUE (scope, crm_id)
);
CREATE TABLE IF NOT EXISTS facade_cursors (
    site_id INTEGER NOT NULL,
    since TEXT NOT NULL,
    record_offset INTEGER NOT NULL,
    state TEXT NOT NULL,
    expires REAL NOT NULL,
    PRIMARY KEY (site_id, since, record_offset)
);
"""


def sqlite_path(url: str) -> Path:
    """The file behind a ``sqlite:///path`` store URL."""
    prefix = "sqlite:///"
    if not url.startswith(prefix) or url == prefix or ":memory:" in url:
        raise ConfigError(f"the facade's shared state needs a SQLite file store, not {url!r}")
    return Path(url[len(prefix) :])


class SqliteState:
    """Both :class:`~bridge.facade.state.EntityIdMap` and ``CursorMap`` over one file."""

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        self._local = threading.local()
        with self._connect() as db:
            db.executescript(_SCHEMA)

    def _connect(self) -> sqlite3.Connection:
        db: sqlite3.Connection | None = getattr(self._local, "db", None)
        if db is None:
            db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            self._local.db = db
        return db

    # -- EntityIdMap -----------------------------------------------------------------

    def entity_ids(self, scope: str, crm_ids: Sequence[str]) -> dict[str, int]:
        if not crm_ids:
            return {}
        db = self._connect()
        unique = list(dict.fromkeys(crm_ids))
        out: dict[str, int] = {}
        db.execute("BEGIN IMMEDIATE")
        try:
            db.executemany(
                "INSERT OR IGNORE INTO facade_entity_ids (scope, crm_id) VALUES (?, ?)",
                [(scope, crm_id) for crm_id in unique],
            )
            for start in range(0, len(unique), 500):
                chunk = unique[start : start + 500]
                marks = ",".join("?" * len(chunk))
                rows = db.execute(
                    "SELECT crm_id, entity_id FROM facade_entity_ids "
                    f"WHERE scope = ? AND crm_id IN ({marks})",
                    [scope, *chunk],
                )
                out.update(rows)
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        return out

    def crm_id(self, scope: str, entity_id: int) -> str | None:
        row = (
            self._connect()
            .execute(
                "SELECT crm_id FROM facade_entity_ids WHERE scope = ? AND entity_id = ?",
                (scope, entity_id),
            )
            .fetchone()
        )
        return str(row[0]) if row else None

    # -- CursorMap -------------------------------------------------------------------

    def save(
        self, site_id: int, since: str, offset: int, state: dict[str, Any], ttl: timedelta
    ) -> None:
        now = time.time()
        db = self._connect()
        db.execute(
            "INSERT OR REPLACE INTO facade_cursors VALUES (?, ?, ?, ?, ?)",
            (site_id, since, offset, json.dumps(state), now + ttl.total_seconds()),
        )
        # Expired positions are dropped now and then rather than on every write.
        if offset % 5000 == 0:
            db.execute("DELETE FROM facade_cursors WHERE expires <= ?", (now,))

    def load(self, site_id: int, since: str, offset: int) -> dict[str, Any] | None:
        row = (
            self._connect()
            .execute(
                "SELECT state FROM facade_cursors WHERE site_id = ? AND since = ? "
                "AND record_offset = ? AND expires > ?",
                (site_id, since, offset, time.time()),
            )
            .fetchone()
        )
        if row is None:
            return None
        state: dict[str, Any] = json.loads(row[0])
        return state
