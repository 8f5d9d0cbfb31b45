"""``soapbridge hash-password``: an Argon2 hash for a site's ``password_hash``."""

from __future__ import annotations

import click

from bridge.facade.sites import hash_password as make_hash


@click.command("hash-password")
@click.password_option(
    "--password", prompt="Site password", help="Read from a prompt if not given."
)
def hash_password(password: str) -> None:
    """Print the hash to put in `[[sites]] password_hash` (the password is never stored)."""
    click.echo(make_hash(password))
