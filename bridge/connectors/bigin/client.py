"""Wire calls to Zoho Bigin v2: JSON in, JSON out, vendor errors mapped once, here.

- Auth: the refresh-token grant through :class:`~bridge.auth.TokenSource` (Authlib),
  ``Authorization: Zoho-oauthtoken`` [V], a fresh token once after a 401. The API host
  is the token response's ``api_domain`` when it has one (Zoho's data centres) [V].
  Zoho refuses more than a few refreshes a minute per refresh token with the error
  ``Access Denied`` [I]: that is "later", not "wrong credentials" (a retryable error).
- Retries: the session retries 5xx on idempotent methods (GET/PUT/DELETE). A 429 means
  the call was not processed, so every method is repeated after ``Retry-After`` through
  :func:`bridge.retry.call_with_retry`, bounded; a wait longer than the schedule allows
  (exhausted daily credits) is raised at once as :class:`RateLimited` for the caller.
- Pacing: at most ``max_calls_per_second``, and with ``daily_credits`` a credit bucket
  that spreads the org's daily allowance over the day instead of spending it in bursts;
  credits are counted per the published costs [V].

The session, the retries and the admission before each attempt are the kit's
:class:`~bridge.connectors.kit.rest.PacedRestClient`.
"""

from __future__ import annotations

import logging
import math
import threading

import requests

from bridge.auth import THROTTLE_ERRORS, OAuthSettings, SharedTokens, TokenAuth, TokenSource
from bridge.connectors.kit.limits import Budget, CallPacer, CreditBudget, Pacer
from bridge.connectors.kit.rest import (
    Answer,
    PacedRestClient,
    decode_json,
    raise_for_status,
)
from bridge.errors import RemoteError
from bridge.retry import RetrySchedule

SYSTEM = "bigin"
API_PATH = "/bigin/v2"
TOKEN_THROTTLE_ERRORS = THROTTLE_ERRORS | {"Access Denied"}
log = logging.getLogger(__name__)


def map_response(response: requests.Response, operation: str) -> Answer:
    """The decoded response, or the project error its status and body mean."""
    status = response.status_code
    if status in (204, 304):
        return Answer(status, None)
    body = decode_json(response, operation, SYSTEM)
    code = body.get("code") if isinstance(body, dict) else None
    message = body.get("message") if isinstance(body, dict) else None
    text = f"{operation}: HTTP {status} {code or ''} {message or ''}".strip()
    raise_for_status(response, text, SYSTEM)
    # Writes answer 400 when every record failed, with per-record entries: the caller
    # reads those; only a body without them is an error of the call as a whole.
    per_record = isinstance(body, dict) and any(
        isinstance(body.get(key), list) for key in ("data", "watch")
    )
    if status >= 400 and not per_record:
        raise RemoteError(text, system=SYSTEM, code=code, status=status)
    return Answer(status, body)


class BiginClient(PacedRestClient):
    """HTTP calls to one Bigin org, with auth, pacing, retries and error mapping."""

    system = SYSTEM

    def __init__(
        self,
        *,
        accounts_url: str,
        api_domain: str,
        client_id: str,
        client_secret: str,
        refresh_token: str,
        timeout: float = 60.0,
        max_calls_per_second: float = 10.0,
        retry: RetrySchedule | None = None,
        token_leeway: float = 60.0,
        daily_credits: float | None = None,
        credit_burst: float = 200.0,
        shared_tokens: SharedTokens | None = None,
    ) -> None:
        self.configured_domain = api_domain.rstrip("/")
        token_url = accounts_url.rstrip("/") + "/oauth/v2/token"
        grant = OAuthSettings(
            SYSTEM,
            token_url,
            "refresh_token",
            client_id,
            client_secret,
            refresh_token,
            leeway=token_leeway,
            throttle_errors=TOKEN_THROTTLE_ERRORS,
        )
        tokens = TokenSource(grant, shared=shared_tokens)
        # 429 stays out of the session's retries: the kit repeats every method after one,
        # with a bound on how long a Retry-After may make us wait.
        auth = TokenAuth(tokens, scheme="Zoho-oauthtoken")
        schedule = retry or RetrySchedule()
        super().__init__(api_domain, tokens, timeout=timeout, schedule=schedule, auth=auth)
        self.tokens: TokenSource = tokens
        self.pacer: CallPacer = Pacer(max_calls_per_second)
        self.budget: Budget = CreditBudget(daily_credits, credit_burst)
        self.credits_spent = 0
        self._credit_lock = threading.Lock()

    def __repr__(self) -> str:
        return f"BiginClient(api_domain={self.api_domain()!r})"

    def api_domain(self) -> str:
        """The token response's ``api_domain`` (the org's data centre) when known."""
        domain = self.tokens.token_data.get("api_domain")
        return str(domain).rstrip("/") if domain else self.configured_domain

    def _url(self, path: str) -> str:
        return f"{self.api_domain()}{API_PATH}{path}"

    def _admit(self, cost: int, search: bool) -> None:
        super()._admit(cost, search)
        # Fetch the token first so api_domain comes from a token response.
        self.tokens.access_token()

    def _answer(self, response: requests.Response, operation: str, cost: int) -> Answer:
        result = map_response(response, operation)
        with self._credit_lock:
            self.credits_spent += cost
        return result

    @staticmethod
    def write_cost(records: int) -> int:
        """Credits of an insert/update/upsert: 1 per 10 records [V]."""
        return max(1, math.ceil(records / 10))
