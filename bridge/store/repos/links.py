"""Id links: which source record is which target record, per integration.

A link also keeps the External ID and email (the keys a record can be matched by before it
has a link) and a fingerprint of what the bridge last read from or wrote to each side.
Those fingerprints are what make two-way sync quiet: a record whose fingerprint equals the
stored one has not changed since the bridge last saw it, so it is not written again, and a
change the bridge itself just wrote is recognised when the other side reports it back.

The sync engine holds the integration's lease while it writes links, so one integration's
links have one writer at a time.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy import delete, func, or_, select
from sqlalchemy.orm import Session

from bridge.store.models import IdLinkRow
from bridge.store.repos.base import Repository, chunked, now_utc

_FIELDS = ("source_id", "target_id", "external_id", "email", "source_hash", "target_hash")


@dataclass(frozen=True, slots=True)
class IdLink:
    """One record's identity on both sides. ``None`` in a field given to ``save`` keeps the
    stored value (a link is filled in as the sync learns more)."""

    source_id: str | None = None
    target_id: str | None = None
    external_id: str | None = None
    email: str | None = None
    source_hash: str | None = None
    target_hash: str | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None

    @classmethod
    def from_row(cls, row: IdLinkRow) -> IdLink:
        return cls(
            source_id=row.source_id,
            target_id=row.target_id,
            external_id=row.external_id,
            email=row.email,
            source_hash=row.source_hash,
            target_hash=row.target_hash,
            created_at=row.created_at,
            updated_at=row.updated_at,
        )


def normalize_email(email: str | None) -> str | None:
    """Emails match case-insensitively; stored lower-cased and trimmed."""
    if email is None:
        return None
    email = email.strip().lower()
    return email or None


class IdLinkRepo(Repository):
    def get(
        self, integration_id: str, *, source_id: str | None = None, target_id: str | None = None
    ) -> IdLink | None:
        """The link with this source id, else the one with this target id."""
        with self._read() as session:
            row = _find_row(session, integration_id, source_id, target_id)
            return IdLink.from_row(row) if row else None

    def by_source_ids(self, integration_id: str, ids: Iterable[str]) -> dict[str, IdLink]:
        """Links of a page of source records, keyed by source id (missing ids absent)."""
        return self._by_ids(integration_id, IdLinkRow.source_id, ids)

    def by_target_ids(self, integration_id: str, ids: Iterable[str]) -> dict[str, IdLink]:
        return self._by_ids(integration_id, IdLinkRow.target_id, ids)

    def _by_ids(self, integration_id: str, column: object, ids: Iterable[str]) -> dict[str, IdLink]:
        found: dict[str, IdLink] = {}
        with self._read() as session:
            for chunk in chunked(dict.fromkeys(ids)):
                rows = session.scalars(
                    select(IdLinkRow).where(
                        IdLinkRow.integration_id == integration_id,
                        column.in_(chunk),  # type: ignore[attr-defined]
                    )
                )
                for row in rows:
                    link = IdLink.from_row(row)
                    key = link.source_id if column is IdLinkRow.source_id else link.target_id
                    found[str(key)] = link
        return found

    def find(
        self, integration_id: str, *, external_id: str | None = None, email: str | None = None
    ) -> list[IdLink]:
        """Links matching the External ID or the email (case-insensitive)."""
        conditions = []
        if external_id:
            conditions.append(IdLinkRow.external_id == external_id)
        if normalize_email(email):
            conditions.append(IdLinkRow.email == normalize_email(email))
        if not conditions:
            return []
        with self._read() as session:
            rows = session.scalars(
                select(IdLinkRow)
                .where(IdLinkRow.integration_id == integration_id, or_(*conditions))
                .order_by(IdLinkRow.id)
            )
            return [IdLink.from_row(row) for row in rows]

    def save(self, integration_id: str, link: IdLink) -> IdLink:
        return self.save_many(integration_id, [link])[0]

    def save_many(self, integration_id: str, links: Sequence[IdLink]) -> list[IdLink]:
        """Create or update links, matched by source id, else by target id.

        Fields left ``None`` keep their stored values. Returns the stored links in order.
        Existing links are fetched in bulk and written in one flush, so a page of links
        costs a few statements, not a few per link.
        """
        for link in links:
            if link.source_id is None and link.target_id is None:
                raise ValueError("an id link needs a source id or a target id")
        now = now_utc()
        with self._write() as session:
            by_source: dict[str, IdLinkRow] = {}
            by_target: dict[str, IdLinkRow] = {}
            for column in (IdLinkRow.source_id, IdLinkRow.target_id):
                wanted = {getattr(link, column.key) for link in links} - {None}
                for chunk in chunked(wanted):
                    for found in session.scalars(
                        select(IdLinkRow).where(
                            IdLinkRow.integration_id == integration_id, column.in_(chunk)
                        )
                    ):
                        _index(found, by_source, by_target)
            saved: list[IdLinkRow] = []
            for link in links:
                link = replace(link, email=normalize_email(link.email))
                row = by_source.get(link.source_id or "") or by_target.get(link.target_id or "")
                if row is None:
                    row = IdLinkRow(integration_id=integration_id, created_at=now)
                    session.add(row)
                for name in _FIELDS:
                    value = getattr(link, name)
                    if value is not None:
                        setattr(row, name, value)
                row.updated_at = now
                # Indexed as it is now, so a later link of the same batch finds this row.
                _index(row, by_source, by_target)
                saved.append(row)
            session.flush()
            return [IdLink.from_row(row) for row in saved]

    def delete(
        self, integration_id: str, *, source_id: str | None = None, target_id: str | None = None
    ) -> bool:
        with self._write() as session:
            row = _find_row(session, integration_id, source_id, target_id)
            if row is None:
                return False
            session.delete(row)
            return True

    def count(self, integration_id: str) -> int:
        with self._read() as session:
            query = select(func.count()).select_from(IdLinkRow)
            return session.scalar(query.filter_by(integration_id=integration_id)) or 0

    def clear(self, integration_id: str) -> int:
        """Forget every link of an integration (a full resync re-matches by keys)."""
        with self._write() as session:
            result = session.execute(delete(IdLinkRow).filter_by(integration_id=integration_id))
            return int(result.rowcount)  # type: ignore[attr-defined]


def _find_row(
    session: Session, integration_id: str, source_id: str | None, target_id: str | None
) -> IdLinkRow | None:
    for column, value in ((IdLinkRow.source_id, source_id), (IdLinkRow.target_id, target_id)):
        if value is None:
            continue
        row = session.scalars(
            select(IdLinkRow).where(IdLinkRow.integration_id == integration_id, column == value)
        ).first()
        if row is not None:
            return row
    return None


def _index(
    row: IdLinkRow, by_source: dict[str, IdLinkRow], by_target: dict[str, IdLinkRow]
) -> None:
    if row.source_id is not None:
        by_source[row.source_id] = row
    if row.target_id is not None:
        by_target[row.target_id] = row
