"""``soapbridge db``: the store's schema, by hand (every command also migrates on start)."""

from __future__ import annotations

import click

from bridge.config import config_option, load_config
from bridge.store.store import Store


@click.group()
def db() -> None:
    """Database schema commands for the configured store."""


@db.command()
@config_option("The TOML config file.")
def upgrade(config_path: str) -> None:
    """Bring the store's schema up to date (Alembic upgrade head)."""
    store = Store.from_config(load_config(config_path).store)
    store.migrate()
    click.echo(f"{store!r} at revision {store.current_revision()}")
    store.dispose()
