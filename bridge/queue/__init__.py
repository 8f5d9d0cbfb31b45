"""Scale-out: sync runs queued on Celery (Redis broker) and run by ``soapbridge worker``.

With ``[queue] broker_url`` set, the scheduler (and the control plane, through
:func:`submit_run`) enqueue runs instead of running them in-process; without it nothing
here is used. See :mod:`bridge.queue.settings` for the table, :mod:`bridge.queue.tasks`
for what a worker does, and :mod:`bridge.sync.partition` for partitioned full syncs.
"""

from bridge.queue.settings import QueueSettings
from bridge.queue.submit import SubmittedRun, queue_settings, scheduled_runner, submit_run

__all__ = ["QueueSettings", "SubmittedRun", "queue_settings", "scheduled_runner", "submit_run"]
