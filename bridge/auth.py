"""OAuth2 access tokens for the REST CRMs, through Authlib.

One :class:`TokenSource` per connection keeps the current access token, fetches a new one
shortly before it expires, and hands it to every request through :class:`TokenAuth`,
which also retries a request exactly once after a 401 with a fresh token (a token can be
revoked or expire early). Thread-safe: concurrent callers share one refresh.

Processes share tokens too, through a :class:`SharedTokens` (the store implements it):
every run, worker and facade process of one account (same system, token URL, client and
credentials) reads the token another one fetched, and a refresh happens once, under the
shared lock, by whichever process needs it first; the others wait and read the result.
Zoho allows only a few refreshes a minute per refresh token, so a deployment that
refreshed per process (or per run) would lock itself out.

A token endpoint that refuses for now (Zoho's "Access Denied" after too many refreshes,
OAuth's ``slow_down`` / ``temporarily_unavailable``) raises :class:`RateLimited`, a
retryable error: the credentials are fine, the caller should come back later.

Grants: ``refresh_token`` (Zoho Bigin), ``client_credentials`` (Engagifii) and
``password`` (Egito, which can also refresh with the refresh token it returns).
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, ExitStack, contextmanager
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeGuard

import requests
from authlib.common.errors import AuthlibBaseError
from authlib.integrations.requests_client import OAuth2Session

from bridge.errors import AuthError, BridgeError, RateLimited, TransientError
from bridge.http import build_session

log = logging.getLogger(__name__)
GRANTS = ("refresh_token", "client_credentials", "password")
#: OAuth error codes that mean "not now" rather than "never" (RFC 6749 and RFC 8628).
THROTTLE_ERRORS = frozenset({"temporarily_unavailable", "slow_down"})
#: Seconds a throttled caller is told to wait: Zoho counts refreshes per minute.
THROTTLE_RETRY_AFTER = 60.0
#: Never refresh before the last tenth of a token's life: with a 30 s token a 60 s
#: leeway would refresh on every call, and even half-life doubles the refreshes.
EARLIEST_REFRESH = 0.1
#: Seconds between looks at the shared token while another process refreshes it.
SHARED_POLL = 0.05


class SharedTokens(Protocol):
    """Where the processes of one account keep its current token (see bridge.store).

    ``key`` names the account (never a secret in clear); ``secret`` is key material
    only the holders of the account's credentials know, to encrypt the token with.
    """

    def load(self, key: str, secret: str) -> dict[str, Any] | None: ...

    def save(self, key: str, secret: str, token: dict[str, Any], *, system: str) -> None: ...

    def locked(self, key: str) -> AbstractContextManager[bool]:
        """Hold the account's refresh lock for the block; yields False if another has it."""
        ...


@dataclass(slots=True)
class OAuthSettings:
    """Where and how to get tokens. Secrets are kept out of ``repr``."""

    system: str
    token_url: str
    grant: str
    client_id: str
    client_secret: str = field(repr=False)
    refresh_token: str | None = field(default=None, repr=False)
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    scope: str | None = None
    # Refresh this many seconds before the token says it expires.
    leeway: float = 60.0
    # Extra form fields some vendors want on the token call.
    extra: dict[str, str] = field(default_factory=dict)
    # Error codes of this vendor's token endpoint that mean "too many requests, later".
    throttle_errors: frozenset[str] = THROTTLE_ERRORS

    def __post_init__(self) -> None:
        if self.grant not in GRANTS:
            raise ValueError(f"unknown grant {self.grant!r}")

    def account_key(self) -> str:
        """A stable name for the account these settings get tokens for (a SHA-256).

        Two connections share tokens when they are the same client of the same token
        endpoint with the same credentials; the refresh token (secret) enters only hashed.
        """
        parts = (
            self.system,
            self.token_url,
            self.grant,
            self.client_id,
            self.username or "",
            self.scope or "",
            hashlib.sha256((self.refresh_token or "").encode()).hexdigest(),
        )
        return hashlib.sha256("\n".join(parts).encode()).hexdigest()

    def sealing_secret(self) -> str:
        """Key material for encrypting this account's stored tokens: its own secrets."""
        return "\n".join((self.client_secret, self.refresh_token or "", self.password or ""))


