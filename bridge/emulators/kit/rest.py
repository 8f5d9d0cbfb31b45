"""Small pieces the JSON REST emulators share: request parsing, JSON answers, status lines.

Used by the Engagifii, Egito, Bigin and HubSpot emulators.
Kept framework-free (plain WSGI) like the legacy emulator, so every emulator runs under the
same server (granian, see ``server``).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any, Self
from urllib.parse import parse_qs

import orjson

StartResponse = Callable[..., Any]
JSON_TYPES = ("application/json", "application/json-patch+json", "text/json")
FORM_TYPE = "application/x-www-form-urlencoded"


_STATUS_LINES = {int(code): f"{int(code)} {code.phrase}" for code in HTTPStatus}


def status_line(status: int) -> str:
    """``"429 Too Many Requests"``: the WSGI status line of a code (unknown codes: "Status")."""
    line = _STATUS_LINES.get(status)
    return f"{status} Status" if line is None else line


class BadBody(ValueError):
    """The request body could not be read as the content type it claimed."""


@dataclass(slots=True)
class Request:
    """One WSGI request, decoded once; headers are read from the environ when asked for."""

    method: str
    path: str
    query: dict[str, str]
    raw: bytes
    content_type: str
    environ: dict[str, Any] = field(default_factory=dict, repr=False)

    @classmethod
    def from_environ(cls, environ: dict[str, Any]) -> Self:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        raw = environ["wsgi.input"].read(length) if length > 0 else b""
        query = environ.get("QUERY_STRING")
        content_type = environ.get("CONTENT_TYPE")
        return cls(
            method=environ.get("REQUEST_METHOD", "GET").upper(),
            path=environ.get("PATH_INFO", "") or "/",
            query=cls.parse_query(query) if query else {},
            raw=raw,
            content_type=content_type.split(";", 1)[0].strip().lower() if content_type else "",
            environ=environ,
        )

    def header(self, name: str, default: str = "") -> str:
        """One request header by its name in any case (``"tenant-code"``)."""
        value = self.environ.get("HTTP_" + name.upper().replace("-", "_"))
        return default if value is None else str(value)

    @property
    def headers(self) -> dict[str, str]:
        """Every request header, by lower-case name."""
        return {
            key[5:].replace("_", "-").lower(): value
            for key, value in self.environ.items()
            if key.startswith("HTTP_")
        }

    @property
    def host(self) -> str:
        """``host:port`` as the client addressed this server."""
        environ = self.environ
        return environ.get("HTTP_HOST") or f"{environ['SERVER_NAME']}:{environ['SERVER_PORT']}"

    @staticmethod
    def parse_query(text: str) -> dict[str, str]:
        """Query parameters, first value per name, blanks kept (the .NET and Spring way)."""
        return {k: v[0] for k, v in parse_qs(text, keep_blank_values=True).items()}

    def is_json(self) -> bool:
        return self.content_type in JSON_TYPES or self.content_type.endswith("+json")

    def json(self) -> Any:
        """The body as JSON (``None`` when empty); :class:`BadBody` when it is not JSON."""
        if not self.raw.strip():
            return None
        try:
            return orjson.loads(self.raw)
        except orjson.JSONDecodeError as exc:
            raise BadBody(f"request body is not valid JSON: {exc}") from None

    def form(self) -> dict[str, str]:
        """A form-encoded body, first value per name."""
        text = self.raw.decode("utf-8", "replace")
        return {k: v[0] for k, v in parse_qs(text, keep_blank_values=True).items()}

    def bearer(self) -> str | None:
        value = self.header("authorization")
        scheme, _, token = value.partition(" ")
        if scheme.lower() == "bearer" and token.strip():
            return token.strip()
        return None


def json_response(
    start_response: StartResponse,
    status: int,
    body: Any,
    headers: Iterable[tuple[str, str]] = (),
) -> list[bytes]:
    # orjson: UTF-8 as is (no \u escapes) in a tenth of the stdlib's time per answer.
    payload = b"" if body is None else orjson.dumps(body, option=orjson.OPT_NON_STR_KEYS)
    start_response(
        status_line(status),
        [
            ("Content-Type", "application/json; charset=utf-8"),
            ("Content-Length", str(len(payload))),
            *headers,
        ],
    )
    return [payload]


def retry_after_header(seconds: float) -> str:
    """Retry-After in whole seconds (the form HTTP clients parse), never below 0."""
    return str(max(math.ceil(seconds), 0))


__all__ = [
    "FORM_TYPE",
    "JSON_TYPES",
    "BadBody",
    "Request",
    "json_response",
    "retry_after_header",
    "status_line",
]
