"""The legacy SOAP CRM in the connector battery."""

from __future__ import annotations

from bridge.emulators import legacy as legacy_emulator
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
    if token_ttl is not None:
        raise ValueError("the legacy contract has no tokens")
    faults = Faults(fail_rate=fail_rate, throttle_rate=throttle_rate, retry_after=retry_after)
    app = legacy_emulator.build_app(records, faults=faults)
    wrong = {"password": "not-the-password"} if bad_credentials else None
    return serve("legacy", legacy_emulator, app, Stats(), overrides=wrong)


register(
    Harness(
        kind="legacy",
        capabilities=frozenset({"modified_since", "throttle", "server_errors"}),
        start=start,
    )
)
