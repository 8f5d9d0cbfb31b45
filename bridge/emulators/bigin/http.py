"""Small request/response helpers for the Bigin emulator's WSGI app, on the kit's."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

from bridge.emulators.kit import rest


class Reply(Exception):
    """An answer, raised from anywhere in a handler (errors and early exits alike)."""

    def __init__(
        self, status: int, body: dict[str, Any] | None = None, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(status)
        self.status = status
        self.body = body
        self.headers = headers or {}


def error(status: int, code: str, message: str, **details: Any) -> Reply:
    """Zoho's top-level error envelope [I: Zoho convention]."""
    return Reply(status, {"code": code, "details": details, "message": message, "status": "error"})


def too_many_requests(message: str, retry_after: str) -> Reply:
    """429 ``TOO_MANY_REQUESTS`` with ``Retry-After`` (credits, concurrency, throttling) [I]."""
    reply = error(429, "TOO_MANY_REQUESTS", message)
    reply.headers["Retry-After"] = retry_after
    return reply


@dataclass(slots=True)
class Request(rest.Request):
    """The kit's request, read the Zoho way: last query value wins, forms merge the query."""

    @staticmethod
    def parse_query(text: str) -> dict[str, str]:
        return {k: v[-1] for k, v in parse_qs(text).items()}

    @property
    def base_url(self) -> str:
        return f"http://{self.host}"

    def form(self) -> dict[str, str]:
        """Form fields from the body, with query parameters as fallback (Zoho takes both)."""
        fields = dict(self.query)
        fields.update({k: v[-1] for k, v in parse_qs(self.raw.decode("utf-8", "replace")).items()})
        return fields

    def json(self) -> Any:
        try:
            return json.loads(self.raw or b"null")
        except ValueError:
            raise error(400, "INVALID_DATA", "the body is not valid JSON") from None


def encode(body: dict[str, Any] | None) -> bytes:
    return b"" if body is None else json.dumps(body, default=str).encode()
