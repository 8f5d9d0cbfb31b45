"""Wire values that every connector's mapping reads or writes the same way.

- :func:`utc_second`: a wire time as aware UTC to the second; a time without an offset is
  read in the zone the system speaks (UTC unless it says otherwise).
- :func:`street`: an address's two street lines as the one street field a system has;
  :func:`address_fields`: a whole address as a system's flat fields (:class:`AddressFields`
  names them).
- :func:`main_phone`: what a system with a single phone field gets: work, else home.
"""

from __future__ import annotations

from datetime import UTC, datetime, tzinfo
from typing import NamedTuple

from bridge.model import Address, Contact, PhoneType


def utc_second(moment: datetime, naive_zone: tzinfo = UTC) -> datetime:
    """``moment`` in UTC without its fraction; read in ``naive_zone`` when it has no offset."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=naive_zone)
    return moment.astimezone(UTC).replace(microsecond=0)


def street(address: Address) -> str | None:
    """The street lines joined with a comma (None when both are empty)."""
    return ", ".join(p for p in (address.line1, address.line2) if p) or None


class AddressFields(NamedTuple):
    """A system's field names for the parts of an address it keeps (None: not kept)."""

    street: str | None = None
    city: str | None = None
    state: str | None = None
    zipcode: str | None = None
    country_code: str | None = None


def address_fields(address: Address, names: AddressFields) -> dict[str, str | None]:
    """``address`` as the flat wire fields ``names`` says."""
    parts = (street(address), address.city, address.state, address.zipcode, address.country_code)
    return {name: part for name, part in zip(names, parts, strict=True) if name is not None}


def main_phone(contact: Contact) -> str | None:
    """The work phone, else the home phone."""
    return contact.phone(PhoneType.WORK_PHONE) or contact.phone(PhoneType.HOME_PHONE)
