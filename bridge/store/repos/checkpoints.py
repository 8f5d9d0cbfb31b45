"""Checkpoints: per integration and direction, the watermark and the in-flight position.

The watermark is the change time up to which everything has been synced (aware UTC); the
position is the connector's paging state inside an unfinished run (``Position.to_json()``),
``None`` when no run is in flight. To make a checkpoint durable only together with the id
links of the batch it follows, save both inside one ``store.transaction()``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, delete, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.dml import Insert

from bridge.store.models import CheckpointRow
from bridge.store.repos.base import Record, Repository, now_utc, record_of, upsert
from bridge.store.types import utc


@dataclass(frozen=True, slots=True)
class Checkpoint(Record):
    integration_id: str
    direction: str
    watermark: datetime | None
    position: dict[str, Any] | None
    updated_at: datetime

    @classmethod
    def from_row(cls, row: CheckpointRow) -> Checkpoint:
        position = dict(row.position) if row.position is not None else None
        return record_of(cls, row, position=position)


_SAVES: dict[str, Insert] = {}


def _save_statement(session: Session) -> Insert:
    """The checkpoint upsert with bound values, built once per database kind: it runs
    for every page of every sync."""
    dialect = session.get_bind().dialect.name
    statement = _SAVES.get(dialect)
    if statement is None:
        columns = ("integration_id", "direction", "watermark", "position", "updated_at")
        statement = _SAVES[dialect] = upsert(
            session,
            CheckpointRow.__table__,  # type: ignore[arg-type]
            {name: bindparam(name) for name in columns},
            keys=("integration_id", "direction"),
            update=("watermark", "position", "updated_at"),
        )
    return statement


class CheckpointRepo(Repository):
    def get(self, integration_id: str, direction: str) -> Checkpoint | None:
        return self._get(CheckpointRow, (integration_id, direction), Checkpoint)

    def save(
        self,
        integration_id: str,
        direction: str,
        *,
        watermark: datetime | None,
        position: dict[str, Any] | None,
    ) -> Checkpoint:
        """Set both fields (a single upsert, so concurrent first saves cannot collide)."""
        stored_watermark = utc(watermark) if watermark else None
        updated_at = now_utc()
        values = {
            "integration_id": integration_id,
            "direction": direction,
            "watermark": stored_watermark,
            "position": position,
            "updated_at": updated_at,
        }
        with self._write() as session:
            session.execute(_save_statement(session), values)
        # What was written, not read back: this runs once per page of every sync.
        return Checkpoint(
            integration_id,
            direction,
            stored_watermark,
            dict(position) if position is not None else None,
            updated_at,
        )

    def reset(self, integration_id: str, direction: str | None = None) -> int:
        """Forget the checkpoint(s), so the next run reads everything (``--full``)."""
        query = delete(CheckpointRow).filter_by(integration_id=integration_id)
        if direction is not None:
            query = query.filter_by(direction=direction)
        return self._change(query)

    def all(self, integration_id: str) -> list[Checkpoint]:
        query = select(CheckpointRow).filter_by(integration_id=integration_id)
        return self._list(query.order_by(CheckpointRow.direction), Checkpoint)
