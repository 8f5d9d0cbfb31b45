"""A legacy emulator and a Bigin emulator side by side, and ways to compare them."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from bridge.config import ConnectionConfig
from bridge.connectors.registry import build_connector
from bridge.store import Store
from bridge.sync import PassOptions, SyncEngine, SyncReport, SyncSpec


@dataclass
class Pair:
    legacy: Any
    bigin: Any
    store: Store
    legacy_overrides: dict[str, Any]
    bigin_overrides: dict[str, Any]

    def connectors(self) -> tuple[Any, Any]:
        source = build_connector(self.legacy.connection(**self.legacy_overrides))
        target = build_connector(self.bigin.connection(**self.bigin_overrides))
        return source, target

    def run(
        self, direction: str = "source-to-target", name: str = "members", **options: Any
    ) -> SyncReport:
        source, target = self.connectors()
        with source, target:
            spec = SyncSpec(name, source, target, direction, options=PassOptions(**options))
            return SyncEngine(self.store, spec).run()

    def legacy_rows(self) -> list[dict[str, Any]]:
        return self.legacy.app.store.all_records()

    def bigin_rows(self) -> list[dict[str, Any]]:
        return self.bigin.app.store.select("Contacts")

    def assert_in_step(self) -> None:
        """Both sides hold the same people, once each, with the same names."""
        legacy = {r["externalId"]: r for r in self.legacy_rows()}
        bigin_keys = Counter(r.get("External_ID") for r in self.bigin_rows())
        duplicates = [k for k, n in bigin_keys.items() if n > 1]
        assert not duplicates, f"duplicated on Bigin: {duplicates[:5]}"
        assert len(self.legacy_rows()) == len(legacy), "duplicated External IDs on the legacy side"
        assert set(bigin_keys) == set(legacy)
        bigin = {r["External_ID"]: r for r in self.bigin_rows()}
        for key, row in legacy.items():
            assert (bigin[key].get("Last_Name"), bigin[key].get("Email")) == (
                row["lastName"],
                row["emailAddress"],
            ), key


@pytest.fixture
def make_pair(start_legacy, start_bigin, store) -> Iterator[Callable[..., Pair]]:
    def make(
        records: int = 0,
        *,
        bigin_records: int = 0,
        legacy_options: dict | None = None,
        bigin_options: dict | None = None,
        **overrides: Any,
    ) -> Pair:
        legacy = start_legacy(records=records, **(legacy_options or {}))
        bigin = start_bigin(records=bigin_records, **(bigin_options or {}))
        return Pair(legacy, bigin, store, {}, overrides)

    yield make


def bigin_settings(bigin: Any) -> dict[str, Any]:
    settings = {k: v for k, v in bigin.table.items() if k != "kind"}
    settings["max_calls_per_second"] = 0
    return settings


def legacy_connection(legacy: Any) -> ConnectionConfig:
    return legacy.connection()


def write_config(
    path: Path,
    store_url: str,
    legacy: Any,
    bigin: Any,
    direction: str,
    *,
    connections: dict[str, dict[str, Any]] | None = None,
    **integration: Any,
) -> Path:
    """A TOML config file with the two emulators as ``crm`` and ``bigin``.

    ``connections`` adds settings to either connection (``{"bigin": {"batch_size": 20}}``).
    """

    def table(name: str, connection: ConnectionConfig) -> str:
        settings = {**connection.settings, **(connections or {}).get(name, {})}
        lines = [f"[connections.{name}]", f'kind = "{connection.kind}"']
        lines += [f"{k} = {json.dumps(v)}" for k, v in settings.items()]
        return "\n".join(lines)

    extra = "".join(f"{k} = {json.dumps(v)}\n" for k, v in {"workers": 3, **integration}.items())
    path.write_text(
        f'[store]\nurl = "{store_url}"\n\n'
        + table("crm", legacy.connection())
        + "\n\n"
        + table("bigin", bigin.connection())
        + "\n\n"
        + '[[integrations]]\nname = "members"\nsource = "crm"\ntarget = "bigin"\n'
        + f'direction = "{direction}"\n'
        + extra
    )
    return path
