"""The seven contact operations of the legacy contract, over any :class:`Connector`.

Each operation authenticates the site first (no data before that), then works in the
site's timezone and the connection's entityId scope. Answers are XML fragments written
by :mod:`bridge.facade.encode`; refusals are :class:`FacadeFault` with the legacy text.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from bridge.connectors.base import Capability, Connector
from bridge.errors import AuthError, BridgeError, RecordError, RetryableError
from bridge.facade.deleted import DeletedTail
from bridge.facade.encode import LocalTime, contact_element, retrieve_children
from bridge.facade.paging import FeedPager
from bridge.facade.sites import BAD_LOGIN, Site, SiteDirectory
from bridge.facade.state import EntityIdMap
from bridge.model import Contact
from bridge.soap.contract.record import record_to_contact
from bridge.store.repos.tombstones import TombstoneRepo

log = logging.getLogger(__name__)
NOT_FOUND = "ERROR: Contact record could not be retrieved."
UNAVAILABLE = "ERROR: The CRM is not reachable at the moment; try again later."
#: Contacts one ContactList_UpdateInsert may carry: more is refused before any is written
#: (one call must not hold a worker and the CRM's rate limit for many minutes).
MAX_UPSERT = 10_000


class FacadeFault(Exception):
    """A refusal the consumer sees as a legacy fault (``message`` starts with ``ERROR:``)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ContactFacade:
    """Operations by name; ``connector_for(connection_name)`` gives a live connector."""

    def __init__(
        self,
        sites: SiteDirectory,
        connector_for: Callable[[str], Connector],
        entity_ids: EntityIdMap,
        pager: FeedPager,
        tombstones: TombstoneRepo | None = None,
    ) -> None:
        self.sites = sites
        self.connector_for = connector_for
        self.entity_ids = entity_ids
        self.pager = pager
        # Deleted contacts answered after the live feed, and deletes filed (with a store).
        self.tombstones = tombstones
        self.deleted = (
            DeletedTail(tombstones, pager.cursors, page_size=pager.page_size, ttl=pager.ttl)
            if tombstones is not None
            else None
        )
        self._local: dict[int, LocalTime] = {}
        self._rendered: dict[tuple[int, int, bool], tuple[tuple[Contact, ...], str]] = {}
        #: Reuse the XML of a page whose contacts are the very same cached objects.
        self.reuse_rendered = True
        self._lock = threading.Lock()

    # -- shared steps ----------------------------------------------------------------

    def login(self, username: str | None, password: str | None, site_id: int | None) -> Site:
        try:
            return self.sites.authenticate(site_id, username, password)
        except AuthError:
            raise FacadeFault(BAD_LOGIN) from None

    def local(self, site: Site) -> LocalTime:
        with self._lock:
            local = self._local.get(site.site_id)
            if local is None:
                local = self._local[site.site_id] = LocalTime(site.tz)
        return local

    def _ids(self, site: Site, connector: Connector, contacts: Sequence[Contact]) -> list[int]:
        system = connector.system
        crm_ids = [c.ids.get(system) or "" for c in contacts]
        known = self.entity_ids.entity_ids(site.connection, [i for i in crm_ids if i])
        return [known.get(i, 0) for i in crm_ids]

    def _one(self, site: Site, element: str, contact: Contact | None) -> str:
        if contact is None:
            raise FacadeFault(NOT_FOUND)
        connector = self.connector_for(site.connection)
        (entity_id,) = self._ids(site, connector, [contact])
        return contact_element(element, contact, entity_id, self.local(site))

    def _crm_id(self, site: Site, entity_id: int | None) -> str | None:
        if entity_id is None:
            return None
        return self.entity_ids.crm_id(site.connection, entity_id)

    # -- operations ------------------------------------------------------------------

    def retrieve(self, site: Site, last_update: datetime | None, record_start: int | None) -> str:
        offset = max(record_start or 0, 0)
        since = _site_time_to_utc(last_update, site)
        connector = self.connector_for(site.connection)
        if self.deleted is not None:
            tail = self.deleted.answer(site.site_id, site.connection, connector, since, offset)
            page = tail or self.deleted.extend(
                site.site_id,
                site.connection,
                connector,
                since,
                self.pager.page(connector, site.site_id, since, offset, feed=site.connection),
            )
        else:
            page = self.pager.page(connector, site.site_id, since, offset, feed=site.connection)
        # Consumers paging the same feed get the same cached contacts: write them once.
        key = (site.site_id, page.next_offset, page.more)
        with self._lock:
            rendered = self._rendered.get(key)
        if (
            self.reuse_rendered
            and rendered is not None
            and _same_objects(rendered[0], page.contacts)
        ):
            return rendered[1]
        ids = self._ids(site, connector, page.contacts)
        children = retrieve_children(
            zip(page.contacts, ids, strict=True), self.local(site), page.next_offset, page.more
        )
        with self._lock:
            self._rendered[key] = (tuple(page.contacts), children)
            while len(self._rendered) > 64:
                self._rendered.pop(next(iter(self._rendered)))
        return children

    def update_insert(self, site: Site, records: Sequence[dict[str, Any]]) -> None:
        if not records:
            return
        if len(records) > MAX_UPSERT:
            raise FacadeFault(
                f"ERROR: At most {MAX_UPSERT} contacts can be saved in one call "
                f"({len(records)} were sent); nothing was saved."
            )
        connector = self.connector_for(site.connection)
        contacts = []
        for record in records:
            contact = record_to_contact(record, site.tz)
            # The entityId a consumer sends is the bridge's, never the CRM's, and the
            # contract matches on External ID then email, not on entityId.
            contact.ids = {}
            contacts.append(contact)
        try:
            outcomes = connector.upsert(contacts)
        finally:
            self.pager.written(connector, site.connection)
        written = [o.id for o in outcomes if o.ok and o.id]
        if written:
            self.entity_ids.entity_ids(site.connection, written)
        failed = [(i, o) for i, o in enumerate(outcomes) if not o.ok]
        if failed:
            names = "; ".join(
                f"#{i + 1} ({_record_name(records[i])}): {o.message or o.code or 'refused'}"
                for i, o in failed
            )
            raise FacadeFault(
                f"ERROR: {len(failed)} of {len(records)} contacts could not be saved "
                f"(the others were saved): {names}"
            )

    def by_entity_id(self, site: Site, entity_id: int | None) -> str:
        crm_id = self._crm_id(site, entity_id)
        connector = self.connector_for(site.connection)
        contact = connector.get(crm_id) if crm_id else None
        return self._one(site, "Contact_RetrieveByEntityIDResult", contact)

    def by_email(self, site: Site, email: str | None) -> str:
        contact = self.connector_for(site.connection).find_by_email(email) if email else None
        return self._one(site, "Contact_RetrieveByEmailAddressResult", contact)

    def by_external_id(self, site: Site, external_id: str | None) -> str:
        connector = self.connector_for(site.connection)
        if not connector.can(Capability.EXTERNAL_ID_LOOKUP):
            raise FacadeFault("ERROR: Lookup by External ID is not available for this CRM.")
        contact = connector.find_by_external_id(external_id) if external_id else None
        return self._one(site, "Contact_RetrieveByExternalIDResult", contact)

    def delete_by_entity_id(self, site: Site, entity_id: int | None) -> bool:
        crm_id = self._crm_id(site, entity_id)
        if not crm_id:
            return False
        connector = self.connector_for(site.connection)
        # The tombstone keeps the record's keys: read them while the record exists.
        contact = connector.get(crm_id) if self.tombstones is not None else None
        return self._delete(site, connector, crm_id, contact)

    def delete_by_email(self, site: Site, email: str | None) -> bool:
        connector = self.connector_for(site.connection)
        contact = connector.find_by_email(email) if email else None
        crm_id = contact.ids.get(connector.system) if contact else None
        return bool(crm_id) and self._delete(site, connector, crm_id or "", contact)

    def _delete(
        self, site: Site, connector: Connector, crm_id: str, contact: Contact | None
    ) -> bool:
        """Delete in the CRM and file a tombstone, which integrations of the connection
        carry to their other side and ``ContactList_Retrieve`` answers as deleted."""
        try:
            done = connector.delete(crm_id)
        finally:
            self.pager.written(connector, site.connection)
        if done and self.tombstones is not None:
            self.tombstones.record(
                None,
                crm_id,
                seen_by="facade",
                connection=site.connection,
                system=connector.system,
                external_id=contact.external_id if contact else None,
                email=contact.email if contact else None,
            )
        return done


