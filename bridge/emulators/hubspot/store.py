"""The contacts of one emulated HubSpot account: records, unique keys, archive, merges.

Records are kept as plain dicts of string-or-null property values (HubSpot's wire form
[V]), with the numeric id and the millisecond timestamps beside them for fast filters.
Live ids are kept sorted, so the ``after`` cursor of the list endpoint is a bisect, not a
scan. Thread-safe through one lock: the emulator is served by a threaded server.
"""

from __future__ import annotations

import bisect
import json
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bridge.emulators.hubspot.schema import (
    DATETIME_PROPERTIES,
    DEFAULT_PROPERTIES,
    EMAIL,
    READ_ONLY,
    PropertyDef,
    iso_ms,
)

FIRST_ID = 100_000_000_001


class Refused(Exception):
    """A write HubSpot refuses: HTTP ``status``, ``category``, ``message``, optional context."""

    def __init__(self, status: int, category: str, message: str, **context: list[str]) -> None:
        super().__init__(message)
        self.status = status
        self.category = category
        self.message = message
        self.context = context


@dataclass(slots=True)
class Record:
    id: int
    props: dict[str, str | None]
    created: int
    updated: int
    # Search sees the record from this moment on (the index lag [V]).
    indexed: int
    archived_at: int | None = None


class ContactStore:
    """Every contact of the account, live and archived, and the property definitions."""

    def __init__(self, *, index_lag: float = 0.0, clock: Callable[[], float] = time.time):
        self.index_lag_ms = int(index_lag * 1000)
        self._clock = clock
        self.lock = threading.RLock()
        self.live: dict[int, Record] = {}
        self.ids: list[int] = []  # live ids, ascending
        self.archived: dict[int, Record] = {}
        self.merged_into: dict[int, int] = {}
        self._next_id = FIRST_ID
        self._last_ms = 0
        self.properties: dict[str, PropertyDef] = {
            name: PropertyDef(
                name,
                name.replace("_", " ").title(),
                type="datetime" if name in DATETIME_PROPERTIES else "string",
            )
            for name in DEFAULT_PROPERTIES
        }
        self.properties["email"].unique = True
        self.properties["hs_additional_emails"].unique = True
        # property -> lower-cased value -> id, for every unique property.
        self.unique: dict[str, dict[str, int]] = {"email": {}, "hs_additional_emails": {}}
        # Listeners told of each change: (event, record, changed property names).
        self.listeners: list[Callable[[str, Record, list[str]], None]] = []

    # -- time and ids ----------------------------------------------------------------

    def now_ms(self) -> int:
        return int(self._clock() * 1000)

    def _stamp(self) -> int:
        # Never in the future (search would hide it) and never backwards; writes in one
        # millisecond share it, as they do at HubSpot (bulk imports tie by thousands).
        now = max(self.now_ms(), self._last_ms)
        self._last_ms = now
        return now

    # -- property definitions --------------------------------------------------------

    def define(self, body: dict[str, Any]) -> PropertyDef:
        missing = [
            k for k in ("name", "label", "type", "fieldType", "groupName") if not body.get(k)
        ]
        if missing:
            raise Refused(400, "VALIDATION_ERROR", f"Missing required fields: {missing}")
        name = str(body["name"])
        with self.lock:
            if name in self.properties:
                raise Refused(
                    409, "OBJECT_ALREADY_EXISTS", f"A property named '{name}' already exists."
                )
            unique = bool(body.get("hasUniqueValue"))
            if (
                unique
                and sum(p.unique and not p.hubspot_defined for p in self.properties.values()) >= 10
            ):
                raise Refused(400, "VALIDATION_ERROR", "At most 10 unique properties per object")
            prop = PropertyDef(
                name,
                str(body["label"]),
                str(body["type"]),
                str(body["fieldType"]),
                str(body["groupName"]),
                unique,
                hubspot_defined=False,
            )
            self.properties[name] = prop
            if unique:
                self.unique[name] = {}
            return prop

    # -- validation ------------------------------------------------------------------

    def _check(
        self, props: dict[str, Any], *, creating: bool, own: int | None
    ) -> dict[str, str | None]:
        clean: dict[str, str | None] = {}
        bad: list[dict[str, str]] = []
        for name, value in props.items():
            if name not in self.properties:
                bad.append(
                    {
                        "isValid": "false",
                        "message": f'Property "{name}" does not exist',
                        "error": "PROPERTY_DOESNT_EXIST",
                        "name": name,
                    }
                )
                continue
            if name in READ_ONLY:
                bad.append(
                    {
                        "isValid": "false",
                        "message": f'"{name}" is a read only property',
                        "error": "READ_ONLY_VALUE",
                        "name": name,
                    }
                )
                continue
            text = None if value is None or value == "" else str(value)
            if name == "email" and text is not None and not EMAIL.match(text):
                bad.append(
                    {
                        "isValid": "false",
                        "message": f"Email address {text} is invalid",
                        "error": "INVALID_EMAIL",
                        "name": "email",
                    }
                )
                continue
            clean[name] = text
        if bad:
            raise Refused(
                400, "VALIDATION_ERROR", f"Property values were not valid: {json.dumps(bad)}"
            )
        if creating and not any(clean.get(k) for k in ("email", "firstname", "lastname")):
            raise Refused(
                400, "VALIDATION_ERROR", "One of email, firstname or lastname is required"
            )
        for name, index in self.unique.items():
            value = clean.get(name)
            holder = index.get(value.lower()) if value else None
            if holder is None and name == "email" and value:
                holder = self.unique["hs_additional_emails"].get(value.lower())
            if holder is not None and holder != own:
                if name == "email":
                    raise Refused(409, "CONFLICT", f"Contact already exists. Existing ID: {holder}")
                raise Refused(
                    400, "VALIDATION_ERROR", f"{holder} already has that value for {name}={value}"
                )
        return clean

    def _index(self, record: Record, add: bool) -> None:
        for name, index in self.unique.items():
            raw = record.props.get(name)
            values = raw.split(";") if name == "hs_additional_emails" and raw else [raw]
            for value in values:
                if not value:
                    continue
                if add:
                    index[value.lower()] = record.id
                elif index.get(value.lower()) == record.id:
                    del index[value.lower()]

    # -- writes ----------------------------------------------------------------------

    def create(
        self, props: dict[str, Any], *, at: int | None = None, notify: bool = True
    ) -> Record:
        with self.lock:
            clean = self._check(props, creating=True, own=None)
            return self._insert(clean, at=at, notify=notify)

    def _insert(
        self, clean: dict[str, str | None], *, at: int | None = None, notify: bool = True
    ) -> Record:
        stamp = at if at is not None else self._stamp()
        record_id = self._next_id
        self._next_id += 1
        props = {k: v for k, v in clean.items() if v is not None}
        props["hs_object_id"] = str(record_id)
        props["createdate"] = props["lastmodifieddate"] = iso_ms(stamp)
        props["hs_all_contact_vids"] = str(record_id)
        lag = 0 if at is not None else self.index_lag_ms
        record = Record(record_id, props, stamp, stamp, stamp + lag)  # type: ignore[arg-type]
        self.live[record_id] = record
        self.ids.append(record_id)  # ids only grow, so the list stays sorted
        self._index(record, True)
        if notify:
            self._tell("contact.creation", record, list(clean))
        return record

    def update(self, record_id: int, props: dict[str, Any]) -> Record:
        with self.lock:
            record = self.resolve(record_id)
            if record is None:
                raise Refused(
                    404,
                    "OBJECT_NOT_FOUND",
                    "Object not found.  objectId are usually numeric.",
                    id=[str(record_id)],
                )
            clean = self._check(props, creating=False, own=record.id)
            changed = [k for k, v in clean.items() if record.props.get(k) != v]
            self._index(record, False)
            for name, value in clean.items():
                if value is None:
                    record.props.pop(name, None)
                else:
                    record.props[name] = value
            self._index(record, True)
            stamp = self._stamp()
            record.updated = stamp
            record.indexed = stamp + self.index_lag_ms
            record.props["lastmodifieddate"] = iso_ms(stamp)
            for name in changed:
                self._tell("contact.propertyChange", record, [name])
            return record

    def archive(self, record_id: int) -> bool:
        with self.lock:
            record = self.live.pop(record_id, None)
            if record is None:
                return False
            del self.ids[bisect.bisect_left(self.ids, record_id)]
            self._index(record, False)
            record.archived_at = self._stamp()
            self.archived[record_id] = record
            self._tell("contact.deletion", record, [])
            return True

    def merge(self, primary_id: int, other_id: int) -> Record:
        """A new record with a new id; both old ids point to it [V] (the default behaviour)."""
        with self.lock:
            primary, other = self.live.get(primary_id), self.live.get(other_id)
            if primary is None or other is None or primary is other:
                raise Refused(
                    400, "VALIDATION_ERROR", "Both objects must exist and differ to merge"
                )
            props = {**{k: v for k, v in other.props.items()}, **primary.props}
            emails = [e for e in (props.get("hs_additional_emails") or "").split(";") if e]
            if other.props.get("email") and other.props.get("email") != primary.props.get("email"):
                emails.append(str(other.props["email"]))
            merged_ids = [str(primary.id), str(other.id)]
            for old in (primary, other):
                merged_ids += [
                    i for i in (old.props.get("hs_merged_object_ids") or "").split(";") if i
                ]
                self.live.pop(old.id)
                del self.ids[bisect.bisect_left(self.ids, old.id)]
                self._index(old, False)
            clean = {k: v for k, v in props.items() if k not in READ_ONLY}
            if emails:
                clean["hs_additional_emails"] = ";".join(emails)
            record = self._insert(clean, notify=False)
            record.props["hs_merged_object_ids"] = ";".join(merged_ids)
            record.props["hs_all_contact_vids"] = ";".join([*merged_ids, str(record.id)])
            for merged in merged_ids:
                self.merged_into[int(merged)] = record.id
            for old_id, target in list(self.merged_into.items()):
                if str(target) in merged_ids:
                    self.merged_into[old_id] = record.id
            self._tell("contact.merge", record, merged_ids)
            return record

    # -- reads -----------------------------------------------------------------------

    def resolve(self, record_id: int) -> Record | None:
        """The live record for an id, following merges (a GET on an old id answers the new one)."""
        record = self.live.get(record_id)
        if record is None and record_id in self.merged_into:
            record = self.live.get(self.merged_into[record_id])
        return record

    def by_unique(self, name: str, value: str) -> Record | None:
        index = self.unique.get(name)
        found = index.get(value.lower()) if index is not None else None
        return self.live.get(found) if found is not None else None

    def page(self, after: int, limit: int) -> tuple[list[Record], int | None]:
        """Live records with id > ``after``, ascending; the next ``after`` or None."""
        with self.lock:
            start = bisect.bisect_right(self.ids, after)
            chunk = self.ids[start : start + limit]
            more = start + limit < len(self.ids)
            return [self.live[i] for i in chunk], (chunk[-1] if more and chunk else None)

    def archived_page(self, after: int, limit: int) -> tuple[list[Record], int | None]:
        with self.lock:
            ids = sorted(self.archived)
            start = bisect.bisect_right(ids, after)
            chunk = ids[start : start + limit]
            more = start + limit < len(ids)
            return [self.archived[i] for i in chunk], (chunk[-1] if more and chunk else None)

    def searchable(self, floor: int = 0) -> list[Record]:
        """Live records with id >= ``floor`` that the search index shows by now."""
        now = self.now_ms()
        with self.lock:
            start = bisect.bisect_left(self.ids, floor) if floor else 0
            live = self.live
            return [r for r in (live[i] for i in self.ids[start:]) if r.indexed <= now]

    def _tell(self, event: str, record: Record, names: list[str]) -> None:
        for listener in self.listeners:
            listener(event, record, names)

    # -- seed ------------------------------------------------------------------------

    def seed(self, count: int, seed: int = 42) -> None:
        """``count`` contacts modified in the past, three to a millisecond (bulk-import ties)."""
        rng = random.Random(seed)
        first = ("Ada", "Alan", "Grace", "Linus", "Barbara", "Ken", "Edsger", "Frances")
        last = ("Lovelace", "Turing", "Hopper", "Torvalds", "Liskov", "Thompson", "Dijkstra")
        base = self.now_ms() - 86_400_000
        with self.lock:
            for i in range(count):
                props = {
                    "email": f"contact{i}.{seed}@seed.example.com",
                    "firstname": rng.choice(first),
                    "lastname": rng.choice(last),
                    "phone": f"+1555{rng.randrange(10**6, 10**7)}",
                }
                if i % 2:  # half of them name a company (the contact's own text property)
                    props["company"] = f"Seed Company {i % 5}"
                self._insert(props, at=base + (i // 3), notify=False)  # type: ignore[arg-type]
