"""Emulator of the Egito CRM REST API: password grant, JSON or form posts, errors in 200s."""

from __future__ import annotations

from functools import partial
from typing import Any, Unpack

from bridge.emulators.egito.app import EgitoAccount, EgitoApp
from bridge.emulators.egito.store import EgitoStore
from bridge.emulators.kit.restapp import RestOptions, RestParts
from bridge.emulators.kit.tokens import TokenStore, uuid_token


def build_app(
    records: int = 0,
    *,
    account: EgitoAccount | None = None,
    error_status: int = 200,
    error_items: str = "objects",
    modified_filter: bool = True,
    timezone: str = "Europe/Warsaw",
    seed: int = 42,
    **options: Unpack[RestOptions],
) -> EgitoApp:
    """A seeded Egito emulator app (``records`` contacts, three accounts).

    ``error_status`` is the HTTP status of ``{"errors": [...]}`` answers (200 by default)
    and ``error_items`` their items' shape (``objects`` with message/code/field, or bare
    message ``strings``); the rest are the kit's options (:meth:`RestParts.build`):
    ``rate_limit`` (requests per minute; 0, none, as documented), ``throttle_rate``,
    ``retry_after``, ``token_ttl``, ``faults`` and ``stats`` (where the app counts
    ``tokens_issued``).
    """
    store = EgitoStore(timezone=timezone)
    store.seed(records, seed=seed)
    # Spring Security OAuth2 hands out UUID tokens.
    parts = RestParts.build(seed, partial(TokenStore, mint=uuid_token), **options)
    return EgitoApp(
        store,
        account or EgitoAccount(),
        parts,
        error_status=error_status,
        error_items=error_items,
        modified_filter=modified_filter,
    )


def connection_table(app: EgitoApp, base_url: str) -> dict[str, Any]:
    """The ``[connections.<name>]`` table for this emulator, with ``kind``."""
    return {
        "kind": "egito",
        "base_url": base_url.rstrip("/"),
        "client_id": app.account.client_id,
        "client_secret": app.account.client_secret,
        "username": app.account.username,
        "password": app.account.password,
        "timezone": app.store.tz.key,
    }


__all__ = ["EgitoAccount", "EgitoApp", "EgitoStore", "build_app", "connection_table"]
