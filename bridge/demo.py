"""``soapbridge demo``: the bridge's main job, end to end, on emulators started here."""

from __future__ import annotations

import time
from contextlib import ExitStack

from rich.console import Console

from bridge.config import ConnectionConfig
from bridge.connectors.legacy import LegacyConnector
from bridge.emulators import legacy as legacy_emulator
from bridge.emulators.server import EmulatorServer
from bridge.model import Contact, Phone, PhoneType


def run_demo(records: int = 250, console: Console | None = None) -> None:
    console = console or Console()
    started = time.perf_counter()
    with ExitStack() as stack:
        app = legacy_emulator.build_app(records)
        server = stack.enter_context(EmulatorServer(app))
        table = legacy_emulator.connection_table(app, server.url)
        console.print(
            f"[bold]Legacy CRM emulator[/] at {table['endpoint']} "
            f"(site {table['site_id']}, {table['timezone']}), {records} contacts"
        )

        settings = {k: v for k, v in table.items() if k != "kind"}
        connector = stack.enter_context(
            LegacyConnector.from_config(ConnectionConfig("legacy", "legacy", settings))
        )
        connector.verify()

        calls = 0
        seen: set[str] = set()
        for page in connector.read_changes():
            calls += 1
            seen.update(c.ids["legacy"] for c in page.contacts)
        console.print(
            f"Read every contact with ContactList_Retrieve: {len(seen)} contacts "
            f"in {calls} calls of up to 100"
        )

        first = connector.find_by_email("ada.smith.1@example.com") if records else None
        changes = [
            Contact(
                external_id="DEMO-1",
                email="new.member@example.com",
                first_name="New",
                last_name="Member",
                phones=[Phone(PhoneType.MOBILE, "+61 400 000 001")],
                opt_in=True,
            ),
        ]
        if first is not None:
            changes.append(first.copy(title="Dr", ids={}))
        outcomes = connector.upsert(changes)
        written = sum(1 for o in outcomes if o.ok)
        console.print(
            f"ContactList_UpdateInsert: {written} of {len(changes)} written "
            "(one new by External ID, one matched by External ID and updated)"
        )

        created = connector.find_by_external_id("DEMO-1")
        assert created is not None, "the inserted contact is not retrievable"
        console.print(
            f"Contact_RetrieveByExternalID('DEMO-1') -> entityId {created.ids['legacy']}, "
            f"{created.display_name}, updated {created.updated_at:%Y-%m-%d %H:%M} UTC"
        )

        since = created.updated_at
        recent = [c for page in connector.read_changes(since=since) for c in page.contacts]
        console.print(
            f"Incremental read since that change: {len(recent)} contact(s): "
            + ", ".join(sorted(c.display_name for c in recent))
        )
    console.print(f"[green]Demo finished in {time.perf_counter() - started:.1f} s.[/]")
