"""Where a run happens: here, in the calling thread, or on the queue's workers.

One interface, :class:`Launcher`, two ways: :class:`LocalLauncher` runs the engine now and
returns its report; :class:`QueuedLauncher` sends the run to ``soapbridge worker``s
(:mod:`bridge.runs.queueing`) and returns at once, with the queued job's id. The entry point picks
one, once, with :func:`launcher_for` (a ``[queue] broker_url`` means the queue); the
scheduler, the control plane's job runner and ``soapbridge sync`` then only say *what* to
run (a :class:`RunRequest`), never *where*.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Protocol

from bridge.config import Config
from bridge.runs.queue_settings import QueueSettings
from bridge.runs.queueing import submit_run
from bridge.runs.wiring import Wiring
from bridge.store import LockHeld, Store, open_store
from bridge.sync.engine import SyncEngine
from bridge.sync.passes import ProgressCallback
from bridge.sync.report import SyncReport

#: How often a run waiting for the integration's lease looks again.
LEASE_POLL_SECONDS = 0.2


@dataclass(frozen=True, slots=True)
class RunRequest:
    """What to run: one integration, once, and how."""

    #: A config-file integration's name, or a store integration's ``_id`` (or name).
    integration: str
    #: A job created beforehand (left ``queued``) that the run reports into.
    job_id: str | None = None
    full: bool = False
    dry_run: bool = False
    reconcile: bool = False
    confirm_deletes: bool = False
    #: Refuse (raise :class:`LockHeld`) when a run of the integration is on or queued,
    #: instead of queueing another (the scheduler's rule).
    skip_if_busy: bool = False
    #: Seconds to wait for the integration's lease held by a run finishing (or a webhook
    #: push) before giving up with :class:`LockHeld` (the control plane's rule).
    lease_wait: float = 0.0


class Launcher(Protocol):
    """Runs integrations somewhere; see the module docstring."""

    def runs_here(self, request: RunRequest) -> bool:
        """Whether :meth:`launch` runs ``request`` in the calling thread (it may take long)."""
        ...

    def launch(
        self, request: RunRequest, on_progress: ProgressCallback | None = None
    ) -> SyncReport:
        """Run ``request`` (or queue it): its report, or the queued job's id in one."""
        ...


class LocalLauncher:
    """Runs the engine in the calling thread, with connectors built by the catalog."""

    def __init__(self, wiring: Wiring) -> None:
        self.wiring = wiring

    def runs_here(self, request: RunRequest) -> bool:
        return True

    def launch(
        self, request: RunRequest, on_progress: ProgressCallback | None = None
    ) -> SyncReport:
        store = self.wiring.store
        with self.wiring.spec(
            request.integration,
            full=request.full,
            dry_run=request.dry_run,
            reconcile=request.reconcile,
            confirm_deletes=request.confirm_deletes,
        ) as spec:
            engine = SyncEngine(store, spec, on_progress=on_progress)
            deadline = time.monotonic() + request.lease_wait
            while True:
                try:
                    return engine.run(job_id=request.job_id)
                except LockHeld:
                    # A run finishing (or a webhook push) still holds the lease for a
                    # moment; the job stays queued meanwhile, as integrator.io queues.
                    if time.monotonic() >= deadline:
                        raise
                    time.sleep(LEASE_POLL_SECONDS)


class QueuedLauncher:
    """Sends runs to the queue's workers; runs that reconcile or confirm deletes stay here.

    A run message carries the integration, its job and ``full`` only: a reconciling run,
    or one whose deletes were confirmed by a person, runs where it was asked for (``here``).
    """

    def __init__(self, wiring: Wiring, here: LocalLauncher | None = None) -> None:
        self.wiring = wiring
        self.here = here or LocalLauncher(wiring)

    def runs_here(self, request: RunRequest) -> bool:
        return request.reconcile or request.confirm_deletes or request.dry_run

    def launch(
        self, request: RunRequest, on_progress: ProgressCallback | None = None
    ) -> SyncReport:
        if self.runs_here(request):
            return self.here.launch(request, on_progress)
        submitted = submit_run(
            self.wiring.config,
            request.integration,
            self.wiring.store,
            full=request.full,
            job_id=request.job_id,
            skip_if_busy=request.skip_if_busy,
        )
        return SyncReport(submitted.integration, submitted.direction, job_id=submitted.job_id)


def launcher_for(wiring: Wiring) -> Launcher:
    """The launcher the config asks for: the queue with a ``[queue] broker_url``, else here."""
    if QueueSettings.from_config(wiring.config) is not None:
        return QueuedLauncher(wiring)
    return LocalLauncher(wiring)


def run_integration(
    config: Config,
    name: str,
    *,
    store: Store | None = None,
    full: bool = False,
    dry_run: bool = False,
    on_progress: ProgressCallback | None = None,
    reconcile: bool = False,
    confirm_deletes: bool = False,
) -> SyncReport:
    """Run the integration ``name`` once, here (``soapbridge sync``, the demo)."""
    wiring = Wiring(store or open_store(config), config)
    request = RunRequest(
        name, full=full, dry_run=dry_run, reconcile=reconcile, confirm_deletes=confirm_deletes
    )
    return LocalLauncher(wiring).launch(request, on_progress=on_progress)
