"""Sync-engine tables: id links, checkpoints, jobs, job errors, dead letters, leases."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from bridge.store.models.base import Base, IdKey, SerialKey, Str16, Str24, Str32, Str64, Str200
from bridge.store.types import JSONValue


def _integration_fk() -> ForeignKey:
    # A ForeignKey object belongs to one column, so each column needs a fresh one.
    return ForeignKey("integrations.id", ondelete="CASCADE")


class IdLinkRow(Base):
    """One record known on both sides of an integration, with what each side last held."""

    __tablename__ = "id_links"
    __table_args__ = (
        UniqueConstraint("integration_id", "source_id"),
        UniqueConstraint("integration_id", "target_id"),
        Index(None, "integration_id", "external_id"),
        Index(None, "integration_id", "email"),
    )

    id: Mapped[SerialKey]
    integration_id: Mapped[Str24] = mapped_column(_integration_fk())
    source_id: Mapped[Str200 | None]
    target_id: Mapped[Str200 | None]
    external_id: Mapped[Str200 | None]
    email: Mapped[str | None] = mapped_column(String(320))
    source_hash: Mapped[Str64 | None]
    target_hash: Mapped[Str64 | None]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class CheckpointRow(Base):
    """Where one direction of an integration stands: watermark plus in-flight position."""

    __tablename__ = "checkpoints"

    integration_id: Mapped[Str24] = mapped_column(_integration_fk(), primary_key=True)
    direction: Mapped[Str32] = mapped_column(primary_key=True)
    watermark: Mapped[datetime | None]
    position: Mapped[dict[str, Any] | None] = mapped_column(JSONValue)
    updated_at: Mapped[datetime]


class JobRow(Base):
    """One run of an integration (integrator.io's job: ``_id``, status, counts, timings)."""

    __tablename__ = "jobs"
    __table_args__ = (
        Index(None, "integration_id", "created_at"),
        Index(None, "status", "created_at"),
    )

    id: Mapped[IdKey]
    integration_id: Mapped[Str24] = mapped_column(_integration_fk())
    type: Mapped[Str16] = mapped_column(default="flow")
    direction: Mapped[Str32 | None]
    status: Mapped[Str16]
    num_read: Mapped[int] = mapped_column(Integer, default=0)
    num_created: Mapped[int] = mapped_column(Integer, default=0)
    num_updated: Mapped[int] = mapped_column(Integer, default=0)
    num_unchanged: Mapped[int] = mapped_column(Integer, default=0)
    num_failed: Mapped[int] = mapped_column(Integer, default=0)
    num_conflicts: Mapped[int] = mapped_column(Integer, default=0)
    num_deleted: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    last_modified: Mapped[datetime]


class JobErrorRow(Base):
    """One record-level error of a job (integrator.io's ``joberrors``)."""

    __tablename__ = "job_errors"

    id: Mapped[SerialKey]
    job_id: Mapped[Str24] = mapped_column(ForeignKey("jobs.id", ondelete="CASCADE"), index=True)
    record_key: Mapped[Str200 | None]
    code: Mapped[Str64 | None]
    message: Mapped[str] = mapped_column(Text)
    source: Mapped[Str32 | None]
    created_at: Mapped[datetime]


class DeadLetterRow(Base):
    """A record that failed to sync, kept with its payload so it can be replayed."""

    __tablename__ = "dead_letters"
    __table_args__ = (Index(None, "integration_id", "direction", "resolved", "record_key"),)

    id: Mapped[SerialKey]
    integration_id: Mapped[Str24] = mapped_column(_integration_fk())
    direction: Mapped[Str32]
    record_key: Mapped[Str200]
    payload: Mapped[dict[str, Any]] = mapped_column(JSONValue)
    error_code: Mapped[Str64 | None]
    error_message: Mapped[str] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer, default=1)
    resolved: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime]
    last_attempt_at: Mapped[datetime]
    resolved_at: Mapped[datetime | None]


class LeaseRow(Base):
    """A named cross-process lock: whoever holds an unexpired lease owns the name."""

    __tablename__ = "leases"

    name: Mapped[Str200] = mapped_column(primary_key=True)
    holder: Mapped[Str200]
    acquired_at: Mapped[datetime]
    expires_at: Mapped[datetime]
