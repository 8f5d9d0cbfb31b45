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

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, and_, bindparam, delete, insert, select, union, update
from sqlalchemy.orm import Session

from bridge.store.models import IdLinkRow
from bridge.store.repos.base import Record, Repository, chunked, now_utc
from bridge.store.sql import in_ids

_FIELDS = ("source_id", "target_id", "external_id", "email", "source_hash", "target_hash")
_TABLE = cast(Table, IdLinkRow.__table__)


def _in(column: str, name: str) -> Any:
    """``integration_id = :integration_id AND column IN :name`` (one bound list)."""
    return and_(
        _TABLE.c.integration_id == bindparam("integration_id"), in_ids(_TABLE.c[column], name)
    )


# What saving needs of a stored row: its key and the fields a None leaves as they are.
_STORED = ("id", *_FIELDS)

# Built once: the page-sized look-ups and writes of the sync's hot path then skip building,
# coercing each value of an IN list and keying the statement cache, per call.
# UNION, not UNION ALL: a row found by both of its ids (the usual case when a page is
# synced again) comes once, rather than twice to Python.
_BY_EITHER = union(
    select(*(_TABLE.c[name] for name in _STORED)).where(_in("source_id", "sources")),
    select(*(_TABLE.c[name] for name in _STORED)).where(_in("target_id", "targets")),
)
_INSERT = insert(_TABLE)
_UPDATE = (
    update(_TABLE)
    .where(_TABLE.c.id == bindparam("row_id"))
    .values({name: bindparam(name) for name in (*_FIELDS, "updated_at")})
)


@dataclass(frozen=True, slots=True)
class IdLink(Record):
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


