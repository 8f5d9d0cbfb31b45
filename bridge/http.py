"""The one place that builds ``requests`` sessions for talking to remote systems.

Every session gets: a default timeout, bounded retries with exponential backoff and jitter
that honour ``Retry-After``, and a response hook that logs one INFO line per remote call
(system, operation, status, duration) and the bodies at DEBUG with secrets redacted.

Retries are for idempotent calls only. SOAP sends everything as POST, so a caller that
knows a POST is a read (``ContactList_Retrieve``) builds a session with ``retry_post=True``;
writes never get blind retries, because a write that timed out may have happened.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Self
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter
from requests.utils import get_environ_proxies, get_netrc_auth
from urllib3.connectionpool import ConnectionPool
from urllib3.exceptions import MaxRetryError
from urllib3.response import BaseHTTPResponse
from urllib3.util.retry import Retry

from bridge.errors import TransientError

log = logging.getLogger("bridge.http")

IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})

# Names whose values are secrets wherever they appear: XML elements, JSON keys, form fields.
SECRET_NAMES = (
    "password",
    "client_secret",
    "refresh_token",
    "access_token",
    "token",
    "secret",
    "code",
)
_NAMES = "|".join(SECRET_NAMES)
_XML_SECRET = re.compile(rf"<((?:[\w.-]+:)?(?:{_NAMES}))(\s[^>]*)?>([^<]*)</\1>", re.IGNORECASE)
_JSON_SECRET = re.compile(rf'("(?:{_NAMES})"\s*:\s*)"[^"]*"', re.IGNORECASE)
_FORM_SECRET = re.compile(rf"(?<![\w])((?:{_NAMES})=)[^&\s]*", re.IGNORECASE)
_AUTH_HEADER = re.compile(r"^(Bearer|Zoho-oauthtoken|Basic)\s+\S+$", re.IGNORECASE)
REDACTED = "***"


def redact(text: str) -> str:
    """The text with every secret value replaced by ``***`` (XML, JSON and form bodies)."""
    text = _XML_SECRET.sub(
        lambda m: f"<{m.group(1)}{m.group(2) or ''}>{REDACTED}</{m.group(1)}>", text
    )
    text = _JSON_SECRET.sub(rf'\1"{REDACTED}"', text)
    return _FORM_SECRET.sub(rf"\1{REDACTED}", text)


def redact_headers(headers: Mapping[str, str]) -> dict[str, str]:
    clean: dict[str, str] = {}
    for name, value in headers.items():
        lowered = name.lower()
        if lowered in {"authorization", "proxy-authorization", "cookie", "set-cookie"}:
            match = _AUTH_HEADER.match(value)
            clean[name] = f"{match.group(1)} {REDACTED}" if match else REDACTED
        elif any(secret in lowered for secret in ("token", "secret", "key")):
            clean[name] = REDACTED
        else:
            clean[name] = value
    return clean


def operation_name(request: requests.PreparedRequest) -> str:
    """A short name for a call: the SOAP operation when there is one, else method and path."""
    return call_name(request.headers, request.method, request.url)


def call_name(headers: Mapping[str, str], method: str | None, url: str | None) -> str:
    """:func:`operation_name` of a call not prepared yet (``headers`` case-insensitive)."""
    action = headers.get("SOAPAction")
    if action is None:
        content_type = headers.get("Content-Type", "")
        match = re.search(r'action="([^"]+)"', content_type)
        action = match.group(1) if match else None
    if action:
        return action.strip('"').rsplit("/", 1)[-1]
    return f"{method} {urlsplit(url or '').path}"


ResponseListener = Callable[[str, str, int, float], None]
"""Called after every remote call with (system, operation, status, seconds)."""

_listeners: list[ResponseListener] = []


def add_response_listener(listener: ResponseListener) -> None:
    """Subscribe to every remote call (metrics use this; nothing here imports them)."""
    if listener not in _listeners:
        _listeners.append(listener)


def _body_text(body: Any) -> str:
    if body is None:
        return ""
    if isinstance(body, bytes):
        return body[:4000].decode("utf-8", "replace")
    return str(body)[:4000]


def _make_hook(system: str) -> Callable[..., requests.Response]:
    def hook(response: requests.Response, *args: Any, **kwargs: Any) -> requests.Response:
        request = response.request
        operation = operation_name(request)
        seconds = response.elapsed.total_seconds()
        log.info(
            "%s %s -> %s in %.0f ms",
            system,
            operation,
            response.status_code,
            seconds * 1000,
            extra={"system": system, "operation": operation, "status": response.status_code},
        )
        if log.isEnabledFor(logging.DEBUG):
            log.debug(
                "%s %s request headers=%s body=%s",
                system,
                operation,
                redact_headers(request.headers),
                redact(_body_text(request.body)),
            )
            log.debug("%s %s response body=%s", system, operation, redact(response.text[:4000]))
        for listener in _listeners:
            listener(system, operation, response.status_code, seconds)
        return response

    return hook


class _TimeoutAdapter(HTTPAdapter):
    """An adapter that applies a default timeout when the caller gives none."""

    def __init__(self, timeout: float | tuple[float, float], **kwargs: Any) -> None:
        self._timeout = timeout
        super().__init__(**kwargs)

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = self._timeout
        return super().send(request, **kwargs)


class BoundedRetry(Retry):
    """urllib3's Retry that gives up, instead of sleeping, on a long ``Retry-After``.

    urllib3 honours ``Retry-After`` on 413/429/503 whatever the status list says, and would
    sleep inside one call for as long as the server asks (hours, when a daily quota is
    spent). Past ``max_retry_after`` the response goes back to the caller, who can decide.
    """

    max_retry_after: float = 60.0

    def new(self, **kw: Any) -> Self:
        retry = super().new(**kw)
        retry.max_retry_after = self.max_retry_after
        return retry

    def increment(
        self,
        method: str | None = None,
        url: str | None = None,
        response: BaseHTTPResponse | None = None,
        error: Exception | None = None,
        _pool: ConnectionPool | None = None,
        _stacktrace: TracebackType | None = None,
    ) -> Self:
        if response is not None:
            wait = self.get_retry_after(response)
            if wait is not None and wait > self.max_retry_after:
                raise MaxRetryError(_pool, url or "", None)  # type: ignore[arg-type]
        return super().increment(method, url, response, error, _pool, _stacktrace)


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How hard a session tries: ``attempts`` in all, waits growing from ``backoff`` seconds."""

    attempts: int = 4
    backoff: float = 0.5
    backoff_max: float = 30.0
    jitter: float = 0.25
    statuses: frozenset[int] = RETRY_STATUSES
    # A longer Retry-After is not waited for here: the response goes to the caller.
    max_retry_after: float = 60.0

    def build(self, methods: Iterable[str]) -> Retry:
        retries = max(self.attempts - 1, 0)
        retry = BoundedRetry(
            total=retries,
            connect=retries,
            read=retries,
            status=retries,
            other=0,
            allowed_methods=frozenset(methods),
            status_forcelist=self.statuses,
            backoff_factor=self.backoff,
            backoff_max=self.backoff_max,
            backoff_jitter=self.jitter,
            respect_retry_after_header=True,
            # Hand the last response back instead of raising, so the connector can map
            # the vendor's error body into our error tree.
            raise_on_status=False,
        )
        retry.max_retry_after = self.max_retry_after
        return retry


