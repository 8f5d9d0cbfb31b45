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


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
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
def demo(records: int) -> None:
    """Run the bridge end to end against emulators on loopback: no config, no network."""
    from bridge.demo import run_demo

    run_demo(records=records)


def main() -> None:
    try:
        cli(standalone_mode=True)
    except BridgeError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)
