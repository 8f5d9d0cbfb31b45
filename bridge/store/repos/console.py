"""The operator console's rows: browser sessions, facade activity per site, SOAP faults.

A session is a random cookie value; the store keeps its SHA-256 (like API tokens), the
token that signed it in, its CSRF token and when it expires. A session dies with its
token: revoking the token signs out every browser it signed in.

Facade activity is added up in each server process and written here in small batches
(:mod:`bridge.facade.activity`), so a SOAP call does not cost a database write.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select

from bridge.store.crypto import token_hash
from bridge.store.models import (
    ApiTokenRow,
    ConsoleSessionRow,
    FacadeActivityRow,
    FacadeCursorRow,
    FacadeFaultRow,
)
from bridge.store.repos.base import Record, Repository, dialect_insert, now_utc

#: Faults kept for the console; older ones are deleted as new ones arrive.
KEEP_FAULTS = 200


@dataclass(frozen=True, slots=True)
class ConsoleSession(Record):
    token_id: str
    csrf_token: str
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class SiteActivity:
    site_id: int
    calls: int
    faults: int
    last_call_at: datetime | None
    open_cursors: int


@dataclass(frozen=True, slots=True)
class FacadeFault(Record):
    site_id: int | None
    operation: str
    message: str
    created_at: datetime


@dataclass(slots=True)
class ActivityBatch:
    """What one process saw since its last write: per site calls, faults, last call."""

    calls: dict[int, int]
    faults: dict[int, int]
    last_call: dict[int, datetime]
    fault_rows: list[FacadeFault]


class ConsoleSessionRepo(Repository):
    def open(self, token_id: str, lifetime: timedelta) -> tuple[str, ConsoleSession]:
        """A new session for ``token_id``: (the cookie value, the session)."""
        cookie = secrets.token_urlsafe(32)
        now = now_utc()
        row = ConsoleSessionRow(
            session_hash=token_hash(cookie),
            token_id=token_id,
            csrf_token=secrets.token_urlsafe(32),
            created_at=now,
            expires_at=now + lifetime,
        )
        with self._write() as session:
            session.add(row)
            # Expired sessions go as new ones come, so the table stays as small as its use.
            session.execute(delete(ConsoleSessionRow).where(ConsoleSessionRow.expires_at <= now))
        return cookie, ConsoleSession.from_row(row)

    def get(self, cookie: str) -> ConsoleSession | None:
        """The live session ``cookie`` names (unexpired, its token not revoked); else None."""
        query = (
            select(ConsoleSessionRow)
            .join(ApiTokenRow, ApiTokenRow.id == ConsoleSessionRow.token_id)
            .where(
                ConsoleSessionRow.session_hash == token_hash(cookie),
                ConsoleSessionRow.expires_at > now_utc(),
                ApiTokenRow.revoked_at.is_(None),
            )
        )
        return self._first(query, ConsoleSession)

    def close(self, cookie: str) -> None:
        with self._write() as session:
            gone = ConsoleSessionRow.session_hash == token_hash(cookie)
            session.execute(delete(ConsoleSessionRow).where(gone))


class FacadeActivityRepo(Repository):
    def add(self, batch: ActivityBatch) -> None:
        """Add one process's counts (``calls = calls + n``, so processes never overwrite)."""
        sites = set(batch.calls) | set(batch.faults)
        with self._write() as session:
            dialect = session.get_bind().dialect.name
            insert = dialect_insert(session)
            row = FacadeActivityRow
            for site_id in sorted(sites):
                stmt = insert(row).values(
                    site_id=site_id,
                    calls=batch.calls.get(site_id, 0),
                    faults=batch.faults.get(site_id, 0),
                    last_call_at=batch.last_call[site_id],
                )
                session.execute(
                    stmt.on_conflict_do_update(
                        index_elements=["site_id"],
                        set_={
                            "calls": row.calls + stmt.excluded.calls,
                            "faults": row.faults + stmt.excluded.faults,
                            # SQLite's two-argument max() is PostgreSQL's greatest().
                            "last_call_at": (func.max if dialect == "sqlite" else func.greatest)(
                                row.last_call_at, stmt.excluded.last_call_at
                            ),
                        },
                    )
                )
            for fault in batch.fault_rows:
                session.add(
                    FacadeFaultRow(
                        site_id=fault.site_id,
                        operation=fault.operation[:64],
                        message=fault.message,
                        created_at=fault.created_at,
                    )
                )
            if batch.fault_rows:
                session.flush()
                newest = select(FacadeFaultRow.id).order_by(FacadeFaultRow.id.desc())
                cutoff = session.scalar(newest.offset(KEEP_FAULTS).limit(1))
                if cutoff is not None:
                    session.execute(delete(FacadeFaultRow).where(FacadeFaultRow.id <= cutoff))

    def sites(self, site_ids: Mapping[int, object] | None = None) -> list[SiteActivity]:
        """Activity of every site that called (and of ``site_ids``, which may not have)."""
        now = now_utc()
        with self._read() as session:
            rows = {row.site_id: row for row in session.scalars(select(FacadeActivityRow))}
            # The facade's cursors are scoped ``site:<id>`` (bridge.facade.state).
            open_cursors = dict(
                session.execute(
                    select(FacadeCursorRow.scope, func.count())
                    .where(FacadeCursorRow.expires_at > now)
                    .group_by(FacadeCursorRow.scope)
                ).all()
            )
        ids = sorted(set(rows) | set(site_ids or ()))
        return [
            SiteActivity(
                site_id=site_id,
                calls=rows[site_id].calls if site_id in rows else 0,
                faults=rows[site_id].faults if site_id in rows else 0,
                last_call_at=rows[site_id].last_call_at if site_id in rows else None,
                open_cursors=int(open_cursors.get(f"site:{site_id}", 0)),
            )
            for site_id in ids
        ]

    def faults(self, limit: int = 50) -> list[FacadeFault]:
        query = select(FacadeFaultRow).order_by(FacadeFaultRow.id.desc())
        return self._list(query, FacadeFault, limit=limit)
