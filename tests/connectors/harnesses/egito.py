"""The Egito CRM in the connector battery."""

from __future__ import annotations

from bridge.emulators import egito as egito_emulator
from bridge.emulators.kit.server import Faults, Stats

from . import Harness, Started, register, serve


def start(
    records: int = 0,
    *,
    fail_rate: float = 0.0,
    throttle_rate: float = 0.0,
    retry_after: float = 1,
    token_ttl: float | None = None,
    bad_credentials: bool = False,
) -> Started:
    stats = Stats()
    app = egito_emulator.build_app(
        records,
        faults=Faults(fail_rate=fail_rate, throttle_rate=throttle_rate, retry_after=retry_after),
        token_ttl=token_ttl if token_ttl is not None else 3600.0,
        stats=stats,
    )
    wrong = {"password": "not-the-password"} if bad_credentials else None
    return serve("egito", egito_emulator, app, stats, overrides=wrong)


register(
    Harness(
        kind="egito",
        capabilities=frozenset(
            {"modified_since", "throttle", "server_errors", "tokens", "upsert_outcomes"}
        ),
        start=start,
    )
)
