"""Emulators of every system the bridge talks to: real HTTP servers for loopback use.

Each kind has a package with ``build_app`` (a WSGI app), ``connection_table`` and a
``cli.command`` for ``soapbridge emulate <kind>``. Commands are listed here by import path
so the CLI loads an emulator only when it is asked for.
"""

from __future__ import annotations

EMULATOR_COMMANDS: dict[str, str] = {
    "legacy": "bridge.emulators.legacy.cli:command",
    "bigin": "bridge.emulators.bigin.cli:command",
    "engagifii": "bridge.emulators.engagifii.cli:command",
    "egito": "bridge.emulators.egito.cli:command",
    "hubspot": "bridge.emulators.hubspot.cli:command",
}
