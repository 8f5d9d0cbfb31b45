"""The Celery app: Redis broker, late acknowledgement, one task at a time per worker slot.

Settings chosen for long, idempotent runs rather than many short tasks:

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

from celery import Celery

from bridge.queue.settings import QueueSettings
from bridge.queue.tasks import HELP_TASK, RUN_TASK, help_task, run_task


def build_app(settings: QueueSettings) -> Celery:
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
    app.task(name=RUN_TASK, bind=True)(run_task)
    app.task(name=HELP_TASK, bind=True)(help_task)
    return app
