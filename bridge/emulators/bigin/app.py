"""A WSGI app that behaves like Zoho Bigin v2 (Contacts, Accounts) and its Zoho Accounts.

One port serves both hosts: ``POST /oauth/v2/token`` (accounts) and ``/bigin/v2/...``
(API). Every API call is checked in this order: ``Authorization: Zoho-oauthtoken`` (401
``INVALID_TOKEN``) [V header, I envelope], injected faults and the kit's rate limit
(``throttle_rate`` and ``rate_limit`` 429, ``fail_rate`` 500), the concurrency cap and the
credits (429 ``TOO_MANY_REQUESTS``), then the handler. Datetimes go out in the emulator's
timezone with a numeric offset and no milliseconds (``2026-10-07T03:21:34+05:30``) [V].
"""

from __future__ import annotations

import math
import re
import threading
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from bridge.emulators.bigin import handlers
from bridge.emulators.bigin.http import Reply, Request, encode, error, too_many_requests
from bridge.emulators.bigin.limits import ConcurrencyGate, CreditMeter
from bridge.emulators.bigin.oauth import TokenIssuer
from bridge.emulators.bigin.store import BiginStore
from bridge.emulators.bigin.watch import Notifier, WatchChannels, notification
from bridge.emulators.kit.rest import status_line
from bridge.emulators.kit.restapp import RestApp, RestParts

TOKEN_PATH = "/oauth/v2/token"
API_PREFIX = "/bigin/v2/"
_RECORD_PATH = re.compile(r"^/bigin/v2/(?P<module>[A-Za-z_]+)(?:/(?P<rest>[^/]+))?/?$")


