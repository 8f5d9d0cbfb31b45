"""The plumbing every REST connector's client shares: sessions, auth, retries.

A :class:`RestClient` sends the OAuth bearer token of a :class:`~bridge.auth.TokenSource`
(refreshed before expiry and once on a 401), or any other ``requests`` auth, on sessions
built by :func:`bridge.http.build_session`. By default it holds two: reads, which the
session retries on 429/5xx by itself, and writes, which it does not. Here a read is
repeated after any retryable error, a write only after a 429 (the API did not process it;
a 5xx on a create may have created the record). A client that paces its account itself
(:class:`PacedRestClient`) holds one session that retries 5xx on idempotent methods and
leaves every 429 to :meth:`RestClient._retrying`, bounded. Transport failures become
:class:`~bridge.errors.TransientError` once, here; each system's client maps its own error
envelope (their shapes differ) and names its calls.
"""

from __future__ import annotations

import abc
from collections.abc import Callable, Mapping
from typing import Any, NamedTuple, TypeVar

import requests
from requests.adapters import HTTPAdapter
from requests.auth import AuthBase

from bridge.auth import TokenAuth, TokenSource
from bridge.connectors.kit.limits import Budget, CallPacer
from bridge.errors import AuthError, BridgeError, ProtocolError, RateLimited, TransientError
from bridge.http import RetryPolicy, build_session
from bridge.retry import DEFAULT_SCHEDULE, RetrySchedule, call_with_retry

T = TypeVar("T")


def retry_after(response: requests.Response) -> float | None:
    """The ``Retry-After`` header in seconds (never negative), or None when absent or a date."""
    value = response.headers.get("Retry-After", "").strip()
    try:
        return max(float(value), 0.0) if value else None
    except ValueError:
        return None


def raise_for_status(response: requests.Response, text: str, system: str) -> None:
    """Raise what a status means whatever the body says: a 429 ``RateLimited`` (with its
    ``Retry-After``), a 401/403 ``AuthError``, a 5xx ``TransientError``."""
    status = response.status_code
    if status == 429:
        raise RateLimited(text, retry_after=retry_after(response), system=system)
    if status in (401, 403):
        raise AuthError(text, system=system)
    if status >= 500:
        raise TransientError(text, system=system)


def json_body(response: requests.Response, operation: str, system: str) -> Any:
    """The decoded JSON answer (None when empty); ``ProtocolError`` when it is not JSON."""
    if not response.content:
        return None
    try:
        return response.json()
    except ValueError as exc:
        raise ProtocolError(f"{operation}: answer is not JSON", system=system) from exc


def decode_json(response: requests.Response, operation: str, system: str) -> Any:
    """The JSON body of an answer that has one; a 5xx without JSON is transient."""
    try:
        return response.json()
    except ValueError:
        status = response.status_code
        if status >= 500:
            raise TransientError(f"{operation}: HTTP {status}", system=system) from None
        raise ProtocolError(
            f"{operation}: HTTP {status} with a body that is not JSON", system=system
        ) from None


def build_paced_session(system: str, timeout: float) -> requests.Session:
    """A session that retries 5xx on idempotent methods and leaves every 429 to its caller.

    For clients that pace an account themselves (a 429 is theirs to wait out, bounded):
    urllib3 also retries any 429 that carries Retry-After, whatever the status list says,
    sleeping up to six hours (its ``retry_after_max``) for spent credits.
    """
    policy = RetryPolicy(statuses=frozenset({500, 502, 503, 504}))
    session = build_session(system, timeout=(5.0, timeout), retry=policy)
    for prefix in ("http://", "https://"):
        adapter = session.get_adapter(prefix)
        if isinstance(adapter, HTTPAdapter):
            adapter.max_retries = adapter.max_retries.new(respect_retry_after_header=False)
    return session


