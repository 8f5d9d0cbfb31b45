"""``soapbridge emulate engagifii``: the Engagifii CRM emulator in the foreground."""

from __future__ import annotations

import click

from bridge.emulators.engagifii import (
    DEFAULT_RATE_LIMIT,
    IssuedClient,
    build_app,
    connection_table,
)
from bridge.emulators.kit.cli import EmulatorRun, emulator_command, option


@emulator_command("engagifii", seeded="People", failure="503 SERVICE_UNAVAILABLE")
@option("--client-id", "engagifii-client", "OAuth client id.")
@option("--client-secret", "engagifii-secret", "OAuth client secret.")
@click.option(
    "--tenant",
    "tenants",
    multiple=True,
    default=("emulator", "second-tenant"),
    show_default=True,
    help="Tenant codes the client may use (repeat); the first is seeded and printed.",
)
@option(
    "--rate-limit",
    DEFAULT_RATE_LIMIT,
    "API requests per minute before 429 RATE_LIMIT_EXCEEDED (0: unlimited).",
    type=int,
)
@option("--token-ttl", 3600.0, "Access token lifetime in seconds.")
@click.option(
    "--no-modified-filter",
    is_flag=True,
    help="Make PeoplePagingList ignore filter.modifiedDate (clients must scan and compare).",
)
def command(
    run: EmulatorRun,
    client_id: str,
    client_secret: str,
    tenants: tuple[str, ...],
    rate_limit: int,
    token_ttl: float,
    no_modified_filter: bool,
) -> None:
    """Serve the Engagifii CRM API (people, organizations, OAuth2) on loopback."""
    app = build_app(
        run.records,
        client=IssuedClient(client_id, client_secret, tuple(tenants)),
        faults=run.faults,
        rate_limit=rate_limit,
        token_ttl=token_ttl,
        modified_filter=not no_modified_filter,
        seed=run.seed,
        stats=run.stats,
    )
    run.serve(app, connection_table)
