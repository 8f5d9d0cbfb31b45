"""Enqueue a run: what ``soapbridge serve`` (the control plane) and the scheduler call.

:func:`submit_run` creates the job (``queued``, so the caller has its id at once) and sends
the run message; a worker starts that same job. :func:`scheduled_runner` is the scheduler's
runner when a broker is configured: a firing that finds the integration running or already
queued is skipped, as in-process.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from dataclasses import dataclass

from celery import Celery

from bridge.config import Config
from bridge.errors import ConfigError, TransientError
from bridge.queue.settings import QueueSettings
from bridge.queue.tasks import RUN_TASK
from bridge.store import Store
from bridge.store.repos.jobs import FAILED, QUEUED
from bridge.store.repos.leases import LockHeld, integration_lock
from bridge.sync.report import SyncReport

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class SubmittedRun:
    integration: str
    integration_id: str
    job_id: str
    task_id: str


def queue_settings(config: Config) -> QueueSettings | None:
    """The broker settings, or None: then runs stay in-process (the embedded default)."""
    return QueueSettings.from_config(config)


@functools.lru_cache(maxsize=8)
def _app(settings: QueueSettings) -> Celery:
    from bridge.queue.app import build_app

    return build_app(settings)


def submit_run(
    config: Config,
    integration: str,
    store: Store,
    *,
    full: bool = False,
    job_id: str | None = None,
    skip_if_busy: bool = False,
) -> SubmittedRun:
    """Queue one run of ``integration`` (a config name, or a store integration's id).

    ``job_id``: a job the caller created already (left queued; the worker starts it).
    ``skip_if_busy``: raise :class:`LockHeld` instead when a run of the integration is
    going on or queued (the scheduler's rule).
    """
    settings = queue_settings(config)
    if settings is None:
        raise ConfigError("no [queue] broker_url: runs are in-process")
    integration_id, name, direction = _identify(config, integration, store)
    if skip_if_busy:
        lease = store.leases.get(integration_lock(integration_id))
        if lease is not None:
            raise LockHeld(integration_lock(integration_id), lease.holder)
        if store.jobs.query(integration_id=integration_id, status=QUEUED, limit=1):
            raise LockHeld(integration_lock(integration_id), "a queued run")
    if job_id is None:
        job_id = store.jobs.create(integration_id, direction=direction).id
    try:
        sent = _app(settings).send_task(
            RUN_TASK,
            args=[integration],
            kwargs={"job_id": job_id, "full": full},
            queue=settings.name,
        )
    except Exception as exc:  # kombu/redis errors: the broker is unreachable
        store.jobs.finish(job_id, FAILED, error="the run could not be queued")
        raise TransientError(
            f"queueing {name} failed ({type(exc).__name__})", system="queue"
        ) from exc
    log.info("%s: run queued as job %s (task %s)", name, job_id, sent.id)
    return SubmittedRun(name, integration_id, job_id, str(sent.id))


def _identify(config: Config, integration: str, store: Store) -> tuple[str, str, str]:
    """(store id, name, direction) of a configured or stored integration."""
    try:
        configured = config.integration(integration)
    except ConfigError:
        stored = store.integrations.get(integration)
        if stored is None:
            raise
        direction = str(stored.settings.get("direction") or "source-to-target")
        return stored.id, stored.name, direction
    row = store.integrations.ensure(
        configured.name,
        source=config.connection(configured.source).kind,
        target=config.connection(configured.target).kind,
        direction=configured.direction,
    )
    return row.id, configured.name, configured.direction


def scheduled_runner(config: Config, store: Store) -> Callable[[str], SyncReport]:
    """The scheduler's runner with a broker: queue the run, skipping a busy integration."""

    def run(name: str) -> SyncReport:
        submitted = submit_run(config, name, store, skip_if_busy=True)
        report = SyncReport(name, config.integration(name).direction, job_id=submitted.job_id)
        return report

    return run
