"""Runs on the queue: the Celery app's settings, and sending a run to the workers.

:func:`submit_run` creates the job (``queued``, so the caller has its id at once) and sends
the run message; a ``soapbridge worker`` (:mod:`bridge.queue`) starts that same job. This
side only sends messages by task name, so it needs none of the worker's code; both sides
build their Celery app with :func:`celery_app`. Settings chosen for long, idempotent runs
rather than many short tasks:

- ``acks_late`` + ``reject_on_worker_lost``: a message is acknowledged when its task ends,
  so a run whose worker died is delivered again (the store makes the repeat continue).
- ``prefetch_multiplier = 1``: a busy worker does not hoard queued runs others could take.
- ``visibility_timeout``: how long Redis waits for an unacknowledged message before handing
  it to another worker; a run that outlives it is delivered twice, and the second copy,
  finding the integration's lease taken, helps with the partitions or steps aside (or,
  finding its job finished, does nothing).
- JSON only: messages carry names and ids, never pickled objects.
"""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass

from celery import Celery

from bridge.config import Config
from bridge.errors import ConfigError, TransientError
from bridge.runs.queue_settings import QueueSettings
from bridge.runs.wiring import Wiring
from bridge.store import Store
from bridge.store.repos.jobs import FAILED, QUEUED
from bridge.store.repos.leases import LockHeld, integration_lock

log = logging.getLogger(__name__)
#: The task names a run message and a partition helper are sent under.
RUN_TASK = "soapbridge.run"
HELP_TASK = "soapbridge.help_partitions"


def celery_app(settings: QueueSettings) -> Celery:
    """A Celery app on the configured broker and queue (no tasks registered)."""
    app = Celery(
        "soapbridge",
        broker=settings.broker_url,
        backend=settings.result_backend,
        set_as_current=False,
    )
    app.conf.update(
        task_default_queue=settings.name,
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        task_ignore_result=settings.result_backend is None,
        broker_transport_options={
            "visibility_timeout": settings.visibility_timeout,
            # Look for overdue messages every few seconds, every time (kombu's defaults look
            # every tenth 10-second tick, so a dead worker's run waited ~100 s more).
            "unacked_restore_interval": max(1.0, min(10.0, settings.visibility_timeout / 2)),
            "unacked_restore_throttle": 1,
        },
        broker_connection_retry_on_startup=True,
        task_serializer="json",
        result_serializer="json",
        accept_content=["json"],
        enable_utc=True,
    )
    return app


@dataclass(frozen=True, slots=True)
class SubmittedRun:
    integration: str
    integration_id: str
    job_id: str
    task_id: str
    direction: str = "source-to-target"


def queue_settings(config: Config) -> QueueSettings | None:
    """The broker settings, or None: then runs stay in-process (the embedded default)."""
    return QueueSettings.from_config(config)


@functools.lru_cache(maxsize=8)
def _app(settings: QueueSettings) -> Celery:
    return celery_app(settings)


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
    integration_id, name, direction = Wiring(store, config).identify(integration)
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
    return SubmittedRun(name, integration_id, job_id, str(sent.id), direction)
