"""Scheduled runs: each integration's ``schedule`` (cron syntax) fires its sync.

Schedules come from the config file (read once) and from integrations kept in the store
(created through ``/v1``): their ``settings.schedule`` is read again before every look at
the clock (:func:`refresh_from_store`), so a schedule set, changed or removed through the
API takes effect within a minute without a restart. Only installed store integrations
(``mode`` = settings) fire.

One run per integration at a time, across processes: a run that finds the integration's
lease taken (a run still going here, or in another process or host) is skipped and
counted, not queued, so a slow run never piles up copies of itself. Runs happen in a
small thread pool so one slow integration does not hold back the others. Where a firing
runs is the launcher's business (:mod:`bridge.runs.launch`): with a broker
(``[queue] broker_url``) it only queues the run for ``soapbridge worker``, and is skipped
as well while a run of that integration is queued.
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
from bridge.runs.launch import Launcher, RunRequest, launcher_for
from bridge.runs.wiring import Wiring
from bridge.store import Store
from bridge.store.repos.leases import LockHeld
from bridge.sync.report import SyncReport

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
        """The config file's schedules, each firing through the launcher the config asks for."""
        start = now or datetime.now(UTC)
        launcher = launcher_for(Wiring(store, config))
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
                run = firing(launcher, integration.name, reconcile=True)
                schedules[name] = Schedule.starting(name, str(expression), start, run=run)

        def run_named(name: str) -> SyncReport:
            return launcher.launch(RunRequest(name, skip_if_busy=True))

        return cls(schedules, run_named, workers)

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


def firing(launcher: Launcher, integration: str, *, reconcile: bool = False) -> Runner:
    """A schedule's way to run ``integration`` (a name or a store ``_id``) through ``launcher``."""

    def run(_schedule_name: str) -> SyncReport:
        return launcher.launch(RunRequest(integration, reconcile=reconcile, skip_if_busy=True))

    return run


def refresh_from_store(config: Config, store: Store) -> Callable[[Scheduler], None]:
    """Brings the schedules of store integrations up to date (the scheduler's ``refresh``)."""
    configured = {i.name for i in config.integrations}
    launcher = launcher_for(Wiring(store, config))

    def refresh(scheduler: Scheduler) -> None:
        now = datetime.now(UTC)
        wanted: dict[str, tuple[str, str]] = {}
        for integration in store.integrations.all(limit=100_000):
            expression = integration.settings.get("schedule")
            if integration.name in configured or not expression or integration.mode != "settings":
                continue
            wanted[integration.name] = (str(expression), integration.id)
        for name in [n for n in scheduler.schedules if n not in configured and n not in wanted]:
            del scheduler.schedules[name]
            log.info("%s: no longer scheduled", name)
        for name, (expression, integration_id) in wanted.items():
            current = scheduler.schedules.get(name)
            if current is not None and current.expression == expression:
                continue
            try:
                scheduler.schedules[name] = Schedule.starting(
                    name, expression, now, firing(launcher, integration_id)
                )
            except ConfigError as exc:
                log.warning("%s", exc)
                continue
            log.info("%s: scheduled '%s' (from the API)", name, expression)

    return refresh


def build_scheduler(config: Config, store: Store) -> Scheduler:
    """Every schedule, of the config file and of the store (``soapbridge schedule``)."""
    scheduler = Scheduler.from_config(config, store)
    scheduler.refresh = refresh_from_store(config, store)
    scheduler.refresh(scheduler)
    return scheduler
