"""``soapbridge emulate egito``: the Egito CRM emulator in the foreground."""

from __future__ import annotations

import click

from bridge.emulators.egito import EgitoAccount, build_app, connection_table
from bridge.emulators.server import (
    EmulatorServer,
    Faults,
    Stats,
    print_connection_table,
    with_admin,
)


@click.command("egito")
@click.option(
    "--port", type=int, default=0, show_default=True, help="Port on 127.0.0.1 (0 picks a free one)."
)
@click.option(
    "--records", type=int, default=250, show_default=True, help="Contacts to seed (0 starts empty)."
)
@click.option("--seed", type=int, default=42, show_default=True, help="Seed for generated data.")
@click.option("--client-id", default="egito-api-id", show_default=True, help="API_ID.")
@click.option("--client-secret", default="egito-api-secret", show_default=True, help="API_SECRET.")
@click.option("--username", default="api@emulator", show_default=True, help="API user login.")
@click.option("--password", default="egito-password", show_default=True, help="API user password.")
@click.option(
    "--timezone",
    default="Europe/Warsaw",
    show_default=True,
    help="Instance timezone: createDate/modifyDate are local to it.",
)
@click.option(
    "--rate-limit",
    type=int,
    default=0,
    show_default=True,
    help="API requests per minute before 429 (0: no limit; Egito documents none).",
)
@click.option(
    "--throttle-rate",
    type=float,
    default=0.0,
    show_default=True,
    help="Fraction of API calls refused with 429 and Retry-After.",
)
@click.option(
    "--retry-after",
    type=float,
    default=1.0,
    show_default=True,
    help="Seconds a random 429 (--throttle-rate) asks the client to wait.",
)
@click.option(
    "--token-ttl", type=float, default=3600.0, show_default=True, help="Access token lifetime (s)."
)
@click.option(
    "--error-status",
    type=int,
    default=200,
    show_default=True,
    help='HTTP status of {"errors": [...]} answers (200: errors only in the body).',
)
@click.option(
    "--error-items",
    type=click.Choice(["objects", "strings"]),
    default="objects",
    show_default=True,
    help="Shape of errors[] items: objects (message, code, field) or bare message strings.",
)
@click.option(
    "--no-modified-filter",
    is_flag=True,
    help="Make list ignore modifiedFrom (clients must scan and compare modifyDate).",
)
@click.option(
    "--fail-rate",
    type=float,
    default=0.0,
    show_default=True,
    help="Fraction of API calls answered 503 with an HTML page (retryable).",
)
@click.option(
    "--latency", type=float, default=0.0, show_default=True, help="Seconds added to every API call."
)
@click.option("--threads", type=int, default=8, show_default=True, help="Server worker threads.")
def command(
    port: int,
    records: int,
    seed: int,
    client_id: str,
    client_secret: str,
    username: str,
    password: str,
    timezone: str,
    rate_limit: int,
    throttle_rate: float,
    retry_after: float,
    token_ttl: float,
    error_status: int,
    error_items: str,
    no_modified_filter: bool,
    fail_rate: float,
    latency: float,
    threads: int,
) -> None:
    """Serve the Egito CRM REST API (contacts, accounts, dictionaries, OAuth2) on loopback.

    The first line on stdout is a JSON connection table for [connections.<name>].
    """
    stats = Stats()
    app = build_app(
        records,
        account=EgitoAccount(client_id, client_secret, username, password),
        faults=Faults(latency=latency, fail_rate=fail_rate, seed=seed),
        rate_limit=rate_limit,
        throttle_rate=throttle_rate,
        retry_after=retry_after,
        token_ttl=token_ttl,
        error_status=error_status,
        error_items=error_items,
        modified_filter=not no_modified_filter,
        timezone=timezone,
        seed=seed,
        stats=stats,
    )
    server = EmulatorServer(with_admin(app, stats), port=port, threads=threads)
    print_connection_table(connection_table(app, server.url))
    server.serve_forever()