def translate_errors(exc: BaseException) -> FacadeFault:
    """The legacy fault for any failure below the facade (logged, never leaked)."""
    if isinstance(exc, FacadeFault):
        return exc
    if isinstance(exc, RetryableError):
        log.warning("facade: CRM unavailable: %s", exc)
        return FacadeFault(UNAVAILABLE)
    if isinstance(exc, RecordError):
        return FacadeFault(f"ERROR: {exc.message}")
    if isinstance(exc, BridgeError):
        log.error("facade: CRM call failed: %s", exc)
        return FacadeFault("ERROR: The CRM refused the request.")
    log.exception("facade: unexpected failure", exc_info=exc)
    return FacadeFault("ERROR: The request could not be processed.")


def _site_time_to_utc(value: datetime | None, site: Site) -> datetime | None:
    """A ``lastUpdateDate`` as aware UTC; offset-less values are site-local; year 1 is none."""
    if value is None or value.year <= 1:
        return None
    if value.tzinfo is None:
        return value.replace(tzinfo=site.tz).astimezone(UTC)
    return value.astimezone(UTC)


def _same_objects(cached: tuple[Contact, ...], contacts: list[Contact]) -> bool:
    """The very same contact objects (from the page cache), so the same XML."""
    return len(cached) == len(contacts) and all(
        a is b for a, b in zip(cached, contacts, strict=True)
    )


def _record_name(record: dict[str, Any]) -> str:
    return str(record.get("externalId") or record.get("emailAddress") or "no key")
