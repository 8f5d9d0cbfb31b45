"""Shared fixtures: emulators started as real HTTP servers on loopback."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from bridge.config import ConnectionConfig
from bridge.connectors.legacy import LegacyConnector
from bridge.emulators import legacy as legacy_emulator
from bridge.emulators.legacy import LegacyApp
from bridge.emulators.server import EmulatorServer, Stats, with_admin


@dataclass
class RunningLegacy:
    app: LegacyApp
    server: EmulatorServer
    table: dict[str, Any]
    stats: Stats

    def connection(self, **overrides: Any) -> ConnectionConfig:
        settings = {k: v for k, v in self.table.items() if k != "kind"}
        settings.update(overrides)
        return ConnectionConfig("legacy", "legacy", settings)

    def connector(self, **overrides: Any) -> LegacyConnector:
        return LegacyConnector.from_config(self.connection(**overrides))


@pytest.fixture
def start_legacy() -> Iterator[Callable[..., RunningLegacy]]:
    """Start legacy emulators (``start_legacy(records=..., **build_app options)``); all stop after."""
    running: list[EmulatorServer] = []

    def start(records: int = 0, **options: Any) -> RunningLegacy:
        app = legacy_emulator.build_app(records, **options)
        stats = Stats()
        server = EmulatorServer(with_admin(app, stats)).start()
        running.append(server)
        return RunningLegacy(app, server, legacy_emulator.connection_table(app, server.url), stats)

    yield start
    for server in running:
        server.stop()
