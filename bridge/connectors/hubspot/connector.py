"""HubSpot as a :class:`Connector`: reads in :mod:`.feed`, writes in :mod:`.writes`, lookups here.

The External ID property (a custom unique contact property) is created on first use when
missing, and by the ``createHubSpotProperty`` install step.

The ``flag`` deletes policy (``Capability.FLAG_DELETED``): HubSpot has no soft delete of
its own (archiving is its delete, and archived contacts are purged after 90 days), so
:meth:`HubSpotConnector.flag_deleted` sets a custom checkbox property, ``bridge_deleted``
(``deleted_property``), to ``true``; the install step creates it too, and the first flag
creates it when missing. The contact stays live and listed; the bridge holds it as deleted
in its tombstones, so it never travels back.

Settings (``[connections.<name>]``, ``kind = "hubspot"``): ``base_url`` (required), then
either ``access_token`` (a private-app token) or ``client_id`` + ``client_secret`` +
``refresh_token`` (OAuth); ``client_secret`` also checks webhook signatures.
``external_id_property`` (default ``bridge_external_id``); ``deleted_property`` (default
``bridge_deleted``); ``batch_size`` (1-100, default
100); ``overlap_seconds`` (how far before ``since`` a change feed opens, default 300: the
search index lag); ``calls_per_10s`` (default 100, the smallest tier; the
``X-HubSpot-RateLimit-Max`` header corrects it); ``searches_per_second`` (default 5);
``timeout`` (default 60); ``portal_id`` (the account, read by :mod:`bridge.ratelimit` to key
the shared budget: every account has the same host and app id).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from bridge.config import ConnectionConfig
from bridge.connectors.base import Capability, Connector, IdPage, Page, Position, UpsertOutcome
from bridge.connectors.hubspot import feed
from bridge.connectors.hubspot.client import HubSpotClient, HubSpotError, account_auth
from bridge.connectors.hubspot.mapping import (
    DEFAULT_DELETED_PROPERTY,
    DEFAULT_EXTERNAL_ID_PROPERTY,
    READ_PROPERTIES,
    SYSTEM,
    contact_to_properties,
    record_to_contact,
)
from bridge.connectors.hubspot.webhooks import EventReceiver
from bridge.connectors.hubspot.writes import ContactWriter
from bridge.connectors.kit.limits import AccountLimits
from bridge.connectors.kit.settings import DEFAULTS, Options, in_range
from bridge.model import Contact

log = logging.getLogger(__name__)
MAX_BATCH = 100
CONTACTS = feed.CONTACTS
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class HubSpotConnector(Connector):
    """One HubSpot account's contacts."""

    kind = SYSTEM
    capabilities = Capability.standard(
        Capability.DELETIONS_FEED,
        Capability.CUSTOM_PROPERTIES,
        Capability.SHARED_LIMITS,
        Capability.WEBHOOKS,
    )
    webhooks = EventReceiver()

    def __init__(self, client: HubSpotClient, options: Options = DEFAULTS) -> None:
        self.client = client
        self.external_id_property = options.text(
            "external_id_property", DEFAULT_EXTERNAL_ID_PROPERTY
        )
        self.deleted_property = options.text("deleted_property", DEFAULT_DELETED_PROPERTY)
        batch_size = options.integer("batch_size", MAX_BATCH)
        self.batch_size = in_range(SYSTEM, "batch_size", batch_size, 1, MAX_BATCH)
        self.overlap = timedelta(seconds=options.number("overlap_seconds", 300))
        self._property_ready = False
        self._deleted_property_ready = False
        self.writer = ContactWriter(client, self.external_id_property, self._get)

    @classmethod
    def from_config(cls, config: ConnectionConfig) -> HubSpotConnector:
        config.require("base_url")
        s = config.settings
        if not s.get("access_token"):
            config.require("client_id", "client_secret", "refresh_token")
        auth, tokens = account_auth(s)
        client = HubSpotClient(
            s["base_url"],
            auth,
            tokens=tokens,
            timeout=float(s.get("timeout", 60)),
            calls_per_10s=float(s.get("calls_per_10s", 100)),
            searches_per_second=float(s.get("searches_per_second", 5)),
        )
        return cls(client, Options(s))

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

    def _get(
        self, key: str, id_property: str | None = None, properties: str | None = None
    ) -> dict[str, Any] | None:
        params: dict[str, Any] = {"properties": properties or ",".join(self.properties)}
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

    def account_limits(self) -> AccountLimits:
        return self.client

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

    # -- the bridge's own properties ---------------------------------------------------

    def _ensure_property(
        self, name: str, label: str, kind: str, field_type: str, **more: Any
    ) -> bool:
        """Create a contact property (in the contact information group) when missing.

        ``kind`` and ``field_type`` are HubSpot's ``type`` and ``fieldType``; ``more``, the
        rest of the definition. True when created now.
        """
        try:
            self.client.call("GET", f"/crm/v3/properties/contacts/{name}")
            return False
        except HubSpotError as exc:
            if exc.status != 404:
                raise
        definition = {"name": name, "label": label, "type": kind, "fieldType": field_type}
        definition.update(groupName="contactinformation", **more)
        try:
            self.client.call("POST", "/crm/v3/properties/contacts", json=definition)
        except HubSpotError as exc:
            if exc.status != 409:  # created meanwhile by another worker
                raise
        return True

    def ensure_properties(self) -> None:
        """The External ID and deleted-flag properties, created when missing."""
        self.ensure_external_id_property()
        self.ensure_deleted_property()

    def ensure_external_id_property(self) -> bool:
        """Create the unique External ID property when missing; True when created now."""
        created = self._ensure_property(
            self.external_id_property, "Bridge external ID", "string", "text", hasUniqueValue=True
        )
        self._property_ready = True
        return created

    def ensure_deleted_property(self) -> bool:
        """Create the checkbox property ``flag_deleted`` sets, when missing."""
        created = self._ensure_property(
            self.deleted_property,
            "Deleted on the other side of the bridge",
            "bool",
            "booleancheckbox",
            options=[
                {"label": "Yes", "value": "true", "displayOrder": 0},
                {"label": "No", "value": "false", "displayOrder": 1},
            ],
        )
        self._deleted_property_ready = True
        return created

    # -- writes ----------------------------------------------------------------------

    def upsert(self, contacts: Sequence[Contact]) -> list[UpsertOutcome]:
        if not self._property_ready and any(c.external_id for c in contacts):
            self.ensure_external_id_property()
        return self.writer.upsert(contacts, self.batch_size)

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

    def flag_deleted(self, contact_id: str) -> bool:
        """Set the deleted property to ``true``, keeping the contact; False when there is none.

        As in :meth:`delete`, an old id of a merged contact is not ours to flag.
        """
        if not contact_id.isdigit():
            return False
        if not self._deleted_property_ready:
            self.ensure_deleted_property()
        record = self._get(contact_id, properties=self.deleted_property)
        if record is None or str(record.get("id")) != contact_id:
            return False
        props = record.get("properties") or {}
        if str(props.get(self.deleted_property) or "") != "true":
            self.client.call(
                "PATCH",
                f"{CONTACTS}/{contact_id}",
                json={"properties": {self.deleted_property: "true"}},
            )
        return True

    def close(self) -> None:
        self.client.close()
