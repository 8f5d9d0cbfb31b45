"""Small pieces the JSON REST emulators share: request parsing, JSON answers, throttling, and
the parts every REST app holds (:class:`RestParts`: tokens, faults, rate limit, counters).

Used by the Engagifii, Egito and Bigin emulators (HubSpot's takes the request parsing).
Kept framework-free (plain WSGI) like the legacy emulator, so every emulator runs under the
same waitress server.
"""

from __future__ import annotations

import json
import math
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any, Self, TypedDict, Unpack
from urllib.parse import parse_qs

from bridge.emulators.kit.server import Faults, Stats
from bridge.emulators.kit.tokens import TokenStore

StartResponse = Callable[..., Any]
JSON_TYPES = ("application/json", "application/json-patch+json", "text/json")
FORM_TYPE = "application/x-www-form-urlencoded"


def status_line(status: int) -> str:
    """``"429 Too Many Requests"``: the WSGI status line of a code (unknown codes: "Status")."""
    try:
        return f"{status} {HTTPStatus(status).phrase}"
    except ValueError:
        return f"{status} Status"


class BadBody(ValueError):
    """The request body could not be read as the content type it claimed."""


@dataclass(slots=True)
class Request:
    """One WSGI request, decoded once."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    raw: bytes
    content_type: str
    host: str = ""

    @classmethod
    def from_environ(cls, environ: dict[str, Any]) -> Self:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        raw = environ["wsgi.input"].read(length) if length > 0 else b""
        headers = {
            key[5:].replace("_", "-").lower(): value
            for key, value in environ.items()
            if key.startswith("HTTP_")
        }
        query = cls.parse_query(environ.get("QUERY_STRING", ""))
        content_type = (environ.get("CONTENT_TYPE") or "").split(";", 1)[0].strip().lower()
        return cls(
            method=environ.get("REQUEST_METHOD", "GET").upper(),
            path=environ.get("PATH_INFO", "") or "/",
            query=query,
            headers=headers,
            raw=raw,
            content_type=content_type,
            host=headers.get("host") or f"{environ['SERVER_NAME']}:{environ['SERVER_PORT']}",
        )

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
            return json.loads(self.raw)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise BadBody(f"request body is not valid JSON: {exc}") from None

    def form(self) -> dict[str, str]:
        """A form-encoded body, first value per name."""
        text = self.raw.decode("utf-8", "replace")
        return {k: v[0] for k, v in parse_qs(text, keep_blank_values=True).items()}

    def bearer(self) -> str | None:
        value = self.headers.get("authorization", "")
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
    payload = b"" if body is None else json.dumps(body, ensure_ascii=False).encode()
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


class RestOptions(TypedDict, total=False):
    """The options every REST emulator's ``build_app`` takes alike (see :meth:`RestParts.build`)."""

    faults: Faults | None
    rate_limit: int
    throttle_rate: float | None
    retry_after: float | None
    token_ttl: float
    stats: Stats | None


@dataclass(slots=True)
class RestParts:
    """What every JSON REST emulator app holds besides its records: the tokens it issues,
    the faults it injects, its request-rate limit and the admin counters."""

    tokens: TokenStore
    faults: Faults
    throttle: Throttle
    stats: Stats

    @classmethod
    def build(
        cls,
        seed: int,
        tokens: Callable[[float], TokenStore] = TokenStore,
        **options: Unpack[RestOptions],
    ) -> RestParts:
        """The parts from a builder's options.

        ``faults`` (new ones seeded with ``seed`` when not given) get ``throttle_rate`` and
        ``retry_after`` when those are given; ``rate_limit`` is requests per minute (0:
        none, the default); ``token_ttl`` the access tokens' lifetime, made into a store by
        ``tokens``; with ``stats``, the app counts there (serve it through ``with_admin``
        with the same object).
        """
        faults = Faults.given(
            options.get("faults"),
            seed=seed,
            throttle_rate=options.get("throttle_rate"),
            retry_after=options.get("retry_after"),
        )
        return cls(
            tokens(options.get("token_ttl", 3600.0)),
            faults,
            Throttle(limit=options.get("rate_limit", 0), faults=faults),
            options.get("stats") or Stats(),
        )


class RestApp:
    """A JSON REST emulator app on the kit's parts; all public, so tests can shorten a TTL,
    drain a window or read the counters."""

    def __init__(self, parts: RestParts) -> None:
        self.tokens = parts.tokens
        self.faults = parts.faults
        self.throttle = parts.throttle
        self.stats = parts.stats

    def refused(self) -> tuple[str | None, int]:
        """Whether the rate limit (or a random 429) refuses this API call: (its
        ``Retry-After`` value, None when the call may go on; calls left in the window, -1
        without a limit)."""
        wait, left = self.throttle.check()
        return (None if wait is None else retry_after_header(wait)), left

    def token_answer(self, start_response: StartResponse, token: dict[str, Any]) -> list[bytes]:
        """A token endpoint's 200 answer: counted as ``tokens_issued``, never cached."""
        self.stats.incr("tokens_issued")
        return json_response(start_response, 200, token, [("Cache-Control", "no-store")])


def retry_after_header(seconds: float) -> str:
    """Retry-After in whole seconds (the form HTTP clients parse), never below 0."""
    return str(max(math.ceil(seconds), 0))


__all__ = [
    "FORM_TYPE",
    "JSON_TYPES",
    "BadBody",
    "Request",
    "RestApp",
    "RestOptions",
    "RestParts",
    "Throttle",
    "json_response",
    "retry_after_header",
    "status_line",
]
