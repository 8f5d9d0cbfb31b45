"""Small pieces the JSON REST emulators share: request parsing, JSON answers, tokens, throttling.

Used by the Engagifii and Egito emulators. Kept framework-free (plain WSGI) like the
legacy emulator, so every emulator runs under the same server (granian, see ``server``).
"""

from __future__ import annotations

import math
import secrets
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any, Self
from urllib.parse import parse_qs

import orjson

from bridge.emulators.kit.server import Faults, Stats

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


@dataclass(slots=True)
class IssuedToken:
    client_id: str
    expires_at: float
    subject: str | None = None


class TokenStore:
    """Access tokens with an expiry, and optional refresh tokens, for one emulator.

    ``ttl`` is read on every issue, so tests can shorten it while the server runs;
    :meth:`revoke_all` makes every outstanding access token unknown (as a key rotation would).
    """

    def __init__(self, ttl: float = 3600.0, *, clock: Callable[[], float] = time.monotonic):
        self.ttl = ttl
        self._clock = clock
        self._lock = threading.Lock()
        self._access: dict[str, IssuedToken] = {}
        self._refresh: dict[str, IssuedToken] = {}
        self.grants: dict[str, int] = {}

    def issue(
        self,
        grant: str,
        client_id: str,
        *,
        subject: str | None = None,
        with_refresh: bool = False,
        uuid_tokens: bool = False,
        token_type: str = "Bearer",
        scope: str | None = None,
    ) -> dict[str, Any]:
        access = str(uuid.uuid4()) if uuid_tokens else secrets.token_urlsafe(32)
        ttl = self.ttl
        with self._lock:
            self._access[access] = IssuedToken(client_id, self._clock() + ttl, subject)
            self.grants[grant] = self.grants.get(grant, 0) + 1
            body: dict[str, Any] = {
                "access_token": access,
                "token_type": token_type,
                # Whole seconds, as vendors send; at least 1 so a client never sees 0.
                "expires_in": max(int(ttl), 1),
            }
            if with_refresh:
                refresh = str(uuid.uuid4()) if uuid_tokens else secrets.token_urlsafe(32)
                self._refresh[refresh] = IssuedToken(client_id, float("inf"), subject)
                body["refresh_token"] = refresh
        if scope:
            body["scope"] = scope
        return body

    def check(self, token: str | None) -> str:
        """``"ok"``, ``"expired"`` or ``"invalid"`` (unknown, revoked or missing)."""
        if not token:
            return "invalid"
        with self._lock:
            issued = self._access.get(token)
            if issued is None:
                return "invalid"
            if self._clock() >= issued.expires_at:
                return "expired"
            return "ok"

    def use_refresh(self, refresh: str, client_id: str) -> IssuedToken | None:
        """The grant behind a refresh token of this client, or None."""
        with self._lock:
            issued = self._refresh.get(refresh)
            if issued is None or issued.client_id != client_id:
                return None
            return issued

    def revoke_all(self, *, refresh_too: bool = False) -> None:
        with self._lock:
            self._access.clear()
            if refresh_too:
                self._refresh.clear()

    def grant_count(self, grant: str) -> int:
        with self._lock:
            return self.grants.get(grant, 0)


@dataclass(slots=True)
class Throttle:
    """A per-window request limit plus the shared random 429s of :class:`Faults`.

    ``limit`` requests per ``window`` seconds (0 disables the count); on top of it,
    ``faults.throttle_rate`` of calls are refused with ``faults.retry_after``.
    """

    limit: int = 0
    window: float = 60.0
    faults: Faults = field(default_factory=Faults)
    clock: Callable[[], float] = time.monotonic
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _window_start: float = 0.0
    _count: int = 0

    def check(self) -> tuple[float | None, int]:
        """(seconds to wait or None when allowed, requests left in this window or -1)."""
        with self._lock:
            now = self.clock()
            if now - self._window_start >= self.window:
                self._window_start = now
                self._count = 0
            self._count += 1
            left = max(self.limit - self._count, 0) if self.limit else -1
            if self.limit and self._count > self.limit:
                return max(self.window - (now - self._window_start), 0.0), 0
        if self.faults.throttled():
            return self.faults.retry_after, left
        return None, left

    def reset_in(self) -> float:
        """Seconds until the current window ends."""
        with self._lock:
            return max(self._window_start + self.window - self.clock(), 0.0)


class RestApp:
    """What every JSON REST emulator app holds: the tokens it issues, faults, a rate limit
    and the admin counters; all public, so tests can shorten a TTL or drain a window."""

    def __init__(
        self,
        *,
        tokens: TokenStore | None,
        throttle: Throttle | None,
        faults: Faults | None,
        stats: Stats | None,
        rate_limit: int,
    ) -> None:
        self.tokens = tokens or TokenStore()
        self.faults = faults or Faults()
        self.throttle = throttle or Throttle(limit=rate_limit, faults=self.faults)
        self.stats = stats or Stats()


def retry_after_header(seconds: float) -> str:
    """Retry-After in whole seconds (the form HTTP clients parse), never below 0."""
    return str(max(math.ceil(seconds), 0))


__all__ = [
    "FORM_TYPE",
    "JSON_TYPES",
    "BadBody",
    "Request",
    "RestApp",
    "Throttle",
    "TokenStore",
    "json_response",
    "retry_after_header",
    "status_line",
]
