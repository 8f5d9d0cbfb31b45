"""Zoho Bigin in the connector battery."""

from __future__ import annotations

from typing import Any

from bridge.config import ConnectionConfig
from bridge.connectors.registry import build_connector
from bridge.emulators import bigin as bigin_emulator
from bridge.emulators.server import EmulatorServer, Faults, with_admin

from . import Harness, Started, register


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
    server = EmulatorServer(with_admin(app, app.stats)).start()
    table = bigin_emulator.connection_table(app, server.url)
    # Small pages so a few hundred records span several; no client pacing in tests.
    connection = {"per_page": 50, "max_calls_per_second": 0}
    connection.update({k: v for k, v in table.items() if k != "kind"})
    connection.update(settings)
    if bad_credentials:
        connection["client_secret"] = "not-the-client-secret"

    def stop_server() -> None:
        server.stop()
        app.close()

    try:
        connector = build_connector(ConnectionConfig("battery-bigin", "bigin", connection))
    except BaseException:
        stop_server()
        raise

    def stop() -> None:
        try:
            connector.close()
        finally:
            stop_server()

    return Started(connector=connector, emulator=app, url=server.url, stop=stop, table=table)


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