class RestClient:
    """Reads and writes to one REST API as one OAuth client; subclasses name the calls."""

    #: The system's name in errors and log lines (the connection's kind).
    system: str = ""
    #: The client paces its account itself: one session, every 429 left to it.
    paced: bool = False

    def __init__(
        self,
        base_url: str,
        tokens: TokenSource | None,
        *,
        timeout: float = 60.0,
        schedule: RetrySchedule = DEFAULT_SCHEDULE,
        sleep: Callable[[float], None] | None = None,
        headers: Mapping[str, str] | None = None,
        retry_post_reads: bool = False,
        auth: AuthBase | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.tokens = tokens
        self.schedule = schedule
        self._sleep = sleep
        if auth is None:
            if tokens is None:
                raise ValueError("a RestClient needs tokens or an auth")
            auth = TokenAuth(tokens, "Bearer")
        if self.paced:
            # One session: a 429 is the pacing client's to wait out, whatever the method.
            self._reads = self._writes = build_paced_session(self.system, timeout)
        else:
            # ``retry_post_reads``: the API reads through POSTs (a paging list) that are
            # safe to repeat; the read session then retries them like GETs.
            self._reads = build_session(
                self.system, timeout=(5.0, timeout), retry_post=retry_post_reads
            )
            self._writes = build_session(self.system, timeout=(5.0, timeout))
        for session in (self._reads, self._writes):  # one session twice, when paced
            session.auth = auth
            session.headers["Accept"] = "application/json"
            session.headers.update(headers or {})

    def _request(
        self, method: str, url: str, operation: str, *, write: bool, **kwargs: Any
    ) -> requests.Response:
        """One HTTP exchange on the read or write session; transport failures mapped."""
        session = self._writes if write else self._reads
        try:
            return session.request(method, url, **kwargs)
        except requests.Timeout as exc:
            raise TransientError(f"{operation}: timed out", system=self.system) from exc
        except requests.ConnectionError as exc:
            raise TransientError(f"{operation}: connection failed", system=self.system) from exc
        except requests.RequestException as exc:
            raise TransientError(f"{operation}: {type(exc).__name__}", system=self.system) from exc

    def _retrying(self, call: Callable[[], T], *, write: bool, what: str) -> T:
        """``call``, repeated per the schedule: reads on any retryable error, writes on 429."""
        retry_on: tuple[type[BridgeError], ...] = (
            (RateLimited,) if write else (RateLimited, TransientError)
        )
        kwargs: dict[str, Any] = {"schedule": self.schedule, "what": f"{self.system} {what}"}
        if self._sleep is not None:
            kwargs["sleep"] = self._sleep
        return call_with_retry(call, retry_on=retry_on, **kwargs)

    def close(self) -> None:
        self._reads.close()
        self._writes.close()


class Answer(NamedTuple):
    """A decoded answer: the HTTP status and the JSON body (None when it has none)."""

    status: int
    body: Any

    @property
    def empty(self) -> bool:
        """No content: a 204, or a 304 (nothing modified since the time asked about)."""
        return self.status in (204, 304)


class PacedRestClient(RestClient, abc.ABC):
    """A client that paces one vendor account itself, with a ``pacer`` and a ``budget``.

    Before every attempt :meth:`_admit` waits for the account's limits (the seam
    :func:`bridge.ratelimit.share_rate_limits` swaps for shared buckets). Every method is
    repeated after a 429 (the call was not processed); after a 5xx or a transport failure
    only a search or a call its caller marks safe to repeat (``retry_server_errors``).
    Each system maps its own answers (:meth:`_answer`).
    """

    paced = True
    pacer: CallPacer
    budget: Budget

    def call(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        json: Any = None,
        headers: dict[str, str] | None = None,
        cost: int = 1,
        search: bool = False,
        retry_server_errors: bool = False,
    ) -> Answer:
        """One call of ``cost`` credits (a ``search`` may be paced apart); errors mapped."""
        operation = f"{method} {path}"

        def attempt() -> Answer:
            self._admit(cost, search)
            url = self._url(path)
            response = self._request(
                method, url, operation, write=False, params=params, json=json, headers=headers
            )
            return self._answer(response, operation, cost)

        # Not to be repeated after a 5xx is how a write is retried: after a 429 only.
        once_on_5xx = not (retry_server_errors or search)
        return self._retrying(attempt, write=once_on_5xx, what=operation)

    def _admit(self, cost: int, search: bool) -> None:
        """Wait for the account's limits before one attempt."""
        self.pacer.wait()
        self.budget.take(cost)

    def _url(self, path: str) -> str:
        return self.base_url + path

    @abc.abstractmethod
    def _answer(self, response: requests.Response, operation: str, cost: int) -> Answer:
        """The decoded answer, or the project error its status and body mean."""
