"""Emulators of every system the bridge talks to: real HTTP servers for loopback use.

Each kind has a package with ``build_app`` (a WSGI app), ``connection_table`` and a
``cli.command`` for ``soapbridge emulate <kind>``. Commands are listed here by import path
so the CLI loads an emulator only when it is asked for.
"""

from __future__ import annotations

from typing import NamedTuple


class LazyCommand(NamedTuple):
    """A command imported only when run: ``module:attribute``, and its one-line summary."""

    target: str
    summary: str


EMULATOR_COMMANDS: dict[str, LazyCommand] = {
    "legacy": LazyCommand(
        "bridge.emulators.legacy.cli:command",
        "Serve the legacy CRM's SOAP contact service on loopback.",
    ),
    "bigin": LazyCommand(
        "bridge.emulators.bigin.cli:command",
        "Serve Zoho Bigin v2 (Contacts, Accounts, Watch) and its OAuth token endpoint.",
    ),
    "engagifii": LazyCommand(
        "bridge.emulators.engagifii.cli:command",
        "Serve the Engagifii CRM API (people, organizations, OAuth2) on loopback.",
    ),
    "egito": LazyCommand(
        "bridge.emulators.egito.cli:command",
        "Serve the Egito CRM REST API (contacts, accounts, dictionaries, OAuth2) on loopback.",
    ),
    "hubspot": LazyCommand(
        "bridge.emulators.hubspot.cli:command",
        "Serve HubSpot's CRM v3 contacts API (OAuth, search, batches, webhooks) on loopback.",
    ),
}
