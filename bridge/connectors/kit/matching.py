"""How a connector without keyed upserts finds the record a contact is (and its company).

Systems that write one record at a time (Engagifii, Egito) match the legacy contract's
way: this system's id, then the External ID, then the email, where a record already tied
to a different External ID is someone else. A contact's company becomes the system's
company record by name, found or created once per name even with upserts in threads.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from bridge.model import Contact

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
