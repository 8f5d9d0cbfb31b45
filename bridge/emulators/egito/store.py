"""The Egito emulator's data: contacts, accounts and select dictionaries, in memory.

Records are kept in the wire shape. Timestamps (``createDate``, ``modifyDate``) are
``yyyy-MM-dd HH:mm:ss`` in the instance's local time (Europe/Warsaw by default), the way
a Polish Java web application shows them (inferred: the vendor publishes no record JSON).
Validation messages are in Polish, as the product's are.
"""

from __future__ import annotations

import random
import re
import threading
from collections.abc import Callable
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from bridge.emulators.kit import local_now
from bridge.emulators.kit.lookup import KeyIndex
from bridge.emulators.kit.seeding import FakePeople, created_at, modified_after

TIME_FORMAT = "%Y-%m-%d %H:%M:%S"
MAX_LIMIT = 100
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
CONTACT_FIELDS = (
    "firstName",
    "lastName",
    "title",
    "email",
    "phone",
    "mobile",
    "position",
    "accountId",
    "industry",
    "relationshipType",
    "street",
    "city",
    "postCode",
    "country",
    "description",
    "externalId",
    "marketingConsent",
)
_CONTACT_FIELD_SET = frozenset(CONTACT_FIELDS)
INT_FIELDS = ("accountId", "industry", "relationshipType")
DICTIONARIES: dict[str, list[str]] = {
    "industry": ["Retail", "Education", "Health", "IT", "Manufacturing", "Finance", "Public"],
    "relationshipType": ["Customer", "Prospect", "Member", "Partner", "Supplier"],
}
FIRST = ["Anna", "Piotr", "Kasia", "Marek", "Ola", "Tomasz", "Ewa", "Jan", "Zofia", "Adam"]
LAST = ["Nowak", "Kowalski", "Wisniewska", "Wojcik", "Kaminska", "Lewandowski", "Zielinska"]
CITIES = ["Warszawa", "Krakow", "Gdansk", "Poznan", "Wroclaw", "Lodz"]
PEOPLE = FakePeople(FIRST, LAST, "example.pl", ("Prezes", "Kierownik", "Specjalista", None))


class Invalid(Exception):
    """Validation failed; ``errors`` are the answer's ``errors[]`` items."""

    def __init__(self, errors: list[dict[str, str]]) -> None:
        super().__init__("; ".join(e["message"] for e in errors))
        self.errors = errors


class Missing(Exception):
    """No object of that module has that id."""


def _err(field: str | None, message: str, code: str) -> dict[str, str]:
    item = {"message": message, "code": code}
    if field:
        item["field"] = field
    return item


def _coerce(name: str, value: Any) -> Any:
    """Form posts send strings: empty clears, numbers and booleans are parsed."""
    if isinstance(value, str):
        value = value.strip()
        if value == "":
            return None
        if name == "marketingConsent":
            return value.lower() in ("true", "on", "1", "yes", "tak")
        if name in INT_FIELDS:
            if not value.lstrip("-").isdigit():
                raise Invalid([_err(name, f"Pole {name} musi być liczbą", "typeMismatch")])
            return int(value)
    if name == "marketingConsent" and value is not None:
        return bool(value)
    return value


