"""Tombstones: records seen deleted, which integrations carried them, reconciliation ids.

A tombstone is recorded once per (integration, side, record id) however many times the
delete is seen (a feed re-read, a webhook and a reconciliation naming the same record);
the facade's own deletes, which belong to a connection and no integration, once per
(connection, record id). An integration carries a tombstone once: the row in
``deletes_carried`` is written in the same transaction that removes the id link, so a
crash between the remote delete and that commit makes the rerun try the delete again,
which finds nothing to delete (an answer, not a second delete).

Reconciliation streams one side's ids into ``reconcile_ids`` a page at a time and lets
the database find the linked records that are missing (:meth:`TombstoneRepo.record_missing`),
so no id set is ever held in Python.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import (
    Executable,
    Select,
    Table,
    and_,
    bindparam,
    delete,
    exists,
    func,
    or_,
    select,
    union_all,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import aliased

from bridge.store.models import DeleteCarriedRow, IdLinkRow, ReconcileIdRow, TombstoneRow
from bridge.store.repos.base import Record, Repository, chunked, now_utc, upsert
from bridge.store.repos.links import normalize_email
from bridge.store.sql import in_ids

SOURCE, TARGET = "source", "target"
_TABLE = cast(Table, TombstoneRow.__table__)
# ``record_id IN :ids`` bound per call as one parameter (the sync screens and revives a
# page at a time): see bridge.store.sql.
_RECORD_IDS = in_ids(_TABLE.c.record_id)


def _side_clause(integration_id: Any, side: Any, connection: Any) -> Any:
    """Tombstones filed under a side, or (``connection`` not None) also under its
    connection by the facade; the values given as they are or as bound parameters."""
    mine = and_(_TABLE.c.integration_id == integration_id, _TABLE.c.side == side)
    if connection is None:
        return mine
    return or_(mine, and_(_TABLE.c.integration_id.is_(None), _TABLE.c.connection == connection))


# The integration's side, bound per call.
_MINE = _side_clause(bindparam("integration_id"), bindparam("side"), None)
# Built once, Core rather than ORM: both run for every page of every sync, where building
# the statement, keying its cache and the ORM's execution steps cost more than the query.
# With the facade's connection (``True``) the look-up is two branches, not one OR: SQLite
# serves each branch by its (..., record_id) index only when the id list is in the branch.
_AMONG_MINE = select(_TABLE.c.record_id).where(_MINE, _RECORD_IDS)
_AMONG: dict[bool, Executable] = {
    False: _AMONG_MINE,
    True: union_all(
        _AMONG_MINE,
        select(_TABLE.c.record_id).where(
            _TABLE.c.integration_id.is_(None),
            _TABLE.c.connection == bindparam("connection"),
            _RECORD_IDS,
        ),
    ),
}
_FLAGGED = and_(_MINE, _TABLE.c.gone.is_(False))
_REVIVE = delete(_TABLE).where(_FLAGGED, _RECORD_IDS)
_ANY_FLAGGED = select(exists().where(_FLAGGED))


@dataclass(frozen=True, slots=True)
class Tombstone(Record):
    id: int
    integration_id: str | None
    side: str | None
    connection: str | None
    system: str
    record_id: str
    external_id: str | None
    email: str | None
    seen_by: str
    gone: bool
    deleted_at: datetime


@dataclass(frozen=True, slots=True)
class SideRef:
    """One side of one integration: where its tombstones are filed and found."""

    integration_id: str
    side: str  # "source" | "target"
    connection: str | None
    system: str

    def link_column(self) -> Any:
        return IdLinkRow.source_id if self.side == SOURCE else IdLinkRow.target_id


def _side_values(ref: SideRef) -> dict[str, str]:
    """The values of ``_AMONG[ref.connection is not None]``'s bound parameters."""
    values = {"integration_id": ref.integration_id, "side": ref.side}
    if ref.connection is not None:
        values["connection"] = ref.connection
    return values


def _of_side(ref: SideRef) -> Any:
    """Tombstones filed under this side, or under its connection by the facade."""
    return _side_clause(ref.integration_id, ref.side, ref.connection)


