"""The Bigin emulator's module schemas, per-record problems, and the record container.

Unique fields are the system ``Email`` and the custom ``External_ID`` (a "do not allow
duplicates" field) for Contacts [I]; ``Account_Name`` for Accounts [I]. Problem entries
follow Zoho CRM's per-record shapes (``code``, ``details.api_name``, ``json_path``) [I].
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class ModuleSpec:
    name: str
    mandatory: str
    unique: tuple[str, ...]
    text_fields: frozenset[str]
    bool_fields: frozenset[str] = frozenset()
    read_only: frozenset[str] = frozenset(
        {"id", "Created_Time", "Modified_Time", "Created_By", "Modified_By", "Owner"}
    )

    computed: frozenset[str] = frozenset()

    @property
    def fields(self) -> tuple[str, ...]:
        lookups = {"Account_Name", "Tag"} if self.name == "Contacts" else {"Tag"}
        every = self.text_fields | self.bool_fields | self.read_only | self.computed | lookups
        return tuple(sorted(every))


CONTACTS = ModuleSpec(
    name="Contacts",
    mandatory="Last_Name",
    unique=("Email", "External_ID"),
    text_fields=frozenset(
        {
            "First_Name",
            "Last_Name",
            "Email",
            "Phone",
            "Mobile",
            "Home_Phone",
            "Title",
            "Department",
            "Description",
            "Mailing_Street",
            "Mailing_City",
            "Mailing_State",
            "Mailing_Zip",
            "Mailing_Country",
            "External_ID",
        }
    ),
    bool_fields=frozenset({"Email_Opt_Out"}),
    computed=frozenset({"Full_Name"}),
)
ACCOUNTS = ModuleSpec(
    name="Accounts",
    mandatory="Account_Name",
    unique=("Account_Name",),
    text_fields=frozenset(
        {"Account_Name", "Phone", "Website", "Billing_City", "Billing_Country", "Description"}
    ),
)
MODULES = {spec.name: spec for spec in (CONTACTS, ACCOUNTS)}


class RecordProblem(Exception):
    """One record of a write is refused; ``entry`` is its wire outcome."""

    def __init__(self, entry: dict[str, Any]) -> None:
        super().__init__(entry.get("code"))
        self.entry = entry


def error_entry(code: str, message: str, **details: Any) -> dict[str, Any]:
    return {"code": code, "details": details, "message": message, "status": "error"}


def invalid(name: str, path: str, expected: str) -> RecordProblem:
    return RecordProblem(
        error_entry(
            "INVALID_DATA",
            "invalid data",
            expected_data_type=expected,
            api_name=name,
            json_path=path,
        )
    )


def missing(name: str, path: str) -> RecordProblem:
    return RecordProblem(
        error_entry(
            "MANDATORY_NOT_FOUND", "required field not found", api_name=name, json_path=path
        )
    )


@dataclass(slots=True)
class Module:
    spec: ModuleSpec
    records: dict[str, dict[str, Any]] = field(default_factory=dict)
    # unique field -> lower-cased value -> id
    index: dict[str, dict[str, str]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for name in self.spec.unique:
            self.index.setdefault(name, {})

    def lookup(self, name: str, value: Any) -> str | None:
        if not isinstance(value, str) or not value.strip():
            return None
        return self.index.get(name, {}).get(value.strip().lower())

    def reindex(self, record: dict[str, Any], *, remove: bool = False) -> None:
        for name in self.spec.unique:
            value = record.get(name)
            if isinstance(value, str) and value.strip():
                key = value.strip().lower()
                if remove:
                    self.index[name].pop(key, None)
                else:
                    self.index[name][key] = record["id"]
