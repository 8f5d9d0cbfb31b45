"""OAuth token issuing for the emulators: access tokens that expire, refresh tokens, codes.

Every emulator with a token endpoint keeps its tokens in one :class:`TokenStore`
(Engagifii, Egito, HubSpot, Bigin). What differs between vendors stays with each emulator:
the grants it accepts, its answer's shape and its error bodies. What differs in the tokens
themselves is given to the store: how a token looks (``mint``: opaque, UUID, Zoho's
``1000.…``) and how ``expires_in`` is made whole seconds (``seconds``).
"""

from __future__ import annotations

import hmac
import os
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


def same_secret(given: str, expected: str) -> bool:
    """Whether a credential matches, in constant time (a timing attack learns nothing)."""
    return hmac.compare_digest(given.encode(), expected.encode())


def opaque_token() -> str:
    """A random URL-safe token (what most OAuth servers hand out)."""
    return secrets.token_urlsafe(32)


def uuid_token() -> str:
    """A random (version 4) UUID as text, as Spring Security OAuth2 mints its tokens and
    the emulated CRMs their record ids: ``str(uuid.uuid4())`` formatted from the random
    bytes directly, in a third of its time (a create makes two)."""
    h = os.urandom(16).hex()
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{_VARIANT[int(h[16], 16) & 3]}{h[17:20]}-{h[20:]}"


# The first hex digit of a UUID's fourth group: RFC 4122's variant bits (10) over two
# random ones.
_VARIANT = "89ab"


@dataclass(slots=True)
class IssuedToken:
    client_id: str
    expires_at: float
    subject: str | None = None


class TokenStore:
    """Access tokens with an expiry, refresh tokens and one-time codes, for one emulator.

    ``ttl`` is read on every issue, so tests can shorten it while the server runs;
    :meth:`revoke_all` makes every outstanding access token unknown (as a key rotation
    would). Refresh tokens never expire. ``seconds`` turns the lifetime into the whole
    seconds of ``expires_in`` (at least 1, so a client never sees 0).
    """

    def __init__(
        self,
        ttl: float = 3600.0,
        *,
        clock: Callable[[], float] = time.monotonic,
        mint: Callable[[], str] = opaque_token,
        seconds: Callable[[float], int] = int,
    ) -> None:
        self.ttl = ttl
        self._clock = clock
        self._mint = mint
        self._seconds = seconds
        self._lock = threading.Lock()
        self._access: dict[str, IssuedToken] = {}
        self._refresh: dict[str, IssuedToken] = {}
        self._codes: dict[str, str] = {}
        self.grants: dict[str, int] = {}

    def issue(
        self,
        grant: str,
        client_id: str,
        *,
        subject: str | None = None,
        with_refresh: bool = False,
        token_type: str = "Bearer",
        scope: str | None = None,
    ) -> dict[str, Any]:
        """A new access token (and refresh token) as the RFC 6749 answer's keys."""
        access = self._mint()
        ttl = self.ttl
        with self._lock:
            self._access[access] = IssuedToken(client_id, self._clock() + ttl, subject)
            self.grants[grant] = self.grants.get(grant, 0) + 1
            body: dict[str, Any] = {
                "access_token": access,
                "token_type": token_type,
                "expires_in": max(self._seconds(ttl), 1),
            }
        if with_refresh:
            body["refresh_token"] = self.keep_refresh(self._mint(), client_id, subject)
        if scope:
            body["scope"] = scope
        return body

    def keep_refresh(self, refresh: str, client_id: str, subject: str | None = None) -> str:
        """Accept ``refresh`` from now on (one issued before the emulator started, say)."""
        with self._lock:
            self._refresh[refresh] = IssuedToken(client_id, float("inf"), subject)
        return refresh

    def use_refresh(self, refresh: str, client_id: str) -> IssuedToken | None:
        """The grant behind a refresh token of this client, or None."""
        with self._lock:
            issued = self._refresh.get(refresh)
            if issued is None or issued.client_id != client_id:
                return None
            return issued

    def keep_code(self, code: str, bound_to: str = "") -> str:
        """Accept the authorization code ``code`` once; ``bound_to`` is what it was issued for
        (a redirect URI, say), answered by :meth:`redeem_code`."""
        with self._lock:
            self._codes[code] = bound_to
        return code

    def redeem_code(self, code: str) -> str | None:
        """What ``code`` was bound to, once; None for an unknown or used code."""
        with self._lock:
            return self._codes.pop(code, None)

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

    def expires_in(self, token: str) -> float:
        """Seconds the access token has left (0 when unknown or expired)."""
        with self._lock:
            issued = self._access.get(token)
            return 0.0 if issued is None else max(issued.expires_at - self._clock(), 0.0)

    def revoke_all(self, *, refresh_too: bool = False) -> None:
        with self._lock:
            self._access.clear()
            if refresh_too:
                self._refresh.clear()

    def grant_count(self, grant: str) -> int:
        with self._lock:
            return self.grants.get(grant, 0)


__all__ = ["IssuedToken", "TokenStore", "opaque_token", "same_secret", "uuid_token"]
