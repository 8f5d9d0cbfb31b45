"""The Bigin emulator's records: Contacts and Accounts, in memory, thread-safe.

Behaviour, with where it comes from (see ``reference/rest-crms/bigin.md``):
- Every field is present on read, empty ones as ``null`` [V]. Ids are ~19-digit numeric
  strings [V]. ``Modified_Time`` changes on every write, to the second [V shape].
- Per-record outcomes in input order: ``MANDATORY_NOT_FOUND`` for a missing
  ``Last_Name`` (``Account_Name`` for Accounts), ``INVALID_DATA`` for a wrong type or a
  bad email, ``DUPLICATE_DATA`` on a unique field [I: Zoho CRM shapes]. Unique fields are
  the system ``Email`` and the custom ``External_ID`` ("do not allow duplicates") [I].
- Unknown field names in a write are ignored, as Zoho CRM does [I].
- ``Account_Name`` written as ``{"id": ...}`` must name an existing company; written as a
  name, it finds that company or creates it (the pitfall Nango documents) [V2].
- Upsert matches on ``duplicate_check_fields`` in the order given, skipping fields the
  record does not carry; no match inserts [V] [V2].
"""

from __future__ import annotations

import bisect
import random
import re
import threading
import zlib
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

from bridge.emulators.bigin.schema import (
    MODULES,
    Module,
    RecordProblem,
    error_entry,
    invalid,
    missing,
)
from bridge.emulators.bigin.seed import OWNER, seed_accounts, seed_contacts
from bridge.emulators.kit.seeding import modified_after

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
ID_BASE = 7618134000000632000


