"""The command line starts at once: help and config errors load only what they use."""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
from pathlib import Path

import click
import pytest

from bridge.cli import COMMANDS
from bridge.emulators import EMULATOR_COMMANDS, LazyCommand

HEAVY = ("sqlalchemy", "alembic", "celery", "kombu", "spyne", "zeep")

PROBE = """
import json, sys
from bridge.cli import main
args, watched = json.loads(sys.argv[1]), set(json.loads(sys.argv[2]))
sys.argv = ["soapbridge", *args]
try:
    main()
except SystemExit:
    pass
heavy = sorted({m.split(".")[0] for m in sys.modules} & watched)
print("HEAVY=" + json.dumps(heavy))
"""


def loaded_heavy(args: list[str]) -> tuple[list[str], str]:
    """Run the CLI with ``args`` in a fresh interpreter; the heavy packages it imported."""
    out = subprocess.run(
        [sys.executable, "-c", PROBE, json.dumps(args), json.dumps(HEAVY)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    marker = out.stdout.rsplit("HEAVY=", 1)
    assert len(marker) == 2, out.stderr
    return json.loads(marker[1]), marker[0] + out.stderr


@pytest.mark.parametrize(
    "args",
    [["--help"], ["emulate", "--help"], ["sync", "--help"]],
    ids=["help", "emulate-help", "sync-help"],
)
def test_help_imports_no_heavy_package(args: list[str]):
    heavy, output = loaded_heavy(args)
    assert "Usage: soapbridge" in output
    assert heavy == []


def test_config_error_imports_no_heavy_package(tmp_path: Path):
    config = tmp_path / "bad.toml"
    config.write_text("store = [\n")
    heavy, output = loaded_heavy(["sync", "members", "--config", str(config)])
    assert "not valid TOML" in output
    assert heavy == []


def test_help_lists_every_command_with_its_own_summary():
    """The summaries shown without importing a command are the commands' own help."""
    lazy: dict[str, LazyCommand] = {**COMMANDS, **EMULATOR_COMMANDS}
    for name, entry in lazy.items():
        module, _, attr = entry.target.partition(":")
        command: click.Command = getattr(importlib.import_module(module), attr)
        assert command.get_short_help_str(limit=1000) == entry.summary, name
