"""Running integrations: which one, built how, run where, when, and replayed.

The composition layer between the engine (:mod:`bridge.sync`, which knows nothing of
where it runs) and the entry points:

- :mod:`.wiring`: the catalog, :class:`Wiring`: config-file and store integrations to a
  run spec with live connectors; :mod:`.options`: an integration's options read once;
- :mod:`.launch`: one :class:`Launcher` interface, here (:class:`LocalLauncher`) or on the
  queue (:class:`QueuedLauncher`, sending through :mod:`.queueing`), picked once by the
  entry point with :func:`launcher_for`;
- :mod:`.scheduler`: cron schedules of the config file and of the store;
- :mod:`.replay`: dead letters sent again, for both kinds of integration;
- :mod:`.cli`: ``soapbridge sync``, ``deadletters`` and ``schedule``.

The names below are imported on first use: ``soapbridge sync --help`` must not load the
store (SQLAlchemy, Alembic) or Celery.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bridge.runs.launch import (
        Launcher,
        LocalLauncher,
        QueuedLauncher,
        RunRequest,
        launcher_for,
        run_integration,
    )
    from bridge.runs.queue_settings import QueueSettings
    from bridge.runs.queueing import SubmittedRun, submit_run
    from bridge.runs.replay import replay_dead_letters
    from bridge.runs.scheduler import Schedule, Scheduler, build_scheduler
    from bridge.runs.wiring import Wiring

_HOMES = {
    "Launcher": "bridge.runs.launch",
    "LocalLauncher": "bridge.runs.launch",
    "QueueSettings": "bridge.runs.queue_settings",
    "QueuedLauncher": "bridge.runs.launch",
    "RunRequest": "bridge.runs.launch",
    "Schedule": "bridge.runs.scheduler",
    "Scheduler": "bridge.runs.scheduler",
    "SubmittedRun": "bridge.runs.queueing",
    "Wiring": "bridge.runs.wiring",
    "build_scheduler": "bridge.runs.scheduler",
    "launcher_for": "bridge.runs.launch",
    "replay_dead_letters": "bridge.runs.replay",
    "run_integration": "bridge.runs.launch",
    "submit_run": "bridge.runs.queueing",
}
__all__ = [
    "Launcher",
    "LocalLauncher",
    "QueueSettings",
    "QueuedLauncher",
    "RunRequest",
    "Schedule",
    "Scheduler",
    "SubmittedRun",
    "Wiring",
    "build_scheduler",
    "launcher_for",
    "replay_dead_letters",
    "run_integration",
    "submit_run",
]


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(home), name)
