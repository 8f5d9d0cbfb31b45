"""The ``soapbridge`` command line."""

from __future__ import annotations

import importlib
import logging
import sys

import click

from bridge import __version__
from bridge.emulators import EMULATOR_COMMANDS, LazyCommand
from bridge.errors import BridgeError


class LazyGroup(click.Group):
    """A group whose subcommands are imported only when run.

    Each lazy command is listed with its one-line summary, so ``--help`` shows every
    command without importing any (their modules pull in the store, SQLAlchemy, spyne,
    Celery: seconds of CPU for a help screen). A test keeps the summaries equal to the
    commands' own help.
    """

    def __init__(self, *args: object, lazy: dict[str, LazyCommand], **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self._lazy = lazy

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(super().list_commands(ctx)) | set(self._lazy))

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self._lazy:
            module_name, _, attr = self._lazy[cmd_name].target.partition(":")
            command: click.Command = getattr(importlib.import_module(module_name), attr)
            return command
        return super().get_command(ctx, cmd_name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        commands: list[tuple[str, click.Command]] = []
        for name in self.list_commands(ctx):
            lazy = self._lazy.get(name)
            # A stand-in that only carries the summary: click shortens it as it would the
            # real command's help.
            command = (
                click.Command(name, help=lazy.summary) if lazy else self.get_command(ctx, name)
            )
            if command is not None and not command.hidden:
                commands.append((name, command))
        if commands:
            limit = formatter.width - 6 - max(len(name) for name, _ in commands)
            with formatter.section("Commands"):
                formatter.write_dl([(name, c.get_short_help_str(limit)) for name, c in commands])


# Commands that live beside the code they drive, imported only when run.
COMMANDS: dict[str, LazyCommand] = {
    "sync": LazyCommand(
        "bridge.sync.cli:sync",
        "Run the integration NAME once; exits 1 when records failed or deletes wait.",
    ),
    "deadletters": LazyCommand(
        "bridge.sync.cli:deadletters", "List and replay records that failed to sync."
    ),
    "schedule": LazyCommand(
        "bridge.scheduling:schedule",
        "Run every integration on its cron ``schedule`` until interrupted.",
    ),
    "db": LazyCommand("bridge.store.cli:db", "Database schema commands for the configured store."),
    "hash-password": LazyCommand(
        "bridge.facade.cli:hash_password",
        "Print the hash to put in `[[sites]] password_hash` (the password is never stored).",
    ),
    "tokens": LazyCommand("bridge.api.cli:tokens", "Bearer tokens for the /v1 control-plane API."),
    "worker": LazyCommand(
        "bridge.queue.cli:worker",
        "Run queued syncs: a Celery worker on the [queue] broker (Ctrl-C stops it warmly).",
    ),
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
