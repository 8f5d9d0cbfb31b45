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
from bridge.model import Address, Contact, CrmForm, Phone

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


def _address_order(row: list[Any]) -> list[Any]:
    """How address rows sort: by value, a missing part (None) before any text. Without a
    key, two addresses of one kind differing first where one has no part compared None
    with text and failed; every order that did not fail is the same with it."""
    return [part if part is not None else "" for part in row]


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
            (
                [
                    int(a.kind),
                    *(
                        _clean(v)
                        for v in (a.line1, a.line2, a.city, a.zipcode, a.state, a.country_code)
                    ),
                ]
                for a in contact.addresses
                if not a.is_empty()
            ),
            key=_address_order,
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
    return _digest(contact, _skipped(frozenset(ignore)))


@lru_cache(maxsize=64)
def _skipped(ignore: frozenset[str]) -> frozenset[str]:
    return _NEVER.union(ignore)


def _digest(contact: Contact, skip: frozenset[str]) -> str:
    try:
        text = canonical_text(contact, skip)
    except Exception:  # _Unusual, or a value canonical fails on: let it fail its own way
        text = _ENCODER.encode(canonical(contact, skip))
    return hashlib.sha256(text.encode()).hexdigest()[:32]


# -- canonical's JSON text, written directly ---------------------------------------------
#
# What ``_ENCODER.encode(canonical(contact, skip))`` gives, byte for byte, in about half
# its time: no dict to sort, no encoder to set up per call, each value written once.
# Values of the types a contact holds (text, None, ints, bools, dates) are written here;
# anything else raises _Unusual and the caller takes the long way (canonical, then the
# encoder), as it does on any failure, so a rare odd value costs time, never a different
# digest or a different error.

_quote = json.encoder.encode_basestring_ascii  # how the encoder writes text (ensure_ascii)


class _Unusual(Exception):
    """A value only the JSON encoder itself is trusted to write."""


def _json(value: Any) -> str:
    """A scalar as the encoder writes it."""
    if value is None:
        return "null"
    if isinstance(value, str):
        return _quote(value)
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        return int.__repr__(value)  # an IntEnum too is written as its number
    raise _Unusual


def _stripped(value: Any) -> str:
    """canonical's rule for a scalar field and :func:`_clean`'s: text stripped, blank None."""
    if value is None:
        return "null"
    if isinstance(value, str):
        value = value.strip()
        return _quote(value) if value else "null"
    return _json(value)


def _row(values: Any) -> str:
    return "[" + ",".join(map(_json, values)) + "]"


# Each list is written from the same rows canonical sorts, sorted the same way (by value:
# the written text sorts otherwise, and a clash of text and None raises alike).


def _addresses(addresses: list[Address]) -> str:
    if len(addresses) == 1:  # the usual case: nothing to sort
        a = addresses[0]
        if a.is_empty():
            return ""
        return (
            f"[{int(a.kind)},{_stripped(a.line1)},{_stripped(a.line2)},{_stripped(a.city)},"
            f"{_stripped(a.zipcode)},{_stripped(a.state)},{_stripped(a.country_code)}]"
        )
    rows = [
        [int(a.kind), *map(_clean, (a.line1, a.line2, a.city, a.zipcode, a.state, a.country_code))]
        for a in addresses
        if not a.is_empty()
    ]
    rows.sort(key=_address_order)
    return ",".join(map(_row, rows))


def _phones(phones: list[Phone]) -> str:
    rows = []
    for phone in phones:
        number = phone.number
        if number:
            number = number.strip()
            if number:
                rows.append((int(phone.kind), number))
    rows.sort()
    # int() gives a plain int, strip() plain text: what the encoder writes as is.
    return ",".join([f"[{kind},{_quote(number)}]" for kind, number in rows])


def _forms(forms: list[CrmForm]) -> str:
    rows = sorted(
        [
            (f.form_id, sorted([(x.field_id, _clean(x.value) or "") for x in f.fields]))
            for f in forms
        ]
    )
    return ",".join(
        [f"[{_json(form_id)},[{','.join(map(_row, fields))}]]" for form_id, fields in rows]
    )


