"""The shared rate limit: one Redis bucket per vendor account, whichever process calls."""

from __future__ import annotations

import threading
import time
from typing import Any

import redis

from bridge.config import ConnectionConfig
from bridge.ratelimit import RedisTokenBucket, account_key, share_rate_limits
from bridge.runs.queueing import submit_run

RECORDS = 1500


def test_buckets_with_one_key_share_one_rate(redis_url):
    client = redis.Redis.from_url(redis_url)
    # Two holders of the same key, as two worker processes would be, taking from 4 threads.
    buckets = [RedisTokenBucket(client, "test:calls", rate=20.0) for _ in range(2)]
    started = time.monotonic()
    threads = [
        threading.Thread(target=lambda b=b: [b.wait() for _ in range(10)])
        for b in buckets
        for _ in range(2)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - started
    # 40 calls at 20/s with a burst of 1: the last may start after 39 intervals, not before.
    assert elapsed >= 39 / 20.0 - 0.05
    assert sum(b.waited for b in buckets) > 0
    # A different key is a different account: its first call does not wait.
    assert RedisTokenBucket(client, "test:other", rate=20.0).reserve() == 0.0


def test_a_burst_is_saved_up_and_the_key_expires_when_full(redis_url):
    client = redis.Redis.from_url(redis_url)
    bucket = RedisTokenBucket(client, "test:credits", rate=100.0, burst=5)
    assert [bucket.reserve() for _ in range(5)] == [0.0] * 5
    assert bucket.reserve() > 0  # the sixth waits for a refill
    assert 0 < client.ttl("test:credits") <= 2


def test_account_keys_name_the_account_not_the_secret():
    one = ConnectionConfig("a", "bigin", {"api_domain": "http://x", "client_id": "c1",
                                          "client_secret": "s1", "refresh_token": "r1"})  # fmt: skip
    same_org = ConnectionConfig("b", "bigin", {"api_domain": "http://x", "client_id": "c1",
                                               "client_secret": "s2", "refresh_token": "r2"})  # fmt: skip
    other = ConnectionConfig("c", "bigin", {"api_domain": "http://y", "client_id": "c1"})
    named = ConnectionConfig("d", "bigin", {"rate_limit_account": "org-7"})
    assert account_key(one) == account_key(same_org) != account_key(other)
    assert account_key(named) == "bigin:org-7"
    assert "s1" not in account_key(one) and "r1" not in account_key(one)


def test_the_bigin_connector_paces_through_redis(redis_url, start_bigin):
    bigin = start_bigin(records=0)
    connector = bigin.connector(max_calls_per_second=4)
    shared = share_rate_limits(connector, redis.Redis.from_url(redis_url), "bigin:test")
    assert shared == ["calls"]
    started = time.monotonic()
    for _ in range(5):
        connector.verify()
    assert time.monotonic() - started >= 4 / 4.0 - 0.05
    assert connector.client.pacer.waited > 0


def test_the_bigin_credit_budget_is_shared_as_well(redis_url, start_bigin):
    bigin = start_bigin(records=0)
    client = redis.Redis.from_url(redis_url)
    # 864,000 a day is 10 credits a second; a burst of 10.
    one, two = (bigin.connector(daily_credits=864_000, credit_burst=10) for _ in range(2))
    with one, two:
        assert share_rate_limits(one, client, "bigin:org") == ["credits"]  # no call pacing set
        share_rate_limits(two, client, "bigin:org")
        assert one.client.budget.reserve(10) == 0.0  # the whole burst
        # The other process's budget is the same bucket: empty, so 5 credits wait ~0.5 s.
        assert abs(two.client.budget.reserve(5) - 0.5) < 0.1


def settings_of(emulator: Any, **extra: Any) -> dict[str, Any]:
    return {**emulator.table, **extra}


def run_two_workers(make_cluster, legacy, bigin, *, shared: bool) -> Any:
    queue: dict[str, Any] = {"partition_size": 300, "parallelism": 2}
    if not shared:
        queue["rate_limit_url"] = ""
    cluster = make_cluster(
        # Each worker's own pacing alone would allow 2.5 calls/s; the account allows 3.
        {"crm": settings_of(legacy), "bigin": settings_of(bigin, max_calls_per_second=2.5)},
        {"name": "members", "source": "crm", "target": "bigin", "workers": 2},
        queue=queue,
    )
    cluster.start_workers(2)
    submitted = submit_run(cluster.config(), "members", cluster.store, full=True)
    job = cluster.wait_job(submitted.job_id, timeout=180)
    assert job.status == "completed", job.error
    assert (job.num_read, job.num_failed) == (RECORDS, 0)
    assert len(bigin.app.store.select("Contacts")) == RECORDS
    return bigin.stats().get("throttled_credits", 0)


def test_workers_sharing_the_limit_stay_under_the_vendors(make_cluster, start_legacy, start_bigin):
    legacy = start_legacy(records=RECORDS)
    # 60 credits per rolling 2 s: three 100-record upserts (10 credits each) a second.
    limits = {"credits": 60, "credit_window": 2.0}
    unshared = run_two_workers(make_cluster, legacy, start_bigin(**limits), shared=False)
    shared = run_two_workers(make_cluster, legacy, start_bigin(**limits), shared=True)
    print(f"credit 429s: each worker pacing alone {unshared}, sharing the bucket {shared}")
    assert unshared >= 2  # two workers pacing alone overrun the account (6 seen here)
    assert shared <= 1
