"""``soapbridge emulate legacy``: the legacy SOAP CRM emulator in the foreground."""

from __future__ import annotations

import click

from bridge.emulators.legacy import LegacySite, build_app, connection_table
from bridge.emulators.legacy.app import QUIRKS
from bridge.emulators.server import (
    EmulatorServer,
    Faults,
    Stats,
    print_connection_table,
    with_admin,
)


@click.command("legacy")
@click.option(
    "--port", type=int, default=0, show_default=True, help="Port on 127.0.0.1 (0 picks a free one)."
)
@click.option(
    "--records", type=int, default=250, show_default=True, help="Contacts to seed (0 starts empty)."
)
@click.option(
    "--seed", type=int, default=42, show_default=True, help="Seed for the generated contacts."
)
@click.option(
    "--site-id", type=int, default=10101, show_default=True, help="The site id consumers send."
)
@click.option("--username", default="api@example.com", show_default=True, help="The API user name.")
@click.option(
    "--password", default="legacy-secret", show_default=True, help="The API user's password."
)
@click.option(
    "--timezone",
    default="Australia/Sydney",
    show_default=True,
    help="The site's timezone: every dateTime on the wire is local to it.",
)
@click.option(
    "--fail-rate",
    type=float,
    default=0.0,
    show_default=True,
    help="Fraction of SOAP calls answered 503 Service Unavailable (retryable).",
)
@click.option(
    "--throttle-rate",
    type=float,
    default=0.0,
    show_default=True,
    help="Fraction of SOAP calls answered 429 Too Many Requests (as a gateway in front would).",
)
@click.option(
    "--retry-after",
    type=float,
    default=1.0,
    show_default=True,
    help="Seconds in the Retry-After header of those 429s.",
)
@click.option(
    "--latency",
    type=float,
    default=0.0,
    show_default=True,
    help="Seconds added to every SOAP call.",
)
@click.option(
    "--max-batch",
    type=int,
    default=1000,
    show_default=True,
    help="Most contacts one ContactList_UpdateInsert may carry.",
)
@click.option(
    "--quirk",
    type=click.Choice(QUIRKS),
    default=None,
    help="Misbehave on purpose: empty-more (empty pages that claim moreRecords) "
    "or ignore-offset (the first page again and again).",
)
@click.option("--threads", type=int, default=8, show_default=True, help="Server worker threads.")
def command(
    port: int,
    records: int,
    seed: int,
    site_id: int,
    username: str,
    password: str,
    timezone: str,
    fail_rate: float,
    throttle_rate: float,
    retry_after: float,
    latency: float,
    max_batch: int,
    quirk: str | None,
    threads: int,
) -> None:
    """Serve the legacy CRM's SOAP contact service on loopback.

    The first line on stdout is a JSON connection table for [connections.<name>].
    """
    site = LegacySite(site_id=site_id, username=username, password=password, timezone=timezone)
    app = build_app(
        records,
        site=site,
        faults=Faults(
            latency=latency,
            fail_rate=fail_rate,
            throttle_rate=throttle_rate,
            retry_after=retry_after,
            seed=seed,
        ),
        quirk=quirk,
        seed=seed,
        max_batch=max_batch,
    )
    server = EmulatorServer(with_admin(app, Stats()), port=port, threads=threads)
    print_connection_table(connection_table(app, server.url))
    server.serve_forever()
