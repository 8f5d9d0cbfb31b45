"""HubSpot's OAuth authorization-code flow: the consent URL and the code exchange.

An OAuth connection needs a refresh token, and HubSpot hands one out only for an
authorization code [V]: the account's admin opens :func:`authorize_url` in a browser,
approves the app, and HubSpot redirects to ``redirect_uri`` with ``code`` (single use,
short-lived) and ``state``. :func:`exchange_code` trades the code for tokens at
``POST /oauth/v1/token`` (form body: ``grant_type=authorization_code``, ``client_id``,
``client_secret``, ``redirect_uri``, ``code``) through Authlib. From then on the
connector's :class:`~bridge.auth.TokenSource` refreshes with the refresh token.
"""

from __future__ import annotations

from urllib.parse import urlencode

import requests
from authlib.common.errors import AuthlibBaseError
from authlib.integrations.requests_client import OAuth2Session

from bridge.errors import AuthError, TransientError

SYSTEM = "hubspot"
SCOPES = (
    "oauth",
    "crm.objects.contacts.read",
    "crm.objects.contacts.write",
    "crm.schemas.contacts.read",
    "crm.schemas.contacts.write",
)


def authorize_url(
    authorize_base: str,
    client_id: str,
    redirect_uri: str,
    state: str,
    scopes: tuple[str, ...] = SCOPES,
) -> str:
    """Where the admin approves the app (HubSpot: ``https://app.hubspot.com/oauth/authorize``)."""
    query = {
        "client_id": client_id,
        "redirect_uri": redirect_uri,
        "scope": " ".join(scopes),
        "state": state,
    }
    return f"{authorize_base.rstrip('/')}?{urlencode(query)}"


def exchange_code(
    base_url: str, *, client_id: str, client_secret: str, redirect_uri: str, code: str
) -> str:
    """The refresh token for an authorization code (the access token beside it is dropped)."""
    session = OAuth2Session(
        client_id=client_id,
        client_secret=client_secret,
        token_endpoint_auth_method="client_secret_post",
        redirect_uri=redirect_uri,
    )
    try:
        token = session.fetch_token(
            base_url.rstrip("/") + "/oauth/v1/token",
            grant_type="authorization_code",
            code=code,
            timeout=30,
        )
    except AuthlibBaseError as exc:
        raise AuthError(
            f"code exchange refused: {getattr(exc, 'error', None) or exc}", system=SYSTEM
        ) from None
    except requests.RequestException as exc:
        raise TransientError(
            f"token endpoint unreachable: {type(exc).__name__}", system=SYSTEM
        ) from exc
    finally:
        session.close()
    refresh = token.get("refresh_token")
    if not refresh:
        raise AuthError("the code exchange answered no refresh token", system=SYSTEM)
    return str(refresh)
