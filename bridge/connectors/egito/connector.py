"""The Egito CRM as a :class:`Connector`: contacts of one instance.

Change feed: ``Contact/list`` walked by ``start`` offsets (the kit's
:class:`~bridge.connectors.kit.paging.OffsetPager`, which stops a server that loops).
With ``since``, the request carries ``modifiedFrom`` in the instance's local time and every
record is compared by ``modifyDate`` here too, so the feed is right whether the server
filters or not (``modified_param = ""`` stops sending it). Upserts go one contact at a
time: match by this system's id, then the External ID, then the email; ``create``,
``update``, or nothing when the record already holds the same values. The company is
resolved to an Account by name (created when missing); ``industryType`` and
``customerType`` are mapped through ``SelectDictionary``. A contact marked deleted is
not written; with ``delete_deleted = true`` its Egito record is deleted.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bridge.auth import OAuthSettings, TokenSource
from bridge.config import ConnectionConfig
from bridge.connectors.base import Capability, IdPage, Page, Position, UpsertOutcome
from bridge.connectors.egito.client import SYSTEM, EgitoClient
from bridge.connectors.egito.mapping import (
    Dictionaries,
    LabelsOnly,
    contact_to_fields,
    differs,
    format_local,
    record_to_contact,
)
from bridge.connectors.kit.matching import CompanyIds, OneByOneConnector, find_existing
from bridge.connectors.kit.paging import FetchedPage, OffsetPager
from bridge.connectors.kit.settings import DEFAULTS, Options, time_zone
from bridge.errors import ConfigError, RecordError
from bridge.model import Contact

CONTACT = "Contact"
ACCOUNT = "Account"
#: What ``flag_deleted`` puts first in ``description`` (Egito has no soft delete).
DELETED_MARK = "[deleted]"


@dataclass(frozen=True, slots=True)
class _ListPage:
    records: list[dict[str, Any]]
    more_records: bool


class EgitoConnector(OneByOneConnector[EgitoClient]):
    """Contacts of one Egito instance."""

    kind = SYSTEM
    capabilities = Capability.standard()

    def __init__(self, client: EgitoClient, options: Options = DEFAULTS) -> None:
        self.tz = time_zone(options.text("timezone", "Europe/Warsaw"))
        super().__init__(client, options)
        self.modified_param = options.text("modified_param", "modifiedFrom")
        self.strict_dictionaries = options.flag("strict_dictionaries")
        self.delete_deleted = options.flag("delete_deleted")
        self.dictionaries = Dictionaries(client.dictionary)
        self.accounts = CompanyIds(
            SYSTEM,
            lambda name: client.list_page(ACCOUNT, 0, 100, name=name)["data"],
            lambda name: client.create(ACCOUNT, {"name": name}),
        )

    @classmethod
    def from_config(cls, config: ConnectionConfig) -> EgitoConnector:
        config.require("base_url", "client_id", "client_secret", "username", "password")
        s = config.settings
        base_url = str(s["base_url"]).rstrip("/")
        tokens = TokenSource(
            OAuthSettings(
                system=SYSTEM,
                token_url=s.get("token_url") or f"{base_url}/oauth/token",
                grant="password",
                client_id=s["client_id"],
                client_secret=s["client_secret"],
                username=s["username"],
                password=s["password"],
                leeway=float(s.get("token_leeway", 60)),
            ),
            shared=config.shared_tokens,
        )
        try:
            client = EgitoClient(
                base_url,
                tokens,
                body_format=s.get("body_format", "json"),
                timeout=float(s.get("timeout", 60)),
            )
        except ValueError as exc:
            raise ConfigError(f"connections.{config.name}: {exc}") from None
        return cls(client, Options(s))

    def __repr__(self) -> str:
        return f"EgitoConnector({self.client!r}, tz={self.tz.key})"

    # -- reads -----------------------------------------------------------------------

    def verify(self) -> None:
        self.client.list_page(CONTACT, 0, 1)

    def _contact(self, record: dict[str, Any]) -> Contact:
        return record_to_contact(record, self.tz, self.dictionaries, self.external_id_field)

    def read_changes(
        self, since: datetime | None = None, resume: Position | None = None
    ) -> Iterator[Page]:
        since, start = self.resume_at(since, resume, "start")
        filters: dict[str, Any] = {}
        if since is not None and self.modified_param:
            filters[self.modified_param] = format_local(since, self.tz)
        totals: list[int | None] = [None]
        for fetched in self._pages(start, filters, totals):
            contacts = [self._contact(r) for r in fetched.records]
            if since is not None:
                contacts = [c for c in contacts if c.updated_at is None or c.updated_at >= since]
            yield Page(
                contacts=contacts,
                position=Position(since=since, cursor={"start": fetched.next_start}),
                more=fetched.more,
                total=totals[0] if since is None else None,
            )

    def list_ids(self, resume: Position | None = None) -> Iterator[IdPage]:
        """Every contact id, by ``start`` offsets (the list answers whole records)."""
        _, start = self.resume_at(None, resume, "start")
        for fetched in self._pages(start, {}, [None]):
            yield IdPage(
                ids=[str(r["id"]) for r in fetched.records if r.get("id") is not None],
                position=Position(since=None, cursor={"start": fetched.next_start}),
                more=fetched.more,
            )

    def _pages(
        self, start: int, filters: dict[str, Any], totals: list[int | None]
    ) -> Iterator[FetchedPage]:
        """``Contact/list`` from offset ``start``; ``totals[0]`` is the last page's total."""

        def fetch(_since: Any, offset: int) -> _ListPage:
            answer = self.client.list_page(CONTACT, offset, self.page_size, **filters)
            records = [r for r in answer["data"] if isinstance(r, dict)]
            total = answer.get("total")
            totals[0] = int(total) if isinstance(total, int) else None
            more = (
                offset + len(records) < totals[0]
                if totals[0] is not None
                else len(records) >= self.page_size
            )
            return _ListPage(records, more)

        return OffsetPager(fetch, system=SYSTEM, key="id").pages(datetime.min, start)

    def _first(self, **filters: str) -> dict[str, Any] | None:
        """The first contact the list filter finds, confirmed here (a server may ignore it)."""
        ((name, wanted),) = filters.items()
        for fetched in self._pages(0, dict(filters), [None]):
            for record in fetched.records:
                if str(record.get(name) or "").strip().lower() == wanted.strip().lower():
                    return record
        return None

    def get(self, contact_id: str) -> Contact | None:
        record = self.client.get(CONTACT, contact_id)
        return self._contact(record) if record else None

    def find_by_email(self, email: str) -> Contact | None:
        record = self._first(email=email)
        return self._contact(record) if record else None

    def find_by_external_id(self, external_id: str) -> Contact | None:
        record = self._first(**{self.external_id_field: external_id})
        return self._contact(record) if record else None

    # -- writes ----------------------------------------------------------------------

    def _existing(self, contact: Contact) -> dict[str, Any] | None:
        def external_id_of(record: dict[str, Any]) -> str | None:
            value = record.get(self.external_id_field)
            return str(value) if value else None

        return find_existing(
            contact,
            SYSTEM,
            get=lambda record_id: self.client.get(CONTACT, record_id),
            by_external_id=lambda key: self._first(**{self.external_id_field: key}),
            by_email=lambda email: self._first(email=email),
            external_id_of=external_id_of,
        )

    def _upsert_one(self, contact: Contact) -> UpsertOutcome:
        if contact.deleted:
            return self._upsert_deleted(contact)
        try:
            fields = contact_to_fields(
                contact, self.dictionaries, self.external_id_field, strict=self.strict_dictionaries
            )
        except LookupError as exc:
            raise RecordError(
                f"no {exc.args[0]} dictionary entry for this contact",
                system=SYSTEM,
                code="UNKNOWN_DICTIONARY_VALUE",
                field=str(exc.args[0]),
            ) from None
        account_id = self.accounts.for_contact(contact)
        if account_id is not None:
            fields["accountId"] = account_id
        return self._save(
            self._existing(contact),
            fields,
            differs,
            create=lambda: self.client.create(CONTACT, fields),
            update=lambda record_id: self.client.update(CONTACT, record_id, fields),
        )

    def _upsert_deleted(self, contact: Contact) -> UpsertOutcome:
        """Egito has no soft delete: a deleted contact is removed, or left alone.

        ``delete_deleted = true`` removes the matching record; by default nothing is
        written (a sync should not destroy data unless told to).
        """
        existing = self._existing(contact)
        if existing is None:
            return UpsertOutcome.unchanged(None)
        record_id = str(existing["id"])
        if self.delete_deleted and self.client.delete(CONTACT, record_id):
            return UpsertOutcome.written(False, record_id)
        return UpsertOutcome.unchanged(record_id)

    def delete(self, contact_id: str) -> bool:
        return self.client.delete(CONTACT, contact_id)

    def flag_deleted(self, contact_id: str) -> bool:
        record = self.client.get(CONTACT, contact_id)
        if record is None:
            return False
        description = str(record.get("description") or "")
        if not description.startswith(DELETED_MARK):
            marked = f"{DELETED_MARK} {description}".strip()
            self.client.update(CONTACT, contact_id, {"description": marked})
        return True

    def normalize(self, contact: Contact) -> Contact:
        """The contact as Egito holds it: through the wire mapping and back, no I/O."""
        labels = LabelsOnly(self.dictionaries)
        fields = contact_to_fields(contact, labels, self.external_id_field)
        fields["id"] = contact.ids.get(SYSTEM)
        if contact.company is not None and contact.company.name:
            fields["accountName"] = contact.company.name
        held = record_to_contact(fields, self.tz, labels, self.external_id_field)
        return self._as_held(held, contact)

    def close(self) -> None:
        self.client.close()
