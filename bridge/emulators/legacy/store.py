"""The legacy emulator's contact store: in memory, thread-safe, deterministic seeding.

Behaviour (from the contract; "inferred" where the contract is silent):
- Retrieve returns contacts whose ``lastUpdateDate`` is at or after the given site-local
  time, ordered by (``lastUpdateDate``, ``entityId``): a stable order in which an update
  moves a contact to the end.
- UpdateInsert matches the External ID, else the email address (case-insensitive, and only
  a contact without a different External ID), else inserts. Elements absent from the
  request keep their stored value on update (inferred: lenient consumers omit most
  fields) and take the contract default on insert. Every write sets ``lastUpdateDate`` to
  now, site-local. A batch is validated whole before anything is written (inferred), so a
  fault means nothing of that batch was written.
"""

from __future__ import annotations

import bisect
import random
import re
import threading
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from bridge.emulators.legacy.records import complete
from bridge.soap.contract.record import NO_DATE

PAGE_SIZE = 100
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")

FIRST = [
    "Ada",
    "Ben",
    "Chloe",
    "Dan",
    "Eve",
    "Finn",
    "Grace",
    "Hugo",
    "Ivy",
    "Jack",
    "Kate",
    "Liam",
    "Mia",
    "Noah",
    "Olive",
    "Paul",
    "Quinn",
    "Rosa",
    "Sam",
    "Tara",
    "Uma",
    "Vic",
    "Wren",
    "Zoe",
]
LAST = [
    "Smith",
    "Jones",
    "Brown",
    "Taylor",
    "Wilson",
    "Davies",
    "Evans",
    "Thomas",
    "Roberts",
    "Walker",
    "Wright",
    "Hughes",
    "Green",
    "Hall",
    "Wood",
    "Clarke",
    "Lewis",
    "Young",
]
CITIES = [
    ("Sydney", "NSW", "2000"),
    ("Melbourne", "VIC", "3000"),
    ("Brisbane", "QLD", "4000"),
    ("Perth", "WA", "6000"),
    ("Adelaide", "SA", "5000"),
    ("Hobart", "TAS", "7000"),
]
SEED_BASE = datetime(2025, 1, 1, 9, 0, 0)


class BatchRejected(Exception):
    """A batch failed validation; nothing of it was written."""