class TombstoneRepo(Repository):
    # -- recording -------------------------------------------------------------------

    def record(
        self,
        ref: SideRef | None,
        record_id: str,
        *,
        seen_by: str,
        connection: str | None = None,
        system: str | None = None,
        external_id: str | None = None,
        email: str | None = None,
        gone: bool = True,
        deleted_at: datetime | None = None,
    ) -> bool:
        """File a delete seen on ``ref``'s side (or on ``connection`` when ``ref`` is None).

        True when it is new; a delete already on file is left as it was.
        """
        if ref is None and (connection is None or system is None):
            raise ValueError("a tombstone without an integration side needs connection and system")
        with self._write() as session:
            if ref is not None:
                found = select(TombstoneRow.id).where(
                    TombstoneRow.integration_id == ref.integration_id,
                    TombstoneRow.side == ref.side,
                    TombstoneRow.record_id == record_id,
                )
            else:
                found = select(TombstoneRow.id).where(
                    TombstoneRow.integration_id.is_(None),
                    TombstoneRow.connection == connection,
                    TombstoneRow.record_id == record_id,
                )
            if session.scalar(found.limit(1)) is not None:
                return False
            row = TombstoneRow(
                integration_id=ref.integration_id if ref else None,
                side=ref.side if ref else None,
                connection=ref.connection if ref else connection,
                system=ref.system if ref else system,
                record_id=record_id,
                external_id=external_id,
                email=normalize_email(email),
                seen_by=seen_by,
                gone=gone,
                deleted_at=deleted_at or now_utc(),
            )
            try:
                # Two workers of a partitioned run may see one delete at once: the second
                # insert loses to the unique key, and that is the answer "already on file".
                with session.begin_nested():
                    session.add(row)
                    session.flush()
            except IntegrityError:
                return False
            return True

    def among(self, ref: SideRef, ids: Iterable[str]) -> set[str]:
        """Which of ``ids`` (records of ``ref``'s side) the bridge holds as deleted."""
        found: set[str] = set()
        query, values = _AMONG[ref.connection is not None], _side_values(ref)
        with self._read() as session:
            found.update(session.execute(query, {**values, "ids": list(ids)}).scalars().all())
        return found

    def any_flagged(self, ref: SideRef) -> bool:
        """Whether the side has flag tombstones (records flagged deleted that still
        exist), the ones :meth:`revive` forgets."""
        with self._read() as session:
            values = {"integration_id": ref.integration_id, "side": ref.side}
            return bool(session.scalar(_ANY_FLAGGED, values))

    def revive(self, ref: SideRef, ids: Sequence[str]) -> int:
        """Forget flag tombstones of records the bridge has just written again.

        A record flagged deleted and then matched by a re-created contact (same email) is
        that contact's record now, not a deleted one.
        """
        if not ids:
            return 0
        values = {"integration_id": ref.integration_id, "side": ref.side, "ids": list(ids)}
        with self._write() as session:
            return int(session.execute(_REVIVE, values).rowcount)  # type: ignore[attr-defined]

    # -- carrying --------------------------------------------------------------------

    def _pending(self, ref: SideRef) -> Select[Any]:
        """Tombstones of ``ref``'s side with a linked record, not yet carried."""
        carried = exists().where(
            DeleteCarriedRow.integration_id == ref.integration_id,
            DeleteCarriedRow.tombstone_id == TombstoneRow.id,
        )
        query: Select[Any] = (
            select(TombstoneRow, IdLinkRow.id)  # type: ignore[assignment]
            .join(
                IdLinkRow,
                and_(
                    IdLinkRow.integration_id == ref.integration_id,
                    ref.link_column() == TombstoneRow.record_id,
                ),
            )
            .where(_of_side(ref), ~carried)
        )
        return query

    def count_pending(self, ref: SideRef) -> int:
        return self._count(self._pending(ref).subquery())

    def pending(self, ref: SideRef, *, after_id: int = 0, limit: int = 500) -> list[Tombstone]:
        """The next ``limit`` tombstones to carry (after ``after_id``), oldest first."""
        query = self._pending(ref).where(TombstoneRow.id > after_id)
        with self._read() as session:
            rows = session.execute(query.order_by(TombstoneRow.id).limit(limit))
            return [Tombstone.from_row(row[0]) for row in rows]

    def mark_carried(self, integration_id: str, tombstone_id: int, outcome: str) -> None:
        """Say the integration dealt with the tombstone (in the caller's transaction)."""
        keys = {"integration_id": integration_id, "tombstone_id": tombstone_id}
        values = {**keys, "outcome": outcome, "carried_at": now_utc()}
        self._upsert(DeleteCarriedRow, values, keys=tuple(keys), update=("outcome", "carried_at"))

    def outcomes(self, integration_id: str) -> dict[str, int]:
        """How many tombstones the integration carried, by outcome."""
        with self._read() as session:
            rows = session.execute(
                select(DeleteCarriedRow.outcome, func.count())
                .where(DeleteCarriedRow.integration_id == integration_id)
                .group_by(DeleteCarriedRow.outcome)
            )
            return {str(outcome): int(n) for outcome, n in rows}

    def carried_outcome(self, integration_id: str, tombstone_id: int) -> str | None:
        with self._read() as session:
            return session.scalar(
                select(DeleteCarriedRow.outcome).where(
                    DeleteCarriedRow.integration_id == integration_id,
                    DeleteCarriedRow.tombstone_id == tombstone_id,
                )
            )

    def for_side(self, ref: SideRef) -> list[Tombstone]:
        """Every tombstone of a side (tests, small listings)."""
        return self._list(select(TombstoneRow).where(_of_side(ref)).order_by("id"), Tombstone)

    # -- the facade ------------------------------------------------------------------

    def gone_since(
        self, connection: str, since: datetime | None, *, after_id: int = 0, limit: int = 100
    ) -> list[Tombstone]:
        """Records of ``connection`` deleted at or after ``since``, in filing order.

        A record on file twice (the facade's delete and a sync's) is answered once, by
        its first tombstone, whichever page it falls on.
        """
        earlier = aliased(TombstoneRow)
        first = ~exists().where(
            earlier.connection == TombstoneRow.connection,
            earlier.record_id == TombstoneRow.record_id,
            earlier.gone.is_(True),
            earlier.id < TombstoneRow.id,
        )
        query = select(TombstoneRow).where(
            TombstoneRow.connection == connection,
            TombstoneRow.gone.is_(True),
            TombstoneRow.id > after_id,
            first,
        )
        if since is not None:
            query = query.where(TombstoneRow.deleted_at >= since)
        return self._list(query.order_by(TombstoneRow.id), Tombstone, limit=limit)

    # -- reconciliation --------------------------------------------------------------

    def scratch_add(self, run_key: str, ids: Sequence[str]) -> None:
        """Add listed ids to the run's scratch set (a re-listed page adds nothing twice)."""
        if not ids:
            return
        table = cast(Table, ReconcileIdRow.__table__)
        with self._write() as session:
            for chunk in chunked(dict.fromkeys(ids)):
                session.execute(
                    upsert(
                        session,
                        table,
                        [{"run_key": run_key, "record_id": i} for i in chunk],
                        keys=("run_key", "record_id"),
                        update=("record_id",),
                    )
                )

    def scratch_clear(self, run_key: str) -> None:
        self._change(delete(ReconcileIdRow).where(ReconcileIdRow.run_key == run_key))

    def scratch_count(self, run_key: str) -> int:
        return self._count(ReconcileIdRow, ReconcileIdRow.run_key == run_key)

    def missing(
        self, ref: SideRef, run_key: str, *, after_link: int = 0, limit: int = 500
    ) -> list[tuple[int, str, str | None, str | None]]:
        """Linked records of the side the run did not list (and not on file), in chunks.

        ``(link id, record id, external id, email)``, by link id after ``after_link``.
        """
        column = ref.link_column()
        query = (
            _missing(ref, run_key)
            .add_columns(column, IdLinkRow.external_id, IdLinkRow.email)
            .where(IdLinkRow.id > after_link)
            .order_by(IdLinkRow.id)
            .limit(limit)
        )
        with self._read() as session:
            return [(int(a), str(b), c, d) for a, b, c, d in session.execute(query)]


def _missing(ref: SideRef, run_key: str) -> Select[Any]:
    column = ref.link_column()
    listed = exists().where(
        ReconcileIdRow.run_key == run_key,
        ReconcileIdRow.record_id == column,
    )
    on_file = exists().where(
        TombstoneRow.integration_id == ref.integration_id,
        TombstoneRow.side == ref.side,
        TombstoneRow.record_id == column,
    )
    return select(IdLinkRow.id).where(
        IdLinkRow.integration_id == ref.integration_id,
        column.is_not(None),
        ~listed,
        ~on_file,
    )
