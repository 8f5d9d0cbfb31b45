"""Dead letters: records that failed to sync, kept with their payload for replay.

One unresolved letter per (integration, direction, record key): failing the same record
again updates that letter (new payload and error, one more attempt) instead of piling up
copies. Replay is: take :meth:`DeadLetterRepo.replayable`, write each payload again, then
:meth:`resolve` the ones that went through and :meth:`record_failure` the others.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, delete, func, select, update

from bridge.errors import NotFound
from bridge.store.models import DeadLetterRow
from bridge.store.repos.base import Repository, chunked, ms, now_utc
from bridge.store.types import utc


@dataclass(frozen=True, slots=True)
class DeadLetter:
    id: int
    integration_id: str
    direction: str
    record_key: str
    payload: dict[str, Any]
    error_code: str | None
    error_message: str
    attempts: int
    resolved: bool
    created_at: datetime
    last_attempt_at: datetime
    resolved_at: datetime | None

    @classmethod
    def from_row(cls, row: DeadLetterRow) -> DeadLetter:
        return cls(**{name: getattr(row, name) for name in cls.__dataclass_fields__})


class DeadLetterRepo(Repository):
    def add(
        self,
        integration_id: str,
        direction: str,
        record_key: str,
        payload: dict[str, Any],
        *,
        error_message: str,
        error_code: str | None = None,
    ) -> DeadLetter:
        now = ms(now_utc())
        with self._write() as session:
            row = session.scalars(
                select(DeadLetterRow).filter_by(
                    integration_id=integration_id,
                    direction=direction,
                    record_key=record_key,
                    resolved=False,
                )
            ).first()
            if row is None:
                row = DeadLetterRow(
                    integration_id=integration_id,
                    direction=direction,
                    record_key=record_key,
                    attempts=0,
                    resolved=False,
                    created_at=now,
                )
                session.add(row)
            row.payload = payload
            row.error_code = error_code
            row.error_message = error_message
            row.attempts += 1
            row.last_attempt_at = now
            session.flush()
            return DeadLetter.from_row(row)

    def get(self, letter_id: int) -> DeadLetter | None:
        with self._read() as session:
            row = session.get(DeadLetterRow, letter_id)
            return DeadLetter.from_row(row) if row else None

    def query(
        self,
        *,
        integration_id: str | None = None,
        direction: str | None = None,
        resolved: bool | None = False,
        skip: int = 0,
        limit: int = 100,
    ) -> list[DeadLetter]:
        """Letters oldest first; ``resolved=None`` lists both kinds."""
        with self._read() as session:
            query = _filtered(select(DeadLetterRow), integration_id, direction, resolved)
            rows = session.scalars(query.order_by(DeadLetterRow.id).offset(skip).limit(limit))
            return [DeadLetter.from_row(row) for row in rows]

    def count(
        self,
        *,
        integration_id: str | None = None,
        direction: str | None = None,
        resolved: bool | None = False,
    ) -> int:
        with self._read() as session:
            query = select(func.count()).select_from(DeadLetterRow)
            return session.scalar(_filtered(query, integration_id, direction, resolved)) or 0

    def replayable(
        self,
        integration_id: str,
        direction: str,
        *,
        max_attempts: int | None = None,
        limit: int = 100,
    ) -> list[DeadLetter]:
        """Unresolved letters to retry, oldest first, skipping those tried too often."""
        with self._read() as session:
            query = _filtered(select(DeadLetterRow), integration_id, direction, False)
            if max_attempts is not None:
                query = query.where(DeadLetterRow.attempts < max_attempts)
            rows = session.scalars(query.order_by(DeadLetterRow.id).limit(limit))
            return [DeadLetter.from_row(row) for row in rows]

    def record_failure(
        self, letter_id: int, *, error_message: str, error_code: str | None = None
    ) -> DeadLetter:
        with self._write() as session:
            row = session.get(DeadLetterRow, letter_id)
            if row is None:
                raise NotFound(f"no dead letter {letter_id}")
            row.attempts += 1
            row.error_message = error_message
            row.error_code = error_code
            row.last_attempt_at = ms(now_utc())
            session.flush()
            return DeadLetter.from_row(row)

    def resolve(self, letter_ids: Iterable[int]) -> int:
        """Mark letters resolved (replayed, or dismissed by a person); how many changed."""
        now = ms(now_utc())
        changed = 0
        with self._write() as session:
            for chunk in chunked(letter_ids):
                result = session.execute(
                    update(DeadLetterRow)
                    .where(DeadLetterRow.id.in_(chunk), DeadLetterRow.resolved.is_(False))
                    .values(resolved=True, resolved_at=now)
                )
                changed += int(result.rowcount)  # type: ignore[attr-defined]
        return changed

    def purge_resolved(self, before: datetime) -> int:
        """Delete letters resolved before ``before``; how many."""
        with self._write() as session:
            result = session.execute(
                delete(DeadLetterRow).where(
                    DeadLetterRow.resolved.is_(True), DeadLetterRow.resolved_at < utc(before)
                )
            )
            return int(result.rowcount)  # type: ignore[attr-defined]


def _filtered(
    query: Select[Any], integration_id: str | None, direction: str | None, resolved: bool | None
) -> Select[Any]:
    if integration_id is not None:
        query = query.where(DeadLetterRow.integration_id == integration_id)
    if direction is not None:
        query = query.where(DeadLetterRow.direction == direction)
    if resolved is not None:
        query = query.where(DeadLetterRow.resolved.is_(resolved))
    return query
