"""Zoho Accounts as the Bigin emulator serves it: ``POST /oauth/v2/token``.

Grants: ``refresh_token`` (the connector's) and ``authorization_code`` (one-time codes
the emulator issues up front) [V: S4, S5]. The answer has Zoho's token shape with
``api_domain`` [I: standard Zoho shape]. Refused grants answer HTTP 200 with
``{"error": "invalid_client"}`` / ``{"error": "invalid_code"}`` as Zoho Accounts does [I].
Refresh tokens never expire [V]; at most ``refresh_limit`` access tokens may be minted
from one refresh token per minute (real Bigin: 5) [V], beyond which Zoho answers
``Access Denied`` [I: message text].
"""

from __future__ import annotations

import hmac
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bridge.emulators.kit.limits import RollingLimit

SCOPE = "ZohoBigin.modules.ALL,ZohoBigin.notifications.ALL"


@dataclass(slots=True)
class OAuthClient:
    client_id: str = "1000.EMULATORCLIENT0000000000000000"
    client_secret: str = field(default="emulator-client-secret", repr=False)
    refresh_token: str = field(
        default="1000.emulatorrefresh0000000000000000.emulatorrefresh00000000000000", repr=False
    )


class TokenIssuer:
    """Mints, checks and revokes access tokens; thread-safe."""

    def __init__(
        self,
        client: OAuthClient,
        *,
        ttl: float = 3600.0,
        refresh_limit: int | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.client = client
        self.ttl = ttl
        # Zoho counts the access tokens one refresh token mints in any minute.
        self._refreshes = RollingLimit(refresh_limit or 0, 60.0, clock)
        self._clock = clock
        self._lock = threading.Lock()
        self._tokens: dict[str, float] = {}
        self._refresh_tokens = {client.refresh_token}
        self._codes: set[str] = set()
        self.issued = 0

    def issue_code(self) -> str:
        """A one-time authorization code, as the browser step would hand back."""
        code = "1000." + secrets.token_hex(16)
        with self._lock:
            self._codes.add(code)
        return code

    def grant(self, form: dict[str, str], api_domain: str) -> dict[str, Any]:
        """The token endpoint's JSON answer for one request (errors included)."""
        ok_id = hmac.compare_digest(form.get("client_id", ""), self.client.client_id)
        ok_secret = hmac.compare_digest(form.get("client_secret", ""), self.client.client_secret)
        if not (ok_id and ok_secret):
            return {"error": "invalid_client"}
        grant_type = form.get("grant_type")
        with self._lock:
            if grant_type == "refresh_token":
                if form.get("refresh_token") not in self._refresh_tokens:
                    return {"error": "invalid_code"}
                if self._over_limit():
                    return {
                        "error": "Access Denied",
                        "error_description": "You have made too many requests continuously. "
                        "Please try again after some time.",
                        "status": "failure",
                    }
                return self._mint(api_domain, refresh_token=None)
            if grant_type == "authorization_code":
                code = form.get("code", "")
                if code not in self._codes:
                    return {"error": "invalid_code"}
                self._codes.discard(code)
                refresh = "1000." + secrets.token_hex(16) + "." + secrets.token_hex(16)
                self._refresh_tokens.add(refresh)
                return self._mint(api_domain, refresh_token=refresh)
        return {"error": "unsupported_grant_type"}

    @property
    def refresh_limit(self) -> int | None:
        return self._refreshes.limit or None

    @refresh_limit.setter
    def refresh_limit(self, value: int | None) -> None:
        self._refreshes.limit = value or 0

    def _over_limit(self) -> bool:
        return self._refreshes.take() is None

    def _mint(self, api_domain: str, refresh_token: str | None) -> dict[str, Any]:
        token = "1000." + secrets.token_hex(16) + "." + secrets.token_hex(16)
        self._tokens[token] = self._clock() + self.ttl
        self.issued += 1
        answer: dict[str, Any] = {
            "access_token": token,
            "scope": SCOPE,
            "api_domain": api_domain,
            "token_type": "Bearer",
            # Zoho sends whole seconds; a sub-second lifetime still says 1.
            "expires_in": max(1, round(self.ttl)),
        }
        if refresh_token is not None:
            answer["refresh_token"] = refresh_token
        return answer

    def check(self, authorization: str | None) -> str | None:
        """The access token when the header carries a live one, else None."""
        scheme, _, token = (authorization or "").partition(" ")
        if scheme != "Zoho-oauthtoken" or not token:
            return None
        with self._lock:
            expires = self._tokens.get(token.strip())
            if expires is None:
                return None
            if self._clock() >= expires:
                del self._tokens[token.strip()]
                return None
        return token.strip()

    def expires_in(self, token: str) -> float:
        with self._lock:
            return max(self._tokens.get(token, 0.0) - self._clock(), 0.0)

    def revoke_all(self) -> None:
        """Forget every access token (what a password change or an admin revoke does)."""
        with self._lock:
            self._tokens.clear()
