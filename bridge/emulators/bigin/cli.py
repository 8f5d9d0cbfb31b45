"""``soapbridge emulate bigin``: the Zoho Bigin emulator in the foreground."""

from __future__ import annotations

from bridge.emulators.bigin import build_app, connection_table
from bridge.emulators.kit.cli import EmulatorRun, emulator_command, option


@emulator_command("bigin", failure="500 INTERNAL_ERROR")
@option(
    "--token-ttl",
    3600.0,
    "Access token lifetime in seconds (Zoho: 3600). Short values exercise refresh.",
)
@option(
    "--refresh-limit",
    5,
    "Access tokens one refresh token may mint per minute (Zoho: 5; 0 = no limit).",
)
@option(
    "--credits",
    0,
    "API credits per window (Bigin Free: 5000 per 24 h; 0 = no limit). "
    "Reads cost 1, writes 1 per 10 records; over the limit answers 429.",
)
@option("--credit-window", 86400.0, "Length of the rolling credit window in seconds.")
@option("--concurrency", 10, "API calls in flight at once before 429 (0 = no limit).")
@option("--search-lag", 0.0, "Seconds before a write shows in search results (Zoho: about 10-20).")
@option(
    "--timezone",
    "Asia/Kolkata",
    "Timezone of the datetimes the API writes (always with a numeric offset).",
)
def command(
    run: EmulatorRun,
    token_ttl: float,
    refresh_limit: int,
    credits: int,
    credit_window: float,
    concurrency: int,
    search_lag: float,
    timezone: str,
) -> None:
    """Serve Zoho Bigin v2 (Contacts, Accounts, Watch) and its OAuth token endpoint.

    GET /_emulator/stats counts requests, statuses, credits and tokens issued.
    """
    app = build_app(
        run.records,
        seed=run.seed,
        faults=run.faults,
        token_ttl=token_ttl,
        refresh_limit=refresh_limit or None,
        credits=credits or None,
        credit_window=credit_window,
        concurrency=concurrency or None,
        timezone=timezone,
        search_lag=search_lag,
        stats=run.stats,
    )
    run.serve(app, connection_table, on_exit=app.close)
