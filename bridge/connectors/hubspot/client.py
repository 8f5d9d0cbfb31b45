"""Wire calls to HubSpot's CRM v3 API: auth, pacing by the rate-limit headers, errors mapped.

- Auth [V]: ``Authorization: Bearer`` with either a private-app token (static) or OAuth
  access tokens from ``POST /oauth/v1/token`` (refresh-token grant, form body, 30-minute
  tokens) through :class:`~bridge.auth.TokenSource`, refreshed before ``expires_in`` runs
  out and once after a 401 ``EXPIRED_AUTHENTICATION``.
- Limits [V]: calls outside search draw from a bucket of ``calls_per_10s`` refilled over
  10 s (the app's rolling window), searches from a 5-a-second pacer. Both are the
  ``budget``/``pacer`` seam :func:`bridge.ratelimit.share_rate_limits` swaps for Redis
  buckets, so every worker of one account draws from one budget. The
  ``X-HubSpot-RateLimit-*`` headers are honoured: ``Max`` resizes the local bucket, a
  ``Remaining`` of 0 holds further calls for the window, a ``Daily-Remaining`` of 0 stops
  calls until midnight UTC.
- 429 [V]: ``TEN_SECONDLY_ROLLING`` waits ``Retry-After`` when sent, else the window;
  search's ``SECONDLY`` waits a second; ``DAILY`` is raised at once (waiting would stall
  a run for hours). Every method is repeated after a 429 (it was not processed).
- Errors [V]: the body's ``category`` and ``message`` travel in :class:`HubSpotError`.

Sessions, auth and retries are the kit's :class:`~bridge.connectors.kit.rest.RestClient`
(paced: one session that leaves every 429 to the handling above).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import requests

from bridge.auth import OAuthSettings, TokenAuth, TokenSource
from bridge.connectors.kit.limits import CallPacer, CreditBudget, Pacer
from bridge.connectors.kit.rest import (
    Answer,
    PacedRestClient,
    decode_json,
)
from bridge.errors import AuthError, BridgeError, RateLimited, RemoteError, TransientError
from bridge.retry import RetrySchedule

SYSTEM = "hubspot"
WINDOW = 10.0
log = logging.getLogger(__name__)


class HubSpotError(RemoteError):
    """A refused call: HTTP ``status``, HubSpot's ``category`` (as ``code``) and body."""

    def __init__(self, message: str, *, status: int, code: str | None, body: Any) -> None:
        super().__init__(message, system=SYSTEM, code=code, status=status)
        self.body = body


class PrivateAppAuth(requests.auth.AuthBase):
    """The static private-app token on every request (it never expires by itself)."""

    def __init__(self, token: str) -> None:
        self._token = token

    def __repr__(self) -> str:
        return "PrivateAppAuth(***)"

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers["Authorization"] = f"Bearer {self._token}"
        return request


def account_auth(settings: Mapping[str, Any]) -> tuple[requests.auth.AuthBase, TokenSource | None]:
    """How calls to an account are authorized, from its connection settings: a private-app
    ``access_token``, or OAuth tokens by the refresh-token grant (then their source too)."""
    if settings.get("access_token"):
        return PrivateAppAuth(str(settings["access_token"])), None
    client_id, client_secret = settings.get("client_id"), settings.get("client_secret")
    refresh_token = settings.get("refresh_token")
    if not (client_id and client_secret and refresh_token):
        raise AuthError(
            "hubspot needs access_token, or client_id + client_secret + refresh_token",
            system=SYSTEM,
        )
    token_url = str(settings["base_url"]).rstrip("/") + "/oauth/v1/token"
    tokens = TokenSource(
        OAuthSettings(SYSTEM, token_url, "refresh_token", client_id, client_secret, refresh_token)
    )
    return TokenAuth(tokens), tokens


