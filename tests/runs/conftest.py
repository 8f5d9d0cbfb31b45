"""A legacy ``crm`` and a Bigin ``bigin`` connection in a config file, imported into a store."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from bridge.config import Config, parse_config
from bridge.runs.wiring import Wiring
from bridge.store import Store


@dataclass
class Wired:
    config: Config
    store: Store
    wiring: Wiring
    legacy: Any
    bigin: Any

    def connection_ids(self) -> dict[str, str]:
        return {c.name: c.id for c in self.store.connections.all()}


@pytest.fixture
def wired(start_legacy, start_bigin, tmp_path) -> Iterator[Callable[[int], Wired]]:
    """Make the two emulators (``records`` legacy contacts), the config and its store."""
    made: list[Wired] = []

    def make(records: int) -> Wired:
        legacy, bigin = start_legacy(records=records), start_bigin()
        config = parse_config(
            {
                "store": {"url": f"sqlite:///{tmp_path / 's.db'}"},
                "connections": {
                    "crm": {"kind": "legacy", **legacy.connection().settings},
                    "bigin": {"kind": "bigin", **bigin.connection().settings},
                },
            },
            env={},
        )
        store = Store(config.store.url)
        store.migrate()
        wiring = Wiring(store, config)
        wiring.import_config()
        made.append(Wired(config, store, wiring, legacy, bigin))
        return made[-1]

    yield make
    for each in made:
        each.store.dispose()
