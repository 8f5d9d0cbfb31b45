"""``soapbridge schedule``: cron schedules from the config file and from the ``/v1`` API.

Integrations in the config file are scheduled by :class:`~bridge.sync.scheduler.Scheduler`
itself. Integrations created through the control plane live in the store; their
``settings.schedule`` is read here, again before every look at the clock, so a schedule set,
changed or removed through the API takes effect within a minute without a restart. Only
installed integrations (``mode`` = settings) fire.
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable
from datetime import UTC, datetime

import click

from bridge.api.wiring import Wiring
from bridge.config import Config, load_config
from bridge.errors import ConfigError
from bridge.store import Store, open_store
from bridge.sync.engine import SyncEngine
from bridge.sync.report import SyncReport
from bridge.sync.scheduler import Runner, Schedule, Scheduler

log = logging.getLogger(__name__)


def store_runner(config: Config, store: Store, integration_id: str) -> Runner:
    """How a store-held integration runs: queued when a broker is configured, else here."""
    if config.queue.get("broker_url"):
        from bridge.queue.submit import submit_run

        def queue(name: str) -> SyncReport:
            submitted = submit_run(config, integration_id, store, skip_if_busy=True)
            return SyncReport(name, "", job_id=submitted.job_id)

        return queue
    wiring = Wiring(store, config)

    def run_here(name: str) -> SyncReport:
        integration = store.integrations.get(integration_id)
        if integration is None:
            raise ConfigError(f"integration {name} no longer exists")
        with wiring.spec(integration) as spec:
            return SyncEngine(store, spec).run()

    return run_here


def refresh_from_store(config: Config, store: Store) -> Callable[[Scheduler], None]:
    configured = {i.name for i in config.integrations}

    def refresh(scheduler: Scheduler) -> None:
        now = datetime.now(UTC)
        wanted: dict[str, tuple[str, str]] = {}
        for integration in store.integrations.all(limit=100_000):
            expression = integration.settings.get("schedule")
            if integration.name in configured or not expression or integration.mode != "settings":
                continue
            wanted[integration.name] = (str(expression), integration.id)
        for name in [n for n in scheduler.schedules if n not in configured and n not in wanted]:
            del scheduler.schedules[name]
            log.info("%s: no longer scheduled", name)
        for name, (expression, integration_id) in wanted.items():
            current = scheduler.schedules.get(name)
            if current is not None and current.expression == expression:
                continue
            try:
                scheduler.schedules[name] = Schedule.starting(
                    name, expression, now, store_runner(config, store, integration_id)
                )
            except ConfigError as exc:
                log.warning("%s", exc)
                continue
            log.info("%s: scheduled '%s' (from the API)", name, expression)

    return refresh


def build_scheduler(config: Config, store: Store) -> Scheduler:
    scheduler = Scheduler.from_config(config, store)
    scheduler.refresh = refresh_from_store(config, store)
    scheduler.refresh(scheduler)
    return scheduler


@click.command()
@click.option(
    "--config",
    "config_path",
    envvar="SOAPBRIDGE_CONFIG",
    required=True,
    type=click.Path(exists=True, dir_okay=False),
    help="The TOML config file (or SOAPBRIDGE_CONFIG).",
)
def schedule(config_path: str) -> None:
    """Run every integration on its cron ``schedule`` until interrupted.

    Schedules come from the config file and from integrations created through /v1.
    """
    config = load_config(config_path)
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