def canonical_text(contact: Contact, skip: frozenset[str]) -> str:
    """``canonical(contact, skip)`` as the fingerprint's JSON text (keys sorted); ``skip``
    already holds ``_NEVER``. Raises _Unusual for a value it does not write itself."""
    c = contact
    parts: list[str] = []
    add = parts.append
    if "addresses" not in skip:
        add('"addresses":[' + _addresses(c.addresses) + "]" if c.addresses else '"addresses":[]')
    if "company" not in skip:
        add('"company":' + (_stripped(c.company.name) if c.company else "null"))
    if "custom_fields" not in skip:
        fields = c.custom_fields
        if fields:
            items = []
            for key, value in sorted(fields.items()):
                if _clean(value) is not None:
                    if not isinstance(key, str):
                        raise _Unusual  # the encoder turns some keys into text, in its order
                    items.append(_quote(key) + ":" + _json(value))
            add('"custom_fields":{' + ",".join(items) + "}")
        else:
            add('"custom_fields":{}')
    if "customer_type" not in skip:
        add('"customer_type":' + _stripped(c.customer_type))
    if "date_of_birth" not in skip:
        birth = c.date_of_birth
        add('"date_of_birth":' + (_json(birth.isoformat()) if birth else "null"))
    if "deleted" not in skip:
        add('"deleted":' + _json(c.deleted))
    if "email" not in skip:
        email = c.email
        if isinstance(email, str):
            email = email.strip().lower()
            add('"email":' + (_quote(email) if email else "null"))
        elif email:
            raise _Unusual  # canonical lower-cases it (and fails alike)
        else:
            add('"email":' + _json(email))
    if "external_id" not in skip:
        add('"external_id":' + _stripped(c.external_id))
    if "first_name" not in skip:
        add('"first_name":' + _stripped(c.first_name))
    if "forms" not in skip:
        add('"forms":[' + _forms(c.forms) + "]" if c.forms else '"forms":[]')
    if "industry_type" not in skip:
        add('"industry_type":' + _stripped(c.industry_type))
    if "last_name" not in skip:
        add('"last_name":' + _stripped(c.last_name))
    if "lead_source_type" not in skip:
        add('"lead_source_type":' + _stripped(c.lead_source_type))
    if "opt_in" not in skip:
        add('"opt_in":' + _json(c.opt_in))
    if "phones" not in skip:
        add('"phones":[' + _phones(c.phones) + "]" if c.phones else '"phones":[]')
    if "rating_type" not in skip:
        add('"rating_type":' + _stripped(c.rating_type))
    if "relationships" not in skip:
        relationships = c.relationships
        if relationships:
            rows = sorted([(r.entity_type, _clean(r.name) or "") for r in relationships])
            add('"relationships":[' + ",".join(map(_row, rows)) + "]")
        else:
            add('"relationships":[]')
    if "title" not in skip:
        add('"title":' + _stripped(c.title))
    if "username" not in skip:
        add('"username":' + _stripped(c.username))
    return "{" + ",".join(parts) + "}"


class Comparer:
    """Fingerprints in the form both connectors of one integration can hold."""

    def __init__(self, first: Connector, second: Connector, ignore: Collection[str] = ()) -> None:
        self._first = first
        self._second = second
        self._skip = _skipped(frozenset(ignore))
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
        return _digest(self.common(contact), self._skip)


_PROBE_TIME = datetime(2001, 2, 3, 4, 5, 6, tzinfo=UTC)


def _keeps_change_times(connector: Connector) -> bool:
    """Whether ``connector.normalize`` carries change times (asked once, of a bare contact;
    a connector whose normalize refuses it is taken to carry them)."""
    try:
        held = connector.normalize(Contact(created_at=_PROBE_TIME, updated_at=_PROBE_TIME))
    except Exception:  # any refusal: keep the general path
        return True
    return held.created_at is not None or held.updated_at is not None
