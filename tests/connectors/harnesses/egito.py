"""The Egito CRM in the connector battery."""

from __future__ import annotations

from bridge.config import ConnectionConfig
from bridge.connectors.registry import build_connector
from bridge.emulators import egito as egito_emulator
from bridge.emulators.server import EmulatorServer, Faults, Stats, with_admin

from . import Harness, Started, register


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
    server = EmulatorServer(with_admin(app, stats)).start()
    table = egito_emulator.connection_table(app, server.url)
    settings = {k: v for k, v in table.items() if k != "kind"}
    if bad_credentials:
        settings["password"] = "not-the-password"
    try:
        connector = build_connector(ConnectionConfig("battery-egito", "egito", settings))
    except BaseException:
        server.stop()
        raise

    def stop() -> None:
        try:
            connector.close()
        finally:
            server.stop()

    return Started(connector=connector, emulator=app, url=server.url, stop=stop, table=table)


register(
    Harness(
        kind="egito",
        capabilities=frozenset(
            {"modified_since", "throttle", "server_errors", "tokens", "upsert_outcomes"}
        ),
        start=start,
    )
)
