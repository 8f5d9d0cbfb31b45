"""The Celery app for Celery's own command line: ``celery -A bridge.queue.celery_app ...``.

Built from the config file named by ``SOAPBRIDGE_CONFIG`` when imported, so Celery's tools
(``inspect ping`` in a container health check, ``purge``, ``events``) talk to the same
broker and queue as ``soapbridge worker``. The bridge's own code builds its app with
:func:`bridge.queue.app.build_app` instead and never imports this module.
"""

from __future__ import annotations

from bridge.queue.app import build_app
from bridge.queue.tasks import current_context

app = build_app(current_context().settings)
