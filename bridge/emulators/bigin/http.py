"""Small request/response helpers for the Bigin emulator's WSGI app."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qs


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


@dataclass(slots=True)
class Request:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes
    host: str
    _json: Any = field(default=None, init=False)

    @classmethod
    def from_environ(cls, environ: dict[str, Any]) -> Request:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        query = {k: v[-1] for k, v in parse_qs(environ.get("QUERY_STRING", "")).items()}
        headers = {
            key[5:].replace("_", "-").lower(): value
            for key, value in environ.items()
            if key.startswith("HTTP_")
        }
        if environ.get("CONTENT_TYPE"):
            headers["content-type"] = environ["CONTENT_TYPE"]
        host = headers.get("host") or f"{environ['SERVER_NAME']}:{environ['SERVER_PORT']}"
        return cls(
            method=environ.get("REQUEST_METHOD", "GET").upper(),
            path=environ.get("PATH_INFO", ""),
            query=query,
            headers=headers,
            body=body,
            host=host,
        )

    @property
    def base_url(self) -> str:
        return f"http://{self.host}"

    def form(self) -> dict[str, str]:
        """Form fields from the body, with query parameters as fallback (Zoho takes both)."""
        fields = dict(self.query)
        fields.update({k: v[-1] for k, v in parse_qs(self.body.decode("utf-8", "replace")).items()})
        return fields

    def json(self) -> Any:
        if self._json is None:
            try:
                self._json = json.loads(self.body or b"null")
            except ValueError:
                raise error(400, "INVALID_DATA", "the body is not valid JSON") from None
        return self._json


def status_line(status: int) -> str:
    return f"{status} {HTTPStatus(status).phrase}"


def encode(body: dict[str, Any] | None) -> bytes:
    return b"" if body is None else json.dumps(body, default=str).encode()
