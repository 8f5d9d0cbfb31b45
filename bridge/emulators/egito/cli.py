"""``soapbridge emulate egito``: the Egito CRM emulator in the foreground."""

from __future__ import annotations

import click

from bridge.emulators.egito import EgitoAccount, build_app, connection_table
from bridge.emulators.kit.cli import EmulatorRun, emulator_command, option


@emulator_command("egito", failure="503 with an HTML page")
@option("--client-id", "egito-api-id", "API_ID.")
@option("--client-secret", "egito-api-secret", "API_SECRET.")
@option("--username", "api@emulator", "API user login.")
@option("--password", "egito-password", "API user password.")
@option("--timezone", "Europe/Warsaw", "Instance timezone: createDate/modifyDate are local to it.")
@option(
    "--rate-limit", 0, "API requests per minute before 429 (0: no limit; Egito documents none)."
)
@option("--token-ttl", 3600.0, "Access token lifetime (s).")
@option(
    "--error-status",
    200,
    'HTTP status of {"errors": [...]} answers (200: errors only in the body).',
)
@option(
    "--error-items",
    "objects",
    "Shape of errors[] items: objects (message, code, field) or bare message strings.",
    type=click.Choice(["objects", "strings"]),
)
@click.option(
    "--no-modified-filter",
    is_flag=True,
    help="Make list ignore modifiedFrom (clients must scan and compare modifyDate).",
)
def command(
    run: EmulatorRun,
    client_id: str,
    client_secret: str,
    username: str,
    password: str,
    timezone: str,
    rate_limit: int,
    token_ttl: float,
    error_status: int,
    error_items: str,
    no_modified_filter: bool,
) -> None:
    """Serve the Egito CRM REST API (contacts, accounts, dictionaries, OAuth2) on loopback."""
    app = build_app(
        run.records,
        account=EgitoAccount(client_id, client_secret, username, password),
        faults=run.faults,
        rate_limit=rate_limit,
        token_ttl=token_ttl,
        error_status=error_status,
        error_items=error_items,
        modified_filter=not no_modified_filter,
        timezone=timezone,
        seed=run.seed,
        stats=run.stats,
    )
    run.serve(app, connection_table)
