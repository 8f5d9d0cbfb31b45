"""Wire values that every connector's mapping reads or writes the same way.

- :func:`utc_second`: a wire time as aware UTC to the second; a time without an offset is
  read in the zone the system speaks (UTC unless it says otherwise).
- :func:`street`: an address's two street lines as the one street field a system has;
  :func:`address_fields`: a whole address as a system's flat fields, named by a table.
- :func:`main_phone`: what a system with a single phone field gets: work, else home.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, tzinfo

from bridge.model import Address, Contact, PhoneType


def utc_second(moment: datetime, naive_zone: tzinfo = UTC) -> datetime:
    """``moment`` in UTC without its fraction; read in ``naive_zone`` when it has no offset."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=naive_zone)
    return moment.astimezone(UTC).replace(microsecond=0)


def street(address: Address) -> str | None:
    """The street lines joined with a comma (None when both are empty)."""
    return ", ".join(p for p in (address.line1, address.line2) if p) or None


def address_fields(address: Address, names: Mapping[str, str]) -> dict[str, str | None]:
    """``address`` as flat wire fields; ``names`` maps the parts a system keeps (``street``,
    ``city``, ``state``, ``zipcode``, ``country_code``) to its field names."""
    parts = {
        "street": street(address),
        "city": address.city,
        "state": address.state,
        "zipcode": address.zipcode,
        "country_code": address.country_code,
    }
    return {name: parts[part] for part, name in names.items()}


def main_phone(contact: Contact) -> str | None:
    """The work phone, else the home phone."""
    return contact.phone(PhoneType.WORK_PHONE) or contact.phone(PhoneType.HOME_PHONE)
