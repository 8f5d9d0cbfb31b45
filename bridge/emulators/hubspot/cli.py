"""``soapbridge emulate hubspot``: the HubSpot CRM emulator in the foreground."""

from __future__ import annotations

import click

from bridge.emulators.hubspot import AUTH_STYLES, build_app, connection_table
from bridge.emulators.server import (
    EmulatorServer,
    Faults,
    Stats,
    print_connection_table,
    with_admin,
)


@click.command("hubspot")
@click.option(
    "--port", type=int, default=0, show_default=True, help="Port on 127.0.0.1 (0 picks a free one)."
)
@click.option(
    "--records", type=int, default=250, show_default=True, help="Contacts to seed (0 starts empty)."
)
@click.option("--seed", type=int, default=42, show_default=True, help="Seed for generated data.")
@click.option(
    "--auth",
    type=click.Choice(AUTH_STYLES),
    default="oauth",
    show_default=True,
    help="Credentials printed: an OAuth refresh token, or a private-app token.",
)
@click.option(
    "--token-ttl",
    type=float,
    default=1800.0,
    show_default=True,
    help="OAuth access token lifetime in seconds (HubSpot: 1800).",
)
@click.option(
    "--burst-limit",
    type=int,
    default=190,
    show_default=True,
    help="Private-app calls per rolling 10 s before 429 (HubSpot Pro: 190; 0 = no limit).",
)
@click.option(
    "--oauth-burst-limit",
    type=int,
    default=110,
    show_default=True,
    help="OAuth calls per rolling 10 s before 429 (HubSpot: 110; 0 = no limit).",
)
@click.option(
    "--daily-limit",
    type=int,
    default=625_000,
    show_default=True,
    help="Private-app calls per UTC day (HubSpot Pro: 625,000; 0 = no limit).",
)
@click.option(
    "--search-limit",
    type=int,
    default=5,
    show_default=True,
    help="Search calls per second (HubSpot: 5; 0 = no limit).",
)
@click.option(
    "--index-lag",
    type=float,
    default=1.0,
    show_default=True,
    help="Seconds before a write shows in search results.",
)
@click.option(
    "--throttle-rate",
    type=float,
    default=0.0,
    show_default=True,
    help="Fraction of API calls refused with 429 and Retry-After regardless of counts.",
)
@click.option(
    "--retry-after",
    type=float,
    default=1.0,
    show_default=True,
    help="Seconds a random 429 (--throttle-rate) asks the client to wait.",
)
@click.option(
    "--fail-rate",
    type=float,
    default=0.0,
    show_default=True,
    help="Fraction of API calls answered 502 (retryable).",
)
@click.option(
    "--latency", type=float, default=0.0, show_default=True, help="Seconds added to every API call."
)
@click.option("--threads", type=int, default=8, show_default=True, help="Server worker threads.")
def command(
    port: int,
    records: int,
    seed: int,
    auth: str,
    token_ttl: float,
    burst_limit: int,
    oauth_burst_limit: int,
    daily_limit: int,
    search_limit: int,
    index_lag: float,
    throttle_rate: float,
    retry_after: float,
    fail_rate: float,
    latency: float,
    threads: int,
) -> None:
    """Serve HubSpot's CRM v3 contacts API (OAuth, search, batches, webhooks) on loopback.

    The first line on stdout is a JSON connection table for [connections.<name>].
    """
    stats = Stats()
    faults = Faults(
        latency=latency,
        fail_rate=fail_rate,
        seed=seed,
        throttle_rate=throttle_rate,
        retry_after=retry_after,
    )
    app = build_app(
        records,
        faults=faults,
        burst_limit=burst_limit,
        oauth_burst_limit=oauth_burst_limit,
        daily_limit=daily_limit,
        search_limit=search_limit,
        token_ttl=token_ttl,
        index_lag=index_lag,
        auth=auth,
        seed=seed,
        stats=stats,
    )
    server = EmulatorServer(with_admin(app, stats), port=port, threads=threads)
    print_connection_table(connection_table(app, server.url))
    server.serve_forever()