def seed_record(i: int, rng: random.Random) -> dict[str, Any]:
    """A realistic contact: an address, two phones, a form field."""
    first, last = FIRST[i % len(FIRST)], LAST[(i // len(FIRST)) % len(LAST)]
    city, state, zipcode = CITIES[i % len(CITIES)]
    created = SEED_BASE + timedelta(seconds=i * 120 + rng.randrange(60))
    updated = created + timedelta(hours=rng.randrange(0, 48))
    return {
        "externalId": f"EXT-{i + 1:06d}",
        "emailAddress": f"{first}.{last}.{i + 1}@example.com".lower(),
        "contactTitle": rng.choice(["Mr", "Ms", "Dr", None]),
        "deleted": False,
        "fullName": f"{first} {last}",
        "firstName": first,
        "lastName": last,
        "username": f"{first}{i + 1}".lower(),
        "password": "",
        "dateOfBirth": datetime(1950 + i % 50, 1 + i % 12, 1 + i % 28),
        "createDate": created,
        "lastUpdateDate": updated,
        "customerType": rng.choice(["Member", "Prospect", "Customer"]),
        "industryType": rng.choice(["Retail", "Education", "Health", None]),
        "leadSourceType": rng.choice(["Web", "Referral", "Event"]),
        "ratingType": rng.choice(["Hot", "Warm", "Cold"]),
        "relationships": [],
        "addresses": [
            {
                "addressTypeID": 1,
                "addressLine1": f"{1 + i % 300} George St",
                "addressLine2": None,
                "city": city,
                "zipcode": zipcode,
                "state": state,
                "countryCode": "AU",
            }
        ],
        "phoneNos": [
            {"phoneNoTypeID": 1, "phoneNo": f"+61 2 9{i % 1000:03d} {i % 10000:04d}"},
            {"phoneNoTypeID": 5, "phoneNo": f"+61 4{i % 100:02d} {i % 1000:03d} {i % 1000:03d}"},
        ],
        "crmForms": [
            {
                "formId": 1001,
                "formName": "Membership",
                "crmFormFields": [
                    {
                        "fieldId": 5001,
                        "fieldTypeId": 1,
                        "fieldName": "Membership level",
                        "fieldValue": rng.choice(["Gold", "Silver", "Bronze"]),
                    }
                ],
            }
        ],
        "MasterOptIn": i % 3 != 0,
    }


class LegacyStore:
    """Contacts by ``entityId`` with indexes on External ID and email, and a change order."""

    def __init__(self, *, clock: Callable[[], datetime], max_batch: int = 1000) -> None:
        self._lock = threading.RLock()
        self._clock = clock
        self.max_batch = max_batch
        self._records: dict[int, dict[str, Any]] = {}
        self._by_external: dict[str, int] = {}
        self._by_email: dict[str, int] = {}
        self._order: list[tuple[datetime, int]] = []
        self._next_id = 1000

    # -- seeding ---------------------------------------------------------------------

    def seed(self, count: int, seed: int = 42) -> None:
        rng = random.Random(seed)
        with self._lock:
            for i in range(count):
                self._insert(seed_record(i, rng))

    # -- internals (lock held) -------------------------------------------------------

    def _insert(self, record: dict[str, Any]) -> int:
        self._next_id += 1
        entity_id = self._next_id
        stored = complete(record)
        stored["entityId"] = entity_id
        self._records[entity_id] = stored
        self._index(stored)
        bisect.insort(self._order, (stored["lastUpdateDate"], entity_id))
        return entity_id

    def _index(self, record: dict[str, Any]) -> None:
        if record.get("externalId"):
            self._by_external[record["externalId"]] = record["entityId"]
        if record.get("emailAddress"):
            self._by_email[record["emailAddress"].strip().lower()] = record["entityId"]

    def _unindex(self, record: dict[str, Any]) -> None:
        if record.get("externalId"):
            self._by_external.pop(record["externalId"], None)
        if record.get("emailAddress"):
            self._by_email.pop(record["emailAddress"].strip().lower(), None)

    def _unorder(self, record: dict[str, Any]) -> None:
        key = (record["lastUpdateDate"], record["entityId"])
        index = bisect.bisect_left(self._order, key)
        if index < len(self._order) and self._order[index] == key:
            del self._order[index]

    def _match(self, record: dict[str, Any]) -> int | None:
        external = record.get("externalId")
        if external:
            found = self._by_external.get(external)
            if found is not None:
                return found
        email = (record.get("emailAddress") or "").strip().lower()
        if email:
            found = self._by_email.get(email)
            if found is not None:
                other = self._records[found].get("externalId")
                if not external or not other or other == external:
                    return found
        return None

    # -- operations ------------------------------------------------------------------

    def retrieve(self, since: datetime, offset: int) -> tuple[list[dict[str, Any]], bool]:
        """One page of contacts changed at or after ``since`` from ``offset``; and more?"""
        with self._lock:
            start = bisect.bisect_left(self._order, (since, -1))
            begin = start + max(offset, 0)
            keys = self._order[begin : begin + PAGE_SIZE]
            page = [dict(self._records[entity_id]) for _, entity_id in keys]
            return page, begin + len(page) < len(self._order)

    def update_insert(self, records: list[dict[str, Any]]) -> list[int]:
        """Upsert a batch; returns the entityIds written, in input order."""
        if len(records) > self.max_batch:
            raise BatchRejected(
                f"ERROR: A maximum of {self.max_batch} contacts can be sent in one call."
            )
        problems = []
        for n, record in enumerate(records, 1):
            email = record.get("emailAddress")
            if email and not _EMAIL.match(email.strip()):
                problems.append(f"record {n} has an invalid email address '{email}'")
        if problems:
            raise BatchRejected("ERROR: " + "; ".join(problems) + ".")
        written = []
        with self._lock:
            for record in records:
                now = self._clock()
                existing_id = self._match(record)
                # Keys and system fields come from the store, not the caller.
                changes = {k: v for k, v in record.items() if k not in ("entityId", "createDate")}
                changes["lastUpdateDate"] = now
                if existing_id is None:
                    changes["createDate"] = now
                    written.append(self._insert(changes))
                    continue
                stored = self._records[existing_id]
                self._unindex(stored)
                self._unorder(stored)
                stored.update({k: v for k, v in changes.items() if v is not None})
                self._index(stored)
                bisect.insort(self._order, (stored["lastUpdateDate"], existing_id))
                written.append(existing_id)
        return written

    def get(self, entity_id: int) -> dict[str, Any] | None:
        with self._lock:
            record = self._records.get(entity_id)
            return dict(record) if record else None

    def find_email(self, email: str) -> dict[str, Any] | None:
        with self._lock:
            entity_id = self._by_email.get(email.strip().lower())
            return dict(self._records[entity_id]) if entity_id is not None else None

    def find_external(self, external_id: str) -> dict[str, Any] | None:
        with self._lock:
            entity_id = self._by_external.get(external_id)
            return dict(self._records[entity_id]) if entity_id is not None else None

    def delete(self, entity_id: int) -> bool:
        with self._lock:
            record = self._records.pop(entity_id, None)
            if record is None:
                return False
            self._unindex(record)
            self._unorder(record)
            return True

    def __len__(self) -> int:
        with self._lock:
            return len(self._records)

    def all_records(self) -> list[dict[str, Any]]:
        """Every record, in change order (for tests and the demo)."""
        with self._lock:
            return [dict(self._records[i]) for _, i in self._order]


__all__ = ["NO_DATE", "PAGE_SIZE", "BatchRejected", "LegacyStore", "seed_record"]