class EgitoStore:
    """Contacts and accounts by integer id; thread-safe."""

    def __init__(
        self, *, timezone: str = "Europe/Warsaw", clock: Callable[[], datetime] | None = None
    ):
        self.tz = ZoneInfo(timezone)
        self._clock = clock or (lambda: local_now(self.tz))
        self._lock = threading.RLock()
        self.contacts: dict[int, dict[str, Any]] = {}
        self.accounts: dict[int, dict[str, Any]] = {}
        # (field, lower-cased value) -> contact ids, for the exact-match list filters a
        # client looks a contact up by (a scan per look-up made every write O(contacts)).
        self._contact_keys: KeyIndex[int] = KeyIndex()
        self.dictionaries: dict[str, list[dict[str, Any]]] = {
            kind: [{"id": 10 * (n + 1) + k, "name": name} for n, name in enumerate(names)]
            for k, (kind, names) in enumerate(DICTIONARIES.items())
        }
        self._next = 5000

    def now_text(self) -> str:
        return self._clock().strftime(TIME_FORMAT)

    def _id(self) -> int:
        self._next += 1
        return self._next

    def dictionary_ids(self, kind: str) -> set[int]:
        return {entry["id"] for entry in self.dictionaries.get(kind, [])}

    # -- seeding ---------------------------------------------------------------------

    def seed(self, count: int, seed: int = 42) -> None:
        rng = random.Random(seed)
        base = datetime(2025, 1, 1, 9, 0, 0)
        with self._lock:
            accounts = [
                self._save_account({"name": name}, base)
                for name in ("Polbud Sp. z o.o.", "Mleczarnia Sp. j.", "Softex S.A.")
            ]
            for i in range(count):
                created = created_at(base, i, 90, rng)
                record = {
                    **PEOPLE.person(i, rng).fields(("firstName", "lastName", "email", "position")),
                    "phone": f"+48 22 {i % 1000:03d} {i % 100:02d} {i % 100:02d}",
                    "mobile": f"+48 600 {i % 1000:03d} {i % 1000:03d}" if i % 2 else None,
                    "accountId": accounts[i % 3]["id"] if i % 5 else None,
                    "industry": rng.choice(self.dictionaries["industry"])["id"],
                    "relationshipType": rng.choice(self.dictionaries["relationshipType"])["id"],
                    "city": CITIES[i % len(CITIES)],
                    "country": "PL",
                    "externalId": f"EGI-{i + 1:06d}",
                    "marketingConsent": i % 3 == 0,
                }
                stored = self._save_contact(None, record, created)
                stored["modifyDate"] = modified_after(created, rng).strftime(TIME_FORMAT)

    # -- contacts --------------------------------------------------------------------

    def _validate_contact(self, fields: dict[str, Any], creating: bool) -> None:
        errors = []
        if creating and not (fields.get("lastName") or fields.get("email")):
            errors.append(_err("lastName", "Pole nazwisko jest wymagane", "required"))
        email = fields.get("email")
        if email and not (isinstance(email, str) and _EMAIL.match(email)):
            errors.append(_err("email", "Niepoprawny adres e-mail", "email"))
        for kind in ("industry", "relationshipType"):
            value = fields.get(kind)
            if value is not None and value not in self.dictionary_ids(kind):
                errors.append(_err(kind, "Niepoprawna wartość słownikowa", "dictionary"))
        account = fields.get("accountId")
        if account is not None and account not in self.accounts:
            errors.append(_err("accountId", "Nie znaleziono kontrahenta", "notFound"))
        if errors:
            raise Invalid(errors)

    def _save_contact(
        self, existing: dict[str, Any] | None, fields: dict[str, Any], now: datetime
    ) -> dict[str, Any]:
        record: dict[str, Any] = existing if existing is not None else {"id": self._id()}
        self._contact_keys.discard(_lookup_keys(record), record["id"])
        for name in CONTACT_FIELDS:
            if name in fields or existing is None:
                record[name] = fields.get(name)
        account = self.accounts.get(record.get("accountId") or -1)
        record["accountName"] = account["name"] if account else None
        stamp = now.strftime(TIME_FORMAT)
        record.setdefault("createDate", stamp)
        record["modifyDate"] = stamp
        self.contacts[record["id"]] = record
        self._contact_keys.add(_lookup_keys(record), record["id"])
        return record

    def save_contact(self, params: dict[str, Any], *, creating: bool) -> int:
        # Only text (form posts) and the consent flag need coercing: JSON gives the rest typed.
        fields = {
            k: _coerce(k, v) if isinstance(v, str) or k == "marketingConsent" else v
            for k, v in params.items()
            if k in _CONTACT_FIELD_SET
        }
        with self._lock:
            existing = None
            if not creating:
                existing = self.contacts.get(self._int_id(params.get("id")))
                if existing is None:
                    raise Missing(params.get("id"))
            self._validate_contact(fields, creating)
            return int(self._save_contact(existing, fields, self._clock())["id"])

    @staticmethod
    def _int_id(value: Any) -> int:
        try:
            return int(value)
        except (TypeError, ValueError):
            return -1

    def get(self, module: str, raw_id: Any) -> dict[str, Any]:
        table = self.contacts if module == "Contact" else self.accounts
        with self._lock:
            record = table.get(self._int_id(raw_id))
            if record is None:
                raise Missing(raw_id)
            return dict(record)

    def delete(self, module: str, raw_id: Any) -> int:
        table = self.contacts if module == "Contact" else self.accounts
        with self._lock:
            record = table.pop(self._int_id(raw_id), None)
            if record is None:
                raise Missing(raw_id)
            if module == "Contact":
                self._contact_keys.discard(_lookup_keys(record), record["id"])
            return int(record["id"])

    def list_records(
        self, module: str, params: dict[str, Any], modified_filter: bool = True
    ) -> tuple[list[dict[str, Any]], int]:
        """A page of records ordered by id, after the equality and modified filters."""
        try:
            start = max(int(params.get("start") or 0), 0)
            limit = min(max(int(params.get("limit") or 50), 1), MAX_LIMIT)
        except (TypeError, ValueError):
            raise Invalid(
                [_err("start", "Niepoprawny parametr stronicowania", "typeMismatch")]
            ) from None
        since = self._parse_since(params.get("modifiedFrom")) if modified_filter else None
        with self._lock:
            rows = self._candidates(module, params)
            for name in ("email", "externalId", "name"):
                wanted = params.get(name)
                if wanted:
                    rows = [r for r in rows if str(r.get(name) or "").lower() == wanted.lower()]
            if since is not None:
                rows = [r for r in rows if datetime.strptime(r["modifyDate"], TIME_FORMAT) >= since]
            return [dict(r) for r in rows[start : start + limit]], len(rows)

    def _candidates(self, module: str, params: dict[str, Any]) -> list[dict[str, Any]]:
        """Rows a list can match, in id order: by the index for a contact's email or
        External ID, else all (ids only grow: insertion order is id order)."""
        table = self.contacts if module == "Contact" else self.accounts
        for name in LOOKUP_FIELDS if module == "Contact" else ():
            wanted = params.get(name)
            if wanted:
                return [table[i] for i in sorted(self._contact_keys.ids(name, wanted.lower()))]
        return list(table.values())

    def _parse_since(self, text: Any) -> datetime | None:
        if not text:
            return None
        try:
            value = datetime.fromisoformat(str(text).replace("Z", "+00:00"))
        except ValueError:
            raise Invalid([_err("modifiedFrom", "Niepoprawna data", "typeMismatch")]) from None
        if value.tzinfo is not None:
            value = value.astimezone(self.tz).replace(tzinfo=None)
        return value

    # -- accounts --------------------------------------------------------------------

    def _save_account(self, fields: dict[str, Any], now: datetime) -> dict[str, Any]:
        stamp = now.strftime(TIME_FORMAT)
        record: dict[str, Any] = {
            "id": self._id(),
            "name": fields.get("name"),
            "nip": fields.get("nip"),
            "industry": fields.get("industry"),
            "createDate": stamp,
            "modifyDate": stamp,
        }
        self.accounts[record["id"]] = record
        return record

    def save_account(self, params: dict[str, Any], *, creating: bool) -> int:
        name = params.get("name")
        with self._lock:
            if creating:
                if not isinstance(name, str) or not name.strip():
                    raise Invalid([_err("name", "Pole nazwa jest wymagane", "required")])
                return int(self._save_account(params, self._clock())["id"])
            record = self.accounts.get(self._int_id(params.get("id")))
            if record is None:
                raise Missing(params.get("id"))
            for key in ("name", "nip", "industry"):
                if key in params:
                    record[key] = params[key]
            record["modifyDate"] = self.now_text()
            return int(record["id"])


LOOKUP_FIELDS = ("email", "externalId")


def _lookup_keys(record: dict[str, Any]) -> list[tuple[str, str]]:
    """The index keys of a contact, folded as the list filters compare them."""
    return [
        (name, str(record.get(name) or "").lower()) for name in LOOKUP_FIELDS if record.get(name)
    ]