@dataclass(frozen=True, slots=True)
class _Environment:
    """What ``requests`` takes from the process environment for one origin."""

    proxies: dict[str, str]
    verify: str | None
    auth: tuple[str, str] | None


class EnvironmentOnceSession(requests.Session):
    """A session that reads the environment's proxies, CA bundle and netrc once per origin.

    A plain session reads them on every call: the proxy variables alone (the whole
    environment scanned twice, then the no_proxy test) cost about 0.1 ms of CPU per call,
    as much as a small call itself on loopback, and a connector that writes one record per
    call pays it per record. Here they are read at the first call to each scheme and host
    and kept (the environment of a running process does not change under it), then given
    to ``requests`` as explicit settings, which win over nothing the caller set itself.
    A redirect to another host keeps the first host's proxies.
    """

    def __init__(self) -> None:
        super().__init__()
        self.trust_env = False  # the environment comes from _environment_for, read once
        # Two threads meeting a new origin at once may both read it: the same values, and
        # one dict assignment each.
        self._environments: dict[str, _Environment] = {}

    def _environment_for(self, url: str) -> _Environment:
        parts = urlsplit(url)
        origin = f"{parts.scheme}://{parts.netloc}"
        found = self._environments.get(origin)
        if found is None:
            found = _Environment(
                proxies=get_environ_proxies(url),
                verify=os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE"),
                auth=get_netrc_auth(url),
            )
            self._environments[origin] = found
        return found

    def request(self, method: str | bytes, url: str | bytes, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        environment = self._environment_for(url.decode() if isinstance(url, bytes) else url)
        if environment.proxies:
            kwargs["proxies"] = {**environment.proxies, **(kwargs.get("proxies") or {})}
        if environment.verify and kwargs.get("verify") in (None, True):
            kwargs["verify"] = environment.verify
        if environment.auth and kwargs.get("auth") is None and self.auth is None:
            kwargs["auth"] = environment.auth
        return super().request(method, url, **kwargs)


def build_session(
    system: str,
    *,
    timeout: float | tuple[float, float] = (5.0, 60.0),
    retry: RetryPolicy | None = None,
    retry_post: bool = False,
    pool_size: int = 16,
    user_agent: str = "soapbridge",
) -> requests.Session:
    """A session for one remote system, tagged with ``system`` in every log line."""
    policy = retry or RetryPolicy()
    methods = set(IDEMPOTENT_METHODS)
    if retry_post:
        methods.add("POST")
    adapter = _TimeoutAdapter(
        timeout,
        max_retries=policy.build(methods),
        pool_connections=pool_size,
        pool_maxsize=pool_size,
    )
    session = EnvironmentOnceSession()
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    session.headers["User-Agent"] = user_agent
    session.hooks["response"].append(_make_hook(system))
    return session


@contextmanager
def transport_errors(system: str, operation: str) -> Iterator[None]:
    """Run a call, turning a transport failure of ``requests`` into a :class:`TransientError`.

    No answer came (a timeout, a refused or reset connection), so the call may work later.
    """
    try:
        yield
    except requests.RequestException as exc:
        raise TransientError(f"{operation}: {_failure(exc)}", system=system) from exc


def _failure(exc: requests.RequestException) -> str:
    if isinstance(exc, requests.Timeout):
        return "timed out"
    if isinstance(exc, requests.ConnectionError):
        return f"connection failed ({type(exc).__name__})"
    return type(exc).__name__
