"""``soapbridge emulate bigin``: the Zoho Bigin emulator in the foreground."""

from __future__ import annotations

import click

from bridge.emulators.bigin import build_app, connection_table
from bridge.emulators.server import EmulatorServer, Faults, print_connection_table, with_admin


@click.command("bigin")
@click.option(
    "--port", type=int, default=0, show_default=True, help="Port on 127.0.0.1 (0 picks a free one)."
)
@click.option(
    "--records", type=int, default=250, show_default=True, help="Contacts to seed (0 starts empty)."
)
@click.option("--seed", type=int, default=42, show_default=True, help="Seed for generated data.")
@click.option(
    "--token-ttl",
    type=float,
    default=3600.0,
    show_default=True,
    help="Access token lifetime in seconds (Zoho: 3600). Short values exercise refresh.",
)
@click.option(
    "--refresh-limit",
    type=int,
    default=5,
    show_default=True,
    help="Access tokens one refresh token may mint per minute (Zoho: 5; 0 = no limit).",
)
@click.option(
    "--credits",
    type=int,
    default=0,
    show_default=True,
    help="API credits per window (Bigin Free: 5000 per 24 h; 0 = no limit). "
    "Reads cost 1, writes 1 per 10 records; over the limit answers 429.",
)
@click.option(
    "--credit-window",
    type=float,
    default=86400.0,
    show_default=True,
    help="Length of the rolling credit window in seconds.",
)
@click.option(
    "--concurrency",
    type=int,
    default=10,
    show_default=True,
    help="API calls in flight at once before 429 (0 = no limit).",
)
@click.option(
    "--throttle-rate",
    type=float,
    default=0.0,
    show_default=True,
    help="Fraction of API calls answered 429 with Retry-After (see --retry-after).",
)
@click.option(
    "--retry-after",
    type=float,
    default=1.0,
    show_default=True,
    help="Seconds sent in Retry-After on injected 429s (rounded up to whole seconds).",
)
@click.option(
    "--fail-rate",
    type=float,
    default=0.0,
    show_default=True,
    help="Fraction of API calls answered 500 INTERNAL_ERROR (retryable).",
)
@click.option(
    "--latency", type=float, default=0.0, show_default=True, help="Seconds added to every API call."
)
@click.option(
    "--search-lag",
    type=float,
    default=0.0,
    show_default=True,
    help="Seconds before a write shows in search results (Zoho: about 10-20).",
)
@click.option(
    "--timezone",
    default="Asia/Kolkata",
    show_default=True,
    help="Timezone of the datetimes the API writes (always with a numeric offset).",
)
@click.option("--threads", type=int, default=8, show_default=True, help="Server worker threads.")
def command(
    port: int,
    records: int,
    seed: int,
    token_ttl: float,
    refresh_limit: int,
    credits: int,
    credit_window: float,
    concurrency: int,
    throttle_rate: float,
    retry_after: float,
    fail_rate: float,
    latency: float,
    search_lag: float,
    timezone: str,
    threads: int,
) -> None:
    """Serve Zoho Bigin v2 (Contacts, Accounts, Watch) and its OAuth token endpoint.

    The first line on stdout is a JSON connection table for [connections.<name>];
    GET /_emulator/stats counts requests, statuses, credits and tokens issued.
    """
    app = build_app(
        records,
        seed=seed,
        faults=Faults(
            latency=latency,
            fail_rate=fail_rate,
            seed=seed,
            throttle_rate=throttle_rate,
            retry_after=retry_after,
        ),
        token_ttl=token_ttl,
        refresh_limit=refresh_limit or None,
        credits=credits or None,
        credit_window=credit_window,
        concurrency=concurrency or None,
        timezone=timezone,
        search_lag=search_lag,
    )
    server = EmulatorServer(with_admin(app, app.stats), port=port, threads=threads)
    print_connection_table(connection_table(app, server.url))
    try:
        server.serve_forever()
    finally:
        app.close()
