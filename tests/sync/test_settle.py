"""Direction ``both`` settles: with nothing edited, the second and third runs write nothing.

Over every connector pair the bridge serves (legacy <-> Bigin, Engagifii, Egito, HubSpot),
with contacts seeded on both sides, some linked to a company (a Bigin Account, an Engagifii
organization, an Egito account, HubSpot's ``company`` property) and some without one. A run
that wrote anyway would move the records' change times, which the test also checks, record
by record.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from bridge.connectors.base import Connector
from bridge.connectors.registry import build_connector
from bridge.store import Store
from bridge.sync import PassOptions, SyncEngine, SyncSpec

RECORDS = 20


def everything(connector: Connector) -> list[Any]:
    return [contact for page in connector.read_changes() for contact in page.contacts]


def change_times(connector: Connector) -> dict[str, datetime | None]:
    """Each record's change time, by its id in ``connector``'s system."""
    return {c.ids[connector.system]: c.updated_at for c in everything(connector)}


@pytest.mark.parametrize("kind", ["bigin", "engagifii", "egito", "hubspot"])
def test_a_both_run_with_nothing_changed_writes_nothing(
    request, start_legacy, tmp_path: Path, kind: str
) -> None:
    legacy = start_legacy(records=RECORDS)
    remote = request.getfixturevalue(f"start_{kind}")(records=RECORDS)
    store = Store(f"sqlite:///{tmp_path / 'store.db'}")
    store.migrate()

    def connectors() -> tuple[Connector, Connector]:
        return build_connector(legacy.connection()), build_connector(remote.connection())

    def run() -> dict[str, tuple[int, int, int]]:
        source, target = connectors()
        with source, target:
            spec = SyncSpec("members", source, target, "both", options=PassOptions())
            report = SyncEngine(store, spec).run()
        return {d: (c.created, c.updated, c.failed) for d, c in report.directions.items()}

    first = run()
    assert first["source-to-target"] == (RECORDS, 0, 0)
    assert first["target-to-source"] == (RECORDS, 0, 0)
    source, target = connectors()
    with source, target:
        before = (change_times(source), change_times(target))
        contacts = everything(target)
    # Both kinds of contact are there to be compared: with a company and without one.
    with_company = [c for c in contacts if c.company is not None]
    assert with_company and len(with_company) < len(contacts)
    if kind != "hubspot":  # HubSpot's contact names its company in a text property, no id
        assert any(c.company.ids.get(kind) for c in with_company)

    for _ in range(2):
        quiet = run()
        assert quiet == {"source-to-target": (0, 0, 0), "target-to-source": (0, 0, 0)}
    source, target = connectors()
    with source, target:
        after = (change_times(source), change_times(target))
    assert after == before, "a record was written although nothing changed"
    store.dispose()
