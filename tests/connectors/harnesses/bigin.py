"""Zoho Bigin in the connector battery."""

from __future__ import annotations

from typing import Any

from bridge.emulators import bigin as bigin_emulator
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
    **settings: Any,
) -> Started:
    """Extra keyword arguments become connection settings (``per_page=...``)."""
    faults = Faults(fail_rate=fail_rate, throttle_rate=throttle_rate, retry_after=retry_after)
    app = bigin_emulator.build_app(records, faults=faults, token_ttl=token_ttl or 3600.0)
    if bad_credentials:
        settings["client_secret"] = "not-the-client-secret"
    # Small pages so a few hundred records span several; no client pacing in tests.
    return serve(
        "bigin",
        bigin_emulator,
        app,
        app.stats,
        defaults={"per_page": 50, "max_calls_per_second": 0},
        overrides=settings,
        cleanup=app.close,
    )


register(
    Harness(
        kind="bigin",
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
