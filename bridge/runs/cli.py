"""``soapbridge sync``, ``soapbridge deadletters`` and ``soapbridge schedule``.

Each command reads and checks its config before it imports what runs (the engine brings
the store, SQLAlchemy and Alembic with it), so help and config errors answer at once.
"""

from __future__ import annotations

import json
import signal
import sys
import threading
import time
from collections.abc import Callable
from functools import partial
from typing import Any

import click
from rich.console import Console
from rich.progress import (
    BarColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from bridge.config import config_option, json_option, load_config
from bridge.sync.report import Counts, SyncReport

CONFIG_OPTION = config_option()


@click.command()
@click.argument("name")
@CONFIG_OPTION
@click.option(
    "--full", is_flag=True, help="Read everything, not only what changed since the last run."
)
@click.option(
    "--dry-run",
    is_flag=True,
    help="Print what would be created, updated, deleted or flagged; write nothing.",
)
@click.option(
    "--reconcile",
    is_flag=True,
    help="Also list every id on each side and treat linked records that are gone as deleted.",
)
@click.option(
    "--confirm-deletes",
    is_flag=True,
    help="Carry the deletes even when more than max_delete_fraction (default 5%) "
    "of the linked records, or more than max_deletes, would go.",
)
@json_option("Print the summary as JSON, no progress bar.")
def sync(
    name: str,
    config_path: str,
    full: bool,
    dry_run: bool,
    reconcile: bool,
    confirm_deletes: bool,
    as_json: bool,
) -> None:
    """Run the integration NAME once; exits 1 when records failed or deletes wait."""
    config = load_config(config_path)
    # Imported once the config is known to be good: the engine brings the store with it.
    from bridge.runs.launch import run_integration

    console = Console(stderr=True)
    run = partial(
        run_integration,
        config,
        name,
        full=full,
        dry_run=dry_run,
        reconcile=reconcile,
        confirm_deletes=confirm_deletes,
    )
    if as_json:
        report = run()
        click.echo(json.dumps(report.as_dict(), indent=2))
    else:
        report = _with_progress(run, console)
        _print_summary(report, Console())
    sys.exit(0 if report.ok else 1)


def _with_progress(run: Callable[..., SyncReport], console: Console) -> SyncReport:
    progress = Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        TextColumn("{task.completed:,} records"),
        TextColumn("{task.fields[rate]:,.0f}/s"),
        TimeRemainingColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    )
    tasks: dict[str, TaskID] = {}
    started = time.perf_counter()

    def on_progress(direction: str, counts: Counts, total: int | None) -> None:
        if direction not in tasks:
            tasks[direction] = progress.add_task(direction, total=total, rate=0.0)
        rate = counts.read / max(time.perf_counter() - started, 1e-6)
        progress.update(tasks[direction], completed=counts.read, total=total, rate=rate)

    with progress:
        return run(on_progress=on_progress)


def _print_summary(report: SyncReport, console: Console) -> None:
    title = f"{report.integration} ({report.direction}){' - dry run' if report.dry_run else ''}"
    table = Table(title=title)
    table.add_column("direction")
    for column in Counts.__dataclass_fields__:
        table.add_column(column, justify="right")
    rows: list[tuple[str, Counts]] = list(report.directions.items())
    if len(rows) > 1:
        rows.append(("total", report.totals))
    for direction, counts in rows:
        table.add_row(direction, *(f"{v:,}" for v in counts.as_dict().values()))
    console.print(table)
    if report.dry_run and report.planned:
        console.print("Would write:")
        for planned in report.planned[:200]:
            console.print(f"  {planned.direction}: {planned.action} {planned.key} ({planned.name})")
        if len(report.planned) > 200:
            console.print(f"  ... and {len(report.planned) - 200} more")
    if report.error:
        console.print(f"[bold red]{report.error}[/]")
    console.print(
        f"duration {report.seconds:.1f} s" + (f", job {report.job_id}" if report.job_id else "")
    )


@click.group()
def deadletters() -> None:
    """List and replay records that failed to sync."""


@deadletters.command("list")
@click.argument("name")
@CONFIG_OPTION
@click.option("--all", "show_all", is_flag=True, help="Include resolved letters.")
@json_option("Print JSON.")
def list_letters(name: str, config_path: str, show_all: bool, as_json: bool) -> None:
    """Dead letters of the integration NAME, oldest first."""
    config = load_config(config_path)
    from bridge.store import open_store

    store = open_store(config)
    # A config-file integration, or one kept in the store (created through /v1).
    integration = store.integrations.by_name(name)
    if integration is None:
        config.integration(name)  # unknown to both: the config's clear error
    letters = (
        []
        if integration is None
        else store.dead_letters.query(
            integration_id=integration.id, resolved=None if show_all else False, limit=10_000
        )
    )
    if as_json:
        rows: list[dict[str, Any]] = [
            {
                "id": x.id,
                "direction": x.direction,
                "record": x.record_key,
                "code": x.error_code,
                "error": x.error_message,
                "attempts": x.attempts,
                "resolved": x.resolved,
            }
            for x in letters
        ]
        click.echo(json.dumps(rows, indent=2))
        return
    table = Table(title=f"dead letters of {name}")
    for column in ("id", "direction", "record", "code", "error", "attempts", "resolved"):
        table.add_column(column)
    for x in letters:
        table.add_row(
            str(x.id),
            x.direction,
            x.record_key,
            x.error_code or "",
            x.error_message,
            str(x.attempts),
            "yes" if x.resolved else "",
        )
    Console().print(table)


@deadletters.command("replay")
@click.argument("name")
@CONFIG_OPTION
def replay(name: str, config_path: str) -> None:
    """Send the unresolved dead letters of NAME again; exits 1 if some still fail."""
    config = load_config(config_path)
    from bridge.runs.replay import replay_dead_letters

    result = replay_dead_letters(config, name)
    click.echo(f"replayed {result.resolved} of {result.tried}; {result.failed} still failing")
    sys.exit(0 if result.failed == 0 else 1)


@click.command()
@CONFIG_OPTION
def schedule(config_path: str) -> None:
    """Run every integration on its cron ``schedule`` until interrupted.

    Schedules come from the config file and from integrations created through /v1.
    """
    config = load_config(config_path)
    from bridge.runs.scheduler import build_scheduler
    from bridge.store import open_store

    scheduler = build_scheduler(config, open_store(config))
    for item in scheduler.schedules.values():
        click.echo(
            f"{item.name}: '{item.expression}', next at {item.next_at:%Y-%m-%d %H:%M:%S} UTC"
        )
    if not scheduler.schedules:
        click.echo("no schedules yet; watching the store for integrations given one")
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        scheduler.serve_forever(stop)
    except KeyboardInterrupt:
        stop.set()
