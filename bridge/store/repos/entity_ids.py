"""Legacy integer ``entityId`` values for CRM records, stable and allocated per scope.

A legacy consumer only knows integer ids; the CRMs behind the facade use strings. Each
scope (a site, or a connection) numbers its CRM records 1, 2, 3... in the order they are
first seen, and a number once given is never reused or changed.

Allocation is race-free across processes without a lock: a writer inserts ``max + 1 ...``
for the ids it lacks inside a savepoint; if another process got there first, the primary
key or the (scope, crm_id) unique key refuses the insert, the savepoint rolls back, and the
writer reads again and retries. The loser ends up with the winner's numbers.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bridge.store.models import EntityIdRow
from bridge.store.repos.base import Repository, chunked, now_utc

MAX_ATTEMPTS = 50


class EntityIdRepo(Repository):
    def allocate(self, scope: str, crm_id: str) -> int:
        """The entityId of ``crm_id`` in ``scope``, allocated if it has none."""
        return self.allocate_many(scope, [crm_id])[crm_id]

    def allocate_many(self, scope: str, crm_ids: Iterable[str]) -> dict[str, int]:
        """EntityIds for a page of CRM ids (new ones numbered in the order given)."""
        wanted = list(dict.fromkeys(crm_ids))
        if not wanted:
            return {}
        # Most pages are ids seen before: answer those from a read transaction, which on
        # SQLite does not queue behind (or block) writers the way a write transaction does.
        with self._read() as session:
            known = _lookup(session, scope, wanted)
        if len(known) == len(wanted):
            return known
        for _ in range(MAX_ATTEMPTS):
            with self._write() as session:
                known = _lookup(session, scope, wanted)
                missing = [crm_id for crm_id in wanted if crm_id not in known]
                if not missing:
                    return known
                try:
                    with session.begin_nested():
                        top = session.scalar(
                            select(func.max(EntityIdRow.entity_id)).filter_by(scope=scope)
                        )
                        now = now_utc()
                        rows = [
                            EntityIdRow(
                                scope=scope, entity_id=(top or 0) + n, crm_id=crm_id, created_at=now
                            )
                            for n, crm_id in enumerate(missing, start=1)
                        ]
                        session.add_all(rows)
                except IntegrityError:
                    continue  # another process allocated first; read its numbers next turn
                known.update({row.crm_id: row.entity_id for row in rows})
                return known
        raise RuntimeError(f"entityId allocation in {scope!r} kept colliding")

    def entity_id(self, scope: str, crm_id: str) -> int | None:
        with self._read() as session:
            return _lookup(session, scope, [crm_id]).get(crm_id)

    def crm_id(self, scope: str, entity_id: int) -> str | None:
        return self.crm_ids(scope, [entity_id]).get(entity_id)

    def crm_ids(self, scope: str, entity_ids: Iterable[int]) -> dict[int, str]:
        """CRM ids of known entityIds (unknown ones absent)."""
        found: dict[int, str] = {}
        with self._read() as session:
            for chunk in chunked(dict.fromkeys(entity_ids)):
                rows = session.execute(
                    select(EntityIdRow.entity_id, EntityIdRow.crm_id).where(
                        EntityIdRow.scope == scope, EntityIdRow.entity_id.in_(chunk)
                    )
                )
                found.update({entity_id: crm_id for entity_id, crm_id in rows})
        return found

    def count(self, scope: str) -> int:
        return self._count(EntityIdRow, EntityIdRow.scope == scope)


def _lookup(session: Session, scope: str, crm_ids: list[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    for chunk in chunked(crm_ids):
        rows = session.execute(
            select(EntityIdRow.crm_id, EntityIdRow.entity_id).where(
                EntityIdRow.scope == scope, EntityIdRow.crm_id.in_(chunk)
            )
        )
        found.update({crm_id: entity_id for crm_id, entity_id in rows})
    return found
