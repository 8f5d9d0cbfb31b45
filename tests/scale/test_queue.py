"""Queueing runs: the [queue] table, submit_run, and the scheduler's firings with a broker."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import redis

from bridge.config import parse_config
from bridge.errors import ConfigError
from bridge.runs.queue_settings import QueueSettings
from bridge.runs.queueing import submit_run
from bridge.runs.scheduler import Scheduler
from bridge.store import Store
from bridge.store.repos.leases import LockHeld, integration_lock


def config_with(queue: dict[str, Any], legacy: Any = None, bigin: Any = None, **integration: Any):
    data: dict[str, Any] = {"queue": queue}
    if legacy is not None:
        data["connections"] = {"crm": dict(legacy.table), "bigin": dict(bigin.table)}
        data["integrations"] = [{"name": "members", "source": "crm", "target": "bigin",
                                 **integration}]  # fmt: skip
    return parse_config(data, env={})


def test_queue_settings_from_the_table():
    assert QueueSettings.from_config(config_with({})) is None  # in-process, the default
    settings = QueueSettings.from_config(
        config_with({"broker_url": "redis://:pw@10.0.0.5:6379/2", "partition_size": 2000})
    )
    assert settings is not None
    assert settings.partition_size == 2000 and settings.parallelism == 4
    assert settings.rate_limit_url == settings.broker_url  # a Redis broker serves both
    assert "pw" not in repr(settings)
    off = QueueSettings.from_config(config_with({"broker_url": "redis://h", "rate_limit_url": ""}))
    assert off is not None and off.rate_limit_url is None
    for wrong in (
        {"broker_url": "redis://h", "partition_size": 250},  # not whole pages
        {"broker_url": "amqp://h"},
        {"broker_url": "redis://h", "colour": "blue"},
        {"broker_url": "redis://h", "parallelism": "many"},
    ):
        with pytest.raises(ConfigError):
            QueueSettings.from_config(config_with(wrong))


@pytest.fixture
def queued(redis_url, postgres, start_legacy, start_bigin):
    legacy, bigin = start_legacy(records=10), start_bigin(records=0)
    config = config_with({"broker_url": redis_url}, legacy, bigin, schedule="*/5 * * * *")
    store = Store(str(postgres.create_database("queue")))
    store.migrate()
    yield config, store, redis.Redis.from_url(redis_url)
    store.dispose()


def test_submit_run_queues_a_job_and_a_message(queued):
    config, store, broker = queued
    submitted = submit_run(config, "members", store, full=True)
    job = store.jobs.get(submitted.job_id)
    assert job is not None and job.status == "queued"
    assert job.integration_id == submitted.integration_id
    assert broker.llen("soapbridge") == 1  # waiting for a worker
    # The scheduler's rule: not while a run is queued, nor while one holds the lease.
    with pytest.raises(LockHeld):
        submit_run(config, "members", store, skip_if_busy=True)
    store.jobs.finish(submitted.job_id, "canceled")
    with store.leases.hold(integration_lock(submitted.integration_id)), pytest.raises(LockHeld):
        submit_run(config, "members", store, skip_if_busy=True)
    assert broker.llen("soapbridge") == 1


def test_the_scheduler_queues_runs_when_a_broker_is_configured(queued):
    config, store, broker = queued
    start = datetime(2026, 11, 22, 10, 0, 30, tzinfo=UTC)
    scheduler = Scheduler.from_config(config, store, now=start)
    assert scheduler.tick(start + timedelta(minutes=5)) == ["members"]
    scheduler.wait_idle(30)
    jobs = store.jobs.query()
    assert [j.status for j in jobs] == ["queued"]  # queued for a worker, not run here
    assert broker.llen("soapbridge") == 1
    # The next firing finds that run still queued: skipped, not queued twice.
    scheduler.tick(start + timedelta(minutes=10))
    scheduler.wait_idle(30)
    assert scheduler.schedules["members"].skipped == 1
    assert len(store.jobs.query()) == 1 and broker.llen("soapbridge") == 1


def test_the_control_plane_queues_its_runs_when_a_broker_is_configured(queued):
    from bridge.api.runs import JobRunner
    from bridge.runs.wiring import Wiring

    config, store, broker = queued
    wiring = Wiring(store, config)
    wiring.import_config()
    integration = store.integrations.by_name("members")
    runner = JobRunner(wiring)
    try:
        job = runner.start(integration)
    finally:
        runner.shutdown()
    assert store.jobs.get(job.id).status == "queued"  # left for a worker, not run here
    assert broker.llen("soapbridge") == 1
    assert len(store.jobs.query(integration_id=integration.id)) == 1
