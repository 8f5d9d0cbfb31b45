"""Fingerprints: what makes two versions of a contact "the same" for the sync engine.

A fingerprint hashes a contact's content in the form *both* sides of an integration can
hold (see :meth:`Connector.normalize`): a field only one side stores never looks like a
change, and a record the bridge itself just wrote reads back with the fingerprint it was
written with, so it is not sent back (no ping-pong). Ids, timestamps, the password and
fields the other side computes (the full name) are never part of it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Collection
from datetime import UTC, date, datetime
from functools import lru_cache
from typing import Any

from bridge.connectors.base import Connector
from bridge.model import Contact

# Fields that say where or when a record is, not what it is.
_NEVER = frozenset({"ids", "created_at", "updated_at", "password", "full_name"})


_SCALARS = (
    "external_id",
    "email",
    "title",
    "first_name",
    "last_name",
    "username",
    "customer_type",
    "industry_type",
    "lead_source_type",
    "rating_type",
)
# Built once: a new encoder per call (what json.dumps does with these options) cost about
# as much as encoding a contact.
_ENCODER = json.JSONEncoder(sort_keys=True, separators=(",", ":"), default=str)


def _clean(value: Any) -> Any:
    if isinstance(value, str):
        value = value.strip()
        return value or None
    return value


@lru_cache(maxsize=64)
def _scalars(skip: frozenset[str]) -> tuple[str, ...]:
    return tuple(name for name in _SCALARS if name not in skip)


def canonical(contact: Contact, ignore: Collection[str] = ()) -> dict[str, Any]:
    """The comparable content of a contact as plain JSON-able data."""
    skip = _NEVER.union(ignore)
    data: dict[str, Any] = {}
    for name in _scalars(skip):
        value = getattr(contact, name)
        if isinstance(value, str):
            value = value.strip() or None
        data[name] = value
    if data.get("email"):
        data["email"] = data["email"].lower()
    if "date_of_birth" not in skip:
        birth: date | None = contact.date_of_birth
        data["date_of_birth"] = birth.isoformat() if birth else None
    if "opt_in" not in skip:
        data["opt_in"] = contact.opt_in
    if "deleted" not in skip:
        data["deleted"] = contact.deleted
    if "company" not in skip:
        data["company"] = _clean(contact.company.name) if contact.company else None
    if "phones" not in skip:
        data["phones"] = sorted(
            (int(p.kind), p.number.strip()) for p in contact.phones if p.number and p.number.strip()
        )
    if "addresses" not in skip:
        data["addresses"] = sorted(
            [
                int(a.kind),
                *(
                    _clean(v)
                    for v in (a.line1, a.line2, a.city, a.zipcode, a.state, a.country_code)
                ),
            ]
            for a in contact.addresses
            if not a.is_empty()
        )
    if "relationships" not in skip:
        data["relationships"] = sorted(
            (r.entity_type, _clean(r.name) or "") for r in contact.relationships
        )
    if "forms" not in skip:
        data["forms"] = sorted(
            (f.form_id, sorted((x.field_id, _clean(x.value) or "") for x in f.fields))
            for f in contact.forms
        )
    if "custom_fields" not in skip:
        data["custom_fields"] = {
            k: v for k, v in sorted(contact.custom_fields.items()) if _clean(v) is not None
        }
    return data


def fingerprint(contact: Contact, ignore: Collection[str] = ()) -> str:
    """A short stable hash of :func:`canonical`."""
    text = _ENCODER.encode(canonical(contact, ignore))
    return hashlib.sha256(text.encode()).hexdigest()[:32]


class Comparer:
    """Fingerprints in the form both connectors of one integration can hold."""

    def __init__(self, first: Connector, second: Connector, ignore: Collection[str] = ()) -> None:
        self._first = first
        self._second = second
        self._ignore = frozenset(ignore)
        # Change times are never part of a fingerprint (_NEVER). Dropping them first spares
        # a connector that carries them through its round trip its time zone conversions,
        # per record compared; when the inner connector drops them by itself (it writes
        # no change times), the copy would cost more than it spares.
        self._drop_times = _keeps_change_times(second)

    def common(self, contact: Contact) -> Contact:
        return self._first.normalize(self._second.normalize(contact))

    def __call__(self, contact: Contact) -> str:
        if self._drop_times:
            contact = contact.replace(created_at=None, updated_at=None)
        return fingerprint(self.common(contact), self._ignore)


_PROBE_TIME = datetime(2001, 2, 3, 4, 5, 6, tzinfo=UTC)


def _keeps_change_times(connector: Connector) -> bool:
    """Whether ``connector.normalize`` carries change times (asked once, of a bare contact;
    a connector whose normalize refuses it is taken to carry them)."""
    try:
        held = connector.normalize(Contact(created_at=_PROBE_TIME, updated_at=_PROBE_TIME))
    except Exception:  # any refusal: keep the general path
        return True
    return held.created_at is not None or held.updated_at is not None
