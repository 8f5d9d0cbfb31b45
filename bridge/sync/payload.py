"""Contacts as JSON, for dead letters (a failed record is kept whole so it can be replayed)."""

from __future__ import annotations

import dataclasses
from datetime import date, datetime
from typing import Any

from bridge.model import Address, Company, Contact, CrmForm, FormField, Phone, Relationship


def contact_to_json(contact: Contact) -> dict[str, Any]:
    data = dataclasses.asdict(contact)
    data.pop("password", None)  # never stored: a replay writes without it
    for name in ("created_at", "updated_at", "date_of_birth"):
        value = data.get(name)
        if isinstance(value, date | datetime):
            data[name] = value.isoformat()
    return data


def contact_from_json(data: dict[str, Any]) -> Contact:
    data = dict(data)
    for name in ("created_at", "updated_at"):
        if data.get(name):
            data[name] = datetime.fromisoformat(data[name])
    if data.get("date_of_birth"):
        data["date_of_birth"] = date.fromisoformat(data["date_of_birth"])
    company = data.get("company")
    data["company"] = Company(**company) if company else None
    data["phones"] = [Phone(**p) for p in data.get("phones", [])]
    data["addresses"] = [Address(**a) for a in data.get("addresses", [])]
    data["relationships"] = [Relationship(**r) for r in data.get("relationships", [])]
    data["forms"] = [
        CrmForm(f["form_id"], f.get("name"), [FormField(**x) for x in f.get("fields", [])])
        for f in data.get("forms", [])
    ]
    return Contact(**data)
