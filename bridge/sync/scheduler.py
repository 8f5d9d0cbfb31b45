"""Scheduled runs: each integration's ``schedule`` (cron syntax) fires its sync.

One run per integration at a time, across processes: a run that finds the integration's
lease taken (a run still going here, or in another process or host) is skipped and
counted, not queued, so a slow run never piles up copies of itself. Runs happen in a
small thread pool so one slow integration does not hold back the others. With a broker
(``[queue] broker_url``) a firing only queues the run for ``soapbridge worker``, and is
skipped as well while a run of that integration is queued.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime

from croniter import croniter

from bridge.config import Config
from bridge.errors import BridgeError, ConfigError
from bridge.store import Store
from bridge.store.repos.leases import LockHeld
from bridge.sync.report import SyncReport
from bridge.sync.runner import run_integration

log = logging.getLogger(__name__)
Runner = Callable[[str], SyncReport]


@dataclass(slots=True)
class Schedule:
    name: str
    expression: str
    next_at: datetime
    runs: int = 0
    skipped: int = 0
    failed: int = 0
    # This schedule's own way to run (integrations kept in the store); else the scheduler's.
    run: Runner | None = None

    @classmethod
    def starting(
        cls, name: str, expression: str, now: datetime, run: Runner | None = None
    ) -> Schedule:
        if not croniter.is_valid(expression):
            raise ConfigError(f"integration {name}: schedule {expression!r} is not cron syntax")
        schedule = cls(name, expression, now, run=run)
        schedule.advance(now)
        return schedule

    def advance(self, after: datetime) -> None:
        self.next_at = croniter(self.expression, after).get_next(datetime)


@dataclass(slots=True)
class Scheduler:
    """Fires due integrations; ``tick(now)`` is one look at the clock."""

    schedules: dict[str, Schedule]
    run: Runner
    workers: int = 4
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    # Called before each look at the clock: brings schedules kept elsewhere up to date.
    refresh: Callable[[Scheduler], None] | None = None
    _pool: ThreadPoolExecutor = field(init=False, repr=False)
    _running: dict[str, Future[None]] = field(init=False, default_factory=dict, repr=False)
    _lock: threading.Lock = field(init=False, default_factory=threading.Lock, repr=False)

    def __post_init__(self) -> None:
        self._pool = ThreadPoolExecutor(self.workers, thread_name_prefix="schedule")

    @classmethod
    def from_config(
        cls, config: Config, store: Store, *, now: datetime | None = None, workers: int = 4
    ) -> Scheduler:
        start = now or datetime.now(UTC)
        schedules = {}
        for integration in config.integrations:
            if not integration.schedule:
                continue
            schedules[integration.name] = Schedule.starting(
                integration.name, integration.schedule, start
            )
        for integration in config.integrations:
            # A second, usually rarer, schedule whose runs also reconcile (bridge.sync.reconcile).
            expression = integration.options.get("reconcile_schedule")
            if expression:
                name = f"{integration.name} (reconcile)"
                schedules[name] = Schedule.starting(
                    name, str(expression), start, run=_reconciling(config, store, integration.name)
                )

        def run_here(name: str) -> SyncReport:
            return run_integration(config, name, store=store)

        run: Runner = run_here
        if config.queue.get("broker_url"):
            # A broker is configured: firings queue runs for the workers (bridge.queue).
            from bridge.queue.submit import scheduled_runner

            run = scheduled_runner(config, store)
        return cls(schedules, run, workers)

    def tick(self, now: datetime | None = None) -> list[str]:
        """Start every integration that is due; the names started."""
        now = now or self.clock()
        started = []
        for schedule in self.schedules.values():
            if schedule.next_at > now:
                continue
            schedule.advance(now)
            with self._lock:
                busy = self._running.get(schedule.name)
                if busy is not None and not busy.done():
                    schedule.skipped += 1
                    log.info("%s: still running, this firing is skipped", schedule.name)
                    continue
                self._running[schedule.name] = self._pool.submit(self._run_one, schedule)
            started.append(schedule.name)
        return started

    def _run_one(self, schedule: Schedule) -> None:
        try:
            report = (schedule.run or self.run)(schedule.name)
            schedule.runs += 1
            if not report.ok:
                schedule.failed += 1
        except LockHeld as exc:
            schedule.skipped += 1
            log.info("%s: a run is going on elsewhere (%s); skipped", schedule.name, exc.holder)
        except BridgeError as exc:
            schedule.failed += 1
            log.error("%s: scheduled run failed: %s", schedule.name, exc)

    def wait_idle(self, timeout: float | None = None) -> None:
        with self._lock:
            pending = list(self._running.values())
        for future in pending:
            future.result(timeout=timeout)

    def next_wake(self) -> datetime | None:
        return min((s.next_at for s in self.schedules.values()), default=None)

    def serve_forever(self, stop: threading.Event) -> None:
        """Tick at each due time until ``stop`` is set."""
        while not stop.is_set():
            if self.refresh is not None:
                self.refresh(self)
            wake = self.next_wake()
            if wake is None:
                stop.wait(60)
                continue
            delay = (wake - self.clock()).total_seconds()
            if delay > 0 and stop.wait(min(delay, 60)):
                break
            self.tick()
        self._pool.shutdown(wait=True)


def _reconciling(config: Config, store: Store, name: str) -> Runner:
    def run(_schedule_name: str) -> SyncReport:
        return run_integration(config, name, store=store, reconcile=True)

    return run
