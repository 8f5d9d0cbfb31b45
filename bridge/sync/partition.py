"""Partitioned full syncs: slices of an offset-paged feed, synced by several workers at once.

A full read of a source that declares offset slices (the legacy CRM's is ordered by
lastUpdateDate, entityId) is stable and every offset is an independent request, so records
[k*size, (k+1)*size) form partition k, which any worker can sync without the others. One
worker, the coordinator, holds the integration's lease for the whole run (one run per
integration, as for an ordinary run), writes a plan (the job, the partition size, whether
links existed) into the checkpoints table and asks for helpers; coordinator and helpers then
claim partitions in order, each claim a lease of its own, and sync them with the ordinary
:class:`~bridge.sync.passes.DirectionPass`: the same comparison, upserts, id links, dead
letters and counts into the one job, and a checkpoint per partition committed with each
page's links.

Nobody needs to know the number of records up front: the partition whose last page says
"no more records" marks itself last, and claims stop past it. A worker that dies leaves
its claim to expire (at once when it was a process of this host that is gone); whoever
looks next resumes that partition from its own checkpoint. When every partition up to
the last is done, the coordinator moves the direction's watermark to the latest change
seen, drops the partition checkpoints and the plan, and finishes the job.

The result is a single worker's: the same records compared against the same links and
written by the same upserts, only not in order. As with a single reader, a record changed
on the source while the read runs moves to the end of the order and shifts the offsets
after it, so a reader may step over one record; then, as in an ordinary pass, the
watermark does not move and the next run reads the window again.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from bridge.connectors.base import Capability, Connector, Page, Position
from bridge.model import utc_now
from bridge.store import Store
from bridge.store.repos.jobs import COMPLETED, FAILED, RUNNING
from bridge.store.repos.leases import LockHeld, integration_lock
from bridge.sync.engine import SyncEngine, SyncSpec, _dead_local_holder
from bridge.sync.passes import READ_CLOCK_MARGIN, ProgressCallback
from bridge.sync.report import SOURCE_TO_TARGET, Counts, SyncReport

log = logging.getLogger(__name__)

DEFAULT_SIZE = 5000
PAGE_SIZE = 100


def partition_key(direction: str, index: int) -> str:
    """The checkpoint key of partition ``index`` (fits the 32-character direction column)."""
    return f"{direction}@{index:05d}"


def plan_key(direction: str) -> str:
    return f"{direction}@plan"


def _whole_pages(size: int) -> int:
    """``size``, when partitions of it fall on page boundaries (else ``ValueError``).

    On page boundaries, every read of a partition is a whole page of the source.
    """
    if size < PAGE_SIZE or size % PAGE_SIZE:
        raise ValueError(f"partition size must be a multiple of {PAGE_SIZE}")
    return size


@dataclass(frozen=True, slots=True)
class Plan:
    """What every worker of one partitioned run must agree on."""

    run_id: str
    job_id: str
    size: int
    fresh: bool
    # When the read began (less the clock margin): a change seen after it may have shifted
    # offsets under the readers.
    started: datetime | None = None

    def to_json(self) -> dict[str, Any]:
        return {"run_id": self.run_id, "job_id": self.job_id, "size": self.size,
                "fresh": self.fresh,
                "started": self.started.isoformat() if self.started else None}  # fmt: skip

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Plan:
        started = data.get("started")
        return cls(str(data["run_id"]), str(data["job_id"]), int(data["size"]),
                   bool(data["fresh"]),
                   datetime.fromisoformat(started) if started else None)  # fmt: skip


def can_partition(spec: SyncSpec) -> bool:
    """Whether the source's full read can be split by offset (source -> target only)."""
    return spec.direction == SOURCE_TO_TARGET and spec.source.can(Capability.OFFSET_SLICES)


class PartitionedRun:
    """A full source -> target pass of one integration split into partitions of ``size``."""

    def __init__(
        self,
        store: Store,
        spec: SyncSpec,
        *,
        size: int = DEFAULT_SIZE,
        claim_ttl: timedelta = timedelta(seconds=30),
        poll: float = 0.25,
        on_progress: ProgressCallback | None = None,
    ) -> None:
        self.store = store
        self.spec = spec
        self.size = _whole_pages(size)
        self.claim_ttl = claim_ttl
        self.poll = poll
        self.on_progress = on_progress
        self.direction = SOURCE_TO_TARGET
        # The engine's comparer honours the field map's exclusions, as an ordinary run does.
        self._engine = SyncEngine(store, spec)
        self.integration_id = store.integrations.ensure(
            spec.name, source=spec.source.system, target=spec.target.system,
            direction=spec.direction,
        ).id  # fmt: skip
        self.partitions_synced = 0

    # -- the plan ---------------------------------------------------------------------

    def plan(self) -> Plan | None:
        """The plan of the run in progress, if any."""
        saved = self.store.checkpoints.get(self.integration_id, plan_key(self.direction))
        return Plan.from_json(saved.position) if saved and saved.position else None

    def _new_plan(self, job_id: str | None) -> Plan:
        self.store.jobs.abandon_running(self.integration_id, "interrupted: the run did not finish")
        self._drop_partitions()
        started = self.store.jobs.start(job_id) if job_id else None
        if started is None or started.status != RUNNING:
            created = self.store.jobs.create(self.integration_id, direction=self.direction)
            started = self.store.jobs.start(created.id)
        plan = Plan(
            run_id=uuid.uuid4().hex,
            job_id=started.id,
            size=self.size,
            fresh=self.store.links.count(self.integration_id) == 0,
            started=utc_now() - READ_CLOCK_MARGIN,
        )
        self.store.checkpoints.save(
            self.integration_id, plan_key(self.direction), watermark=None, position=plan.to_json()
        )
        return plan

    # -- coordinator --------------------------------------------------------------------

    def coordinate(
        self, job_id: str | None = None, on_plan: Callable[[Plan], None] | None = None
    ) -> SyncReport:
        """Run the whole partitioned pass under the integration's lease (raises LockHeld).

        ``on_plan`` is called once the plan is saved: the place to ask for helpers. A plan
        left by a coordinator that died is continued, not started again.
        """
        report = SyncReport(self.spec.name, self.spec.direction)
        started = time.perf_counter()
        with self._hold(integration_lock(self.integration_id), timedelta(seconds=60)):
            plan = self.plan()
            if plan is None or self._job_status(plan.job_id) != RUNNING:
                plan = self._new_plan(job_id)
            else:
                log.info("%s: continuing partitioned run %s", self.spec.name, plan.run_id)
            report.job_id = plan.job_id
            if on_plan is not None:
                on_plan(plan)
            try:
                self._engine.see_deletes(self.integration_id)
                while not self._all_done(plan):
                    if not self.work(plan):
                        time.sleep(self.poll)  # the rest are claimed by live workers
                # Deletes go after every partition, by the coordinator alone (its lease).
                self._engine.carry_deletes(self.integration_id, plan.job_id, report)
                self._finish(plan, report.error)
            except Exception as exc:
                report.error = str(exc)
                self.store.jobs.finish(plan.job_id, FAILED, error=str(exc))
                raise
            finally:
                report.seconds = time.perf_counter() - started
        job = self.store.jobs.get(plan.job_id)
        if job is not None:
            report.directions[self.direction] = Counts(
                read=job.num_read, created=job.num_created, updated=job.num_updated,
                unchanged=job.num_unchanged, failed=job.num_failed, conflicts=job.num_conflicts,
                deleted=job.num_deleted,
            )  # fmt: skip
        return report

    def _finish(self, plan: Plan, error: str | None = None) -> None:
        seen = [
            datetime.fromisoformat(state["max_seen"])
            for state in self._states().values()
            if state.get("max_seen")
        ]
        old = self.store.checkpoints.get(self.integration_id, self.direction)
        watermark = old.watermark if old else None
        latest = max(seen, default=None)
        if latest is not None and plan.started is not None and latest >= plan.started:
            # As in an ordinary pass: a record changed during the read may have shifted the
            # offsets, so the watermark stays and the next run reads this window again.
            log.info("%s: records changed during the read; the window stays open", self.spec.name)
        elif latest is not None:
            watermark = max(latest, watermark) if watermark else latest
        self.store.checkpoints.save(
            self.integration_id, self.direction, watermark=watermark, position=None
        )
        self._drop_partitions()
        self.store.checkpoints.reset(self.integration_id, plan_key(self.direction))
        self.store.jobs.finish(plan.job_id, COMPLETED, error=error)
        log.info("%s: partitioned run %s finished", self.spec.name, plan.run_id)

    def _job_status(self, job_id: str) -> str | None:
        job = self.store.jobs.get(job_id)
        return job.status if job else None

    # -- every worker -------------------------------------------------------------------

    def help(self) -> int:
        """Sync unclaimed partitions of the run in progress; how many this call synced."""
        plan = self.plan()
        if plan is None or self._job_status(plan.job_id) != RUNNING:
            return 0
        self.work(plan)
        return self.partitions_synced

    def work(self, plan: Plan) -> int:
        """Claim and sync partitions in order until none is left unclaimed; how many."""
        synced = 0
        index = 0
        while True:
            states = self._states()
            last = self._last(states)
            if last is not None and index > last:
                return synced
            state = states.get(index, {})
            if not state.get("done"):
                try:
                    with self._hold(self._claim(index), self.claim_ttl):
                        # Re-read under the claim: it may have finished since we looked.
                        fresh = self._states().get(index, {})
                        if not fresh.get("done"):
                            self._sync(plan, index, fresh)
                            synced += 1
                except LockHeld:
                    pass
            index += 1

    def _sync(self, plan: Plan, index: int, state: dict[str, Any]) -> None:
        key = partition_key(self.direction, index)
        start, stop = index * plan.size, (index + 1) * plan.size
        resume = state.get("resume")
        source = self.spec.source
        offset = source.slice_offset(Position.from_json(resume)) if resume else start
        max_seen = datetime.fromisoformat(state["max_seen"]) if state.get("max_seen") else None
        one = self._engine.direction_pass(
            self.integration_id,
            self.direction,
            job_id=plan.job_id,
            on_progress=self.on_progress,
            checkpoint_key=key,
            screen=self._engine.screen_for(self.integration_id, self.direction),
        )
        window = _Window(source, offset, stop)
        max_seen = one.sync_pages(window.pages(), fresh=plan.fresh, max_seen=max_seen)
        self.store.checkpoints.save(
            self.integration_id,
            key,
            watermark=None,
            position={
                "done": True,
                "last": window.exhausted,
                "max_seen": max_seen.isoformat() if max_seen else None,
            },
        )
        self.partitions_synced += 1
        log.info("%s: partition %d (%d..%d) synced, %d read", self.spec.name, index, start,
                 stop, one.counts.read)  # fmt: skip

    # -- bookkeeping --------------------------------------------------------------------

    def _claim(self, index: int) -> str:
        return f"partition:{self.integration_id}:{index}"

    def _states(self) -> dict[int, dict[str, Any]]:
        prefix = f"{self.direction}@"
        states: dict[int, dict[str, Any]] = {}
        for checkpoint in self.store.checkpoints.all(self.integration_id):
            suffix = checkpoint.direction.removeprefix(prefix)
            if checkpoint.direction.startswith(prefix) and suffix.isdigit():
                states[int(suffix)] = dict(checkpoint.position or {})
        return states

    @staticmethod
    def _last(states: dict[int, dict[str, Any]]) -> int | None:
        return min((i for i, s in states.items() if s.get("done") and s.get("last")), default=None)

    def _all_done(self, plan: Plan) -> bool:
        states = self._states()
        last = self._last(states)
        return last is not None and all(states.get(i, {}).get("done") for i in range(last + 1))

    def _drop_partitions(self) -> None:
        for index in self._states():
            self.store.checkpoints.reset(self.integration_id, partition_key(self.direction, index))

    def _hold(self, name: str, ttl: timedelta) -> Any:
        """The store lease ``name``, taken over from a dead process of this host."""
        try:
            return _Held(self.store, name, ttl)
        except LockHeld as exc:
            if not exc.holder or not _dead_local_holder(exc.holder):
                raise
            log.warning("%s: taking over from %s, which is no longer running", name, exc.holder)
            self.store.leases.release(name, exc.holder)
            return _Held(self.store, name, ttl)


class _Held:
    """A store lease entered at construction (so LockHeld surfaces before the ``with``)."""

    def __init__(self, store: Store, name: str, ttl: timedelta) -> None:
        self._context = store.leases.hold(name, ttl=ttl)
        self._context.__enter__()

    def __enter__(self) -> _Held:
        return self

    def __exit__(self, *exc: object) -> None:
        self._context.__exit__(None, None, None)


class _Window:
    """The source's full read from ``offset``, cut at ``stop``; ``exhausted`` once it ended.

    The source makes and reads its own slice cursors (``Capability.OFFSET_SLICES``).
    """

    def __init__(self, source: Connector, offset: int, stop: int) -> None:
        self.source = source
        self.offset = offset
        self.stop = stop
        self.exhausted = False

    def pages(self) -> Iterator[Page]:
        if self.offset >= self.stop:
            return
        resume = self.source.slice_position(self.offset)
        for page in self.source.read_changes(since=None, resume=resume):
            first = self.source.slice_offset(page.position) - len(page.contacts)
            keep = max(0, min(len(page.contacts), self.stop - first))
            end = first + keep
            self.exhausted = not page.more and keep == len(page.contacts)
            yield Page(
                contacts=page.contacts[:keep],
                position=self.source.slice_position(end),
                more=page.more and end < self.stop,
                total=page.total,
            )
            if end >= self.stop or not page.more:
                return
