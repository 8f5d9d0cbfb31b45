"""Facade paging cursors: legacy integer offsets mapped to CRM paging positions.

A legacy consumer pages with ``recordStart`` 0, 100, 200...; a CRM pages by page number or
page token. A cursor is one consumer's walk through one result set, identified by (scope,
lastUpdateDate, snapshot); inside it, each legacy offset that has been served maps to the
CRM position (JSON) to continue from. Any worker on any host can pick up the walk where
another left it. Cursors expire; :meth:`FacadeCursorRepo.purge_expired` removes old ones.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from bridge.store.models import FacadeCursorPositionRow, FacadeCursorRow
from bridge.store.repos.base import Record, Repository, now_utc
from bridge.store.types import new_id, utc

DEFAULT_TTL = timedelta(minutes=30)


@dataclass(frozen=True, slots=True)
class FacadeCursor(Record):
    id: str
    scope: str
    since: datetime | None
    snapshot: str
    created_at: datetime
    expires_at: datetime


def _since_key(since: datetime | None) -> str:
    return utc(since).isoformat() if since else ""


class FacadeCursorRepo(Repository):
    def open(
        self,
        scope: str,
        since: datetime | None,
        snapshot: str,
        *,
        ttl: timedelta = DEFAULT_TTL,
    ) -> FacadeCursor:
        """The live cursor for (scope, since, snapshot), created if needed; expiry pushed out.

        An expired cursor with the same key is replaced, with its positions forgotten.
        """
        key = {"scope": scope, "since_key": _since_key(since), "snapshot": snapshot}
        for _ in range(3):
            now = now_utc()
            with self._write() as session:
                row = session.scalars(select(FacadeCursorRow).filter_by(**key)).first()
                if row is not None and row.expires_at <= now:
                    session.delete(row)
                    session.flush()
                    row = None
                if row is not None:
                    row.expires_at = now + ttl
                    session.flush()
                    return FacadeCursor.from_row(row)
                row = FacadeCursorRow(
                    id=new_id(),
                    since=utc(since) if since else None,
                    created_at=now,
                    expires_at=now + ttl,
                    **key,
                )
                try:
                    with session.begin_nested():
                        session.add(row)
                except IntegrityError:
                    continue  # opened concurrently by another worker: use theirs
                return FacadeCursor.from_row(row)
        raise RuntimeError(f"cursor for {scope!r} could not be opened")

    def get(self, cursor_id: str) -> FacadeCursor | None:
        """The cursor if it exists and has not expired."""
        return self._get(FacadeCursorRow, cursor_id, FacadeCursor, live=True)

    def save_position(self, cursor_id: str, record_start: int, position: dict[str, Any]) -> None:
        """Remember that legacy offset ``record_start`` continues at CRM ``position``."""
        values = {"cursor_id": cursor_id, "record_start": record_start, "position": position}
        keys = ("cursor_id", "record_start")
        self._upsert(FacadeCursorPositionRow, values, keys=keys, update=("position",))

    def position(self, cursor_id: str, record_start: int) -> dict[str, Any] | None:
        with self._read() as session:
            row = session.get(FacadeCursorPositionRow, (cursor_id, record_start))
            return dict(row.position) if row else None

    def nearest(self, cursor_id: str, record_start: int) -> tuple[int, dict[str, Any]] | None:
        """The saved offset closest at or below ``record_start``, and its position.

        A consumer that jumps ahead (or one whose exact offset was never served) resumes
        from there and skips forward, instead of paging the CRM from the start.
        """
        with self._read() as session:
            row = session.scalars(
                select(FacadeCursorPositionRow)
                .where(
                    FacadeCursorPositionRow.cursor_id == cursor_id,
                    FacadeCursorPositionRow.record_start <= record_start,
                )
                .order_by(FacadeCursorPositionRow.record_start.desc())
                .limit(1)
            ).first()
            return (row.record_start, dict(row.position)) if row else None

    def purge_expired(self, now: datetime | None = None) -> int:
        """Delete expired cursors (their positions go by cascade); how many."""
        cutoff = utc(now) if now else now_utc()
        with self._write() as session:
            expired = select(FacadeCursorRow.id).where(FacadeCursorRow.expires_at <= cutoff)
            session.execute(
                delete(FacadeCursorPositionRow).where(
                    FacadeCursorPositionRow.cursor_id.in_(expired)
                )
            )
            result = session.execute(
                delete(FacadeCursorRow).where(FacadeCursorRow.expires_at <= cutoff)
            )
            return int(result.rowcount)  # type: ignore[attr-defined]
