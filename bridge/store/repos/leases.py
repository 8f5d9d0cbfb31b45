"""Leases: named cross-process locks that work on SQLite and PostgreSQL alike.

A lease is a row (name, holder, expiry). Taking it is one ``INSERT ... ON CONFLICT DO
UPDATE ... WHERE the lease expired or is already ours``: the database serialises competing
statements on the row (SQLite by its write lock, PostgreSQL by the row lock, re-checking the
condition on the newest version), so exactly one holder wins. A lease expires unless
renewed, so a crashed holder blocks others for at most one ``ttl``; :meth:`LeaseRepo.hold`
renews in the background while the work runs.
"""

from __future__ import annotations

import os
import secrets
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import delete, or_, update

from bridge.errors import FatalError
from bridge.store.models import LeaseRow
from bridge.store.repos.base import Record, Repository, now_utc, upsert
from bridge.store.types import utc

DEFAULT_TTL = timedelta(seconds=60)


class LockHeld(FatalError):
    """Someone else holds the lease (another run of the same integration)."""

    def __init__(self, name: str, holder: str | None) -> None:
        super().__init__(f"{name} is held by {holder or 'another process'}")
        self.name = name
        self.holder = holder


def integration_lock(integration_id: str) -> str:
    """The lease name that admits one sync run of an integration at a time."""
    return f"integration:{integration_id}"


def default_holder() -> str:
    """host:pid:random, unique per call, readable in a "held by" message."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"


@dataclass(frozen=True, slots=True)
class Lease(Record):
    name: str
    holder: str
    acquired_at: datetime
    expires_at: datetime


@dataclass(slots=True)
class HeldLease:
    """A lease kept alive by a background thread; ``lost`` is set if a renewal failed."""

    name: str
    holder: str
    lost: threading.Event = field(default_factory=threading.Event)


class LeaseRepo(Repository):
    def acquire(
        self,
        name: str,
        holder: str,
        ttl: timedelta = DEFAULT_TTL,
        *,
        now: datetime | None = None,
    ) -> Lease | None:
        """The lease if ``holder`` got it (or already had it, then extended); else None."""
        now = utc(now) if now else now_utc()
        values = {"name": name, "holder": holder, "acquired_at": now, "expires_at": now + ttl}
        table = LeaseRow.__table__
        with self._write() as session:
            session.execute(
                upsert(
                    session,
                    table,  # type: ignore[arg-type]
                    values,
                    keys=("name",),
                    update=("holder", "acquired_at", "expires_at"),
                    where=lambda new: or_(
                        LeaseRow.expires_at <= now, LeaseRow.holder == new.holder
                    ),
                )
            )
            row = session.get(LeaseRow, name, populate_existing=True)
            return Lease.from_row(row) if row is not None and row.holder == holder else None

    def renew(self, name: str, holder: str, ttl: timedelta = DEFAULT_TTL) -> bool:
        """Extend our lease; False if it is no longer ours."""
        ours = (LeaseRow.name == name, LeaseRow.holder == holder)
        return bool(self._change(update(LeaseRow).where(*ours).values(expires_at=now_utc() + ttl)))

    def release(self, name: str, holder: str) -> bool:
        ours = (LeaseRow.name == name, LeaseRow.holder == holder)
        return bool(self._change(delete(LeaseRow).where(*ours)))

    def get(self, name: str) -> Lease | None:
        """The current, unexpired lease on ``name``."""
        return self._get(LeaseRow, name, Lease, live=True)

    @contextmanager
    def hold(
        self, name: str, *, ttl: timedelta = DEFAULT_TTL, holder: str | None = None
    ) -> Iterator[HeldLease]:
        """Hold ``name`` for the ``with`` block, renewing every ttl/3; raises LockHeld."""
        holder = holder or default_holder()
        if self.acquire(name, holder, ttl) is None:
            current = self.get(name)
            raise LockHeld(name, current.holder if current else None)
        held = HeldLease(name, holder)
        stop = threading.Event()

        def keep_alive() -> None:
            while not stop.wait(ttl.total_seconds() / 3):
                try:
                    renewed = self.renew(name, holder, ttl)
                except Exception:  # a database hiccup: try again next round, still in time
                    continue
                if not renewed:
                    held.lost.set()
                    return

        renewer = threading.Thread(target=keep_alive, name=f"lease {name}", daemon=True)
        renewer.start()
        try:
            yield held
        finally:
            stop.set()
            renewer.join()
            self.release(name, holder)