class TokenSource:
    """The current access token of one connection, refreshed when due."""

    def __init__(
        self,
        settings: OAuthSettings,
        *,
        session: requests.Session | None = None,
        clock: Callable[[], float] = time.time,
        on_token: Callable[[dict[str, Any]], None] | None = None,
        shared: SharedTokens | None = None,
        shared_wait: float = 60.0,
    ) -> None:
        self.settings = settings
        self._clock = clock
        self._lock = threading.Lock()
        self._token: dict[str, Any] | None = None
        self._on_token = on_token
        self._shared = shared
        self._shared_wait = shared_wait
        self._key = settings.account_key()
        # The last access token an API refused: a stored copy of it is no use either.
        self._refused: str | None = None
        self._oauth = OAuth2Session(
            client_id=settings.client_id,
            client_secret=settings.client_secret,
            token_endpoint_auth_method="client_secret_post",
            scope=settings.scope,
        )
        # Token calls go through the project's session: its timeouts, retries and
        # redacting log lines (a token endpoint is idempotent enough to retry on 5xx).
        base = session or build_session(f"{settings.system}-oauth", retry_post=True)
        self._oauth.mount("http://", base.get_adapter("http://"))
        self._oauth.mount("https://", base.get_adapter("https://"))
        self._oauth.hooks = base.hooks
        self.fetch_count = 0

    def __repr__(self) -> str:
        return f"TokenSource({self.settings!r})"

    @property
    def token_data(self) -> dict[str, Any]:
        """The last token response (e.g. Zoho's ``api_domain``), without the secrets."""
        with self._lock:
            data = dict(self._token or {})
        for secret in ("access_token", "refresh_token", "id_token"):
            data.pop(secret, None)
        return data

    def access_token(self) -> str:
        with self._lock:
            if self._token is None or self._expiring(self._token):
                self._token = self._renew()
            return str(self._token["access_token"])

    def invalidate(self, token: str) -> None:
        """Forget ``token`` (refused by the API) so the next caller fetches a new one."""
        with self._lock:
            self._refused = token
            if self._token is not None and self._token.get("access_token") == token:
                # Expire it rather than drop it: a refused access token says nothing
                # about the refresh token beside it (the password grant refreshes with it).
                self._token = {**self._token, "expires_at": 0.0}

    def _expiring(self, token: dict[str, Any]) -> bool:
        expires_at = token.get("expires_at")
        if expires_at is None:
            return False
        # A leeway longer than the token lives would refresh before every call (and Zoho
        # allows only a few refreshes a minute): never refresh earlier than half-life.
        lifetime = token.get("_lifetime")
        leeway = self.settings.leeway
        if lifetime is not None:
            leeway = min(leeway, float(lifetime) * EARLIEST_REFRESH)
        return self._clock() >= float(expires_at) - leeway

    def _usable(self, token: dict[str, Any] | None) -> TypeGuard[dict[str, Any]]:
        return (
            token is not None
            and bool(token.get("access_token"))
            and token.get("access_token") != self._refused
            and not self._expiring(token)
        )

    def _renew(self) -> dict[str, Any]:
        """A token that is not due: the shared one, or one fetched (once, under the lock)."""
        shared = self._shared
        if shared is None:
            return self._fetch(self._token)
        deadline = time.monotonic() + self._shared_wait
        while True:
            stored = self._load(shared)
            if self._usable(stored):
                return stored
            with self._locked(shared) as held:
                if held:
                    # Read again under the lock: the holder before us may have refreshed.
                    stored = self._load(shared)
                    if self._usable(stored):
                        return stored
                    token = self._fetch(stored or self._token)
                    self._save(shared, token)
                    return token
            if time.monotonic() >= deadline:
                raise TransientError(
                    f"another process has been refreshing the access token for "
                    f"{self._shared_wait:.0f} s",
                    system=self.settings.system,
                )
            time.sleep(SHARED_POLL)

    # The shared store is an optimisation: when it fails, a process still gets its own
    # token (and says so), rather than stop serving.

    def _load(self, shared: SharedTokens) -> dict[str, Any] | None:
        try:
            return shared.load(self._key, self.settings.sealing_secret())
        except Exception as exc:  # any store failure: fall back to this process's token
            log.warning("%s: shared tokens unreadable: %s", self.settings.system, _kind(exc))
            return None

    def _save(self, shared: SharedTokens, token: dict[str, Any]) -> None:
        try:
            shared.save(
                self._key, self.settings.sealing_secret(), token, system=self.settings.system
            )
        except Exception as exc:  # the token still serves this process
            log.warning("%s: shared tokens not saved: %s", self.settings.system, _kind(exc))

    @contextmanager
    def _locked(self, shared: SharedTokens) -> Iterator[bool]:
        with ExitStack() as stack:
            try:
                held = stack.enter_context(shared.locked(self._key))
            except Exception as exc:  # no lock to be had: refresh alone
                log.warning(
                    "%s: shared token lock unavailable: %s", self.settings.system, _kind(exc)
                )
                held = True
            yield held

    def _fetch(self, previous: dict[str, Any] | None) -> dict[str, Any]:
        s = self.settings
        try:
            if s.grant == "refresh_token":
                token = self._oauth.refresh_token(
                    s.token_url, refresh_token=s.refresh_token, **s.extra
                )
            elif s.grant == "client_credentials":
                token = self._oauth.fetch_token(
                    s.token_url, grant_type="client_credentials", **s.extra
                )
            else:
                refresh = (previous or {}).get("refresh_token")
                token = None
                if refresh:
                    try:
                        token = self._oauth.refresh_token(
                            s.token_url, refresh_token=refresh, **s.extra
                        )
                    except AuthlibBaseError:
                        token = None  # refresh token expired too: log in again below
                if token is None:
                    token = self._oauth.fetch_token(
                        s.token_url,
                        grant_type="password",
                        username=s.username,
                        password=s.password,
                        **s.extra,
                    )
        except AuthlibBaseError as exc:
            # Authlib's error carries the vendor's code (invalid_client, invalid_grant...).
            code = getattr(exc, "error", None) or type(exc).__name__
            if code in s.throttle_errors:
                raise RateLimited(
                    f"token request refused for now: {code}",
                    retry_after=THROTTLE_RETRY_AFTER,
                    system=s.system,
                ) from None
            raise AuthError(f"token request refused: {code}", system=s.system) from None
        except requests.RequestException as exc:
            raise TransientError(
                f"token endpoint unreachable: {type(exc).__name__}", system=s.system
            ) from exc
        except ValueError as exc:
            raise AuthError(
                f"token endpoint answered something else than a token: {exc}", system=s.system
            ) from None
        token = dict(token)
        if "access_token" not in token:
            raise AuthError("token endpoint answered without an access_token", system=s.system)
        if token.get("expires_in") is not None:
            # Authlib stamps expires_at from the wall clock in whole seconds; recompute it
            # on our clock so a short-lived token is not judged a second early or late.
            token["_lifetime"] = float(token["expires_in"])
            token["expires_at"] = self._clock() + token["_lifetime"]
        self.fetch_count += 1
        if self._on_token is not None:
            self._on_token(
                {k: v for k, v in token.items() if k not in ("access_token", "refresh_token")}
            )
        return token


