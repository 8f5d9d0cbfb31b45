"""Emulator of Zoho Bigin v2 (Contacts, Accounts, Watch) and its Zoho Accounts OAuth server.

Facts it follows are in ``reference/rest-crms/bigin.md``; each module's docstring says
which behaviours are verified and which follow Zoho CRM conventions (inferred).
"""

from __future__ import annotations

from typing import Any, Unpack

from bridge.emulators.bigin.app import BiginApp
from bridge.emulators.bigin.limits import CreditMeter
from bridge.emulators.bigin.oauth import OAuthClient, TokenIssuer, zoho_tokens
from bridge.emulators.bigin.store import BiginStore
from bridge.emulators.kit import utc_now
from bridge.emulators.kit.restapp import RestOptions, RestParts


def build_app(
    records: int = 0,
    *,
    seed: int = 42,
    refresh_limit: int | None = None,
    credits: int | None = None,
    credit_window: float = 86400.0,
    concurrency: int | None = 10,
    client: OAuthClient | None = None,
    timezone: str = "Asia/Kolkata",
    api_domain: str | None = None,
    page_token_ttl: float = 86400.0,
    search_lag: float = 0.0,
    **options: Unpack[RestOptions],
) -> BiginApp:
    """A seeded Bigin emulator app (``records`` contacts, deterministic for a seed).

    ``credits`` None means no credit limit (real Bigin Free edition: 5,000 per 24 h);
    ``refresh_limit`` None means no cap on token refreshes (real Bigin: 5 per minute); the
    rest are the kit's options (:meth:`RestParts.build`: ``token_ttl``, ``faults``...).
    """
    store = BiginStore(clock=utc_now, seed=seed)
    store.seed(records)
    parts = RestParts.build(seed, zoho_tokens, **options)
    issuer = TokenIssuer(client or OAuthClient(), parts.tokens, refresh_limit=refresh_limit)
    return BiginApp(
        store,
        issuer,
        parts,
        credits=CreditMeter(credits, credit_window),
        concurrency=concurrency,
        timezone=timezone,
        api_domain=api_domain,
        page_token_ttl=page_token_ttl,
        search_lag=search_lag,
    )


def connection_table(app: BiginApp, base_url: str) -> dict[str, Any]:
    """The ``[connections.<name>]`` table for this emulator, with ``kind``.

    Both hosts are this server: ``accounts_url`` for OAuth, ``api_domain`` for the API
    (the token response's ``api_domain`` says the same and wins in the connector).
    """
    base = base_url.rstrip("/")
    client = app.issuer.client
    return {
        "kind": "bigin",
        "api_domain": app.api_domain or base,
        "accounts_url": base,
        "client_id": client.client_id,
        "client_secret": client.client_secret,
        "refresh_token": client.refresh_token,
    }


__all__ = ["BiginApp", "OAuthClient", "build_app", "connection_table"]
