"""The interface every connector implements, and the small value types it speaks in."""

from __future__ import annotations

import abc
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, ClassVar, Self

from bridge.config import ConnectionConfig
from bridge.connectors.kit.limits import AccountLimits
from bridge.connectors.kit.watch import WatchChannels
from bridge.connectors.kit.webhooks import WebhookReceiver
from bridge.errors import RecordError
from bridge.model import Contact


@dataclass(frozen=True, slots=True)
class Position:
    """Where a change feed stands, durable enough to resume from after a crash.

    ``since`` is the watermark the feed was opened with; ``cursor`` is the connector's own
    paging state (an offset, a page number, a page token) *after* the page it belongs to.
    """

    since: datetime | None
    cursor: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "since": self.since.isoformat() if self.since else None,
            "cursor": dict(self.cursor),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Position:
        since = data.get("since")
        return cls(
            since=datetime.fromisoformat(since) if since else None,
            cursor=dict(data.get("cursor") or {}),
        )


@dataclass(slots=True)
class Page:
    """One page of a change feed: its contacts and the position to resume from after it."""

    contacts: list[Contact]
    position: Position
    more: bool
    total: int | None = None


@dataclass(slots=True)
class IdPage:
    """One page of a side's ids (a reconciliation's listing) and where to resume after it."""

    ids: list[str]
    position: Position
    more: bool


class Capability(StrEnum):
    """What a connector can do beyond the common interface, declared by the connector."""

    #: ``list_ids``: page through the ids of every live record, cheaply.
    LIST_IDS = "list_ids"
    #: ``read_deletions``: a readable feed of records deleted since a time.
    DELETIONS_FEED = "deletions_feed"
    #: ``flag_deleted``: mark a record deleted without destroying it.
    FLAG_DELETED = "flag_deleted"
    #: ``find_by_external_id``: one record by the legacy External ID.
    EXTERNAL_ID_LOOKUP = "external_id_lookup"
    #: A full read (``since`` None) ordered stably and resumable at any record offset:
    #: ``read_changes(resume=slice_position(n))`` starts at record ``n`` and
    #: ``slice_offset(page.position)`` is the offset after each page, so slices can be read
    #: by several workers (the cursor's shape stays the connector's own).
    OFFSET_SLICES = "offset_slices"
    #: ``watch_channels``: push notifications of changes through channels kept at the system.
    WATCH_CHANNELS = "watch_channels"
    #: ``account_limits``: the client's local pacing (``pacer``/``budget``), which every
    #: process of one vendor account may swap for shared buckets.
    SHARED_LIMITS = "shared_limits"
    #: ``ensure_properties``: fields the system needs created before upserts can use them
    #: (the External ID, a deleted flag): an install step.
    CUSTOM_PROPERTIES = "custom_properties"
    #: ``webhooks``: the system's webhook deliveries, checked and read (the control
    #: plane's ``/webhooks/<kind>``).
    WEBHOOKS = "webhooks"

    @classmethod
    def standard(cls, *more: Capability) -> frozenset[Capability]:
        """What a CRM that serves the whole legacy contract declares, and ``more``.

        Reconciling lists its ids, the ``flag`` deletes policy flags its records, and the
        facade finds a record by External ID.
        """
        return frozenset({cls.LIST_IDS, cls.FLAG_DELETED, cls.EXTERNAL_ID_LOOKUP, *more})


class UpsertStatus(StrEnum):
    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"
    # Written, but the remote does not say whether it created or updated (legacy SOAP).
    UPSERTED = "upserted"
    FAILED = "failed"


@dataclass(slots=True)
class UpsertOutcome:
    """What happened to one input record of an upsert, in input order."""

    status: UpsertStatus
    id: str | None = None
    code: str | None = None
    field: str | None = None
    message: str | None = None

    @property
    def ok(self) -> bool:
        return self.status is not UpsertStatus.FAILED

    @classmethod
    def written(cls, created: bool, id: str | None, code: str | None = None) -> UpsertOutcome:
        """Written: created, or else updated, as the system reports it."""
        return cls(UpsertStatus.CREATED if created else UpsertStatus.UPDATED, id=id, code=code)

    @classmethod
    def unchanged(cls, id: str | None) -> UpsertOutcome:
        """Left alone: the system already holds these values (or there was nothing to do)."""
        return cls(UpsertStatus.UNCHANGED, id=id)

    @classmethod
    def upserted(cls, id: str | None) -> UpsertOutcome:
        """Written, without word whether it was created or updated."""
        return cls(UpsertStatus.UPSERTED, id=id)

    @classmethod
    def failed(
        cls,
        code: str | None,
        message: str | None = None,
        *,
        field: str | None = None,
        id: str | None = None,
    ) -> UpsertOutcome:
        """Refused: the system's code, message and the field at fault when it names one."""
        return cls(UpsertStatus.FAILED, id=id, code=code, field=field, message=message)


def upsert_one_by_one(
    contacts: Sequence[Contact], write_one: Callable[[Contact], UpsertOutcome], system: str
) -> list[UpsertOutcome]:
    """Outcomes for a system without batch writes: a refused record fails alone."""
    outcomes = []
    for contact in contacts:
        try:
            outcomes.append(write_one(contact))
        except RecordError as exc:
            code = exc.code or type(exc).__name__
            outcomes.append(
                UpsertOutcome.failed(code, exc.message, field=exc.field, id=contact.ids.get(system))
            )
    return outcomes


