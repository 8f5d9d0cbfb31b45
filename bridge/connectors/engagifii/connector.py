"""The Engagifii CRM as a :class:`Connector`: people of one tenant.

Change feed: ``PeoplePagingList`` walked by ``pageIndex``. With ``since``, the request's
``filter`` carries ``modifiedDate`` (people modified at or after it) and every record is
also compared by ``modifiedDate`` here, so the feed is right whether the API applies that
filter or ignores it (the vendor documents neither; ``modified_filter = "client"`` stops
sending it). Upserts go one person at a time (the API has no batch write): match by this
system's id, then the External ID, then the email; create through
``CreatePersonInline/{organizationId}``, update through ``UpdatePersonHeader/{id}``, or
leave an identical person alone. Deleting deactivates (``isActive = false``, the
documented soft delete) unless ``delete_mode = "delete"``; inactive people read as
deleted in the feed and as absent from ``get`` and the lookups.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

from bridge.auth import OAuthSettings, TokenSource
from bridge.config import ConnectionConfig
from bridge.connectors.base import Capability, IdPage, Page, Position, UpsertOutcome
from bridge.connectors.engagifii.client import NO_ORGANIZATION, SYSTEM, EngagifiiClient
from bridge.connectors.engagifii.mapping import (
    contact_to_person,
    differs,
    format_datetime,
    person_to_contact,
    read_external_id,
)
from bridge.connectors.kit.matching import CompanyIds, OneByOneConnector, find_existing
from bridge.connectors.kit.paging import PageIndexPager
from bridge.connectors.kit.settings import DEFAULTS, Options
from bridge.errors import ConfigError, NotFound
from bridge.model import Contact

log = logging.getLogger(__name__)
MODIFIED_FILTER_MODES = ("server", "client")
DELETE_MODES = ("deactivate", "delete")


class EngagifiiConnector(OneByOneConnector[EngagifiiClient]):
    """People of one Engagifii tenant."""

    kind = SYSTEM
    capabilities = Capability.standard()

    def __init__(self, client: EngagifiiClient, options: Options = DEFAULTS) -> None:
        self.modified_filter = options.text("modified_filter", "server")
        if self.modified_filter not in MODIFIED_FILTER_MODES:
            raise ConfigError(f"engagifii modified_filter must be one of {MODIFIED_FILTER_MODES}")
        self.delete_mode = options.text("delete_mode", "deactivate")
        if self.delete_mode not in DELETE_MODES:
            raise ConfigError(f"engagifii delete_mode must be one of {DELETE_MODES}")
        super().__init__(client, options)
        self.default_organization_id = options.text("default_organization_id", NO_ORGANIZATION)
        self.organizations = CompanyIds(
            SYSTEM,
            client.organizations_named,
            lambda name: str(client.create_organization(name)["id"]),
        )

    @classmethod
    def from_config(cls, config: ConnectionConfig) -> EngagifiiConnector:
        config.require("base_url", "token_url", "client_id", "client_secret", "tenant_code")
        s = config.settings
        tokens = TokenSource(
            OAuthSettings(
                system=SYSTEM,
                token_url=s["token_url"],
                grant="client_credentials",
                client_id=s["client_id"],
                client_secret=s["client_secret"],
                scope=s.get("scope"),
                leeway=float(s.get("token_leeway", 60)),
            ),
            shared=config.shared_tokens,
        )
        client = EngagifiiClient(
            s["base_url"], s["tenant_code"], tokens, timeout=float(s.get("timeout", 60))
        )
        return cls(client, Options(s))

    def __repr__(self) -> str:
        return f"EngagifiiConnector({self.client!r})"

    # -- reads -----------------------------------------------------------------------

    def verify(self) -> None:
        self.client.people_page(0, 1)

    def _contact(self, person: dict[str, Any]) -> Contact:
        return person_to_contact(person, self.external_id_field)

    def read_changes(
        self, since: datetime | None = None, resume: Position | None = None
    ) -> Iterator[Page]:
        since, start = self.resume_at(since, resume, "page_index")
        flt: dict[str, Any] = {}
        if since is not None and self.modified_filter == "server":
            flt["modifiedDate"] = format_datetime(since)
        pager = PageIndexPager(
            lambda index, size: self.client.people_page(index, size, flt),
            system=SYSTEM,
            page_size=self.page_size,
        )
        filter_ignored = since is not None and self.modified_filter == "client"
        for fetched in pager.pages(start):
            contacts = []
            for person in fetched.records:
                contact = self._contact(person)
                if since is not None and (contact.updated_at is None or contact.updated_at < since):
                    filter_ignored = True
                    continue
                contacts.append(contact)
            yield Page(
                contacts=contacts,
                position=Position(since=since, cursor={"page_index": fetched.next_start}),
                more=fetched.more,
                # The server's count covers what it filtered, which is not ours if it
                # ignored modifiedDate.
                total=None if filter_ignored else fetched.total,
            )

    def list_ids(self, resume: Position | None = None) -> Iterator[IdPage]:
        """Ids of the active people (the API returns whole records: no field selection)."""
        _, start = self.resume_at(None, resume, "page_index")
        pager = PageIndexPager(
            lambda index, size: self.client.people_page(index, size, {"isActive": True}),
            system=SYSTEM,
            page_size=self.page_size,
        )
        for fetched in pager.pages(start):
            yield IdPage(
                ids=[
                    str(p["id"])
                    for p in fetched.records
                    if p.get("id") and p.get("isActive") is not False
                ],
                position=Position(since=None, cursor={"page_index": fetched.next_start}),
                more=fetched.more,
            )

    def _first(
        self,
        flt: dict[str, Any],
        accept: Callable[[dict[str, Any]], bool],
        *,
        inactive: bool = False,
    ) -> dict[str, Any] | None:
        """The first active person the filter finds that ``accept`` confirms.

        Confirming here keeps lookups right on a server that ignores the filter key
        (they then scan every page). With ``inactive``, a deactivated person is the
        answer when no active one matches (an upsert reactivates rather than duplicates).
        """
        if not inactive:
            flt = {**flt, "isActive": True}
        pager = PageIndexPager(
            lambda index, size: self.client.people_page(index, size, flt),
            system=SYSTEM,
            page_size=self.page_size,
        )
        fallback = None
        for fetched in pager.pages():
            for person in fetched.records:
                if not accept(person):
                    continue
                if person.get("isActive") is not False:
                    return person
                fallback = fallback or person
        return fallback if inactive else None

    def _by_email(self, email: str, *, inactive: bool = False) -> dict[str, Any] | None:
        wanted = email.strip().lower()
        return self._first(
            {"email": email.strip()},
            lambda p: (p.get("email") or "").strip().lower() == wanted,
            inactive=inactive,
        )

    def _by_external_id(self, external_id: str, *, inactive: bool = False) -> dict[str, Any] | None:
        head, _, rest = self.external_id_field.partition(".")
        flt: dict[str, Any] = {} if rest else {head: external_id}
        return self._first(
            flt,
            lambda p: read_external_id(p, self.external_id_field) == external_id,
            inactive=inactive,
        )

    def get(self, contact_id: str) -> Contact | None:
        person = self.client.get_person(contact_id)
        if person is None or person.get("isActive") is False:
            return None
        return self._contact(person)

    def find_by_email(self, email: str) -> Contact | None:
        person = self._by_email(email)
        return self._contact(person) if person else None

    def find_by_external_id(self, external_id: str) -> Contact | None:
        person = self._by_external_id(external_id)
        return self._contact(person) if person else None

    # -- writes ----------------------------------------------------------------------

    def _existing(self, contact: Contact) -> dict[str, Any] | None:
        return find_existing(
            contact,
            SYSTEM,
            get=self.client.get_person,
            by_external_id=lambda key: self._by_external_id(key, inactive=True),
            by_email=lambda email: self._by_email(email, inactive=True),
            external_id_of=lambda person: read_external_id(person, self.external_id_field),
        )

    def _upsert_one(self, contact: Contact) -> UpsertOutcome:
        existing = self._existing(contact)
        body = contact_to_person(contact, self.external_id_field)
        organization_id = self.organizations.for_contact(contact)
        if existing is None and contact.deleted:
            # Nothing to deactivate, and no point creating it inactive.
            return UpsertOutcome.unchanged(None)
        if existing is not None and organization_id is not None:
            body["organizationId"] = organization_id
        # A new person's organization is in the create call's path, not in its body.
        organization = organization_id or self.default_organization_id
        return self._save(
            existing,
            body,
            differs,
            create=lambda: str(self.client.create_person(organization, body)["id"]),
            update=lambda person_id: self.client.update_person(person_id, body),
        )

    def flag_deleted(self, contact_id: str) -> bool:
        """Deactivate the person (whatever ``delete_mode`` says)."""
        person = self.client.get_person(contact_id)
        if person is None:
            return False
        if person.get("isActive") is not False:
            self.client.update_person(contact_id, {"isActive": False})
        return True

    def delete(self, contact_id: str) -> bool:
        if self.delete_mode == "delete":
            try:
                self.client.delete_person(contact_id)
            except NotFound:
                return False
            return True
        person = self.client.get_person(contact_id)
        if person is None or person.get("isActive") is False:
            return False
        self.client.update_person(contact_id, {"isActive": False})
        return True

    def normalize(self, contact: Contact) -> Contact:
        """The contact as Engagifii holds it: through the wire mapping and back, no I/O."""
        body = contact_to_person(contact, self.external_id_field)
        body["id"] = contact.ids.get(SYSTEM)
        if contact.company is not None and contact.company.name:
            body["organizationName"] = contact.company.name
        return self._as_held(person_to_contact(body, self.external_id_field), contact)

    def close(self) -> None:
        self.client.close()
