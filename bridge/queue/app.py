"""The worker's Celery app: the shared settings (:func:`bridge.runs.queueing.celery_app`)
with the run and partition-helper tasks registered."""

from __future__ import annotations

from celery import Celery

from bridge.queue.tasks import help_task, run_task
from bridge.runs.queue_settings import QueueSettings
from bridge.runs.queueing import HELP_TASK, RUN_TASK, celery_app


def build_app(settings: QueueSettings) -> Celery:
    app = celery_app(settings)
    app.task(name=RUN_TASK, bind=True)(run_task)
    app.task(name=HELP_TASK, bind=True)(help_task)
    return app
