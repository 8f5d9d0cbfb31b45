"""Scale-out: the worker side of queued runs (``soapbridge worker``, Celery on Redis).

With ``[queue] broker_url`` set, the launcher the entry points pick
(:func:`bridge.runs.launch.launcher_for`) sends runs here instead of running them
in-process; without it nothing here is used. :mod:`bridge.runs.queueing` sends the
messages and builds the Celery app both sides share; :mod:`.tasks` is what a worker does
with them, :mod:`.app` registers those tasks, :mod:`.cli` starts a worker, and
:mod:`bridge.sync.partition` splits a full sync across workers.
"""