def _seconds_to_midnight() -> float:
    now = datetime.now(UTC)
    midnight = (now + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    return (midnight - now).total_seconds()


def _bucket(limit: float, window: float) -> tuple[float, float]:
    """(calls a day, burst) of a token bucket that never exceeds ``limit`` in any ``window``.

    A bucket of ``burst`` refilled at ``rate`` allows ``burst + rate * window`` calls in a
    window: a tenth saved up and nine tenths refilled keep that at the limit.
    """
    burst = max(1.0, limit * 0.1)
    rate = max(limit - burst, 1.0) / window
    return rate * 86400.0, burst


def _number(value: str | None) -> float | None:
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


class HubSpotClient(PacedRestClient):
    """HTTP calls to one HubSpot account."""

    system = SYSTEM

    def __init__(
        self,
        base_url: str,
        auth: requests.auth.AuthBase,
        *,
        tokens: TokenSource | None = None,
        timeout: float = 60.0,
        calls_per_10s: float = 100.0,
        searches_per_second: float = 5.0,
        retry: RetrySchedule | None = None,
    ) -> None:
        """``auth`` as :func:`account_auth` gives it (``tokens``, the OAuth tokens behind it)."""
        schedule = retry or RetrySchedule()
        super().__init__(base_url, tokens, timeout=timeout, schedule=schedule, auth=auth)
        self.pacer: CallPacer = Pacer(searches_per_second)
        self.budget: Any = CreditBudget(*_bucket(calls_per_10s, WINDOW))
        self._lock = threading.Lock()
        self._hold_until = 0.0
        self._daily_spent_until = 0.0
        self.calls = 0

    def __repr__(self) -> str:
        return f"HubSpotClient(base_url={self.base_url!r})"

    # -- the rate-limit headers ------------------------------------------------------

    def _observe(self, headers: Any) -> None:
        limit = _number(headers.get("X-HubSpot-RateLimit-Max"))
        left = _number(headers.get("X-HubSpot-RateLimit-Remaining"))
        interval = (
            _number(headers.get("X-HubSpot-RateLimit-Interval-Milliseconds")) or 10000
        ) / 1000
        daily_left = _number(headers.get("X-HubSpot-RateLimit-Daily-Remaining"))
        budget = self.budget
        if (
            limit
            and isinstance(budget, CreditBudget)
            and budget.burst != _bucket(limit, interval)[1]
        ):
            # The account's tier decides the window's size; the headers say which it is.
            daily, budget.burst = _bucket(limit, interval)
            budget.rate = daily / 86400.0
        with self._lock:
            # A Remaining of 0 after this call: the window is spent until calls age out of it.
            if limit and left is not None and left <= 0:
                self._hold_until = max(self._hold_until, time.monotonic() + interval)
            if daily_left is not None and daily_left <= 0:
                self._daily_spent_until = time.monotonic() + _seconds_to_midnight()

    def _admit(self, cost: int, search: bool) -> None:
        with self._lock:
            daily = self._daily_spent_until - time.monotonic()
            hold = self._hold_until - time.monotonic()
        if daily > 0:
            raise RateLimited("hubspot daily limit spent", retry_after=daily, system=SYSTEM)
        if search:
            self.pacer.wait()
            return
        if hold > 0:
            log.info("hubspot: rate-limit window spent, waiting %.1f s", hold)
            time.sleep(hold)
        self.budget.take(cost)

    # -- answers ---------------------------------------------------------------------

    def _answer(self, response: requests.Response, operation: str, cost: int) -> Answer:
        self.calls += 1
        self._observe(response.headers)
        status = response.status_code
        if status == 204 or not response.content:
            if status >= 400:
                raise self._error(status, {}, operation, response)
            return Answer(status, None)
        body = decode_json(response, operation, SYSTEM)
        if status >= 400:
            raise self._error(status, body if isinstance(body, dict) else {}, operation, response)
        return Answer(status, body)

    def _error(
        self, status: int, body: dict[str, Any], operation: str, response: requests.Response
    ) -> BridgeError:
        category = body.get("category") or body.get("policyName") or body.get("errorType")
        text = f"{operation}: HTTP {status} {category or ''} {body.get('message') or ''}".strip()
        if status == 429:
            policy = body.get("policyName")
            wait = _number(response.headers.get("Retry-After"))
            if policy == "DAILY":
                with self._lock:
                    self._daily_spent_until = time.monotonic() + _seconds_to_midnight()
                wait = _seconds_to_midnight()
            elif wait is None:
                interval = _number(
                    response.headers.get("X-HubSpot-RateLimit-Interval-Milliseconds")
                )
                wait = 1.0 if policy == "SECONDLY" else (interval or 10000) / 1000
            return RateLimited(text, retry_after=wait, system=SYSTEM)
        if status in (401, 403):
            return AuthError(text, system=SYSTEM)
        if status >= 500 or status in (423, 477):
            return TransientError(text, system=SYSTEM)
        return HubSpotError(text, status=status, code=category, body=body)
