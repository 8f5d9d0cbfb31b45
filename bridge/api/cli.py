"""``soapbridge tokens``: create, list and revoke control-plane API tokens.

A token is printed once, when it is created; the store keeps only its SHA-256.
"""

from __future__ import annotations

import json

import click

from bridge.api.web import iso
from bridge.config import config_option, load_config
from bridge.errors import NotFound
from bridge.store import open_store

CONFIG_OPTION = config_option(
    "The TOML config file whose store holds the tokens (or SOAPBRIDGE_CONFIG)."
)


@click.group()
def tokens() -> None:
    """Bearer tokens for the /v1 control-plane API."""


@tokens.command("create")
@click.argument("name")
@CONFIG_OPTION
@click.option("--json", "as_json", is_flag=True, help="Print {_id, name, token} as JSON.")
def create(name: str, config_path: str, as_json: bool) -> None:
    """Create a token called NAME and print it (it cannot be shown again)."""
    store = open_store(load_config(config_path))
    try:
        record, plaintext = store.api_tokens.issue(name)
    finally:
        store.dispose()
    if as_json:
        click.echo(json.dumps({"_id": record.id, "name": record.name, "token": plaintext}))
    else:
        click.echo(plaintext)
        click.echo(f"token {record.id} ({name}): keep it now, it is not stored", err=True)


@tokens.command("list")
@CONFIG_OPTION
@click.option("--all", "include_revoked", is_flag=True, help="Include revoked tokens.")
def list_tokens(config_path: str, include_revoked: bool) -> None:
    """List tokens: id, name, prefix, created, last used, revoked (never the token)."""
    store = open_store(load_config(config_path))
    try:
        records = store.api_tokens.all(include_revoked=include_revoked)
    finally:
        store.dispose()
    for record in records:
        click.echo(
            "\t".join(
                [
                    record.id,
                    record.name,
                    record.prefix + "...",
                    iso(record.created_at) or "",
                    iso(record.last_used_at) or "never used",
                    f"revoked {iso(record.revoked_at)}" if record.revoked_at else "active",
                ]
            )
        )


@tokens.command("revoke")
@click.argument("token_id")
@CONFIG_OPTION
def revoke(token_id: str, config_path: str) -> None:
    """Revoke the token with _id TOKEN_ID; requests with it get 401 from then on."""
    store = open_store(load_config(config_path))
    try:
        store.api_tokens.revoke(token_id)
    except NotFound:
        raise click.ClickException(f"no token {token_id}") from None
    finally:
        store.dispose()
    click.echo(f"revoked {token_id}")
