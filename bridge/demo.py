"""``soapbridge demo``: the bridge's main job, end to end, on emulators started here.

Every emulator starts on a free loopback port; a temporary SQLite store keeps the bridge's
state. The story: the legacy CRM's contacts go to Bigin, a change on each side is synced
back, a second run writes nothing, a legacy SOAP client talks to the facade in front of
Bigin as if it were the old CRM, and the same contacts go to Engagifii and Egito. With
``serve``, everything then stays up until Ctrl-C, and the operator console's URL and a
sign-in token are printed, so the story can be clicked through.
"""

from __future__ import annotations

import tempfile
import threading
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from rich.console import Console

from bridge.config import Config, ConnectionConfig, parse_config
from bridge.connectors.legacy import LegacyConnector
from bridge.connectors.registry import build_connector
from bridge.emulators import bigin, egito, engagifii, hubspot, legacy
from bridge.emulators.kit.server import EmulatorServer
from bridge.model import Contact, Phone, PhoneType
from bridge.runs.launch import run_integration
from bridge.server import build_app
from bridge.store import open_store
from bridge.sync.report import SyncReport

SITE = {"site_id": 20202, "username": "webshop", "password": "demo-site-password"}


def _table(app: Any, module: Any, server: EmulatorServer) -> dict[str, Any]:
    table: dict[str, Any] = module.connection_table(app, server.url)
    return table


def _config(tables: dict[str, dict[str, Any]], folder: Path) -> Config:
    connections = {name: dict(table) for name, table in tables.items()}
    connections["bigin"]["max_calls_per_second"] = 0  # emulator: no daily credits to spare
    return parse_config(
        {
            "store": {"url": f"sqlite:///{folder / 'bridge.db'}"},
            "connections": connections,
            "sites": [{**SITE, "connection": "bigin", "timezone": "Australia/Sydney"}],
            "integrations": [
                {
                    "name": "members",
                    "source": "crm",
                    "target": "bigin",
                    "direction": "both",
                    "deletes": "propagate",
                },
                {"name": "to-engagifii", "source": "crm", "target": "engagifii"},
                {"name": "to-egito", "source": "crm", "target": "egito"},
                {"name": "to-hubspot", "source": "crm", "target": "hubspot"},
            ],
        },
        env={},
    )


def _line(report: SyncReport) -> str:
    parts = []
    for direction, counts in report.directions.items():
        parts.append(
            f"{direction}: read {counts.read}, created {counts.created}, updated {counts.updated}, "
            f"unchanged {counts.unchanged}, failed {counts.failed}, conflicts {counts.conflicts}"
            + (f", deleted {counts.deleted}" if counts.deleted else "")
        )
    return "; ".join(parts) + f" ({report.seconds:.1f} s)"


