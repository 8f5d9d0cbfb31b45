"""``soapbridge tokens``: create, list and revoke control-plane API tokens.

A token is printed once, when it is created; the store keeps only its SHA-256.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager

import click

from bridge.api.web import iso
from bridge.config import config_option, json_option, load_config
from bridge.errors import NotFound
from bridge.store import open_store
from bridge.store.repos.tokens import ApiTokenRepo

CONFIG_OPTION = config_option(
    "The TOML config file whose store holds the tokens (or SOAPBRIDGE_CONFIG)."
)


@contextmanager
def _token_repo(config_path: str) -> Iterator[ApiTokenRepo]:
    """The tokens of the config's store, open for one command."""
    store = open_store(load_config(config_path))
    try:
        yield store.api_tokens
    finally:
        store.dispose()


@click.group()
def tokens() -> None:
    """Bearer tokens for the /v1 control-plane API."""


@tokens.command("create")
@click.argument("name")
@CONFIG_OPTION
@json_option("Print {_id, name, token} as JSON.")
def create(name: str, config_path: str, as_json: bool) -> None:
    """Create a token called NAME and print it (it cannot be shown again)."""
    with _token_repo(config_path) as repo:
        record, plaintext = repo.issue(name)
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
    with _token_repo(config_path) as repo:
        records = repo.all(include_revoked=include_revoked)
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
    with _token_repo(config_path) as repo:
        try:
            repo.revoke(token_id)
        except NotFound:
            raise click.ClickException(f"no token {token_id}") from None
    click.echo(f"revoked {token_id}")
