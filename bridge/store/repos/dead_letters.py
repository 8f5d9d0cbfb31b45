"""Dead letters: records that failed to sync, kept with their payload for replay.

One unresolved letter per (integration, direction, record key): failing the same record
again updates that letter (new payload and error, one more attempt) instead of piling up
copies. Replay is: take :meth:`DeadLetterRepo.replayable`, write each payload again, then
:meth:`resolve` the ones that went through and :meth:`record_failure` the others.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypedDict, Unpack

from sqlalchemy import ColumnElement, delete, select, update

from bridge.store.models import DeadLetterRow
from bridge.store.repos.base import (
    Record,
    Repository,
    chunked,
    existing,
    filter_conditions,
    ms,
    now_utc,
)
from bridge.store.types import utc


@dataclass(frozen=True, slots=True)
class DeadLetter(Record):
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


class LetterFilters(TypedDict, total=False):
    """Which letters a listing or a count is of: unresolved ones unless ``resolved`` says
    otherwise (``resolved=None``: both kinds)."""

    integration_id: str | None
    direction: str | None
    resolved: bool | None


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
        return self._get(DeadLetterRow, letter_id, DeadLetter)

    def query(
        self, *, skip: int = 0, limit: int = 100, **filters: Unpack[LetterFilters]
    ) -> list[DeadLetter]:
        """Letters oldest first."""
        query = select(DeadLetterRow).where(*_conditions(filters)).order_by(DeadLetterRow.id)
        return self._list(query, DeadLetter, skip=skip, limit=limit)

    def count(self, **filters: Unpack[LetterFilters]) -> int:
        return self._count(DeadLetterRow, *_conditions(filters))

    def replayable(
        self,
        integration_id: str,
        direction: str,
        *,
        max_attempts: int | None = None,
        limit: int = 100,
    ) -> list[DeadLetter]:
        """Unresolved letters to retry, oldest first, skipping those tried too often."""
        filters = LetterFilters(integration_id=integration_id, direction=direction)
        query = select(DeadLetterRow).where(*_conditions(filters))
        if max_attempts is not None:
            query = query.where(DeadLetterRow.attempts < max_attempts)
        return self._list(query.order_by(DeadLetterRow.id), DeadLetter, limit=limit)

    def record_failure(
        self, letter_id: int, *, error_message: str, error_code: str | None = None
    ) -> DeadLetter:
        with self._write() as session:
            row = existing(session, DeadLetterRow, letter_id, "dead letter")
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
        resolved = (DeadLetterRow.resolved.is_(True), DeadLetterRow.resolved_at < utc(before))
        return self._change(delete(DeadLetterRow).where(*resolved))


def _conditions(filters: LetterFilters) -> list[ColumnElement[bool]]:
    """``filters`` as WHERE conditions, unresolved letters only unless they say otherwise."""
    return filter_conditions({"resolved": False, **filters}, _FILTERS)


#: The condition each of :class:`LetterFilters` adds to a query.
_FILTERS: dict[str, Callable[[Any], ColumnElement[bool]]] = {
    "integration_id": lambda value: DeadLetterRow.integration_id == value,
    "direction": lambda value: DeadLetterRow.direction == value,
    "resolved": lambda value: DeadLetterRow.resolved.is_(value),
}
