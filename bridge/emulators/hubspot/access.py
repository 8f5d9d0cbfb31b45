"""Who may call the emulated account, and how often: tokens, OAuth, rate limits.

Tokens [V]: a private-app token (static, ``pat-na1-…``) or OAuth access tokens from
``POST /oauth/v1/token`` (also ``/oauth/v3/token``), form-encoded, with the
``authorization_code`` and ``refresh_token`` grants; access tokens live 30 minutes
(``expires_in: 1800``); the authorization code comes from ``GET /oauth/authorize``,
which this emulator approves at once (there is no user to ask) and redirects with
``code`` and ``state``. Token errors carry both the RFC 6749 keys and HubSpot's
``status``/``message`` [V]; their HTTP status 400 is [I]. A refresh answers the same
refresh token [I].

Rate limits [V]: a rolling 10-second window per app (private apps also a daily count
with ``X-HubSpot-RateLimit-Daily*`` headers, OAuth apps none), and search apart at 5
requests a second with no headers. 429 bodies carry ``policyName`` ``TEN_SECONDLY_ROLLING``
/ ``DAILY`` / ``SECONDLY`` and ``errorType: RATE_LIMIT`` [V]. No ``Retry-After`` on
those [V: not documented]; the daily count resets at midnight UTC here (the account's
time zone is not modelled [I]).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field

from bridge.emulators.kit.tokens import TokenStore, same_secret

ACCESS_TTL = 1800.0


@dataclass(slots=True)
class App:
    """The emulated app: its OAuth client, its private-app token, its portal."""

    client_id: str = "hubspot-client-id"
    client_secret: str = field(default="hubspot-client-secret", repr=False)
    private_token: str = field(default="pat-na1-emulator-token", repr=False)
    portal_id: int = 4242
    app_id: int = 777
    scopes: tuple[str, ...] = (
        "oauth",
        "crm.objects.contacts.read",
        "crm.objects.contacts.write",
        "crm.schemas.contacts.read",
        "crm.schemas.contacts.write",
    )


class OAuthGrants:
    """The emulated app's OAuth grants over the kit's token store (``tokens``: access and
    refresh tokens, authorization codes bound to their redirect URI)."""

    def __init__(self, app: App, ttl: float = ACCESS_TTL) -> None:
        self.app = app
        self.tokens = TokenStore(ttl)

    def authorize(self, redirect_uri: str) -> str:
        return self.tokens.keep_code(secrets.token_urlsafe(16), redirect_uri)

    def install(self) -> str:
        """A refresh token as if the app had been installed (printed in the connection table)."""
        token = f"na1-{secrets.token_hex(4)}-{secrets.token_hex(2)}-{secrets.token_hex(2)}"
        return self.tokens.keep_refresh(token, self.app.client_id)

    def exchange(self, form: dict[str, str]) -> tuple[int, dict[str, object]]:
        """A token answer for a form, or an error answer."""
        if form.get("client_id") != self.app.client_id or not same_secret(
            form.get("client_secret", ""), self.app.client_secret
        ):
            return 400, _token_error("invalid_client", "BAD_CLIENT_ID", "missing or unknown client")
        grant = form.get("grant_type")
        if grant == "authorization_code":
            redirect = self.tokens.redeem_code(form.get("code", ""))
            if redirect is None or redirect != form.get("redirect_uri"):
                return 400, _token_error("invalid_grant", "BAD_AUTH_CODE", "auth code not found")
            refresh = self.install()
        elif grant == "refresh_token":
            refresh = form.get("refresh_token", "")
            if self.tokens.use_refresh(refresh, self.app.client_id) is None:
                return 400, _token_error(
                    "invalid_grant",
                    "BAD_REFRESH_TOKEN",
                    "refresh token is invalid, expired or revoked",
                )
        else:
            return 400, _token_error("unsupported_grant_type", "BAD_GRANT_TYPE", "unknown grant")
        issued = self.tokens.issue(grant, self.app.client_id, token_type="bearer")
        body: dict[str, object] = {
            "token_type": "bearer",
            "refresh_token": refresh,
            "access_token": issued["access_token"],
            "expires_in": issued["expires_in"],
            "hub_id": self.app.portal_id,
            "scopes": list(self.app.scopes),
        }
        return 200, body


def _token_error(error: str, status: str, message: str) -> dict[str, object]:
    return {"error": error, "error_description": message, "status": status, "message": message}
