"""Cron schedules fire syncs; one run per integration at a time, also across processes."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest

from bridge.config import parse_config
from bridge.errors import ConfigError
from bridge.runs.scheduler import Schedule, Scheduler
from bridge.store.repos.leases import LockHeld
from bridge.sync.report import SyncReport

T0 = datetime(2026, 11, 22, 10, 0, 30, tzinfo=UTC)


def scheduler_with(runner, *expressions: str) -> Scheduler:
    schedules = {}
    for i, expression in enumerate(expressions):
        schedule = Schedule(f"i{i}", expression, T0)
        schedule.advance(T0)
        schedules[schedule.name] = schedule
    return Scheduler(schedules, runner, workers=2)


def test_integrations_fire_when_due_and_not_before():
    ran: list[str] = []
    scheduler = scheduler_with(
        lambda name: ran.append(name) or SyncReport(name, "x"), "*/5 * * * *", "0 * * * *"
    )
    assert scheduler.schedules["i0"].next_at == datetime(2026, 11, 22, 10, 5, tzinfo=UTC)
    assert scheduler.tick(T0 + timedelta(minutes=1)) == []
    assert scheduler.tick(datetime(2026, 11, 22, 10, 5, tzinfo=UTC)) == ["i0"]
    scheduler.wait_idle(5)
    assert scheduler.tick(datetime(2026, 11, 22, 11, 0, 1, tzinfo=UTC)) == ["i0", "i1"]
    scheduler.wait_idle(5)
    assert sorted(ran) == ["i0", "i0", "i1"]
    assert scheduler.schedules["i0"].next_at == datetime(2026, 11, 22, 11, 5, tzinfo=UTC)


def test_a_run_still_going_makes_the_next_firing_skip():
    release = threading.Event()
    started = threading.Event()

    def slow(name: str) -> SyncReport:
        started.set()
        release.wait(10)
        return SyncReport(name, "x")

    scheduler = scheduler_with(slow, "* * * * *")
    assert scheduler.tick(T0 + timedelta(minutes=1)) == ["i0"]
    started.wait(5)
    assert scheduler.tick(T0 + timedelta(minutes=2)) == []
    release.set()
    scheduler.wait_idle(5)
    schedule = scheduler.schedules["i0"]
    assert (schedule.runs, schedule.skipped) == (1, 1)


def test_a_run_held_elsewhere_is_skipped_and_counted():
    def held(name: str) -> SyncReport:
        raise LockHeld(f"integration:{name}", "otherhost:1234:abc")

    scheduler = scheduler_with(held, "* * * * *")
    scheduler.tick(T0 + timedelta(minutes=1))
    scheduler.wait_idle(5)
    assert scheduler.schedules["i0"].skipped == 1 and scheduler.schedules["i0"].runs == 0


def test_schedules_come_from_the_config_and_are_validated(tmp_path):
    data = {
        "store": {"url": f"sqlite:///{tmp_path / 's.db'}"},
        "connections": {"a": {"kind": "legacy"}, "b": {"kind": "bigin"}},
        "integrations": [
            {"name": "hourly", "source": "a", "target": "b", "schedule": "15 * * * *"},
            {"name": "manual", "source": "a", "target": "b"},
        ],
    }
    scheduler = Scheduler.from_config(parse_config(data, env={}), store=None, now=T0)  # type: ignore[arg-type]
    assert list(scheduler.schedules) == ["hourly"]
    assert scheduler.schedules["hourly"].next_at == datetime(2026, 11, 22, 10, 15, tzinfo=UTC)
    data["integrations"][0]["schedule"] = "every hour"
    with pytest.raises(ConfigError, match="cron"):
        Scheduler.from_config(parse_config(data, env={}), store=None, now=T0)  # type: ignore[arg-type]
