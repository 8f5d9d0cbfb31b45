"""The ``soapbridge`` command line."""

from __future__ import annotations

import importlib
import logging
import sys

import click

from bridge import __version__
from bridge.emulators import EMULATOR_COMMANDS
from bridge.errors import BridgeError


class LazyGroup(click.Group):
    """A group whose subcommands are imported only when used."""

    def __init__(self, *args: object, lazy: dict[str, str], **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self._lazy = lazy

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(super().list_commands(ctx)) | set(self._lazy))

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self._lazy:
            module_name, _, attr = self._lazy[cmd_name].partition(":")
            command: click.Command = getattr(importlib.import_module(module_name), attr)
            return command
        return super().get_command(ctx, cmd_name)


# Commands that live beside the code they drive, imported only when run.
COMMANDS: dict[str, str] = {
    "sync": "bridge.sync.cli:sync",
    "deadletters": "bridge.sync.cli:deadletters",
    "schedule": "bridge.scheduling:schedule",
    "db": "bridge.store.cli:db",
    "hash-password": "bridge.facade.cli:hash_password",
    "tokens": "bridge.api.cli:tokens",
    "worker": "bridge.queue.cli:worker",
}


@click.group(cls=LazyGroup, lazy=COMMANDS, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="soapbridge")
@click.option("-v", "--verbose", count=True, help="More log output (-v INFO, -vv DEBUG).")
def cli(verbose: int) -> None:
    """SoapBridge: the legacy SOAP CRM contract bridged to REST CRMs."""
    level = logging.WARNING - 10 * min(verbose, 2)
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")


@cli.group(cls=LazyGroup, lazy=EMULATOR_COMMANDS)
def emulate() -> None:
    """Run one emulator in the foreground (first stdout line: its connection table)."""


@cli.command()
@click.option(
    "--records",
    type=int,
    default=250,
    show_default=True,
    help="Contacts to seed on the legacy side.",
)
@click.option(
    "--serve",
    is_flag=True,
    help="Then keep the emulators and the server up (until Ctrl-C) and print the console's "
    "URL and a sign-in token.",
)
def demo(records: int, serve: bool) -> None:
    """Run the bridge end to end against emulators on loopback: no config, no network."""
    from bridge.demo import run_demo

    run_demo(records=records, serve=serve)


@cli.command()
@click.option(
    "--config",
    "config_path",
    envvar="SOAPBRIDGE_CONFIG",
    required=True,
    type=click.Path(dir_okay=False),
    help="The TOML config file (or SOAPBRIDGE_CONFIG).",
)
@click.option("--host", default=None, help="Address to listen on (default: server.host).")
@click.option("--port", type=int, default=None, help="Port (default: server.port, 8080).")
@click.option(
    "--workers", type=int, default=None, help="gunicorn worker processes (default: server.workers)."
)
def serve(config_path: str, host: str | None, port: int | None, workers: int | None) -> None:
    """Serve the SOAP facade (and the bridge's other surfaces) under gunicorn."""
    from bridge.config import load_config
    from bridge.server import serve as run_server

    config = load_config(config_path)
    run_server(
        config,
        host=host or config.server.host,
        port=config.server.port if port is None else port,
        workers=workers or config.server.workers,
    )


def main() -> None:
    try:
        cli(standalone_mode=True)
    except BridgeError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)
