"""Sync-engine repositories: id links, checkpoints (atomic with links), jobs, dead letters."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest

from bridge.errors import NotFound
from bridge.store import IdLink


@pytest.fixture
def integration_id(store):
    return store.integrations.create("sync").id


def test_links_fill_in_as_the_sync_learns_more(store, integration_id):
    store.links.save(integration_id, IdLink(source_id="L1", email=" Ann@Example.COM "))
    store.links.save(integration_id, IdLink(source_id="L1", target_id="B9", target_hash="t1"))
    link = store.links.save(integration_id, IdLink(target_id="B9", source_hash="s1"))

    assert (link.source_id, link.target_id, link.email) == ("L1", "B9", "ann@example.com")
    assert (link.source_hash, link.target_hash) == ("s1", "t1")
    assert store.links.count(integration_id) == 1
    assert store.links.get(integration_id, target_id="B9") == link
    assert store.links.find(integration_id, email="ANN@example.com") == [link]
    assert store.links.find(integration_id, external_id="nope") == []


def test_links_are_per_integration(store, integration_id):
    other = store.integrations.create("other").id
    store.links.save(integration_id, IdLink(source_id="1", target_id="a"))
    store.links.save(other, IdLink(source_id="1", target_id="b"))
    assert store.links.get(integration_id, source_id="1").target_id == "a"
    assert store.links.get(other, source_id="1").target_id == "b"


def test_links_of_a_page_in_one_lookup(store, integration_id):
    links = [IdLink(source_id=str(n), target_id=f"t{n}", external_id=f"X{n}") for n in range(700)]
    store.links.save_many(integration_id, links)
    found = store.links.by_source_ids(integration_id, [str(n) for n in range(0, 700, 2)] + ["x"])
    assert len(found) == 350 and found["42"].target_id == "t42"
    assert store.links.by_target_ids(integration_id, ["t699"])["t699"].external_id == "X699"
    assert store.links.delete(integration_id, source_id="0")
    assert store.links.clear(integration_id) == 699


def test_a_page_of_links_updates_inserts_and_merges_in_one_save(store, integration_id):
    store.links.save_many(
        integration_id,
        [
            IdLink(source_id="1", target_id="a", email="x@y.z", source_hash="s1"),
            IdLink(target_id="b", external_id="E2"),
        ],
    )
    before = store.links.get(integration_id, source_id="1")
    time.sleep(0.002)
    store.links.save_many(
        integration_id,
        [
            IdLink(source_id="1", target_hash="t1"),  # found by source id: the rest kept
            IdLink(source_id="2", target_id="b"),  # found by target id: gains a source id
            IdLink(source_id="3", target_id="c"),  # new
            IdLink(target_id="c", email=" C@Example.com "),  # lands on the row just made
            IdLink(source_id="2", source_hash="s2"),  # and on the one just found
        ],
    )
    assert store.links.count(integration_id) == 3
    one = store.links.get(integration_id, source_id="1")
    assert (one.target_id, one.email, one.source_hash, one.target_hash) == (
        "a",
        "x@y.z",
        "s1",
        "t1",
    )
    assert one.created_at == before.created_at < one.updated_at
    two = store.links.get(integration_id, target_id="b")
    assert (two.source_id, two.external_id, two.source_hash) == ("2", "E2", "s2")
    three = store.links.get(integration_id, source_id="3")
    assert (three.target_id, three.email, three.created_at) == (
        "c",
        "c@example.com",
        one.updated_at,
    )
    found = store.links.by_source_ids(integration_id, ["1", "2", "3"])
    assert found == {"1": one, "2": two, "3": three}
    assert store.links.by_target_ids(integration_id, ["a", "b", "c", "d"]).keys() == {"a", "b", "c"}


def test_a_link_needs_an_id(store, integration_id):
    with pytest.raises(ValueError, match="source id or a target id"):
        store.links.save(integration_id, IdLink(email="a@b.c"))


def test_checkpoint_save_get_reset(store, integration_id):
    mark = datetime(2026, 5, 1, 8, 0, tzinfo=UTC)
    store.checkpoints.save(integration_id, "s2t", watermark=None, position={"cursor": {"p": 2}})
    store.checkpoints.save(integration_id, "s2t", watermark=mark, position=None)
    store.checkpoints.save(integration_id, "t2s", watermark=mark, position={"page_token": "x"})

    checkpoint = store.checkpoints.get(integration_id, "s2t")
    assert (checkpoint.watermark, checkpoint.position) == (mark, None)
    assert [c.direction for c in store.checkpoints.all(integration_id)] == ["s2t", "t2s"]
    assert store.checkpoints.reset(integration_id, "s2t") == 1
    assert store.checkpoints.get(integration_id, "s2t") is None
    assert store.checkpoints.get(integration_id, "t2s") is not None


def test_checkpoint_commits_with_its_batch_links_or_not_at_all(store, integration_id):
    with store.transaction() as tx:
        tx.links.save(integration_id, IdLink(source_id="1", target_id="a"))
        tx.checkpoints.save(integration_id, "s2t", watermark=None, position={"offset": 100})

    with pytest.raises(RuntimeError), store.transaction() as tx:
        tx.links.save(integration_id, IdLink(source_id="2", target_id="b"))
        tx.checkpoints.save(integration_id, "s2t", watermark=None, position={"offset": 200})
        raise RuntimeError("upsert confirmation lost")

    assert store.checkpoints.get(integration_id, "s2t").position == {"offset": 100}
    assert store.links.get(integration_id, source_id="2") is None
    assert store.links.count(integration_id) == 1


def test_job_lifecycle_counts_and_timings(store, integration_id):
    job = store.jobs.create(integration_id, direction="s2t")
    assert (job.status, job.started_at, job.num_read) == ("queued", None, 0)
    store.jobs.start(job.id)
    store.jobs.add_counts(job.id, read=100, created=60, updated=30)
    store.jobs.add_counts(job.id, read=50, unchanged=45, failed=4, conflicts=1)
    done = store.jobs.finish(job.id)

    assert done.status == "completed"
    counts = (done.num_read, done.num_created, done.num_updated, done.num_unchanged)
    assert counts == (150, 60, 30, 45)
    assert (done.num_failed, done.num_conflicts) == (4, 1)
    assert done.started_at <= done.finished_at and done.duration >= 0
    # The first ending sticks: a late cancel does not rewrite a finished job.
    assert store.jobs.cancel(job.id).status == "completed"
    with pytest.raises(TypeError, match="bogus"):
        store.jobs.add_counts(job.id, bogus=1)
    with pytest.raises(NotFound):
        store.jobs.start("f" * 24)


def test_job_errors_are_listed_in_order(store, integration_id):
    job = store.jobs.create(integration_id)
    for n in range(3):
        store.jobs.add_error(job.id, f"bad {n}", code="422", record_key=f"r{n}", source="bigin")
    errors = store.jobs.errors(job.id)
    assert [e.message for e in errors] == ["bad 0", "bad 1", "bad 2"]
    assert errors[0].code == "422" and errors[0].source == "bigin"
    assert [e.record_key for e in store.jobs.errors(job.id, skip=1, limit=1)] == ["r1"]


def test_jobs_query_by_integration_status_and_created_range(store, integration_id):
    other = store.integrations.create("other").id
    first = store.jobs.create(integration_id)
    second = store.jobs.create(integration_id)
    time.sleep(0.002)  # created_at keeps milliseconds: the range below needs a later one
    third = store.jobs.create(other)
    store.jobs.start(second.id)
    store.jobs.finish(second.id, "failed", error="remote down")

    assert [j.id for j in store.jobs.query(integration_id=integration_id)] == [second.id, first.id]
    assert [j.id for j in store.jobs.query(status="failed")] == [second.id]
    assert store.jobs.get(second.id).error == "remote down"
    assert store.jobs.count(integration_id=integration_id) == 2
    assert [j.id for j in store.jobs.query(skip=1, limit=1)] == [second.id]
    assert [j.id for j in store.jobs.query(created_from=third.created_at)] == [third.id]
    assert store.jobs.count(created_to=first.created_at - timedelta(seconds=1)) == 0


def test_abandoned_running_jobs_are_failed(store, integration_id):
    job = store.jobs.create(integration_id)
    store.jobs.start(job.id)
    assert store.jobs.abandon_running(integration_id, "worker died") == 1
    assert store.jobs.get(job.id).status == "failed"


def test_dead_letters_collapse_per_record_and_replay(store, integration_id):
    first = store.dead_letters.add(
        integration_id, "s2t", "L1", {"email": "a@b.c"}, error_message="INVALID_DATA"
    )
    again = store.dead_letters.add(
        integration_id, "s2t", "L1", {"email": "a@b.cd"}, error_message="DUPLICATE_DATA",
        error_code="DUPLICATE_DATA",
    )  # fmt: skip
    other = store.dead_letters.add(integration_id, "s2t", "L2", {}, error_message="x")

    assert again.id == first.id and again.attempts == 2
    assert again.payload == {"email": "a@b.cd"} and again.error_code == "DUPLICATE_DATA"
    assert store.dead_letters.count(integration_id=integration_id) == 2
    assert [d.id for d in store.dead_letters.replayable(integration_id, "s2t")] == [
        first.id,
        other.id,
    ]
    assert [d.id for d in store.dead_letters.replayable(integration_id, "s2t", max_attempts=2)] == [
        other.id
    ]

    store.dead_letters.record_failure(other.id, error_message="still bad")
    assert store.dead_letters.get(other.id).attempts == 2
    assert store.dead_letters.resolve([first.id, other.id]) == 2
    assert store.dead_letters.resolve([first.id]) == 0
    assert store.dead_letters.query(integration_id=integration_id) == []
    resolved = store.dead_letters.query(integration_id=integration_id, resolved=True)
    assert all(d.resolved and d.resolved_at for d in resolved) and len(resolved) == 2

    # After resolution the same record failing again starts a fresh letter.
    fresh = store.dead_letters.add(integration_id, "s2t", "L1", {}, error_message="again")
    assert fresh.id not in (first.id, other.id) and fresh.attempts == 1


def test_old_finished_jobs_and_resolved_letters_can_be_purged(store, integration_id):
    finished = store.jobs.create(integration_id)
    store.jobs.finish(finished.id, "completed")
    running = store.jobs.create(integration_id)
    store.jobs.start(running.id)
    letter = store.dead_letters.add(integration_id, "s2t", "k", {}, error_message="x")
    open_letter = store.dead_letters.add(integration_id, "s2t", "k2", {}, error_message="x")
    store.dead_letters.resolve([letter.id])

    future = datetime.now(UTC) + timedelta(minutes=1)
    assert store.jobs.purge_finished(datetime.now(UTC) - timedelta(minutes=1)) == 0
    assert store.jobs.purge_finished(future) == 1
    assert store.jobs.get(finished.id) is None and store.jobs.get(running.id) is not None
    assert store.dead_letters.purge_resolved(future) == 1
    assert store.dead_letters.get(open_letter.id) is not None


def test_reading_shares_one_read_transaction_and_refuses_writes(store, integration_id):
    store.links.save(integration_id, IdLink(source_id="1", target_id="a"))
    with store.reading() as reads:
        assert reads.links.by_source_ids(integration_id, ["1", "2"]).keys() == {"1"}
        assert reads.links.get(integration_id, target_id="a").source_id == "1"
        with pytest.raises(TypeError, match="read only"):
            reads.links.save(integration_id, IdLink(source_id="2", target_id="b"))
    assert store.links.count(integration_id) == 1
    # The store is usable after the block (its connection went back to the pool).
    store.links.save(integration_id, IdLink(source_id="2", target_id="b"))
    assert store.links.count(integration_id) == 2
