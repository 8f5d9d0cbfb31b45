"""Emulators of every system the bridge talks to: real HTTP servers for loopback use.

Each kind has a package with ``build_app`` (a WSGI app), ``connection_table`` and a
``cli.command`` for ``soapbridge emulate <kind>``. Commands are found here on disk and listed
by import path, so the CLI loads an emulator only when it is asked for. What the emulators
share lives in :mod:`bridge.emulators.kit`.
"""

from __future__ import annotations

import ast
from pathlib import Path
from typing import NamedTuple


class LazyCommand(NamedTuple):
    """A command imported only when run: ``module:attribute``, and its one-line summary."""

    target: str
    summary: str


def _discover() -> dict[str, LazyCommand]:
    """Every emulator package here (one with a ``cli.py`` defining ``command``), by name.

    Read from the source, nothing imported: the summary is the first line of
    ``command``'s docstring, which is what click shows for it once loaded.
    """
    commands: dict[str, LazyCommand] = {}
    for cli in sorted(Path(__file__).resolve().parent.glob("*/cli.py")):
        for node in ast.parse(cli.read_text(encoding="utf-8")).body:
            if isinstance(node, ast.FunctionDef) and node.name == "command":
                first, doc = node.body[0], ""
                if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                    doc = str(first.value.value).strip()
                target = f"{__name__}.{cli.parent.name}.cli:command"
                commands[cli.parent.name] = LazyCommand(target, doc.split("\n", 1)[0])
    return commands


# Adding an emulator is adding its package: no list of kinds to edit.
EMULATOR_COMMANDS: dict[str, LazyCommand] = _discover()
