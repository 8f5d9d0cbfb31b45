"""One run of one integration: the lease, the job, the directions in order.

``both`` runs three steps: a scan of the target's changes (to know which records changed
on both sides since the last run: conflicts), the source -> target pass, then the
target -> source pass. A conflict is resolved by the integration's policy (``latest``
change wins by default; ``source`` or ``target`` always win) and counted. The scan keeps
only the ids and change times of records changed on the target, not the records.
"""

from __future__ import annotations

import logging
import os
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TypedDict, Unpack

from bridge.connectors.base import Connector
from bridge.errors import BridgeError
from bridge.store import Store
from bridge.store.repos.jobs import COMPLETED, FAILED, RUNNING
from bridge.store.repos.leases import LockHeld, integration_lock
from bridge.store.repos.tombstones import SideRef
from bridge.sync.deletes import DeleteCarrier, FeedScreen, read_deletion_feed, side_refs
from bridge.sync.fieldmap import FieldMap
from bridge.sync.fingerprint import Comparer
from bridge.sync.passes import (
    ConflictBook,
    DirectionPass,
    PassOptions,
    ProgressCallback,
    scan_changed,
)
from bridge.sync.reconcile import reconcile_side
from bridge.sync.report import BOTH, SOURCE_TO_TARGET, TARGET_TO_SOURCE, Counts, SyncReport

log = logging.getLogger(__name__)
CONFLICT_POLICIES = ("latest", "source", "target")


@dataclass(slots=True)
class SyncSpec:
    """Everything a run needs, however it was configured (file or control plane)."""

    name: str
    source: Connector
    target: Connector
    direction: str = SOURCE_TO_TARGET
    fieldmap: FieldMap = field(default_factory=FieldMap)
    options: PassOptions = field(default_factory=PassOptions)
    #: Connection names of the two ends (where the facade finds their tombstones).
    source_connection: str | None = None
    target_connection: str | None = None

    def ends(self, direction: str) -> tuple[Connector, Connector]:
        """(reader, writer) of one direction."""
        if direction == SOURCE_TO_TARGET:
            return self.source, self.target
        return self.target, self.source


class PassExtras(TypedDict, total=False):
    """What a direction pass may be given beyond the spec (see :class:`DirectionPass`)."""

    job_id: str | None
    conflicts: ConflictBook | None
    on_progress: ProgressCallback | None
    checkpoint_key: str | None
    screen: FeedScreen | None


class SyncEngine:
    def __init__(self, store: Store, spec: SyncSpec, on_progress: ProgressCallback | None = None):
        if spec.options.conflict_policy not in CONFLICT_POLICIES:
            raise ValueError(f"conflict policy must be one of {', '.join(CONFLICT_POLICIES)}")
        self.store = store
        self.spec = spec
        self.on_progress = on_progress
        self.compare = Comparer(spec.source, spec.target, ignore=spec.fieldmap.exclude)

    def run(self, job_id: str | None = None) -> SyncReport:
        """Run once; ``job_id`` is a job queued beforehand (bridge.queue) to report into."""
        spec = self.spec
        integration = self.store.integrations.ensure(
            spec.name,
            source=spec.source.system,
            target=spec.target.system,
            direction=spec.direction,
        )
        report = SyncReport(spec.name, spec.direction, dry_run=spec.options.dry_run)
        started = time.perf_counter()
        with self._lease(integration_lock(integration.id)):
            queued, job_id = job_id, None
            if not spec.options.dry_run:
                self.store.jobs.abandon_running(
                    integration.id, "interrupted: the run did not finish"
                )
                job_id = self._start_job(integration.id, queued)
                report.job_id = job_id
            try:
                self.see_deletes(integration.id)
                self._run_directions(integration.id, job_id, report)
                self.carry_deletes(integration.id, job_id, report)
            except BridgeError as exc:
                report.error = str(exc)
                if job_id:
                    self.store.jobs.finish(job_id, FAILED, error=str(exc))
                raise
            finally:
                report.seconds = time.perf_counter() - started
            if job_id:
                self.store.jobs.finish(job_id, COMPLETED, error=report.error)
        return report

    # -- deletes (bridge.sync.deletes, bridge.sync.reconcile) ---------------------------

    def _refs(self, integration_id: str) -> tuple[SideRef, SideRef]:
        spec = self.spec
        return side_refs(
            integration_id,
            spec.source,
            spec.target,
            spec.source_connection,
            spec.target_connection,
        )

    def screen_for(self, integration_id: str, direction: str) -> FeedScreen:
        source, target = self._refs(integration_id)
        if direction == SOURCE_TO_TARGET:
            return FeedScreen(self.store, source, target)
        return FeedScreen(self.store, target, source)

    def see_deletes(self, integration_id: str) -> None:
        """Deletions feeds (where a system has one), then reconciliation when asked."""
        source, target = self._refs(integration_id)
        for ref, connector in ((source, self.spec.source), (target, self.spec.target)):
            read_deletion_feed(self.store, ref, connector)
            if self.spec.options.deletes.reconcile:
                reconcile_side(self.store, ref, connector)

    def carry_deletes(
        self, integration_id: str, job_id: str | None, report: SyncReport, direction: str = ""
    ) -> None:
        """Carry the pending deletes (after the passes, under the lease) into ``report``."""
        spec = self.spec
        result = DeleteCarrier(
            self.store,
            integration_id=integration_id,
            direction=direction or spec.direction,
            refs=self._refs(integration_id),
            connectors=(spec.source, spec.target),
            options=spec.options.deletes,
            dry_run=spec.options.dry_run,
            job_id=job_id,
        ).run()
        for leg, counts in result.counts.items():
            report.directions.setdefault(leg, Counts()).add(counts)
        report.planned.extend(result.planned)
        report.deletes_held = result.held
        if result.message:
            report.error = result.message

    def _start_job(self, integration_id: str, queued: str | None) -> str:
        """Start the queued job, or a new one when there is none (or it ended meanwhile)."""
        if queued is not None and self.store.jobs.start(queued).status == RUNNING:
            return queued
        job_id = self.store.jobs.create(integration_id, direction=self.spec.direction).id
        self.store.jobs.start(job_id)
        return job_id

    @contextmanager
    def _lease(self, name: str) -> Iterator[None]:
        """Hold the integration's lease; take it over from a dead process on this host.

        A run killed with -9 cannot release its lease; waiting for it to expire would make
        the rerun after a crash fail for a minute for no reason.
        """
        try:
            with self.store.leases.hold(name):
                yield
            return
        except LockHeld as exc:
            if not exc.holder or not _dead_local_holder(exc.holder):
                raise
            log.warning(
                "%s: taking over the lease of %s, which is no longer running", name, exc.holder
            )
            self.store.leases.release(name, exc.holder)
        with self.store.leases.hold(name):
            yield

    def push_ids(self, direction: str, ids: list[str], *, wait: float = 30.0) -> Counts:
        """Sync the records ``ids`` of the reading side now (webhooks), as one job.

        Waits up to ``wait`` seconds for a running sync of the integration to finish,
        since both would write the same links.
        """
        spec = self.spec
        if direction not in (SOURCE_TO_TARGET, TARGET_TO_SOURCE):
            raise ValueError(f"push needs one direction, not {direction!r}")
        reader, _writer = spec.ends(direction)
        integration = self.store.integrations.ensure(
            spec.name,
            source=spec.source.system,
            target=spec.target.system,
            direction=spec.direction,
        )
        deadline = time.monotonic() + wait
        while True:
            try:
                with self._lease(integration_lock(integration.id)):
                    job = self.store.jobs.create(
                        integration.id, type="webhook", direction=direction
                    )
                    self.store.jobs.start(job.id)
                    found = {i: reader.get(i) for i in dict.fromkeys(ids)}
                    contacts = [c for c in found.values() if c is not None]
                    one = self.direction_pass(
                        integration.id,
                        direction,
                        job_id=job.id,
                        screen=self.screen_for(integration.id, direction),
                    )
                    try:
                        counts = one.push(contacts)
                        gone = [i for i, c in found.items() if c is None]
                        flagged = any(c.deleted for c in contacts)
                        if gone or flagged:
                            counts.add(self._push_deletes(integration.id, job.id, direction, gone))
                    except BridgeError as exc:
                        self.store.jobs.finish(job.id, FAILED, error=str(exc))
                        raise
                    self.store.jobs.finish(job.id, COMPLETED)
                    return counts
            except LockHeld:
                if time.monotonic() >= deadline:
                    raise
                time.sleep(0.2)

    def _push_deletes(
        self, integration_id: str, job_id: str, direction: str, gone: list[str]
    ) -> Counts:
        """Linked records a lookup did not find are deleted: file them, and carry them (and
        records the push found flagged deleted) now."""
        source, target = self._refs(integration_id)
        seen = source if direction == SOURCE_TO_TARGET else target
        links = (
            self.store.links.by_source_ids(integration_id, gone)
            if direction == SOURCE_TO_TARGET
            else self.store.links.by_target_ids(integration_id, gone)
        )
        for record_id, link in links.items():
            self.store.tombstones.record(
                seen, record_id, seen_by="lookup", external_id=link.external_id, email=link.email
            )
        report = SyncReport(self.spec.name, direction)
        self.carry_deletes(integration_id, job_id, report, direction=direction)
        if report.error:
            raise BridgeError(report.error)
        return report.totals

    def _run_directions(self, integration_id: str, job_id: str | None, report: SyncReport) -> None:
        spec = self.spec
        conflicts = None
        if spec.direction == BOTH:
            conflicts = self._scan_conflicts(integration_id)
        if spec.direction in (SOURCE_TO_TARGET, BOTH):
            report.directions[SOURCE_TO_TARGET] = self._pass(
                integration_id, SOURCE_TO_TARGET, job_id, conflicts, report
            )
        if spec.direction in (TARGET_TO_SOURCE, BOTH):
            report.directions[TARGET_TO_SOURCE] = self._pass(
                integration_id, TARGET_TO_SOURCE, job_id, None, report
            )

    def _pass(
        self,
        integration_id: str,
        direction: str,
        job_id: str | None,
        conflicts: ConflictBook | None,
        report: SyncReport,
    ) -> Counts:
        one = self.direction_pass(
            integration_id,
            direction,
            job_id=job_id,
            conflicts=conflicts,
            on_progress=self.on_progress,
            screen=self.screen_for(integration_id, direction),
        )
        counts = one.run()
        report.planned.extend(one.planned)
        return counts

    def direction_pass(
        self, integration_id: str, direction: str, **extra: Unpack[PassExtras]
    ) -> DirectionPass:
        """A pass over this spec's ends in ``direction`` (runs, pushes, replays, partitions)."""
        reader, writer = self.spec.ends(direction)
        return DirectionPass(
            store=self.store,
            integration_id=integration_id,
            direction=direction,
            reader=reader,
            writer=writer,
            compare=self.compare,
            fieldmap=self.spec.fieldmap,
            options=self.spec.options,
            **extra,
        )

    def _scan_conflicts(self, integration_id: str) -> ConflictBook | None:
        """Which linked target records changed since the last run (None on a first run)."""
        if self.store.links.count(integration_id) == 0:
            return None
        probe = self.direction_pass(integration_id, TARGET_TO_SOURCE)
        since, resume, _ = probe.start_position()
        if resume is not None:
            since = resume.since
        book = ConflictBook(policy=self.spec.options.conflict_policy)
        for target_id, changed_at in scan_changed(
            self.store, integration_id, self.spec.target, self.compare, since
        ):
            book.changed[target_id] = changed_at
        log.info(
            "%s: %d target records changed since the last run", self.spec.name, len(book.changed)
        )
        return book


def _dead_local_holder(holder: str) -> bool:
    """True when ``holder`` (host:pid:nonce) is a process of this host that has exited."""
    host, _, rest = holder.partition(":")
    pid_text = rest.partition(":")[0]
    if host != socket.gethostname() or not pid_text.isdigit():
        return False
    try:
        os.kill(int(pid_text), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False
