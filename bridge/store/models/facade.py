"""SOAP-facade tables: legacy entityId allocation, paging cursors, cache generations."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from bridge.store.models.base import Base, GivenNumberKey, IdKey, Str24, Str64, Str200
from bridge.store.types import JSONValue


class EntityIdRow(Base):
    """A stable legacy integer ``entityId`` for one CRM record id, per scope."""

    __tablename__ = "entity_ids"
    __table_args__ = (UniqueConstraint("scope", "crm_id"),)

    scope: Mapped[Str200] = mapped_column(primary_key=True)
    entity_id: Mapped[GivenNumberKey]
    crm_id: Mapped[Str200]
    created_at: Mapped[datetime]


class FacadeCursorRow(Base):
    """One paging session of a legacy consumer: (scope, lastUpdateDate, snapshot)."""

    __tablename__ = "facade_cursors"
    __table_args__ = (UniqueConstraint("scope", "since_key", "snapshot"),)

    id: Mapped[IdKey]
    scope: Mapped[Str200]
    # The lastUpdateDate as canonical ISO text ("" for none), so it can sit in a unique key
    # (a NULL would make every "no date" cursor distinct).
    since_key: Mapped[str] = mapped_column(String(40))
    since: Mapped[datetime | None]
    snapshot: Mapped[Str64]
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime] = mapped_column(index=True)


class FacadeCursorPositionRow(Base):
    """Within a cursor: the CRM paging position that serves legacy offset ``record_start``."""

    __tablename__ = "facade_cursor_positions"

    cursor_id: Mapped[Str24] = mapped_column(
        ForeignKey("facade_cursors.id", ondelete="CASCADE"), primary_key=True
    )
    record_start: Mapped[GivenNumberKey]
    position: Mapped[dict[str, Any]] = mapped_column(JSONValue)


class CacheGenerationRow(Base):
    """How many writes went through the facade to one connection (its cache generation).

    Every facade process compares it with the generation its cached CRM pages were read
    under, so a write through any process makes every process's pages of that CRM stale.
    """

    __tablename__ = "cache_generations"

    scope: Mapped[Str200] = mapped_column(primary_key=True)
    generation: Mapped[int] = mapped_column(BigInteger)
    updated_at: Mapped[datetime]