class BiginStore:
    """Both modules behind one lock; every write answers per-record wire entries."""

    def __init__(self, *, clock: Callable[[], datetime], seed: int = 42) -> None:
        self._lock = threading.RLock()
        self.clock = clock
        self._rng = random.Random(seed)
        self._next_id = ID_BASE
        self.modules = {name: Module(spec) for name, spec in MODULES.items()}
        # Sorted orders per (module, sort_by, descending), valid while _version holds.
        self._version = 0
        self._orders: dict[tuple[str, str, bool], tuple[int, list[dict[str, Any]]]] = {}

    # -- seeding and ids -------------------------------------------------------------

    def new_id(self) -> str:
        self._next_id += self._rng.randint(1, 9)
        return str(self._next_id)

    def seed(self, count: int) -> None:
        with self._lock:
            accounts = []
            for row in seed_accounts(max(count // 10, 1) if count else 0):
                accounts.append(self._store_new(self.modules["Accounts"], row, row["_time"]))
            for row in seed_contacts(count, self._rng):
                created = row.pop("_time")
                modified = modified_after(created, self._rng)
                if accounts and row.pop("_company", None) is not None:
                    account = accounts[self._rng.randrange(len(accounts))]
                    row["Account_Name"] = {"name": account["Account_Name"], "id": account["id"]}
                record = self._store_new(self.modules["Contacts"], row, created)
                record["Modified_Time"] = modified
            self._version += 1

    def _store_new(self, module: Module, values: dict[str, Any], now: datetime) -> dict[str, Any]:
        record: dict[str, Any] = {name: None for name in module.spec.fields}
        record.update({name: False for name in module.spec.bool_fields})
        record.update({k: v for k, v in values.items() if not k.startswith("_")})
        record.update(
            id=self.new_id(),
            Created_Time=now,
            Modified_Time=now,
            Owner=dict(OWNER),
            Created_By={"name": OWNER["name"], "id": OWNER["id"]},
            Modified_By={"name": OWNER["name"], "id": OWNER["id"]},
        )
        self._derive(module, record)
        module.records[record["id"]] = record
        module.reindex(record)
        self._version += 1
        return record

    @staticmethod
    def _derive(module: Module, record: dict[str, Any]) -> None:
        if module.spec.name == "Contacts":
            parts = [record.get("First_Name"), record.get("Last_Name")]
            record["Full_Name"] = " ".join(p for p in parts if p) or None

    # -- reads -----------------------------------------------------------------------

    def module(self, name: str) -> Module | None:
        return self.modules.get(name)

    def get(self, module: str, record_id: str) -> dict[str, Any] | None:
        with self._lock:
            record = self.modules[module].records.get(record_id)
            return dict(record) if record else None

    def select(
        self, module: str, *, where: Callable[[dict[str, Any]], bool] | None = None
    ) -> list[dict[str, Any]]:
        """Copies of the matching records, newest id first."""
        return self.select_slice(module, where=where)[1]

    def select_slice(
        self,
        module: str,
        *,
        where: Callable[[dict[str, Any]], bool] | None = None,
        sort_by: str = "id",
        descending: bool = True,
        start: int = 0,
        stop: int | None = None,
        modified_after: datetime | None = None,
    ) -> tuple[int, list[dict[str, Any]]]:
        """(how many match, copies of the ordered matches ``[start:stop]``).

        Only the slice is copied: a page of a large module costs a sort, not a copy of
        every record.
        """

        def key(row: dict[str, Any]) -> tuple[Any, int]:
            value = int(row["id"]) if sort_by == "id" else row.get(sort_by)
            return (value, int(row["id"]))

        with self._lock:
            cache_key = (module, sort_by, descending)
            cached = self._orders.get(cache_key)
            if cached is None or cached[0] != self._version:
                ordered = sorted(self.modules[module].records.values(), key=key, reverse=descending)
                self._orders[cache_key] = (self._version, ordered)
            else:
                ordered = cached[1]
            rows = ordered
            if modified_after is not None:
                if sort_by == "Modified_Time" and not descending:
                    # The feed's own order: the first match is found, not searched for.
                    first = bisect.bisect_right(
                        rows, modified_after, key=lambda r: r["Modified_Time"]
                    )
                    rows = rows[first:]
                else:
                    rows = [r for r in rows if r["Modified_Time"] > modified_after]
            if where is not None:
                rows = [r for r in rows if where(r)]
            return len(rows), [dict(r) for r in rows[start:stop]]

    def count(self, module: str) -> int:
        with self._lock:
            return len(self.modules[module].records)

    # -- validation ------------------------------------------------------------------

    def _clean(self, module: Module, row: dict[str, Any], index: int) -> dict[str, Any]:
        """The writable values of one input row, type-checked; unknown keys dropped."""
        spec = module.spec
        clean: dict[str, Any] = {}
        for name, value in row.items():
            path = f"$.data[{index}].{name}"
            if name in spec.text_fields:
                if value is not None and not isinstance(value, str | int | float):
                    raise invalid(name, path, "text")
                value = None if value is None else str(value)
                if name == "Email" and value and not _EMAIL.match(value.strip()):
                    raise invalid(name, path, "email")
                clean[name] = value
            elif name in spec.bool_fields:
                if not isinstance(value, bool):
                    raise invalid(name, path, "boolean")
                clean[name] = value
            elif name == "Tag":
                clean[name] = self._tags(value, path)
            elif name == "Account_Name" and spec.name == "Contacts":
                clean[name] = self._account(value, path)
        return clean

    def _tags(self, value: Any, path: str) -> list[dict[str, Any]] | None:
        if value is None:
            return None
        if not isinstance(value, list) or not all(
            isinstance(t, dict) and isinstance(t.get("name"), str) and t["name"] for t in value
        ):
            raise invalid("Tag", path, "jsonarray")
        # A stable id per tag name (Python's hash() changes between processes).
        return [
            {
                "name": t["name"],
                "id": str(ID_BASE + zlib.crc32(t["name"].encode())),
                "color_code": None,
            }
            for t in value
        ]

    def _account(self, value: Any, path: str) -> dict[str, Any] | None:
        if value is None:
            return None
        accounts = self.modules["Accounts"]
        if isinstance(value, dict) and value.get("id"):
            account = accounts.records.get(str(value["id"]))
            if account is None:
                raise invalid("Account_Name", path, "lookup")
            return {"name": account["Account_Name"], "id": account["id"]}
        name = value.get("name") if isinstance(value, dict) else value
        if not isinstance(name, str) or not name.strip():
            raise invalid("Account_Name", path, "lookup")
        found = accounts.lookup("Account_Name", name)
        if found is None:
            # Created only once the whole record passed its checks (see _link_account).
            return {"name": name.strip(), "id": None}
        return {"name": accounts.records[found]["Account_Name"], "id": found}

    def _link_account(self, clean: dict[str, Any]) -> None:
        """Create the company a valid record names but Bigin does not know yet [V2]."""
        account = clean.get("Account_Name")
        if isinstance(account, dict) and account.get("id") is None:
            accounts = self.modules["Accounts"]
            found = accounts.lookup("Account_Name", account["name"])
            record = (
                accounts.records[found]
                if found
                else self._store_new(accounts, {"Account_Name": account["name"]}, self.clock())
            )
            clean["Account_Name"] = {"name": record["Account_Name"], "id": record["id"]}

    def _check_unique(
        self, module: Module, clean: dict[str, Any], own_id: str | None, i: int
    ) -> None:
        for name in module.spec.unique:
            other = module.lookup(name, clean.get(name))
            if other is not None and other != own_id:
                raise RecordProblem(
                    error_entry(
                        "DUPLICATE_DATA",
                        "duplicate data",
                        api_name=name,
                        json_path=f"$.data[{i}].{name}",
                        duplicate_record={
                            "module": {"api_name": module.spec.name, "id": "7618134000000002179"},
                            "id": other,
                            "Owner": {"name": OWNER["name"], "id": OWNER["id"]},
                        },
                    )
                )

    # -- writes ----------------------------------------------------------------------

    def _success(self, record: dict[str, Any], message: str) -> dict[str, Any]:
        return {
            "code": "SUCCESS",
            "details": {
                "Modified_Time": record["Modified_Time"],
                "Modified_By": record["Modified_By"],
                "Created_Time": record["Created_Time"],
                "id": record["id"],
                "Created_By": record["Created_By"],
            },
            "message": message,
            "status": "success",
        }

    def _insert_one(self, module: Module, row: dict[str, Any], i: int) -> dict[str, Any]:
        clean = self._clean(module, row, i)
        mandatory = module.spec.mandatory
        value = clean.get(mandatory)
        if not (isinstance(value, str) and value.strip()):
            raise missing(mandatory, f"$.data[{i}].{mandatory}")
        self._check_unique(module, clean, None, i)
        self._link_account(clean)
        return self._store_new(module, clean, self.clock())

    def _update_one(
        self, module: Module, record_id: str, row: dict[str, Any], i: int
    ) -> dict[str, Any]:
        record = module.records[record_id]
        clean = self._clean(module, row, i)
        mandatory = module.spec.mandatory
        if mandatory in clean and not (clean[mandatory] or "").strip():
            raise missing(mandatory, f"$.data[{i}].{mandatory}")
        self._check_unique(module, clean, record_id, i)
        self._link_account(clean)
        module.reindex(record, remove=True)
        record.update(clean)
        record["Modified_Time"] = self.clock()
        self._derive(module, record)
        module.reindex(record)
        self._version += 1
        return record

    def write(
        self, module_name: str, rows: Iterable[Any], mode: str, dup_fields: list[str] | None = None
    ) -> tuple[list[dict[str, Any]], list[tuple[str, str]]]:
        """Insert, update or upsert each row; (wire entries in input order, events).

        ``events`` are ``(operation, id)`` pairs for the watch notifications.
        """
        module = self.modules[module_name]
        entries: list[dict[str, Any]] = []
        events: list[tuple[str, str]] = []
        with self._lock:
            for i, row in enumerate(rows):
                try:
                    if not isinstance(row, dict):
                        raise RecordProblem(error_entry("INVALID_DATA", "invalid data"))
                    entry, event = self._write_one(module, row, i, mode, dup_fields)
                except RecordProblem as problem:
                    entries.append(dict(problem.entry))
                    continue
                entries.append(entry)
                events.append(event)
        return entries, events

    def _write_one(
        self, module: Module, row: dict[str, Any], i: int, mode: str, dup_fields: list[str] | None
    ) -> tuple[dict[str, Any], tuple[str, str]]:
        if mode == "insert":
            record = self._insert_one(module, row, i)
            return self._success(record, "record added"), ("insert", record["id"])
        if mode == "update":
            record_id = str(row.get("id") or "")
            if not record_id:
                raise missing("id", f"$.data[{i}].id")
            if record_id not in module.records:
                raise RecordProblem(
                    error_entry(
                        "INVALID_DATA",
                        "the id given seems to be invalid",
                        api_name="id",
                        json_path=f"$.data[{i}].id",
                    )
                )
            record = self._update_one(module, record_id, row, i)
            return self._success(record, "record updated"), ("update", record_id)
        matched_id, matched_field = None, None
        for name in dup_fields or list(module.spec.unique):
            matched_id = module.lookup(name, row.get(name))
            if matched_id is not None:
                matched_field = name
                break
        if matched_id is None:
            record = self._insert_one(module, row, i)
            entry = self._success(record, "record added")
            return {**entry, "duplicate_field": None, "action": "insert"}, ("insert", record["id"])
        record = self._update_one(module, matched_id, row, i)
        entry = self._success(record, "record updated")
        return {**entry, "duplicate_field": matched_field, "action": "update"}, (
            "update",
            matched_id,
        )

    def delete(
        self, module_name: str, ids: list[str]
    ) -> tuple[list[dict[str, Any]], list[tuple[str, str]]]:
        module = self.modules[module_name]
        entries, events = [], []
        with self._lock:
            for record_id in ids:
                record = module.records.pop(record_id, None)
                if record is None:
                    entries.append(error_entry("INVALID_DATA", "record not deleted", id=record_id))
                    continue
                module.reindex(record, remove=True)
                self._version += 1
                entries.append(
                    {
                        "code": "SUCCESS",
                        "details": {"id": record_id},
                        "message": "record deleted",
                        "status": "success",
                    }
                )
                events.append(("delete", record_id))
        return entries, events