def _kind(exc: BaseException) -> str:
    """An error's type and, for our own errors, message: never a foreign message's data."""
    return str(exc) if isinstance(exc, BridgeError) else type(exc).__name__


class TokenAuth(requests.auth.AuthBase):
    """Puts the token on each request; after a 401, one retry with a fresh token."""

    def __init__(self, source: TokenSource, scheme: str = "Bearer") -> None:
        self.source = source
        self.scheme = scheme

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        token = self.source.access_token()
        request.headers["Authorization"] = f"{self.scheme} {token}"
        request.register_hook("response", self._retry_on_401)  # type: ignore[no-untyped-call]
        return request

    def _retry_on_401(self, response: requests.Response, **kwargs: Any) -> requests.Response:
        if response.status_code != 401 or getattr(response.request, "_bridge_retried", False):
            return response
        sent = response.request.headers.get("Authorization", "").partition(" ")[2]
        self.source.invalidate(sent)
        retry = response.request.copy()
        retry.headers["Authorization"] = f"{self.scheme} {self.source.access_token()}"
        retry._bridge_retried = True  # type: ignore[attr-defined]
        response.content  # noqa: B018 - drain so the connection can be reused
        response.raw.release_conn()
        new = response.connection.send(retry, **kwargs)
        new.history.append(response)
        new.request = retry
        return new