class Connector(abc.ABC):
    """One remote system seen as a store of contacts.

    ``system`` names the system in ``Contact.ids`` and in log lines (the connection's kind).
    """

    kind: str = ""
    #: How many records one upsert call carries at most.
    batch_size: int = 100
    #: What this connector can do beyond the abstract methods (see :class:`Capability`).
    capabilities: frozenset[Capability] = frozenset()
    #: What checks and reads this system's webhook deliveries (``Capability.WEBHOOKS``).
    webhooks: ClassVar[WebhookReceiver | None] = None
    #: How far before ``since`` ``read_changes`` opens its feed by itself (clock skew, an
    #: index lag). The sync engine's own overlap counts it instead of adding to it, so the
    #: window before a watermark is subtracted once.
    overlap: timedelta = timedelta(0)

    @classmethod
    def from_config(cls, config: ConnectionConfig) -> Connector:
        """A connector for one configured connection (what the registry builds)."""
        raise NotImplementedError(f"{cls.__name__} cannot be built from a config")

    @property
    def system(self) -> str:
        return self.kind

    @abc.abstractmethod
    def verify(self) -> None:
        """Check the credentials with one cheap call; raise ``AuthError`` if refused."""

    @abc.abstractmethod
    def read_changes(
        self, since: datetime | None = None, resume: Position | None = None
    ) -> Iterator[Page]:
        """Stream contacts changed at or after ``since`` (all when None), a page at a time.

        With ``resume``, continue from that position instead of the start. Only one page
        is held at a time.
        """

    @abc.abstractmethod
    def upsert(self, contacts: Sequence[Contact]) -> list[UpsertOutcome]:
        """Create or update each contact (matched by External ID, else email), in batches.

        One outcome per input contact, in input order; one bad record never sinks the rest.
        """

    @abc.abstractmethod
    def get(self, contact_id: str) -> Contact | None:
        """One contact by this system's id, or None."""

    @abc.abstractmethod
    def find_by_email(self, email: str) -> Contact | None:
        """One contact by email address, or None."""

    @abc.abstractmethod
    def delete(self, contact_id: str) -> bool:
        """Delete by this system's id; False when there was nothing to delete."""

    def can(self, capability: Capability) -> bool:
        return capability in self.capabilities

    @staticmethod
    def resume_at(
        since: datetime | None, resume: Position | None, key: str
    ) -> tuple[datetime | None, int]:
        """Where a paged read starts: ``since`` at 0, or a saved position's at ``cursor[key]``."""
        if resume is None:
            return since, 0
        return resume.since, int(resume.cursor.get(key, 0))

    def find_by_external_id(self, external_id: str) -> Contact | None:
        """One contact by the legacy External ID, or None (``Capability.EXTERNAL_ID_LOOKUP``)."""
        raise NotImplementedError(f"{self.kind} cannot look a record up by External ID")

    def slice_position(self, offset: int) -> Position:
        """Where a full read resumes at record ``offset`` (``Capability.OFFSET_SLICES``)."""
        raise NotImplementedError(f"{self.kind} cannot read a slice by offset")

    def slice_offset(self, position: Position) -> int:
        """The record offset a full read's ``position`` stands at (``OFFSET_SLICES``)."""
        raise NotImplementedError(f"{self.kind} cannot read a slice by offset")

    def watch_channels(self) -> WatchChannels:
        """The system's notification channels (``Capability.WATCH_CHANNELS``)."""
        raise NotImplementedError(f"{self.kind} has no watch channels")

    def account_limits(self) -> AccountLimits:
        """The local pacing of this connector's calls (``Capability.SHARED_LIMITS``)."""
        raise NotImplementedError(f"{self.kind} declares no account limits")

    def ensure_properties(self) -> None:
        """Create the custom fields the bridge writes, when missing (``CUSTOM_PROPERTIES``)."""
        raise NotImplementedError(f"{self.kind} needs no custom properties")

    def list_ids(self, resume: Position | None = None) -> Iterator[IdPage]:
        """Every live record's id, a page at a time (``Capability.LIST_IDS``).

        Fields are kept to the id; ``resume`` continues after a page already listed.
        """
        raise NotImplementedError(f"{self.kind} cannot list its ids")

    def read_deletions(self, since: datetime | None) -> Iterator[list[str]]:
        """Ids of records deleted at or after ``since`` (``Capability.DELETIONS_FEED``)."""
        raise NotImplementedError(f"{self.kind} has no deletions feed")

    def flag_deleted(self, contact_id: str) -> bool:
        """Mark the record deleted, keeping it (``Capability.FLAG_DELETED``).

        False when there is no such record.
        """
        raise NotImplementedError(f"{self.kind} cannot flag a record deleted")

    def normalize(self, contact: Contact) -> Contact:
        """The contact as this system would hold it: mapped to the wire and back, no I/O.

        Fields the system has no place for are dropped. The sync engine compares contacts
        in this form, so a value one side cannot store never looks like a change.
        """
        return contact

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release sessions and pools."""

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
