"""How a connector without keyed upserts finds the record a contact is (and its company).

Systems that write one record at a time (Engagifii, Egito) match the legacy contract's
way: this system's id, then the External ID, then the email, where a record already tied
to a different External ID is someone else. A contact's company becomes the system's
company record by name, found or created once per name even with upserts in threads.
:class:`OneByOneConnector` is the base such a connector stands on: the upsert loop, the
create / leave alone / update decision, and a contact read back from the wire given what
the wire does not carry.
"""

from __future__ import annotations

import abc
import threading
from collections.abc import Callable, Sequence
from typing import Any, Generic, TypeVar

from bridge.connectors.base import Connector, UpsertOutcome, upsert_one_by_one
from bridge.connectors.kit.settings import Options, in_range
from bridge.model import Company, Contact

#: The system's REST client a one-by-one connector holds.
ClientT = TypeVar("ClientT")

Record = dict[str, Any]


def find_existing(
    contact: Contact,
    system: str,
    *,
    get: Callable[[str], Record | None],
    by_external_id: Callable[[str], Record | None],
    by_email: Callable[[str], Record | None],
    external_id_of: Callable[[Record], str | None],
) -> Record | None:
    """The record ``contact`` is on ``system``, or None when it has to be created."""
    own_id = contact.ids.get(system)
    if own_id:
        record = get(own_id)
        if record is not None:
            return record
    if contact.external_id:
        record = by_external_id(contact.external_id)
        if record is not None:
            return record
    if contact.email:
        record = by_email(contact.email)
        other = external_id_of(record) if record is not None else None
        # A record already tied to a different External ID is someone else.
        if record is not None and not (
            contact.external_id and other and other != contact.external_id
        ):
            return record
    return None


class CompanyIds:
    """A company name -> the system's company id: looked up by name, else created, once.

    ``find(name)`` lists candidate records (the name is compared here, trimmed and without
    case, in case the server's filter is loose); ``create(name)`` answers the new id.
    """

    def __init__(
        self,
        system: str,
        find: Callable[[str], list[Record]],
        create: Callable[[str], str],
    ) -> None:
        self.system = system
        self._find = find
        self._create = create
        self._ids: dict[str, str] = {}
        # Upserts may run in several threads; one lock keeps a new company from being
        # created twice (it is held only until the name is known).
        self._lock = threading.Lock()

    def for_contact(self, contact: Contact) -> str | None:
        """The id of ``contact``'s company on this system; None when it names none."""
        if contact.company is None or not contact.company.name:
            return None
        known = contact.company.ids.get(self.system)
        if known:
            return known
        name = contact.company.name.strip()
        key = name.lower()
        with self._lock:
            if key not in self._ids:
                found = [
                    r for r in self._find(name) if str(r.get("name") or "").strip().lower() == key
                ]
                self._ids[key] = str(found[0]["id"]) if found else self._create(name)
            return self._ids[key]


class OneByOneConnector(Connector, Generic[ClientT]):
    """A connector for a system without batch or keyed writes: one record at a time.

    Such a system is read in pages of ``page_size`` (1-100) and its records carry the
    legacy External ID in ``external_id_field``.
    """

    client: ClientT

    def __init__(self, client: ClientT, options: Options) -> None:
        self.client = client
        self.external_id_field = options.text("external_id_field", "externalId")
        self.page_size = in_range(self.kind, "page_size", options.integer("page_size", 100), 1, 100)

    def upsert(self, contacts: Sequence[Contact]) -> list[UpsertOutcome]:
        # No batch endpoint: one record at a time, a refused one failing alone.
        return upsert_one_by_one(contacts, self._upsert_one, self.system)

    @abc.abstractmethod
    def _upsert_one(self, contact: Contact) -> UpsertOutcome:
        """Write one contact (a ``RecordError`` fails it alone)."""

    @staticmethod
    def _save(
        existing: Record | None,
        wire: Record,
        differs: Callable[[Record, Record], bool],
        create: Callable[[], str],
        update: Callable[[str], object],
    ) -> UpsertOutcome:
        """Create when nothing matched, leave a record holding ``wire`` alone, else update."""
        if existing is None:
            return UpsertOutcome.written(True, create())
        record_id = str(existing["id"])
        if not differs(existing, wire):
            return UpsertOutcome.unchanged(record_id)
        update(record_id)
        return UpsertOutcome.written(False, record_id)

    @staticmethod
    def _as_held(held: Contact, contact: Contact) -> Contact:
        """``held``, ``contact`` mapped to the wire and back, with what the wire lacks.

        The wire carries neither the contact's ids on other systems nor its company's,
        nor its times: they are ``contact``'s own.
        """
        held.ids = dict(contact.ids)
        if contact.company is not None and held.company is not None:
            held.company = Company(held.company.name, dict(contact.company.ids))
        held.created_at, held.updated_at = contact.created_at, contact.updated_at
        return held
