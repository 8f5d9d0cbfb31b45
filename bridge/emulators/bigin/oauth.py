"""Zoho Accounts as the Bigin emulator serves it: ``POST /oauth/v2/token``.

Grants: ``refresh_token`` (the connector's) and ``authorization_code`` (one-time codes
the emulator issues up front) [V: S4, S5]. The answer has Zoho's token shape with
``api_domain`` [I: standard Zoho shape]. Refused grants answer HTTP 200 with
``{"error": "invalid_client"}`` / ``{"error": "invalid_code"}`` as Zoho Accounts does [I].
Refresh tokens never expire [V]; at most ``refresh_limit`` access tokens may be minted
from one refresh token per minute (real Bigin: 5) [V], beyond which Zoho answers
``Access Denied`` [I: message text]. The tokens themselves are kept in the emulator kit's
:class:`~bridge.emulators.kit.tokens.TokenStore`, like every other emulator's.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bridge.emulators.kit.limits import RollingLimit
from bridge.emulators.kit.tokens import TokenStore, same_secret

SCOPE = "ZohoBigin.modules.ALL,ZohoBigin.notifications.ALL"


@dataclass(slots=True)
class OAuthClient:
    client_id: str = "1000.EMULATORCLIENT0000000000000000"
    client_secret: str = field(default="emulator-client-secret", repr=False)
    refresh_token: str = field(
        default="1000.emulatorrefresh0000000000000000.emulatorrefresh00000000000000", repr=False
    )


def zoho_token() -> str:
    """``1000.<hex>.<hex>``: how Zoho's access and refresh tokens look."""
    return "1000." + secrets.token_hex(16) + "." + secrets.token_hex(16)


def zoho_tokens(ttl: float) -> TokenStore:
    """The kit's token store minting Zoho's tokens; Zoho rounds ``expires_in``."""
    return TokenStore(ttl, mint=zoho_token, seconds=round)


class TokenIssuer:
    """Zoho Accounts' grants and answers over the emulator's :class:`TokenStore`; thread-safe.

    The client's own refresh token is accepted from the start (it stands for the consent
    the user gave before the emulator ran).
    """

    def __init__(
        self,
        client: OAuthClient,
        tokens: TokenStore,
        *,
        refresh_limit: int | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.client = client
        self.tokens = tokens
        tokens.keep_refresh(client.refresh_token, client.client_id)
        # Zoho counts the access tokens one refresh token mints in any minute.
        self._refreshes = RollingLimit(refresh_limit or 0, 60.0, clock)

    def issue_code(self) -> str:
        """A one-time authorization code, as the browser step would hand back."""
        return self.tokens.keep_code("1000." + secrets.token_hex(16))

    def grant(self, form: dict[str, str], api_domain: str) -> dict[str, Any]:
        """The token endpoint's JSON answer for one request (errors included)."""
        ok_id = same_secret(form.get("client_id", ""), self.client.client_id)
        ok_secret = same_secret(form.get("client_secret", ""), self.client.client_secret)
        if not (ok_id and ok_secret):
            return {"error": "invalid_client"}
        grant_type = form.get("grant_type")
        if grant_type == "refresh_token":
            if (
                self.tokens.use_refresh(form.get("refresh_token", ""), self.client.client_id)
                is None
            ):
                return {"error": "invalid_code"}
            if self._refreshes.take() is None:
                return {
                    "error": "Access Denied",
                    "error_description": "You have made too many requests continuously. "
                    "Please try again after some time.",
                    "status": "failure",
                }
            return self._mint(grant_type, api_domain, with_refresh=False)
        if grant_type == "authorization_code":
            if self.tokens.redeem_code(form.get("code", "")) is None:
                return {"error": "invalid_code"}
            return self._mint(grant_type, api_domain, with_refresh=True)
        return {"error": "unsupported_grant_type"}

    @property
    def refresh_limit(self) -> int | None:
        return self._refreshes.limit or None

    @refresh_limit.setter
    def refresh_limit(self, value: int | None) -> None:
        self._refreshes.limit = value or 0

    def _mint(self, grant: str, api_domain: str, *, with_refresh: bool) -> dict[str, Any]:
        issued = self.tokens.issue(grant, self.client.client_id, with_refresh=with_refresh)
        answer: dict[str, Any] = {
            "access_token": issued["access_token"],
            "scope": SCOPE,
            "api_domain": api_domain,
            "token_type": "Bearer",
            "expires_in": issued["expires_in"],
        }
        if with_refresh:
            answer["refresh_token"] = issued["refresh_token"]
        return answer

    def check(self, authorization: str | None) -> str | None:
        """The access token when the header carries a live one, else None."""
        scheme, _, token = (authorization or "").partition(" ")
        token = token.strip()
        if scheme != "Zoho-oauthtoken" or self.tokens.check(token) != "ok":
            return None
        return token

    def expires_in(self, token: str) -> float:
        return self.tokens.expires_in(token)

    def revoke_all(self) -> None:
        """Forget every access token (what a password change or an admin revoke does)."""
        self.tokens.revoke_all()