def run_demo(records: int = 250, console: Console | None = None, *, serve: bool = False) -> None:
    console = console or Console()
    started = time.perf_counter()
    with ExitStack() as stack:
        folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="soapbridge-demo-")))
        apps: dict[str, tuple[Any, Any]] = {
            "crm": (legacy, legacy.build_app(records)),
            "bigin": (bigin, bigin.build_app(0)),
            "engagifii": (engagifii, engagifii.build_app(0)),
            "egito": (egito, egito.build_app(0)),
            "hubspot": (hubspot, hubspot.build_app(0)),
        }
        tables = {}
        for name, (module, app) in apps.items():
            server = stack.enter_context(EmulatorServer(app))
            tables[name] = _table(app, module, server)
            stack.callback(getattr(app, "close", lambda: None))
        console.print("[bold]Emulators on loopback[/]")
        for name, table in tables.items():
            address = table.get("endpoint") or table.get("api_domain") or table.get("base_url")
            console.print(f"  {name:<10} {table['kind']:<10} {address}")
        config = _config(tables, folder)
        store = open_store(config)
        stack.callback(store.dispose)

        console.print(
            f"\n[bold]1. Legacy CRM -> Bigin[/] ({records} contacts, offset paging, batches of 100)"
        )
        console.print("   " + _line(run_integration(config, "members", store=store)))

        console.print("\n[bold]2. A change on each side[/]")
        crm = stack.enter_context(build_connector(config.connection("crm")))
        crm_contacts = legacy_contacts(crm)
        first, second = crm_contacts[0], crm_contacts[1]
        crm.upsert([Contact(external_id=first.external_id, title="Dr", last_name=first.last_name)])
        console.print(f"   legacy: {first.display_name} ({first.external_id}) is now Dr")
        target = stack.enter_context(build_connector(config.connection("bigin")))
        held = _found(target.find_by_external_id(second.external_id), second.external_id)  # type: ignore[arg-type]
        target.upsert([held.copy(ids={}, phones=[Phone(PhoneType.MOBILE, "+61 400 123 456")])])
        console.print(f"   Bigin:  {held.display_name} ({second.external_id}) has a new mobile")
        console.print("   " + _line(run_integration(config, "members", store=store)))
        back = _found(crm.find_by_external_id(second.external_id), second.external_id)  # type: ignore[arg-type]
        console.print(
            f"   legacy now has {back.display_name}'s mobile: {back.phone(PhoneType.MOBILE)}"
        )
        now_dr = _found(target.find_by_external_id(first.external_id), first.external_id)  # type: ignore[arg-type]
        console.print(f"   Bigin now has title {now_dr.title!r} for {now_dr.display_name}")

        console.print("\n[bold]3. Run again: nothing changed, nothing is written[/]")
        console.print("   " + _line(run_integration(config, "members", store=store)))

        console.print("\n[bold]4. A legacy SOAP client talks to the facade in front of Bigin[/]")
        facade = stack.enter_context(EmulatorServer(build_app(config, store)))
        endpoint = f"{facade.url}/CatalystWebService/CatalystCRMWebservice.asmx"
        consumer = ConnectionConfig(
            "facade",
            "legacy",
            {**SITE, "endpoint": endpoint, "timezone": "Australia/Sydney"},
        )
        client = stack.enter_context(LegacyConnector.from_config(consumer))
        calls, seen = 0, set[str | None]()
        for page in client.read_changes():
            calls += 1
            seen.update(c.email for c in page.contacts)
        console.print(
            f"   ContactList_Retrieve: {len(seen)} contacts in {calls} calls at {endpoint}"
        )
        client.upsert(
            [
                Contact(
                    external_id="WEB-1",
                    email="web.shop@example.com",
                    first_name="Web",
                    last_name="Shopper",
                    opt_in=True,
                )
            ]
        )
        created = _found(target.find_by_external_id("WEB-1"), "WEB-1 on Bigin")
        console.print(
            f"   ContactList_UpdateInsert -> Bigin record {created.ids['bigin']} "
            f"({created.display_name})"
        )
        found = _found(client.find_by_email("web.shop@example.com"), "web.shop@example.com")
        console.print(f"   Contact_RetrieveByEmailAddress -> entityId {found.ids['legacy']}")

        console.print(
            "\n[bold]5. The next run brings the facade's new contact to the legacy CRM[/]"
        )
        console.print("   " + _line(run_integration(config, "members", store=store)))
        arrived = _found(crm.find_by_external_id("WEB-1"), "WEB-1 on the legacy side")
        console.print(f"   legacy: {arrived.display_name} is entityId {arrived.ids['legacy']}")

        _deletes(console, config, store, crm, target, client)

        console.print("\n[bold]7. The same contacts to Engagifii, Egito and HubSpot[/]")
        for name in ("to-engagifii", "to-egito", "to-hubspot"):
            console.print(f"   {name}: " + _line(run_integration(config, name, store=store)))
        if serve:
            _serve_until_interrupted(console, store, facade.url, started)
            return
    console.print(f"\n[green]Demo finished in {time.perf_counter() - started:.1f} s.[/]")


def _deletes(
    console: Console, config: Config, store: Any, crm: Any, target: Any, client: Any
) -> None:
    """One delete each way: legacy -> Bigin by reconciliation, Bigin -> legacy by the facade."""
    console.print("\n[bold]6. A delete travels each way[/] (policy: propagate)")
    gone = legacy_contacts(crm)[5]
    twin = _found(target.find_by_external_id(gone.external_id), gone.external_id)
    crm.delete(gone.ids["legacy"])
    console.print(f"   legacy: {gone.display_name} ({gone.external_id}) deleted")
    report = run_integration(config, "members", store=store, reconcile=True)
    console.print("   sync --reconcile: " + _line(report))
    state = "gone" if target.get(twin.ids["bigin"]) is None else "still there"
    console.print(f"   Bigin record {twin.ids['bigin']}: {state}")
    other = legacy_contacts(crm)[6]
    client.delete_by_email(other.email)
    console.print(f"   facade: Contact_DeleteByEmailAddress {other.email} (deleted in Bigin)")
    flagged = [c.email for page in client.read_changes() for c in page.contacts if c.deleted]
    console.print(f"   ContactList_Retrieve answers the deleted with deleted=true: {flagged}")
    console.print("   sync: " + _line(run_integration(config, "members", store=store)))
    state = "gone" if crm.find_by_external_id(other.external_id) is None else "still there"
    console.print(f"   legacy contact {other.external_id}: {state}")


def _serve_until_interrupted(console: Console, store: Any, url: str, started: float) -> None:
    """Print the console's address and a fresh token; wait for Ctrl-C (the caller cleans up)."""
    _record, token = store.api_tokens.issue("demo console")
    console.print(f"\n[green]Demo finished in {time.perf_counter() - started:.1f} s.[/]")
    console.print("\n[bold]The operator console is up: open it and sign in with the token[/]")
    console.print(f"   console: {url}/ui/", soft_wrap=True)
    console.print(f"   token:   {token}", soft_wrap=True)
    console.print("   Press Ctrl-C to stop the server and the emulators.", soft_wrap=True)
    console.file.flush()
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        console.print("Stopped.")


def legacy_contacts(connector: Any) -> list[Contact]:
    return [c for page in connector.read_changes() for c in page.contacts]


def _found(contact: Contact | None, what: object) -> Contact:
    if contact is None:
        raise RuntimeError(f"demo: {what} was not found where it should be")
    return contact
