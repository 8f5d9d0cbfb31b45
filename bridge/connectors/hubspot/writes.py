"""HubSpot writes: grouped by key, batched, one outcome per input from the 207 answers.

A contact already linked to a HubSpot id is updated by that id (``batch/update``); one
with an External ID is upserted on the custom unique property holding it
(``batch/upsert``, 100 inputs [V]); one with only an email is upserted on ``email``; one
with neither is created. Outcomes come from the answer per input (results matched by id
or key, errors by ``context.ids``), in input order. A ``CONFLICT`` whose message names the
``Existing ID`` (the email belongs to another contact) is resolved to that contact, unless
it holds another External ID. An old id of a merged record is left out of
``batch/update``'s results [V2]; it is followed to the merged record (a GET on the old id
answers the new one [V]) and the outcome carries the new id. An upsert on ``email`` fails
as a whole at one bad input [I]; its records are then written one by one so the others
still land.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Sequence
from typing import Any

from bridge.connectors.base import UpsertOutcome, UpsertStatus, upsert_one_by_one
from bridge.connectors.hubspot.client import HubSpotClient, HubSpotError
from bridge.connectors.hubspot.feed import CONTACTS
from bridge.connectors.hubspot.mapping import SYSTEM, contact_to_properties
from bridge.errors import RecordError
from bridge.model import Contact

log = logging.getLogger(__name__)
EXISTING_ID = re.compile(r"Existing ID:\s*(\d+)")
#: ``get(key, id_property)``: the contact record with that id or unique value, or None.
Lookup = Callable[[str, str | None], dict[str, Any] | None]


def existing_id(message: str | None) -> str | None:
    """The id a 409 ``CONFLICT`` names in its message text (the only place it is) [V2]."""
    found = EXISTING_ID.search(message or "")
    return found.group(1) if found else None


def _failed(error: dict[str, Any] | HubSpotError) -> UpsertOutcome:
    code: Any
    message: str | None
    if isinstance(error, HubSpotError):
        code, message = error.code, error.message
    else:
        code, message = error.get("category"), error.get("message")
    field = "email" if "INVALID_EMAIL" in (message or "") else None
    return UpsertOutcome(
        UpsertStatus.FAILED, code=str(code or "ERROR"), field=field, message=message
    )


class ContactWriter:
    """Writes contacts to one HubSpot account; ``get`` looks a record up (404 -> None)."""

    def __init__(self, client: HubSpotClient, external_id_property: str, get: Lookup) -> None:
        self.client = client
        self.external_id_property = external_id_property
        self.get = get

    def upsert(self, contacts: Sequence[Contact], batch_size: int) -> list[UpsertOutcome]:
        """One outcome per contact, in input order; each group written in batches."""
        outcomes: list[UpsertOutcome | None] = [None] * len(contacts)
        groups: dict[str, list[int]] = {"id": [], "external": [], "email": [], "none": []}
        for i, contact in enumerate(contacts):
            if (contact.ids.get(SYSTEM) or "").isdigit():
                groups["id"].append(i)
            elif contact.external_id:
                groups["external"].append(i)
            elif contact.email:
                groups["email"].append(i)
            else:
                groups["none"].append(i)
        writers = {
            "id": self._update_batch,
            "external": self._upsert_external,
            "email": self._upsert_email,
            "none": self._create_each,
        }
        for name, indexes in groups.items():
            for start in range(0, len(indexes), batch_size):
                chunk = indexes[start : start + batch_size]
                written = writers[name]([contacts[i] for i in chunk])
                for index, outcome in zip(chunk, written, strict=True):
                    outcomes[index] = outcome
        return [o for o in outcomes if o is not None]

    def _props(self, contact: Contact) -> dict[str, str]:
        return contact_to_properties(contact, self.external_id_property)

    @staticmethod
    def _errors_by_key(body: dict[str, Any]) -> dict[str, dict[str, Any]]:
        found = {}
        for error in body.get("errors") or []:
            for key in (error.get("context") or {}).get("ids") or []:
                found[str(key).lower()] = error
        return found

    def _update_batch(self, batch: Sequence[Contact]) -> list[UpsertOutcome]:
        inputs = [{"id": c.ids[SYSTEM], "properties": self._props(c)} for c in batch]
        # An update by id is idempotent: repeating it after a 5xx lands the same values.
        _, body = self.client.call(
            "POST", CONTACTS + "/batch/update", json={"inputs": inputs}, retry_server_errors=True
        )
        body = body or {}
        results = {str(r.get("id")): r for r in body.get("results") or []}
        errors = self._errors_by_key(body)
        outcomes = []
        for contact in batch:
            key = contact.ids[SYSTEM]
            if key in results:
                outcomes.append(UpsertOutcome(UpsertStatus.UPDATED, id=key))
            elif key in errors:
                outcomes.append(
                    _failed(errors[key])
                    if errors[key].get("category") != "OBJECT_NOT_FOUND"
                    else UpsertOutcome(
                        UpsertStatus.FAILED,
                        id=key,
                        code="OBJECT_NOT_FOUND",
                        message=errors[key].get("message"),
                    )
                )
            else:
                outcomes.append(self._follow_merge(key, self._props(contact)))
        return outcomes

    def _follow_merge(self, old_id: str, props: dict[str, str]) -> UpsertOutcome:
        """An old id of a merged record: the update goes to the record it became."""
        record = self.get(old_id, None)
        if record is None:
            return UpsertOutcome(
                UpsertStatus.FAILED,
                id=old_id,
                code="OBJECT_NOT_FOUND",
                message="no result for this id and no record behind it",
            )
        new_id = str(record.get("id"))
        log.info("hubspot: contact %s was merged into %s; following it", old_id, new_id)
        try:
            self.client.call("PATCH", f"{CONTACTS}/{new_id}", json={"properties": props})
        except HubSpotError as exc:
            return _failed(exc)
        return UpsertOutcome(UpsertStatus.UPDATED, id=new_id, code="MERGED")

    def _upsert_external(self, batch: Sequence[Contact]) -> list[UpsertOutcome]:
        prop = self.external_id_property
        inputs = [
            {"id": c.external_id, "idProperty": prop, "properties": self._props(c)} for c in batch
        ]
        # Every input carries its key, so a repeat after a 5xx lands on the same records.
        _, body = self.client.call(
            "POST", CONTACTS + "/batch/upsert", json={"inputs": inputs}, retry_server_errors=True
        )
        body = body or {}
        results = {}
        for r in body.get("results") or []:
            key = (r.get("properties") or {}).get(prop)
            if key:
                results[str(key).lower()] = r
        errors = self._errors_by_key(body)
        outcomes = []
        for contact in batch:
            key = str(contact.external_id).lower()
            if key in results:
                found = results[key]
                status = UpsertStatus.CREATED if found.get("new") else UpsertStatus.UPDATED
                outcomes.append(UpsertOutcome(status, id=str(found.get("id"))))
            elif key in errors:
                outcomes.append(self._resolve(contact, errors[key]))
            else:
                # A result may be missing from a real answer [V2]: look the key up.
                record = self.get(str(contact.external_id), prop)
                outcomes.append(
                    UpsertOutcome(UpsertStatus.UPSERTED, id=str(record.get("id")))
                    if record
                    else UpsertOutcome(
                        UpsertStatus.FAILED,
                        code="NO_RESULT",
                        message="the upsert answered nothing for this record",
                    )
                )
        return outcomes

    def _resolve(self, contact: Contact, error: dict[str, Any]) -> UpsertOutcome:
        """A refused input; a duplicate email is written to the contact that holds it."""
        found = existing_id(error.get("message")) if error.get("category") == "CONFLICT" else None
        if found is None:
            return _failed(error)
        record = self.get(found, None)
        held = (record or {}).get("properties", {}).get(self.external_id_property)
        if record is None or (held and held != contact.external_id):
            return UpsertOutcome(
                UpsertStatus.FAILED,
                id=found,
                code="CONFLICT",
                field="email",
                message=f"email belongs to contact {found} with another External ID",
            )
        try:
            self.client.call(
                "PATCH", f"{CONTACTS}/{found}", json={"properties": self._props(contact)}
            )
        except HubSpotError as exc:
            return _failed(exc)
        return UpsertOutcome(UpsertStatus.UPDATED, id=found, code="DUPLICATE_RESOLVED")

    def _upsert_email(self, batch: Sequence[Contact]) -> list[UpsertOutcome]:
        inputs = [
            {"id": c.email, "idProperty": "email", "properties": self._props(c)} for c in batch
        ]
        try:
            _, body = self.client.call(
                "POST",
                CONTACTS + "/batch/upsert",
                json={"inputs": inputs},
                retry_server_errors=True,
            )
        except HubSpotError as exc:
            if exc.status not in (400, 409):
                raise
            # On email, one bad input sinks the whole call: write them one by one instead.
            return upsert_one_by_one(batch, self._write_one, SYSTEM)
        results = {
            str((r.get("properties") or {}).get("email") or "").lower(): r
            for r in (body or {}).get("results") or []
        }
        outcomes = []
        for contact in batch:
            found = results.get(str(contact.email).lower())
            if found is None:
                outcomes.extend(upsert_one_by_one([contact], self._write_one, SYSTEM))
            else:
                status = UpsertStatus.CREATED if found.get("new") else UpsertStatus.UPDATED
                outcomes.append(UpsertOutcome(status, id=str(found.get("id"))))
        return outcomes

    def _create_each(self, batch: Sequence[Contact]) -> list[UpsertOutcome]:
        return upsert_one_by_one(batch, self._write_one, SYSTEM)

    def _write_one(self, contact: Contact) -> UpsertOutcome:
        """One contact by email (PATCH when found, else create; a 409 names the holder)."""
        props = self._props(contact)
        record = self.get(contact.email, "email") if contact.email else None
        try:
            if record is None:
                try:
                    _, created = self.client.call("POST", CONTACTS, json={"properties": props})
                    return UpsertOutcome(UpsertStatus.CREATED, id=str((created or {}).get("id")))
                except HubSpotError as exc:
                    holder = existing_id(exc.message) if exc.status == 409 else None
                    if holder is None:
                        raise
                    record = {"id": holder}  # search lag: the email exists after all
            self.client.call("PATCH", f"{CONTACTS}/{record['id']}", json={"properties": props})
            return UpsertOutcome(UpsertStatus.UPDATED, id=str(record["id"]))
        except HubSpotError as exc:
            raise RecordError(
                exc.message,
                system=SYSTEM,
                code=exc.code or "ERROR",
                field="email" if "INVALID_EMAIL" in exc.message else None,
            ) from exc