class BiginApp(RestApp):
    """The WSGI callable; ``store``, ``issuer``, ``channels`` are public for tests."""

    def __init__(
        self,
        store: BiginStore,
        issuer: TokenIssuer,
        parts: RestParts,
        *,
        credits: CreditMeter | None = None,
        concurrency: int | None = 10,
        timezone: str = "Asia/Kolkata",
        api_domain: str | None = None,
        page_token_ttl: float = 86400.0,
        search_lag: float = 0.0,
    ) -> None:
        super().__init__(parts)
        self.store = store
        self.issuer = issuer
        self.credits = credits or CreditMeter(None)
        self.gate = ConcurrencyGate(concurrency)
        self.tz = ZoneInfo(timezone)
        self.api_domain = api_domain
        self.page_token_ttl = page_token_ttl
        self.search_lag = search_lag
        self.page_tokens: dict[str, dict[str, Any]] = {}
        self.page_lock = threading.Lock()
        self.channels = WatchChannels(self.now, tuple(store.modules))
        self.notifier = Notifier(self.stats)

    # -- time and rendering ----------------------------------------------------------

    def now(self) -> datetime:
        return self.store.clock()

    def render_time(self, value: datetime) -> str:
        return value.astimezone(self.tz).replace(microsecond=0).isoformat()

    def render(self, record: dict[str, Any], fields: list[str] | None = None) -> dict[str, Any]:
        """A stored record as the wire shows it (only ``fields`` plus ``id`` when given)."""
        names = record.keys() if fields is None else ["id", *[f for f in fields if f != "id"]]
        out: dict[str, Any] = {}
        for name in names:
            if name not in record:
                continue
            value = record[name]
            if isinstance(value, datetime):
                value = self.render_time(value)
            elif isinstance(value, dict):
                value = dict(value)
            elif isinstance(value, list):
                value = [dict(v) if isinstance(v, dict) else v for v in value]
            out[name] = value
        return out

    def render_entry(self, entry: dict[str, Any]) -> dict[str, Any]:
        details = entry.get("details")
        if isinstance(details, dict):
            entry = dict(entry, details=self.render(details))
        return entry

    # -- limits and notifications -----------------------------------------------------

    def charge(self, cost: int) -> None:
        """Spend API credits, or answer 429 when the window's allowance is used up."""
        wait = self.credits.spend(cost)
        if wait is not None:
            self.stats.incr("throttled_credits")
            message = "API credits for the current window are exhausted"
            raise too_many_requests(message, str(max(1, math.ceil(wait))))
        self.stats.incr("credits", cost)

    def notify(self, module: str, events: list[tuple[str, str]], base_url: str) -> None:
        api_domain = self.api_domain or base_url
        for operation in ("insert", "update", "delete"):
            ids = [record_id for op, record_id in events if op == operation]
            if not ids:
                continue
            for channel in self.channels.listening(module, operation):
                body = notification(channel, module, operation, ids, api_domain)
                self.notifier.send(channel["notify_url"], body)

    # -- WSGI ------------------------------------------------------------------------

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        request = Request.from_environ(environ)
        try:
            reply = self._dispatch(request)
        except Reply as raised:
            reply = raised
        headers = dict(reply.headers)
        body = encode(reply.body)
        if reply.body is not None:
            headers["Content-Type"] = "application/json;charset=UTF-8"
        headers["Content-Length"] = str(len(body))
        start_response(status_line(reply.status), list(headers.items()))
        return [body] if reply.status not in (204, 304) else []

    def _dispatch(self, request: Request) -> Reply:
        if request.path == TOKEN_PATH:
            if request.method != "POST":
                raise error(405, "METHOD_NOT_ALLOWED", "use POST")
            answer = self.issuer.grant(request.form(), self.api_domain or request.base_url)
            self.stats.incr("tokens_issued" if "access_token" in answer else "token_refusals")
            return Reply(200, answer)
        if not request.path.startswith(API_PREFIX):
            raise error(
                404,
                "INVALID_URL_PATTERN",
                "Please check if the URL trying to access is a correct one",
            )
        token = self.issuer.check(request.headers.get("authorization"))
        if token is None:
            self.stats.incr("invalid_tokens")
            raise error(401, "INVALID_TOKEN", "invalid oauth token")
        retry_after, _left = self.refused()
        if retry_after is not None:
            raise too_many_requests("too many requests", retry_after)
        if self.faults.roll():
            raise error(500, "INTERNAL_ERROR", "Internal Server Error")
        if not self.gate.enter():
            self.stats.incr("throttled_concurrency")
            raise too_many_requests("concurrency limit exceeded", "1")
        try:
            # Latency stands for processing time, so it counts against the concurrency cap.
            self.faults.delay()
            reply = self._route(request)
        finally:
            self.gate.leave()
        reset = self.now().timestamp() + self.issuer.expires_in(token)
        reply.headers.setdefault(
            "x-accesstoken-reset", self.render_time(datetime.fromtimestamp(reset, self.tz))
        )
        return reply

    def _route(self, request: Request) -> Reply:
        try:
            if request.path.rstrip("/") == "/bigin/v2/actions/watch":
                return handlers.watch(self, request)
            match = _RECORD_PATH.match(request.path)
            if match is None:
                raise error(
                    404,
                    "INVALID_URL_PATTERN",
                    "Please check if the URL trying to access is a correct one",
                )
            module, rest = match.group("module"), match.group("rest")
            if self.store.module(module) is None:
                raise error(400, "INVALID_MODULE", "the module name given seems to be invalid")
            method = request.method
            if rest == "search" and method == "GET":
                return handlers.search_records(self, request, module)
            if rest == "upsert" and method == "POST":
                return handlers.write_records(self, request, module, "upsert")
            if rest is None:
                if method == "GET":
                    return handlers.list_records(self, request, module)
                if method == "POST":
                    return handlers.write_records(self, request, module, "insert")
                if method == "PUT":
                    return handlers.write_records(self, request, module, "update")
                if method == "DELETE":
                    return handlers.delete_records(self, request, module, None)
            elif rest not in ("search", "upsert"):
                if method == "GET":
                    return handlers.get_record(self, module, rest)
                if method == "PUT":
                    return handlers.write_records(self, request, module, "update", rest)
                if method == "DELETE":
                    return handlers.delete_records(self, request, module, rest)
            raise error(405, "METHOD_NOT_ALLOWED", "method not allowed")
        except Reply as reply:
            return reply

    def close(self) -> None:
        """Stop the notification thread."""
        self.notifier.close()
