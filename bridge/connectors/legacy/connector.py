"""The legacy SOAP CRM as a :class:`Connector`: offset paging, batch upserts, lookups."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from bridge.config import ConnectionConfig
from bridge.connectors.base import Capability, Connector, IdPage, Page, Position, UpsertOutcome
from bridge.connectors.kit.paging import OffsetPager
from bridge.connectors.kit.settings import DEFAULTS, Options, in_range, time_zone
from bridge.connectors.legacy.client import LegacyClient, RetrievedPage
from bridge.connectors.legacy.feed import FeedReader
from bridge.errors import NotFound, RateLimited, RemoteError
from bridge.model import Contact
from bridge.retry import RetrySchedule, call_with_retry
from bridge.soap.contract.record import (
    COMPANY_ENTITY_TYPE,
    NO_DATE,
    SYSTEM,
    contact_to_record,
    held,
    record_to_contact,
    to_local,
)

log = logging.getLogger(__name__)

_THROTTLED_WRITES = RetrySchedule(attempts=6, initial=1.0)


class LegacyConnector(Connector):
    """One site of the legacy hosted CRM."""

    kind = SYSTEM
    capabilities = Capability.standard(Capability.OFFSET_SLICES)

    def __init__(self, client: LegacyClient, options: Options = DEFAULTS) -> None:
        self.tz = time_zone(options.text("timezone", "UTC"))
        self.client = client
        self.batch_size = in_range(SYSTEM, "batch_size", options.integer("batch_size", 100), 1, 100)
        self.company_entity_type = options.integer("company_entity_type", COMPANY_ENTITY_TYPE)
        # Pages requested ahead of the one in use: worth it on a slow link; each read
        # then ends with up to read_ahead - 1 calls past the last page.
        self.read_ahead = max(1, options.integer("read_ahead", 1))
        self.feed = FeedReader(self.tz, self.company_entity_type)

    @classmethod
    def from_config(cls, config: ConnectionConfig) -> LegacyConnector:
        config.require("endpoint", "username", "password", "site_id")
        settings = config.settings
        client = LegacyClient(
            settings["endpoint"],
            username=settings["username"],
            password=settings["password"],
            site_id=int(settings["site_id"]),
            wsdl=Path(settings["wsdl"]) if settings.get("wsdl") else None,
            soap_version=int(settings.get("soap_version", 11)),
            timeout=float(settings.get("timeout", 60)),
        )
        return cls(client, Options(settings))

    def __repr__(self) -> str:
        return f"LegacyConnector({self.client!r}, tz={self.tz.key})"

    # -- reads -----------------------------------------------------------------------

    def verify(self) -> None:
        # A lookup of an id that cannot exist: credentials are checked before the lookup,
        # so a refusal is an AuthError and "not found" means the credentials are good.
        with contextlib.suppress(NotFound):
            self.client.retrieve_by_entity_id(-1)

    def _contact(self, record: dict[str, Any] | None) -> Contact | None:
        if record is None:
            return None
        return record_to_contact(record, self.tz, self.company_entity_type)

    def read_changes(
        self, since: datetime | None = None, resume: Position | None = None
    ) -> Iterator[Page]:
        since, start = self.resume_at(since, resume, "offset")
        since_local = to_local(since, self.tz) if since is not None else NO_DATE
        for fetched in self._pager().pages(since_local, start):
            yield Page(
                contacts=[r["contact"] for r in fetched.records],
                position=Position(since=since, cursor={"offset": fetched.next_start}),
                more=fetched.more,
            )

    def _pager(self) -> OffsetPager:
        def fetch(since_local: datetime, record_start: int) -> RetrievedPage:
            return self.client.retrieve_page(since_local, record_start, self.feed)

        return OffsetPager(fetch, system=SYSTEM, read_ahead=self.read_ahead)

    def slice_position(self, offset: int) -> Position:
        return Position(since=None, cursor={"offset": offset})

    def slice_offset(self, position: Position) -> int:
        return int(position.cursor.get("offset", 0))

    def list_ids(self, resume: Position | None = None) -> Iterator[IdPage]:
        """The whole feed with only entityIds kept (the contract has no field selection).

        A contact flagged ``deleted`` is not live, so it is not listed.
        """
        start = self.slice_offset(resume) if resume is not None else 0
        for fetched in self._pager().pages(NO_DATE, start):
            yield IdPage(
                ids=[
                    str(r["entityId"])
                    for r in fetched.records
                    if r.get("entityId") and not r.get("deleted")
                ],
                position=Position(since=None, cursor={"offset": fetched.next_start}),
                more=fetched.more,
            )

    def get(self, contact_id: str) -> Contact | None:
        try:
            return self._contact(self.client.retrieve_by_entity_id(int(contact_id)))
        except NotFound:
            return None

    def find_by_email(self, email: str) -> Contact | None:
        try:
            return self._contact(self.client.retrieve_by_email(email))
        except NotFound:
            return None

    def find_by_external_id(self, external_id: str) -> Contact | None:
        try:
            return self._contact(self.client.retrieve_by_external_id(external_id))
        except NotFound:
            return None

    def normalize(self, contact: Contact) -> Contact:
        return held(contact, self.tz, self.company_entity_type)

    # -- writes ----------------------------------------------------------------------

    def upsert(self, contacts: Sequence[Contact]) -> list[UpsertOutcome]:
        outcomes: list[UpsertOutcome] = []
        for start in range(0, len(contacts), self.batch_size):
            batch = contacts[start : start + self.batch_size]
            outcomes.extend(self._upsert_isolating(list(batch)))
        return outcomes

    def _upsert_isolating(self, batch: list[Contact]) -> list[UpsertOutcome]:
        """Write a batch; on a whole-batch fault, split it to find the records at fault.

        The legacy service answers one fault for a whole batch and writes none of it
        (its UpdateInsert validates before writing), so halving the batch until the
        refused records stand alone writes every good record exactly once.
        """
        records = [
            contact_to_record(
                c, self.tz, include_password=True, company_entity_type=self.company_entity_type
            )
            for c in batch
        ]
        try:
            # A 429 means the call was not processed, so repeating it after a wait is safe.
            # zeep does not hand us the Retry-After header: waits start at one second.
            call_with_retry(
                lambda: self.client.update_insert(records),
                retry_on=(RateLimited,),
                schedule=_THROTTLED_WRITES,
                what="legacy ContactList_UpdateInsert",
            )
        except RemoteError as exc:
            if len(batch) == 1:
                return [UpsertOutcome.failed(exc.code or "FAULT", exc.message)]
            middle = len(batch) // 2
            log.info("legacy UpdateInsert refused a batch of %d; splitting", len(batch))
            return self._upsert_isolating(batch[:middle]) + self._upsert_isolating(batch[middle:])
        # The service answers nothing: whether each record was created or updated, and
        # its new entityId, are not on the wire.
        return [UpsertOutcome.upserted(c.ids.get(SYSTEM)) for c in batch]

    def delete(self, contact_id: str) -> bool:
        try:
            return self.client.delete_by_entity_id(int(contact_id))
        except NotFound:
            return False

    def flag_deleted(self, contact_id: str) -> bool:
        """Set the record's ``deleted`` flag: the record as read, sent back flagged."""
        try:
            record = self.client.retrieve_by_entity_id(int(contact_id))
        except NotFound:
            return False
        if record is None:
            return False
        if record.get("deleted"):
            return True
        self.client.update_insert([{**record, "deleted": True}])
        return True

    def delete_by_email(self, email: str) -> bool:
        try:
            return self.client.delete_by_email(email)
        except NotFound:
            return False

    def close(self) -> None:
        self.client.close()
