"""Two processes racing on one database: leases and entityId allocation stay consistent."""

from __future__ import annotations

import multiprocessing
import threading
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, datetime, timedelta
from functools import partial

import pytest

from bridge.store import LockHeld, Store

from . import race_workers

# A fork server: children fork from one clean, single-threaded process that has imported
# the store already, so they start in milliseconds and inherit no connections or threads.
FORKSERVER = multiprocessing.get_context("forkserver")
FORKSERVER.set_forkserver_preload(["bridge.store", "store.race_workers"])


@pytest.fixture
def migrated_url(store_url):
    store = Store(store_url)
    store.migrate()
    store.dispose()
    return store_url


def run_two(function, barrier_dir, *argument_lists):
    """Run ``function(url, barrier, *rest)`` in two processes released together."""
    parties = len(argument_lists)
    with ProcessPoolExecutor(parties, mp_context=FORKSERVER) as pool:
        futures = [
            pool.submit(
                function,
                arguments[0],
                partial(race_workers.wait_for_all, str(barrier_dir), n, parties),
                *arguments[1:],
            )
            for n, arguments in enumerate(argument_lists)
        ]
        return [future.result(timeout=120) for future in futures]


def test_two_processes_allocating_the_same_ids_agree(migrated_url, tmp_path):
    crm_ids = [f"crm-{n}" for n in range(200)]
    first, second = run_two(
        race_workers.allocate_entity_ids,
        tmp_path,
        (migrated_url, 1, crm_ids),
        (migrated_url, 2, crm_ids),
    )
    assert first == second
    assert sorted(first.values()) == list(range(1, 201))  # unique, and no gaps

    store = Store(migrated_url)
    try:
        assert store.entity_ids.count("site:1") == 200
        assert store.entity_ids.crm_ids("site:1", first.values()) == {
            v: k for k, v in first.items()
        }
    finally:
        store.dispose()


def test_two_processes_starting_together_migrate_and_ensure_once(store_url, tmp_path):
    first, second = run_two(race_workers.migrate_and_ensure, tmp_path, (store_url,), (store_url,))
    assert first == second
    store = Store(store_url)
    try:
        assert store.current_revision() == "0006"
        assert [i.id for i in store.integrations.all()] == [first]
    finally:
        store.dispose()


def test_two_processes_never_hold_the_lease_at_once(migrated_url, tmp_path):
    (tmp_path / "counter").write_text("0")
    (tmp_path / "barrier").mkdir()
    rounds = 25
    results = run_two(
        race_workers.count_under_lease,
        tmp_path / "barrier",
        (migrated_url, rounds, str(tmp_path)),
        (migrated_url, rounds, str(tmp_path)),
    )
    assert results == [(rounds, 0), (rounds, 0)]
    assert int((tmp_path / "counter").read_text()) == 2 * rounds


def test_lease_is_exclusive_until_released_or_expired(store):
    now = datetime.now(UTC)
    assert store.leases.acquire("job", "a", timedelta(seconds=30), now=now) is not None
    assert store.leases.acquire("job", "b", timedelta(seconds=30), now=now) is None
    assert store.leases.acquire("job", "a", timedelta(seconds=30), now=now) is not None  # re-entry
    assert store.leases.get("job").holder == "a"

    later = now + timedelta(seconds=31)
    taken = store.leases.acquire("job", "b", timedelta(seconds=30), now=later)
    assert taken is not None and taken.holder == "b"
    assert not store.leases.renew("job", "a")  # a lost it
    assert not store.leases.release("job", "a")
    assert store.leases.release("job", "b")
    assert store.leases.get("job") is None


def test_hold_renews_in_the_background_and_refuses_a_second_holder(store):
    with store.leases.hold("integration:x", ttl=timedelta(seconds=0.3)) as held:
        first_expiry = store.leases.get("integration:x").expires_at
        with (
            pytest.raises(LockHeld, match="held by") as refused,
            store.leases.hold("integration:x"),
        ):
            pass
        assert refused.value.holder == held.holder
        renewed = threading.Event()
        for _ in range(100):  # bounded: at most ~2 s
            if store.leases.get("integration:x").expires_at > first_expiry:
                renewed.set()
                break
            renewed.wait(0.02)
        assert renewed.is_set()
        assert not held.lost.is_set()
    assert store.leases.get("integration:x") is None


def test_threads_sharing_one_store_lose_no_updates(store):
    # Several threads writing at once: SQLite must queue writers (busy timeout, BEGIN
    # IMMEDIATE) rather than fail with "database is locked"; counts must add up exactly.
    job = store.jobs.create(store.integrations.create("threads").id)
    errors: list[BaseException] = []

    def work(n: int) -> None:
        try:
            for _ in range(25):
                store.jobs.add_counts(job.id, read=1, created=n % 2)
                store.entity_ids.allocate("site:t", f"crm-{n}")
        except BaseException as exc:  # collected, so the test reports it
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    final = store.jobs.get(job.id)
    assert (final.num_read, final.num_created) == (100, 50)
    assert sorted(store.entity_ids.crm_ids("site:t", range(1, 5)).values()) == [
        f"crm-{n}" for n in range(4)
    ]


def test_in_memory_sqlite_store_is_usable_from_another_thread():
    store = Store("sqlite://")
    try:
        store.migrate()
        integration = store.integrations.create("memory")
        seen: list[str] = []
        reader = threading.Thread(
            target=lambda: seen.append(store.integrations.get(integration.id).name)
        )
        reader.start()
        reader.join(timeout=10)
        assert seen == ["memory"]
    finally:
        store.dispose()
