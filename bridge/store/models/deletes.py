"""Deletion tables: tombstones, which integration carried which, and reconciliation ids.

A tombstone says "the bridge treats this record as deleted". It belongs to an
integration's side (``integration_id`` + ``side``) when a sync, a webhook or a
reconciliation saw the delete, or to a connection only (``connection``) when the facade
deleted it for a legacy consumer. ``gone`` is false for a record that still exists but
is flagged deleted (the legacy ``deleted`` flag, an inactive Engagifii person, a record
the bridge flagged under the ``flag`` policy): such a record is visible in its own feed,
so the facade does not list it again from the tombstones.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from bridge.store.models.base import Base, SerialKey, Str16, Str24, Str32, Str64, Str200


class TombstoneRow(Base):
    """One record seen deleted (or flagged deleted) on one side."""

    __tablename__ = "tombstones"
    __table_args__ = (
        UniqueConstraint("integration_id", "side", "record_id"),
        Index(None, "connection", "record_id"),
        Index(None, "connection", "deleted_at"),
    )

    id: Mapped[SerialKey]
    integration_id: Mapped[Str24 | None] = mapped_column(
        ForeignKey("integrations.id", ondelete="CASCADE")
    )
    side: Mapped[Str16 | None]
    connection: Mapped[Str200 | None]
    system: Mapped[Str32]
    record_id: Mapped[Str200]
    external_id: Mapped[Str200 | None]
    email: Mapped[str | None] = mapped_column(String(320))
    seen_by: Mapped[Str16]
    gone: Mapped[bool] = mapped_column(Boolean, default=True)
    deleted_at: Mapped[datetime]


class DeleteCarriedRow(Base):
    """A tombstone an integration has dealt with (deleted, flagged, ignored or failed)."""

    __tablename__ = "deletes_carried"

    integration_id: Mapped[Str24] = mapped_column(
        ForeignKey("integrations.id", ondelete="CASCADE"), primary_key=True
    )
    tombstone_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("tombstones.id", ondelete="CASCADE"), primary_key=True
    )
    outcome: Mapped[Str16]
    carried_at: Mapped[datetime]


class ReconcileIdRow(Base):
    """Scratch: the ids one reconciliation run listed on one side (deleted when it ends)."""

    __tablename__ = "reconcile_ids"

    run_key: Mapped[Str64] = mapped_column(primary_key=True)
    record_id: Mapped[Str200] = mapped_column(primary_key=True)
