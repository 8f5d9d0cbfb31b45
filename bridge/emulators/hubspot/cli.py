"""``soapbridge emulate hubspot``: the HubSpot CRM emulator in the foreground."""

from __future__ import annotations

import click

from bridge.emulators.hubspot import AUTH_STYLES, build_app, connection_table
from bridge.emulators.kit.cli import EmulatorRun, emulator_command, option


@emulator_command("hubspot", failure="502")
@option(
    "--auth",
    "oauth",
    "Credentials printed: an OAuth refresh token, or a private-app token.",
    type=click.Choice(AUTH_STYLES),
)
@option("--token-ttl", 1800.0, "OAuth access token lifetime in seconds (HubSpot: 1800).")
@option(
    "--burst-limit",
    190,
    "Private-app calls per rolling 10 s before 429 (HubSpot Pro: 190; 0 = no limit).",
)
@option(
    "--oauth-burst-limit",
    110,
    "OAuth calls per rolling 10 s before 429 (HubSpot: 110; 0 = no limit).",
)
@option(
    "--daily-limit", 625000, "Private-app calls per UTC day (HubSpot Pro: 625,000; 0 = no limit)."
)
@option("--search-limit", 5, "Search calls per second (HubSpot: 5; 0 = no limit).")
@option("--index-lag", 1.0, "Seconds before a write shows in search results.")
def command(
    run: EmulatorRun,
    auth: str,
    token_ttl: float,
    burst_limit: int,
    oauth_burst_limit: int,
    daily_limit: int,
    search_limit: int,
    index_lag: float,
) -> None:
    """Serve HubSpot's CRM v3 contacts API (OAuth, search, batches, webhooks) on loopback."""
    app = build_app(
        run.records,
        faults=run.faults,
        burst_limit=burst_limit,
        oauth_burst_limit=oauth_burst_limit,
        daily_limit=daily_limit,
        search_limit=search_limit,
        token_ttl=token_ttl,
        index_lag=index_lag,
        auth=auth,
        seed=run.seed,
        stats=run.stats,
    )
    run.serve(app, connection_table)
