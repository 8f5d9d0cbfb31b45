"""What a worker does with a queued run: the ordinary engine, or a partitioned full sync.

A run message (sent by :mod:`bridge.runs.queueing`) names the integration (a config name,
or the id of one the control plane keeps in the store), the job queued for it, and whether
to read everything. A full sync
whose source can be split (see :mod:`bridge.sync.partition`) is coordinated by the worker
that took the message, which asks for ``parallelism - 1`` helper tasks; any other run is
:class:`~bridge.sync.engine.SyncEngine` as in-process. Connectors get the shared Redis rate
limit (:mod:`bridge.ratelimit`) when one is configured.

Messages are acknowledged after the task ends (``acks_late``): a worker killed mid-run
leaves its message to be delivered again, and the store's leases, plan and checkpoints
make the second delivery continue the run instead of repeating or doubling it.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cached_property
from typing import Any

import redis
from celery import Task

from bridge.config import CONFIG_ENV, Config, load_config
from bridge.errors import BridgeError, ConfigError
from bridge.ratelimit import account_key, share_rate_limits
from bridge.runs.queue_settings import QueueSettings
from bridge.runs.queueing import HELP_TASK
from bridge.runs.wiring import Wiring
from bridge.store import Store, open_store
from bridge.store.repos.jobs import CANCELED, FINISHED, QUEUED
from bridge.store.repos.leases import LockHeld
from bridge.sync.engine import SyncEngine, SyncSpec
from bridge.sync.partition import PartitionedRun, Plan, can_partition
from bridge.sync.report import SOURCE_TO_TARGET

log = logging.getLogger(__name__)


class WorkerContext:
    """One worker process's config, store and Redis client, made on first use.

    Made lazily so that a prefork pool's children open their own database connections
    instead of sharing the parent's sockets.
    """

    def __init__(self, config: Config, settings: QueueSettings) -> None:
        self.config = config
        self.settings = settings

    @cached_property
    def store(self) -> Store:
        return open_store(self.config)

    @cached_property
    def redis(self) -> redis.Redis | None:
        url = self.settings.rate_limit_url
        return redis.Redis.from_url(url) if url else None


_context: WorkerContext | None = None
_context_lock = threading.Lock()


def install_context(context: WorkerContext | None) -> None:
    global _context
    with _context_lock:
        _context = context


def current_context() -> WorkerContext:
    """The worker's context, loaded from ``SOAPBRIDGE_CONFIG`` the first time."""
    global _context
    with _context_lock:
        if _context is None:
            path = os.environ.get(CONFIG_ENV)
            if not path:
                raise ConfigError(f"the worker needs its config file ({CONFIG_ENV})")
            config = load_config(path)
            settings = QueueSettings.from_config(config)
            if settings is None:
                raise ConfigError("the worker's config has no [queue] broker_url")
            _context = WorkerContext(config, settings)
        return _context


@contextmanager
def worker_spec(context: WorkerContext, integration: str, *, full: bool) -> Iterator[SyncSpec]:
    """The integration's spec with live connectors sharing the account rate limits.

    ``integration`` is a config-file name or a store integration's ``_id``: the catalog
    (:class:`~bridge.runs.wiring.Wiring`) builds both alike.
    """
    wiring = Wiring(context.store, context.config)
    planned = wiring.plan(integration)
    with wiring.spec(integration, full=full) as spec:
        if context.redis is not None:
            ends = ((spec.source, planned.source), (spec.target, planned.target))
            for connector, connection in ends:
                share_rate_limits(connector, context.redis, account_key(connection))
        yield spec


def run_task(
    task: Task, integration: str, job_id: str | None = None, full: bool = False
) -> dict[str, Any]:
    """Run one integration (the body of :data:`RUN_TASK`)."""
    context = current_context()
    if job_id is not None:
        job = context.store.jobs.get(job_id)
        if job is not None and job.status in FINISHED:
            # The broker handed the message out again (its visibility timeout passed while
            # the run went on): the run it asked for is over, do not start another.
            log.info("job %s is %s already; this delivery is a repeat", job_id, job.status)
            return {"skipped": f"job already {job.status}", "job_id": job_id, "partitions": 0}
    with worker_spec(context, integration, full=full) as spec:
        if can_partition(spec):
            run = PartitionedRun(
                context.store, spec, size=context.settings.partition_size,
                claim_ttl=_seconds(context.settings.claim_seconds),
            )  # fmt: skip
            first = context.store.checkpoints.get(run.integration_id, SOURCE_TO_TARGET) is None
            if full or first or run.plan() is not None:

                def ask_for_helpers(plan: Plan) -> None:
                    for _ in range(context.settings.parallelism - 1):
                        task.app.send_task(
                            HELP_TASK, args=[integration], queue=context.settings.name
                        )

                try:
                    return run.coordinate(job_id, on_plan=ask_for_helpers).as_dict()
                except LockHeld as exc:
                    # A run is on (this message delivered twice, or a run started elsewhere):
                    # lend a hand if it is a partitioned one.
                    return _busy(context, job_id, exc, helped=run.help())
        try:
            return SyncEngine(context.store, spec).run(job_id=job_id).as_dict()
        except LockHeld as exc:
            return _busy(context, job_id, exc, helped=0)


def help_task(task: Task, integration: str) -> dict[str, Any]:
    """Sync partitions of a partitioned run in progress (the body of :data:`HELP_TASK`)."""
    context = current_context()
    with worker_spec(context, integration, full=True) as spec:
        if not can_partition(spec):
            return {"integration": integration, "partitions": 0}
        run = PartitionedRun(
            context.store, spec, size=context.settings.partition_size,
            claim_ttl=_seconds(context.settings.claim_seconds),
        )  # fmt: skip
        return {"integration": integration, "partitions": run.help()}


def _busy(
    context: WorkerContext, job_id: str | None, exc: LockHeld, *, helped: int
) -> dict[str, Any]:
    """Cancel the queued job of a run that found another in progress (not a running one)."""
    log.info("%s; this run is skipped (helped with %d partitions)", exc, helped)
    if job_id is not None:
        job = context.store.jobs.get(job_id)
        if job is not None and job.status == QUEUED:
            with contextlib.suppress(BridgeError):
                context.store.jobs.finish(job_id, CANCELED, error="another run was in progress")
    return {"skipped": str(exc), "job_id": job_id, "partitions": helped}


def _seconds(value: float) -> Any:
    from datetime import timedelta

    return timedelta(seconds=value)
