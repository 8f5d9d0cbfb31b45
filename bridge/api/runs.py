"""Background work of the control plane: integration runs and webhook pushes.

A run answers at once (202 with the job). The job row exists before the run starts, so
the client has its ``_id`` straight away; the run reports into that job. Where it runs is
the launcher's business (:mod:`bridge.runs.launch`, picked once when the control plane is
built): on the queue's workers, or here, on a small thread pool in the server process,
waiting up to :data:`LOCK_WAIT_SECONDS` for the integration's lease (a run or a webhook
push finishing) before failing its job with the reason. Jobs left ``running`` by a process
that died are marked failed by the engine's next run (``jobs.abandon_running``).
"""

from __future__ import annotations

import contextlib
import logging
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from bridge.api import metrics
from bridge.errors import BridgeError, ConfigError
from bridge.runs.launch import Launcher, RunRequest, launcher_for
from bridge.runs.wiring import Wiring
from bridge.store import Integration, Job, LockHeld, WebhookChannel
from bridge.store.repos.jobs import FAILED
from bridge.sync.engine import SyncEngine
from bridge.sync.report import BOTH, SOURCE_TO_TARGET, TARGET_TO_SOURCE

log = logging.getLogger(__name__)
#: How long a queued run waits for the integration's lease before its job fails.
LOCK_WAIT_SECONDS = 30.0


class JobRunner:
    """Runs integrations and webhook pushes in the background, a few at a time."""

    def __init__(self, wiring: Wiring, workers: int = 2, launcher: Launcher | None = None) -> None:
        self.wiring = wiring
        self.store = wiring.store
        self.launcher = launcher or launcher_for(wiring)
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="api-job")
        # Pushes get their own thread, so a long run never delays a webhook's few records;
        # one thread, because pushes of one integration queue on its lease anyway.
        self._pushes = ThreadPoolExecutor(max_workers=1, thread_name_prefix="api-push")

    def start(
        self, integration: Integration, *, reconcile: bool = False, confirm_deletes: bool = False
    ) -> Job:
        """A queued job for ``integration``, run in the background (here or on the queue)."""
        direction = integration.settings.get("direction") or SOURCE_TO_TARGET
        job = self.store.jobs.create(integration.id, type="flow", direction=direction)
        request = RunRequest(
            integration.id,
            job_id=job.id,
            reconcile=reconcile,
            confirm_deletes=confirm_deletes,
            lease_wait=LOCK_WAIT_SECONDS,
        )
        if not self.launcher.runs_here(request):
            try:  # only sends a message: the client's answer need not wait for a thread
                self.launcher.launch(request)
            except BridgeError as exc:
                self._fail(job, f"could not queue the run: {exc}")
            return job
        self._pool.submit(self._run, request)
        return job

    def _run(self, request: RunRequest) -> None:
        assert request.job_id is not None
        try:
            self.launcher.launch(request)
        except LockHeld:
            self._fail_id(request.job_id, "another run of this integration is in progress")
        except ConfigError as exc:
            missing = self.store.integrations.get(request.integration) is None
            reason = "the integration was deleted before its run started" if missing else exc
            self._fail_id(request.job_id, str(reason))
        except BridgeError as exc:
            self._fail_id(request.job_id, str(exc))  # the engine finished the job if it started
        except Exception:
            log.exception("run of integration %s failed", request.integration)
            self._fail_id(request.job_id, "internal error (see the server log)")
        finally:
            finished = self.store.jobs.get(request.job_id)
            if finished is not None:
                metrics.record_job(finished)

    def _fail(self, job: Job, reason: str) -> None:
        self._fail_id(job.id, reason)

    def _fail_id(self, job_id: str, reason: str) -> None:
        with contextlib.suppress(BridgeError):  # NotFound: the job went with its integration
            self.store.jobs.finish(job_id, FAILED, error=reason)

    def push(
        self, integration: Integration, channel: WebhookChannel, direction: str, ids: list[str]
    ) -> Future[None]:
        """Sync the notified records of ``integration`` in ``direction``, in the background."""
        return self._pushes.submit(self._push, integration.id, channel, direction, ids)

    def _push(
        self, integration_id: str, channel: WebhookChannel, direction: str, ids: list[str]
    ) -> None:
        try:
            integration = self.store.integrations.get(integration_id)
            if integration is None:
                return
            with self.wiring.spec(integration) as spec:
                counts = SyncEngine(self.store, spec).push_ids(direction, ids)
            metrics.record_counts("webhook", counts)
            metrics.SYNC_JOBS.labels("webhook", "completed").inc()
        except Exception:
            metrics.SYNC_JOBS.labels("webhook", "failed").inc()
            log.exception("webhook push for channel %s failed", channel.channel_id)

    def shutdown(self, wait: bool = True) -> None:
        for pool in (self._pushes, self._pool):
            pool.shutdown(wait=wait, cancel_futures=not wait)


def push_direction(wiring: Wiring, integration: Integration, connection_name: str) -> str | None:
    """Where changes notified by ``connection_name`` flow: away from it, toward the other end.

    None when the integration's direction does not carry changes from that side (a
    legacy -> Bigin integration ignores Bigin's notifications, including the echoes of
    its own writes).
    """
    for end, direction in (("target", TARGET_TO_SOURCE), ("source", SOURCE_TO_TARGET)):
        ident = integration.settings.get(end)
        if ident and wiring.connection(str(ident)).name == connection_name:
            return direction if changes_flow_from(integration.settings, end) else None
    return None


def changes_flow_from(settings: dict[str, Any], end: str) -> bool:
    """Whether the integration carries changes made at its ``end`` (source or target)."""
    direction = settings.get("direction") or SOURCE_TO_TARGET
    if direction == BOTH:
        return True
    return direction == (SOURCE_TO_TARGET if end == "source" else TARGET_TO_SOURCE)
