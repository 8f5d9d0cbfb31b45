"""HubSpot as a :class:`Connector`: reads in :mod:`.feed`, writes and lookups here.

Writes: a contact already linked to a HubSpot id is updated by that id
(``batch/update``); one with an External ID is upserted on the custom unique property
holding it (``batch/upsert``, 100 inputs [V]); one with only an email is upserted on
``email``; one with neither is created. Outcomes come from the 207 answer per input
(results matched by id or key, errors by ``context.ids``), in input order. A ``CONFLICT``
whose message names the ``Existing ID`` (the email belongs to another contact) is resolved
to that contact, unless it holds another External ID. An old id of a merged record is
left out of ``batch/update``'s results [V2]; it is followed to the merged record (a GET
on the old id answers the new one [V]) and the outcome carries the new id. An upsert on
``email`` fails as a whole at one bad input [I]; its records are then written one by
one so the others still land. The External ID property is created on first use when
missing (and by the ``createHubSpotProperty`` install step).

Settings (``[connections.<name>]``, ``kind = "hubspot"``): ``base_url`` (required), then
either ``access_token`` (a private-app token) or ``client_id`` + ``client_secret`` +
``refresh_token`` (OAuth); ``client_secret`` also checks webhook signatures.
``external_id_property`` (default ``bridge_external_id``); ``batch_size`` (1-100, default
100); ``overlap_seconds`` (how far before ``since`` a change feed opens, default 300: the
search index lag); ``calls_per_10s`` (default 100, the smallest tier; the
``X-HubSpot-RateLimit-Max`` header corrects it); ``searches_per_second`` (default 5);
``timeout`` (default 60); ``portal_id`` (the account, read by :mod:`bridge.ratelimit` to key
the shared budget: every account has the same host and app id).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from bridge.config import ConnectionConfig
from bridge.connectors.base import (
    Connector,
    Page,
    Position,
    UpsertOutcome,
    UpsertStatus,
    upsert_one_by_one,
)
from bridge.connectors.hubspot import feed
from bridge.connectors.hubspot.client import HubSpotClient, HubSpotError
from bridge.connectors.hubspot.compat import CAPABILITIES, IdPage
from bridge.connectors.hubspot.mapping import (
    DEFAULT_EXTERNAL_ID_PROPERTY,
    READ_PROPERTIES,
    SYSTEM,
    contact_to_properties,
    record_to_contact,
)
from bridge.errors import ConfigError, RecordError
from bridge.model import Contact

log = logging.getLogger(__name__)
MAX_BATCH = 100
CONTACTS = feed.CONTACTS
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
EXISTING_ID = re.compile(r"Existing ID:\s*(\d+)")


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


class HubSpotConnector(Connector):
    """One HubSpot account's contacts."""

    kind = SYSTEM
    capabilities = CAPABILITIES

    def __init__(
        self,
        client: HubSpotClient,
        *,
        external_id_property: str = DEFAULT_EXTERNAL_ID_PROPERTY,
        batch_size: int = MAX_BATCH,
        overlap: float = 300.0,
    ) -> None:
        if not 1 <= batch_size <= MAX_BATCH:
            raise ConfigError(f"hubspot batch_size must be 1..{MAX_BATCH}, got {batch_size}")
        self.client = client
        self.external_id_property = external_id_property
        self.batch_size = batch_size
        self.overlap = timedelta(seconds=overlap)
        self._property_ready = False

    @classmethod
    def from_config(cls, config: ConnectionConfig) -> HubSpotConnector:
        config.require("base_url")
        s = config.settings
        if not s.get("access_token"):
            config.require("client_id", "client_secret", "refresh_token")
        client = HubSpotClient(
            base_url=s["base_url"],
            access_token=s.get("access_token") or None,
            client_id=s.get("client_id"),
            client_secret=s.get("client_secret"),
            refresh_token=s.get("refresh_token"),
            timeout=float(s.get("timeout", 60)),
            calls_per_10s=float(s.get("calls_per_10s", 100)),
            searches_per_second=float(s.get("searches_per_second", 5)),
        )
        return cls(
            client,
            external_id_property=str(s.get("external_id_property", DEFAULT_EXTERNAL_ID_PROPERTY)),
            batch_size=int(s.get("batch_size", MAX_BATCH)),
            overlap=float(s.get("overlap_seconds", 300)),
        )

    def __repr__(self) -> str:
        return (
            f"HubSpotConnector({self.client!r}, external_id_property={self.external_id_property!r})"
        )

    @property
    def properties(self) -> list[str]:
        return [*READ_PROPERTIES, self.external_id_property]

    def _contact(self, record: dict[str, Any]) -> Contact:
        return record_to_contact(record, self.external_id_property)

    # -- reads -----------------------------------------------------------------------

    def verify(self) -> None:
        self.client.call("GET", CONTACTS, params={"limit": 1})

    def read_changes(
        self, since: datetime | None = None, resume: Position | None = None
    ) -> Iterator[Page]:
        cursor: dict[str, Any] = {}
        if resume is not None:
            since, cursor = resume.since, dict(resume.cursor)
        if since is None or since <= EPOCH + self.overlap:
            # Everything (the legacy contract's 0001-01-01 too): the walk has no ceiling.
            pages = feed.walk(self.client, ",".join(self.properties), cursor)
        else:
            pages = feed.search_window(self.client, self.properties, since - self.overlap, cursor)
        for fetched in pages:
            yield Page(
                contacts=[self._contact(r) for r in fetched.records],
                position=Position(since=since, cursor=fetched.cursor),
                more=fetched.more,
            )

    def list_ids(self, resume: Position | None = None) -> Iterator[IdPage]:
        """Every live contact's id, 100 a page, asking for no other property."""
        cursor = dict(resume.cursor) if resume is not None else {}
        for fetched in feed.walk(self.client, "hs_object_id", cursor):
            yield IdPage(
                ids=[str(r.get("id")) for r in fetched.records],
                position=Position(since=None, cursor=fetched.cursor),
                more=fetched.more,
            )

    def read_deletions(self, since: datetime | None) -> Iterator[list[str]]:
        """Ids archived (deleted) at or after ``since``, from the archived list."""
        return feed.archived_since(self.client, since)

    def _get(self, key: str, id_property: str | None = None) -> dict[str, Any] | None:
        params: dict[str, Any] = {"properties": ",".join(self.properties)}
        if id_property:
            params["idProperty"] = id_property
        try:
            _, body = self.client.call("GET", f"{CONTACTS}/{key}", params=params)
        except HubSpotError as exc:
            # 400: the id property does not exist (yet) - so nothing carries that value.
            if exc.status in (400, 404):
                return None
            raise
        return body if isinstance(body, dict) else None

    def get(self, contact_id: str) -> Contact | None:
        if not contact_id.isdigit():
            return None
        record = self._get(contact_id)
        return self._contact(record) if record else None

    def find_by_email(self, email: str) -> Contact | None:
        record = self._get(email.strip(), "email") if email.strip() else None
        return self._contact(record) if record else None

    def find_by_external_id(self, external_id: str) -> Contact | None:
        record = self._get(external_id, self.external_id_property) if external_id else None
        return self._contact(record) if record else None

    def normalize(self, contact: Contact) -> Contact:
        record = {
            "id": contact.ids.get(SYSTEM),
            "properties": contact_to_properties(contact, self.external_id_property),
        }
        held = self._contact(record)
        held.ids = dict(contact.ids)
        held.created_at, held.updated_at = contact.created_at, contact.updated_at
        return held

    # -- the External ID property ----------------------------------------------------

    def ensure_external_id_property(self) -> bool:
        """Create the unique External ID property when missing; True when created now."""
        path = f"/crm/v3/properties/contacts/{self.external_id_property}"
        try:
            self.client.call("GET", path)
            self._property_ready = True
            return False
        except HubSpotError as exc:
            if exc.status != 404:
                raise
        definition = {
            "name": self.external_id_property,
            "label": "Bridge external ID",
            "type": "string",
            "fieldType": "text",
            "groupName": "contactinformation",
            "hasUniqueValue": True,
        }
        try:
            self.client.call("POST", "/crm/v3/properties/contacts", json=definition)
        except HubSpotError as exc:
            if exc.status != 409:  # created meanwhile by another worker
                raise
        self._property_ready = True
        return True

    # -- writes ----------------------------------------------------------------------

    def upsert(self, contacts: Sequence[Contact]) -> list[UpsertOutcome]:
        if not self._property_ready and any(c.external_id for c in contacts):
            self.ensure_external_id_property()
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
            for start in range(0, len(indexes), self.batch_size):
                chunk = indexes[start : start + self.batch_size]
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
        record = self._get(old_id)
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
                record = self._get(str(contact.external_id), prop)
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
        record = self._get(found)
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
        record = self._get(contact.email, "email") if contact.email else None
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

    def delete(self, contact_id: str) -> bool:
        # DELETE answers 204 even for an unknown id [V2]: ask first whether it exists. An
        # old id of a merged record answers the merged one, which is not ours to delete.
        if not contact_id.isdigit():
            return False
        record = self._get(contact_id)
        if record is None or str(record.get("id")) != contact_id:
            return False
        self.client.call("DELETE", f"{CONTACTS}/{contact_id}")
        return True

    def close(self) -> None:
        self.client.close()