# IdLink's fields in order (the table's columns of the same names): a row of these
# columns is an IdLink's arguments, and its id columns come first.
_LINK = [_TABLE.c[name] for name in IdLink.__dataclass_fields__]
_BY = {column: select(*_LINK).where(_in(column, "ids")) for column in ("source_id", "target_id")}


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
        # Core rows, not ORM objects: this runs for every page of every sync.
        key = 0 if column is IdLinkRow.source_id else 1  # its place among _LINK's columns
        name = "source_id" if key == 0 else "target_id"
        wanted = list(ids)
        if not wanted:
            return {}
        with self._read() as session:
            # All rows at once: fetching them one by one cost a tenth more.
            values = {"integration_id": integration_id, "ids": wanted}
            return {row[key]: IdLink(*row) for row in session.execute(_BY[name], values).all()}

    def find(
        self, integration_id: str, *, external_id: str | None = None, email: str | None = None
    ) -> list[IdLink]:
        """Links matching the External ID or the email (case-insensitive), oldest first."""
        return self.find_by_keys(
            integration_id,
            external_ids=[external_id] if external_id else [],
            emails=[email] if email else [],
        )

    def find_by_keys(
        self, integration_id: str, *, external_ids: Iterable[str], emails: Iterable[str | None]
    ) -> list[IdLink]:
        """Links matching any of the External IDs or emails (case-insensitive), oldest first.

        One query per key column (chunked), not one ``external_id = ? OR email = ?``: each
        is then served by its (integration_id, key) index, where the OR form is served by
        the integration_id prefix alone on SQLite, reading every link of the integration.
        """
        table = cast(Table, IdLinkRow.__table__)
        wanted = (
            (table.c.external_id, dict.fromkeys(e for e in external_ids if e)),
            (table.c.email, dict.fromkeys(n for n in map(normalize_email, emails) if n)),
        )
        rows: dict[int, dict[str, Any]] = {}
        with self._read() as session:
            for column, values in wanted:
                for chunk in chunked(values):
                    result = session.execute(
                        select(table).where(
                            table.c.integration_id == integration_id, column.in_(chunk)
                        )
                    )
                    for row in result.mappings():
                        rows[row["id"]] = dict(row)
        return [_link_of(rows[row_id]) for row_id in sorted(rows)]

    def save(self, integration_id: str, link: IdLink) -> IdLink:
        """Create or update one link (as :meth:`save_many`); the link as stored."""
        self._save_rows(integration_id, [link])
        with self._read() as session:
            row = _find_row(session, integration_id, link.source_id, link.target_id)
            assert row is not None  # just written, in this transaction or before it
            return IdLink.from_row(row)

    def save_many(self, integration_id: str, links: Sequence[IdLink]) -> None:
        """Create or update links, matched by source id, else by target id.

        Fields left ``None`` keep their stored values. Nothing is returned: the sync saves
        a page of links per commit and reads none of them back (building them again cost
        about as much as the rest of this method's Python).
        """
        self._save_rows(integration_id, links)

    def _save_rows(self, integration_id: str, links: Sequence[IdLink]) -> None:
        """Core statements, not ORM objects: a page of links is one select for both id
        columns, one multi-row insert and one executemany update, which matters on the
        sync's hot path."""
        for link in links:
            if link.source_id is None and link.target_id is None:
                raise ValueError("an id link needs a source id or a target id")
        if not links:  # a page with nothing written
            return
        now = now_utc()
        with self._write() as session:
            by_source: dict[str, dict[str, Any]] = {}
            by_target: dict[str, dict[str, Any]] = {}
            sources = list(dict.fromkeys(k.source_id for k in links if k.source_id is not None))
            targets = list(dict.fromkeys(k.target_id for k in links if k.target_id is not None))
            # Both id columns in one round trip, each branch served by its unique index.
            found = session.execute(
                _BY_EITHER,
                {"integration_id": integration_id, "sources": sources, "targets": targets},
            )
            for stored in found.all():
                _index(dict(zip(_STORED, stored, strict=True)), by_source, by_target)
            # Each row once, in order, though two links of one batch may land on it; a
            # new row has no "id" key (the database gives it one).
            rows: dict[int, dict[str, Any]] = {}
            for link in links:
                row = by_source.get(link.source_id or "") or by_target.get(link.target_id or "")
                values = (
                    link.source_id,
                    link.target_id,
                    link.external_id,
                    normalize_email(link.email),
                    link.source_hash,
                    link.target_hash,
                )
                if row is None:
                    row = dict(zip(_FIELDS, values, strict=True))
                    row["integration_id"] = integration_id
                    row["created_at"] = now
                else:
                    for name, value in zip(_FIELDS, values, strict=True):
                        if value is not None:
                            row[name] = value
                row["updated_at"] = now
                # Indexed as it is now, so a later link of the same batch finds this row.
                _index(row, by_source, by_target)
                rows[id(row)] = row
            new = [r for r in rows.values() if "id" not in r]
            # Bound by another name: a parameter named after a column would join the SET.
            old = [r for r in rows.values() if "id" in r]
            for r in old:
                r["row_id"] = r.pop("id")
            if new:
                session.execute(_INSERT, new)
            if old:
                session.execute(_UPDATE, old)

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
        return self._count(IdLinkRow, IdLinkRow.integration_id == integration_id)

    def clear(self, integration_id: str) -> int:
        """Forget every link of an integration (a full resync re-matches by keys)."""
        return self._change(delete(IdLinkRow).filter_by(integration_id=integration_id))


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
    row: dict[str, Any], by_source: dict[str, dict[str, Any]], by_target: dict[str, dict[str, Any]]
) -> None:
    if row["source_id"] is not None:
        by_source[row["source_id"]] = row
    if row["target_id"] is not None:
        by_target[row["target_id"]] = row


def _link_of(row: Mapping[Any, Any]) -> IdLink:
    return IdLink(
        source_id=row["source_id"],
        target_id=row["target_id"],
        external_id=row["external_id"],
        email=row["email"],
        source_hash=row["source_hash"],
        target_hash=row["target_hash"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )
