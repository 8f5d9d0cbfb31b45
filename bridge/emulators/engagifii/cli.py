"""``soapbridge emulate engagifii``: the Engagifii CRM emulator in the foreground."""

from __future__ import annotations

import click

from bridge.emulators.engagifii import (
    DEFAULT_RATE_LIMIT,
    IssuedClient,
    build_app,
    connection_table,
)
from bridge.emulators.server import (
    EmulatorServer,
    Faults,
    Stats,
    print_connection_table,
    with_admin,
)


@click.command("engagifii")
@click.option(
    "--port", type=int, default=0, show_default=True, help="Port on 127.0.0.1 (0 picks a free one)."
)
@click.option(
    "--records", type=int, default=250, show_default=True, help="People to seed (0 starts empty)."
)
@click.option("--seed", type=int, default=42, show_default=True, help="Seed for generated data.")
@click.option("--client-id", default="engagifii-client", show_default=True, help="OAuth client id.")
@click.option(
    "--client-secret", default="engagifii-secret", show_default=True, help="OAuth client secret."
)
@click.option(
    "--tenant",
    "tenants",
    multiple=True,
    default=("emulator", "second-tenant"),
    show_default=True,
    help="Tenant codes the client may use (repeat); the first is seeded and printed.",
)
@click.option(
    "--rate-limit",
    type=int,
    default=DEFAULT_RATE_LIMIT,
    show_default=True,
    help="API requests per minute before 429 RATE_LIMIT_EXCEEDED (0: unlimited).",
)
@click.option(
    "--throttle-rate",
    type=float,
    default=0.0,
    show_default=True,
    help="Fraction of API calls refused with 429 regardless of the count.",
)
@click.option(
    "--retry-after",
    type=float,
    default=1.0,
    show_default=True,
    help="Seconds a random 429 (--throttle-rate) asks the client to wait.",
)
@click.option(
    "--token-ttl",
    type=float,
    default=3600.0,
    show_default=True,
    help="Access token lifetime in seconds.",
)
@click.option(
    "--no-modified-filter",
    is_flag=True,
    help="Make PeoplePagingList ignore filter.modifiedDate (clients must scan and compare).",
)
@click.option(
    "--fail-rate",
    type=float,
    default=0.0,
    show_default=True,
    help="Fraction of API calls answered 503 SERVICE_UNAVAILABLE (retryable).",
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
    tenants: tuple[str, ...],
    rate_limit: int,
    throttle_rate: float,
    retry_after: float,
    token_ttl: float,
    no_modified_filter: bool,
    fail_rate: float,
    latency: float,
    threads: int,
) -> None:
    """Serve the Engagifii CRM API (people, organizations, OAuth2) on loopback.

    The first line on stdout is a JSON connection table for [connections.<name>].
    """
    stats = Stats()
    app = build_app(
        records,
        client=IssuedClient(client_id, client_secret, tuple(tenants)),
        faults=Faults(latency=latency, fail_rate=fail_rate, seed=seed),
        rate_limit=rate_limit,
        throttle_rate=throttle_rate,
        retry_after=retry_after,
        token_ttl=token_ttl,
        modified_filter=not no_modified_filter,
        seed=seed,
        stats=stats,
    )
    server = EmulatorServer(with_admin(app, stats), port=port, threads=threads)
    print_connection_table(connection_table(app, server.url))
    server.serve_forever()
