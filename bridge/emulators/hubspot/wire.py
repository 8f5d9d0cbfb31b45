"""HubSpot's wire shapes, answered by the emulator: the error JSON and a record.

Errors [V]: ``status: "error"``, ``message``, ``correlationId``, ``category`` and optional
``context``/``errors``. A record [V]: ``id``, ``properties`` (each requested one, ``null``
when unset), ``createdAt``, ``updatedAt``, ``archived``, ``archivedAt`` when archived, ``url``.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any

from bridge.emulators.hubspot.schema import iso_ms
from bridge.emulators.hubspot.store import Record


class Answer(Exception):
    """An error answer: HTTP status and HubSpot's error body."""

    def __init__(
        self, status: int, body: dict[str, Any], headers: list[tuple[str, str]] | None = None
    ):
        super().__init__(body.get("message"))
        self.status, self.body, self.headers = status, body, headers or []


def error(status: int, category: str, message: str, **extra: Any) -> Answer:
    return Answer(
        status,
        {
            "status": "error",
            "message": message,
            "correlationId": str(uuid.uuid4()),
            "category": category,
            **extra,
        },
    )


def to_json(record: Record, properties: Iterable[str], portal: int) -> dict[str, Any]:
    props = record.props
    body: dict[str, Any] = {
        "id": str(record.id),
        "properties": {name: props.get(name) for name in properties},
        "createdAt": props.get("createdate"),
        "updatedAt": props.get("lastmodifieddate"),
        "archived": record.archived_at is not None,
        "url": f"https://app.hubspot.com/contacts/{portal}/record/0-1/{record.id}",
    }
    if record.archived_at is not None:
        body["archivedAt"] = iso_ms(record.archived_at)
    return body
