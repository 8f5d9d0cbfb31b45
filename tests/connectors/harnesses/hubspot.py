"""HubSpot in the connector battery (OAuth; the private-app style has its own tests)."""

from __future__ import annotations

from typing import Any

from bridge.emulators import hubspot as hubspot_emulator
from bridge.emulators.kit.server import Faults

from . import Harness, Started, register, serve


def start(
    records: int = 0,
    *,
    fail_rate: float = 0.0,
    throttle_rate: float = 0.0,
    retry_after: float = 1,
    token_ttl: float | None = None,
    bad_credentials: bool = False,
    emulator: dict[str, Any] | None = None,
    **settings: Any,
) -> Started:
    """``emulator`` options go to ``build_app``; other keywords become connection settings."""
    faults = Faults(fail_rate=fail_rate, throttle_rate=throttle_rate, retry_after=retry_after)
    options: dict[str, Any] = {"token_ttl": token_ttl or 1800.0, **(emulator or {})}
    app = hubspot_emulator.build_app(records, faults=faults, **options)
    if bad_credentials:
        settings["client_secret"] = "not-the-client-secret"
    return serve(
        "hubspot",
        hubspot_emulator,
        app,
        app.stats,
        overrides=settings,
        cleanup=app.close,
    )


register(
    Harness(
        kind="hubspot",
        capabilities=frozenset(
            {
                "modified_since",
                "throttle",
                "server_errors",
                "tokens",
                "upsert_outcomes",
                "stable_paging",
            }
        ),
        start=start,
    )
)
