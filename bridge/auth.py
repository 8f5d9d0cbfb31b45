"""OAuth2 access tokens for the REST CRMs, through Authlib.

One :class:`TokenSource` per connection keeps the current access token, fetches a new one
shortly before it expires, and hands it to every request through :class:`TokenAuth`,
which also retries a request exactly once after a 401 with a fresh token (a token can be
revoked or expire early). Thread-safe: concurrent callers share one refresh.

Grants: ``refresh_token`` (Zoho Bigin), ``client_credentials`` (Engagifii) and
``password`` (Egito, which can also refresh with the refresh token it returns).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import requests
from authlib.common.errors import AuthlibBaseError
from authlib.integrations.requests_client import OAuth2Session

from bridge.errors import AuthError, TransientError
from bridge.http import build_session

GRANTS = ("refresh_token", "client_credentials", "password")


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

    def __post_init__(self) -> None:
        if self.grant not in GRANTS:
            raise ValueError(f"unknown grant {self.grant!r}")


class TokenSource:
    """The current access token of one connection, refreshed when due."""

    def __init__(
        self,
        settings: OAuthSettings,
        *,
        session: requests.Session | None = None,
        clock: Callable[[], float] = time.time,
        on_token: Callable[[dict[str, Any]], None] | None = None,
    ) -> None:
        self.settings = settings
        self._clock = clock
        self._lock = threading.Lock()
        self._token: dict[str, Any] | None = None
        self._on_token = on_token
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
                self._token = self._fetch()
            return str(self._token["access_token"])

    def invalidate(self, token: str) -> None:
        """Forget ``token`` (refused by the API) so the next caller fetches a new one."""
        with self._lock:
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
            leeway = min(leeway, float(lifetime) / 2)
        return self._clock() >= float(expires_at) - leeway

    def _fetch(self) -> dict[str, Any]:
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
                refresh = (self._token or {}).get("refresh_token") if self._token else None
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
