"""The contact schema of the emulated account: default properties, value formats, definitions.

Every value is a string or null on the wire [V]; datetimes are ISO 8601 with milliseconds
and ``Z`` [V]; filters take them as epoch-ms digits or ISO 8601 [V]/[I].
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

#: Properties every contact has [V] (a subset of HubSpot's defaults, enough for a bridge).
DEFAULT_PROPERTIES = (
    "email",
    "firstname",
    "lastname",
    "salutation",
    "phone",
    "mobilephone",
    "fax",
    "jobtitle",
    "company",
    "website",
    "address",
    "city",
    "state",
    "zip",
    "country",
    "lifecyclestage",
    "hs_object_id",
    "createdate",
    "lastmodifieddate",
    "hs_lastmodifieddate",
    "hs_additional_emails",
    "hs_merged_object_ids",
    "hs_all_contact_vids",
    "date_of_birth",
)
#: What a read returns when it names no properties [V].
BASIC_PROPERTIES = (
    "createdate",
    "email",
    "firstname",
    "hs_object_id",
    "lastmodifieddate",
    "lastname",
)
READ_ONLY = frozenset(
    {
        "hs_object_id",
        "createdate",
        "lastmodifieddate",
        "hs_lastmodifieddate",
        "hs_merged_object_ids",
        "hs_all_contact_vids",
    }
)
DATETIME_PROPERTIES = frozenset({"createdate", "lastmodifieddate", "hs_lastmodifieddate"})
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def iso_ms(ms: int) -> str:
    """Epoch milliseconds as HubSpot writes datetimes: ISO 8601, milliseconds, ``Z`` [V]."""
    moment = datetime.fromtimestamp(ms / 1000, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


def parse_ms(value: str) -> int:
    """Epoch-ms digits or an ISO 8601 datetime (both accepted in filters [V]/[I])."""
    text = value.strip()
    if text.lstrip("-").isdigit():
        return int(text)
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp() * 1000)


@dataclass(slots=True)
class PropertyDef:
    name: str
    label: str
    type: str = "string"
    field_type: str = "text"
    group: str = "contactinformation"
    unique: bool = False
    hubspot_defined: bool = True
    created: int = field(default_factory=lambda: int(time.time() * 1000))

    def to_json(self) -> dict[str, Any]:
        stamp = iso_ms(self.created)
        return {
            "name": self.name,
            "label": self.label,
            "type": self.type,
            "fieldType": self.field_type,
            "groupName": self.group,
            "hasUniqueValue": self.unique,
            "hubspotDefined": self.hubspot_defined,
            "createdAt": stamp,
            "updatedAt": stamp,
            "archived": False,
            "options": [],
        }
