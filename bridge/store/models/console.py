"""Operator-console tables: signed-in sessions, and what the facade's consumers did."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, Text
from sqlalchemy.orm import Mapped, mapped_column

from bridge.store.models.base import Base, GivenNumberKey, SerialKey, Str24, Str64


class ConsoleSessionRow(Base):
    """One signed-in browser; only a hash of its cookie is kept, so a copy of the
    database cannot be replayed as a session."""

    __tablename__ = "console_sessions"

    session_hash: Mapped[Str64] = mapped_column(primary_key=True)
    token_id: Mapped[Str24]
    csrf_token: Mapped[Str64]
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime] = mapped_column(index=True)


class FacadeActivityRow(Base):
    """Calls a legacy site made to the facade, added up by every server process."""

    __tablename__ = "facade_activity"

    site_id: Mapped[GivenNumberKey]
    calls: Mapped[int] = mapped_column(Integer, default=0)
    faults: Mapped[int] = mapped_column(Integer, default=0)
    last_call_at: Mapped[datetime]


class FacadeFaultRow(Base):
    """One SOAP fault the facade answered (the newest few hundred are kept)."""

    __tablename__ = "facade_faults"

    id: Mapped[SerialKey]
    site_id: Mapped[int | None] = mapped_column(Integer)
    operation: Mapped[Str64]
    message: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(index=True)
