"""Zoho Bigin as a :class:`Connector`: a Modified_Time change feed, keyed upserts, lookups.

Change feed: ``GET /Contacts`` sorted by ``Modified_Time`` ascending, starting
``overlap`` seconds before the watermark (clock skew between us and Bigin; a feed may
repeat a record, never miss one), 304/204 read as "nothing", paged by moving the
``If-Modified-Since`` anchor so records modified mid-read cannot hide others, with
``page`` and, past 2,000 records in one second, ``page_token`` (see :mod:`.paging`).

Writes: contacts already linked to a Bigin id are updated by id (``PUT /Contacts``);
the others go to ``POST /Contacts/upsert`` in batches of at most 100 [V] with
``duplicate_check_fields`` = External ID field, then ``Email`` (the legacy contract's
matching order), one outcome per record in input order. A 429 batch is sent again after
``Retry-After`` (it was not processed). A 5xx batch is sent again only when every record
carries a duplicate-check value, because only then does a repeat land on the same
records instead of inserting twins (Nango's "do not auto-retry upserts" pitfall) [V2].

Settings (``[connections.<name>]``, ``kind = "bigin"``):
``api_domain``, ``accounts_url``, ``client_id``, ``client_secret``, ``refresh_token``
(required; the token response's ``api_domain`` wins over the configured one);
``external_id_field`` (default ``External_ID``: the field holding the legacy External ID);
``batch_size`` (records per write, 1-100, default 100); ``per_page`` (1-200, default 200);
``overlap_seconds`` (how far before ``since`` a feed starts, default 120; a sync run's
own overlap counts it rather than adding to it);
``max_calls_per_second`` (default 10; 0 = unpaced); ``daily_credits`` (spread this many
credits over 24 hours; default unset = no budget) and ``credit_burst`` (default 200);
``timeout`` (read timeout in seconds, default 60).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from datetime import datetime, timedelta
from typing import Any

from bridge.config import ConnectionConfig
from bridge.connectors.base import Capability, Connector, IdPage, Page, Position, UpsertOutcome
from bridge.connectors.bigin.client import BiginClient
from bridge.connectors.bigin.mapping import (
    DEFAULT_EXTERNAL_ID_FIELD,
    READ_FIELDS,
    SYSTEM,
    contact_to_record,
    format_time,
    held,
    record_to_contact,
)
from bridge.connectors.bigin.paging import PAGE_LIMIT, ModifiedTimePager
from bridge.connectors.bigin.watch import NotificationReceiver, WatchManager
from bridge.connectors.kit.limits import AccountLimits
from bridge.connectors.kit.rest import Answer
from bridge.connectors.kit.settings import in_range
from bridge.errors import RemoteError
from bridge.model import Contact

log = logging.getLogger(__name__)
MAX_BATCH = 100
#: The tag ``flag_deleted`` adds (Bigin has no deleted flag of its own).
DELETED_TAG = "deleted"


def _escape(value: str) -> str:
    """A value for search ``criteria``: parentheses and commas are escaped [V]."""
    return value.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)").replace(",", "\\,")


class BiginConnector(Connector):
    """One Bigin org's Contacts."""

    kind = SYSTEM
    capabilities = Capability.standard(
        Capability.WATCH_CHANNELS, Capability.WEBHOOKS, Capability.SHARED_LIMITS
    )
    webhooks = NotificationReceiver()

    def __init__(
        self,
        client: BiginClient,
        *,
        external_id_field: str = DEFAULT_EXTERNAL_ID_FIELD,
        batch_size: int = MAX_BATCH,
        per_page: int = 200,
        overlap: float = 120.0,
    ) -> None:
        self.client = client
        self.external_id_field = external_id_field
        self.batch_size = in_range(SYSTEM, "batch_size", batch_size, 1, MAX_BATCH)
        self.per_page = in_range(SYSTEM, "per_page", per_page, 1, 200)
        self.overlap = timedelta(seconds=overlap)
        self.duplicate_check_fields = [external_id_field, "Email"]
        self.watch = WatchManager(client)

    @classmethod
    def from_config(cls, config: ConnectionConfig) -> BiginConnector:
        config.require("api_domain", "accounts_url", "client_id", "client_secret", "refresh_token")
        s = config.settings
        client = BiginClient(
            accounts_url=s["accounts_url"],
            api_domain=s["api_domain"],
            client_id=s["client_id"],
            client_secret=s["client_secret"],
            refresh_token=s["refresh_token"],
            timeout=float(s.get("timeout", 60)),
            max_calls_per_second=float(s.get("max_calls_per_second", 10)),
            daily_credits=float(s["daily_credits"]) if s.get("daily_credits") else None,
            credit_burst=float(s.get("credit_burst", 200)),
            shared_tokens=config.shared_tokens,
        )
        return cls(
            client,
            external_id_field=str(s.get("external_id_field", DEFAULT_EXTERNAL_ID_FIELD)),
            batch_size=int(s.get("batch_size", MAX_BATCH)),
            per_page=int(s.get("per_page", 200)),
            overlap=float(s.get("overlap_seconds", 120)),
        )

    def __repr__(self) -> str:
        return f"BiginConnector({self.client!r}, external_id_field={self.external_id_field!r})"

    @property
    def read_fields(self) -> str:
        return ",".join((*READ_FIELDS, self.external_id_field))

    # -- reads -----------------------------------------------------------------------

    def verify(self) -> None:
        self.client.call("GET", "/Contacts", params={"fields": "Last_Name", "per_page": 1})

    def _contacts(self, records: list[dict[str, Any]]) -> list[Contact]:
        return [record_to_contact(r, self.external_id_field) for r in records]

    def read_changes(
        self, since: datetime | None = None, resume: Position | None = None
    ) -> Iterator[Page]:
        cursor: dict[str, Any] | None = None
        if resume is not None:
            since, cursor = resume.since, dict(resume.cursor)
        anchor = since - self.overlap if since is not None else None

        def fetch(
            params: dict[str, Any], anchor: datetime | None
        ) -> tuple[list[dict[str, Any]], dict[str, Any]] | None:
            query = dict(params, fields=self.read_fields, sort_by="Modified_Time", sort_order="asc")
            headers = {"If-Modified-Since": format_time(anchor)} if anchor else None
            response = self.client.call("GET", "/Contacts", params=query, headers=headers)
            if response.empty:
                return None
            body = response.body or {}
            return list(body.get("data") or []), dict(body.get("info") or {})

        pager = ModifiedTimePager(fetch, per_page=self.per_page, system=SYSTEM)
        for fetched in pager.pages(cursor, anchor):
            yield Page(
                contacts=self._contacts(fetched.records),
                position=Position(since=since, cursor=fetched.next_cursor),
                more=fetched.more,
            )

    def list_ids(self, resume: Position | None = None) -> Iterator[IdPage]:
        """Every Contact id, by ``id`` ascending, asking for no other field.

        ``page`` walks the first 2,000 records, then ``page_token`` (as Bigin requires).
        """
        cursor = dict(resume.cursor) if resume is not None else {"page": 1}
        while True:
            params: dict[str, Any] = {
                "fields": "id",
                "per_page": self.per_page,
                "sort_by": "id",
                "sort_order": "asc",
            }
            if cursor.get("page_token"):
                params["page_token"] = cursor["page_token"]
            else:
                params["page"] = int(cursor.get("page", 1))
            response = self.client.call("GET", "/Contacts", params=params)
            body = {} if response.empty else (response.body or {})
            records = list(body.get("data") or [])
            info = dict(body.get("info") or {})
            more = bool(info.get("more_records")) and bool(records)
            if cursor.get("page_token") or int(cursor.get("page", 1)) * self.per_page >= PAGE_LIMIT:
                token = info.get("next_page_token")
                cursor = {"page_token": token} if more and token else {}
                more = more and bool(token)
            else:
                cursor = {"page": int(cursor.get("page", 1)) + 1}
            yield IdPage(
                ids=[str(r["id"]) for r in records if r.get("id")],
                position=Position(since=None, cursor=cursor),
                more=more,
            )
            if not more:
                return

    def get(self, contact_id: str) -> Contact | None:
        if not contact_id.isdigit():
            return None
        response = self.client.call("GET", f"/Contacts/{contact_id}")
        records = [] if response.empty else (response.body or {}).get("data") or []
        return self._contacts(records)[0] if records else None

    def search(self, **query: str) -> list[Contact]:
        """``criteria=``, ``email=``, ``phone=`` or ``word=`` search (first 200 matches)."""
        response = self.client.call("GET", "/Contacts/search", params=dict(query, per_page=200))
        return [] if response.empty else self._contacts((response.body or {}).get("data") or [])

    def find_by_email(self, email: str) -> Contact | None:
        found = self.search(email=email.strip())
        return found[0] if found else None

    def watch_channels(self) -> WatchManager:
        return self.watch

    def account_limits(self) -> AccountLimits:
        return self.client

    def find_by_external_id(self, external_id: str) -> Contact | None:
        criteria = f"({self.external_id_field}:equals:{_escape(external_id)})"
        found = self.search(criteria=criteria)
        return found[0] if found else None

    def normalize(self, contact: Contact) -> Contact:
        return held(contact, self.external_id_field)

    # -- writes ----------------------------------------------------------------------

    def _keyed(self, record: dict[str, Any]) -> bool:
        return any(record.get(name) for name in self.duplicate_check_fields)

    def upsert(self, contacts: Sequence[Contact]) -> list[UpsertOutcome]:
        """Contacts with a Bigin id are updated by that id; the rest upserted by key.

        A known id is the surest match: a contact whose email changed (and which has no
        External ID) would otherwise miss its record and insert a twin.
        """
        outcomes: list[UpsertOutcome | None] = [None] * len(contacts)
        by_id = [i for i, c in enumerate(contacts) if (c.ids.get(SYSTEM) or "").isdigit()]
        linked = set(by_id)
        by_key = [i for i in range(len(contacts)) if i not in linked]
        for indexes, write in ((by_key, self._upsert_batch), (by_id, self._update_batch)):
            for start in range(0, len(indexes), self.batch_size):
                chunk = indexes[start : start + self.batch_size]
                for index, outcome in zip(chunk, write([contacts[i] for i in chunk]), strict=True):
                    outcomes[index] = outcome
        return [o for o in outcomes if o is not None]

    def _entries(self, response: Answer, sent: int, what: str) -> list[dict[str, Any]]:
        entries = (response.body or {}).get("data") or []
        if len(entries) != sent:
            raise RemoteError(
                f"{what} answered {len(entries)} entries for {sent} records",
                system=SYSTEM,
                status=response.status,
            )
        return list(entries)

    def _upsert_batch(self, batch: Sequence[Contact]) -> list[UpsertOutcome]:
        records = [contact_to_record(c, self.external_id_field) for c in batch]
        body = {"data": records, "duplicate_check_fields": self.duplicate_check_fields}
        response = self.client.call(
            "POST",
            "/Contacts/upsert",
            json=body,
            cost=self.client.write_cost(len(records)),
            retry_server_errors=all(self._keyed(r) for r in records),
        )
        return [self._outcome(e) for e in self._entries(response, len(records), "upsert")]

    def _update_batch(self, batch: Sequence[Contact]) -> list[UpsertOutcome]:
        records = [
            dict(contact_to_record(c, self.external_id_field), id=c.ids[SYSTEM]) for c in batch
        ]
        # PUT is idempotent: the session itself retries it after a 5xx.
        response = self.client.call(
            "PUT", "/Contacts", json={"data": records}, cost=self.client.write_cost(len(records))
        )
        entries = self._entries(response, len(records), "update")
        return [self._outcome(dict(e, action=e.get("action", "update"))) for e in entries]

    @staticmethod
    def _outcome(entry: dict[str, Any]) -> UpsertOutcome:
        details = entry.get("details") or {}
        if entry.get("status") == "success":
            created = entry.get("action") == "insert"
            record_id = str(details.get("id")) if details.get("id") else None
            return UpsertOutcome.written(created, record_id, code=entry.get("code"))
        return UpsertOutcome.failed(
            entry.get("code") or "UNKNOWN",
            entry.get("message"),
            field=details.get("api_name"),
        )

    def delete(self, contact_id: str) -> bool:
        if not contact_id.isdigit():
            return False
        response = self.client.call("DELETE", f"/Contacts/{contact_id}")
        entries = (response.body or {}).get("data") or []
        return bool(entries) and entries[0].get("status") == "success"

    def flag_deleted(self, contact_id: str) -> bool:
        """Add the ``deleted`` tag, keeping the contact's other tags."""
        if not contact_id.isdigit():
            return False
        response = self.client.call("GET", f"/Contacts/{contact_id}")
        records = [] if response.empty else (response.body or {}).get("data") or []
        if not records:
            return False
        tags = [t for t in records[0].get("Tag") or () if isinstance(t, dict) and t.get("name")]
        if any(t["name"] == DELETED_TAG for t in tags):
            return True
        names = [{"name": t["name"]} for t in tags] + [{"name": DELETED_TAG}]
        self.client.call(
            "PUT", "/Contacts", json={"data": [{"id": contact_id, "Tag": names}]}, cost=1
        )
        return True

    def close(self) -> None:
        self.client.close()
