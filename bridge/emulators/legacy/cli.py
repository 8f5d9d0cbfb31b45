"""``soapbridge emulate legacy``: the legacy SOAP CRM emulator in the foreground."""

from __future__ import annotations

import click

from bridge.emulators.kit.cli import EmulatorRun, emulator_command, option
from bridge.emulators.legacy import LegacySite, build_app, connection_table
from bridge.emulators.legacy.app import QUIRKS


@emulator_command("legacy", calls="SOAP calls", failure="503 Service Unavailable")
@option("--site-id", 10101, "The site id consumers send.")
@option("--username", "api@example.com", "The API user name.")
@option("--password", "legacy-secret", "The API user's password.")
@option(
    "--timezone",
    "Australia/Sydney",
    "The site's timezone: every dateTime on the wire is local to it.",
)
@option("--max-batch", 1000, "Most contacts one ContactList_UpdateInsert may carry.")
@click.option(
    "--quirk",
    type=click.Choice(QUIRKS),
    default=None,
    help="Misbehave on purpose: empty-more (empty pages that claim moreRecords) "
    "or ignore-offset (the first page again and again).",
)
def command(
    run: EmulatorRun,
    site_id: int,
    username: str,
    password: str,
    timezone: str,
    max_batch: int,
    quirk: str | None,
) -> None:
    """Serve the legacy CRM's SOAP contact service on loopback."""
    site = LegacySite(site_id=site_id, username=username, password=password, timezone=timezone)
    app = build_app(
        run.records,
        site=site,
        faults=run.faults,
        quirk=quirk,
        seed=run.seed,
        max_batch=max_batch,
    )
    run.serve(app, connection_table)
