"""Facade repositories: legacy entityIds per scope and offset -> CRM position cursors."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bridge.store.repos.base import now_utc


def test_entity_ids_are_sequential_stable_and_per_scope(store):
    first = store.entity_ids.allocate_many("site:1", ["z", "a", "m", "a"])
    assert first == {"z": 1, "a": 2, "m": 3}
    assert store.entity_ids.allocate_many("site:1", ["m", "new"]) == {"m": 3, "new": 4}
    assert store.entity_ids.allocate("site:1", "z") == 1
    assert store.entity_ids.allocate("site:2", "z") == 1  # scopes number independently

    assert store.entity_ids.entity_id("site:1", "new") == 4
    assert store.entity_ids.entity_id("site:1", "unknown") is None
    assert store.entity_ids.crm_id("site:1", 3) == "m"
    assert store.entity_ids.crm_ids("site:1", [1, 4, 99]) == {1: "z", 4: "new"}
    assert store.entity_ids.count("site:1") == 4
    assert store.entity_ids.allocate_many("site:1", []) == {}


def test_entity_id_allocation_inside_a_transaction_commits_with_it(store):
    with store.transaction() as tx:
        assert tx.entity_ids.allocate("site:9", "crm-1") == 1
        assert tx.entity_ids.allocate("site:9", "crm-2") == 2
    assert store.entity_ids.crm_ids("site:9", [1, 2]) == {1: "crm-1", 2: "crm-2"}


def test_cursor_is_shared_by_key_and_maps_offsets_to_positions(store):
    since = datetime(2026, 1, 1, tzinfo=UTC)
    cursor = store.cursors.open("site:1", since, "snap-a")
    assert store.cursors.open("site:1", since, "snap-a").id == cursor.id
    assert store.cursors.open("site:1", since, "snap-b").id != cursor.id
    assert store.cursors.open("site:1", None, "snap-a").id != cursor.id
    assert store.cursors.open("site:1", None, "snap-a").since is None

    store.cursors.save_position(cursor.id, 100, {"page": 2})
    store.cursors.save_position(cursor.id, 200, {"page": 3, "page_token": "t"})
    store.cursors.save_position(cursor.id, 200, {"page": 3, "page_token": "u"})
    assert store.cursors.position(cursor.id, 200) == {"page": 3, "page_token": "u"}
    assert store.cursors.position(cursor.id, 300) is None
    assert store.cursors.nearest(cursor.id, 250) == (200, {"page": 3, "page_token": "u"})
    assert store.cursors.nearest(cursor.id, 99) is None
    assert store.cursors.get(cursor.id).since == since


def test_expired_cursors_are_replaced_and_purged(store):
    stale = store.cursors.open("site:1", None, "s", ttl=timedelta(seconds=-1))
    store.cursors.save_position(stale.id, 100, {"page": 2})
    assert store.cursors.get(stale.id) is None

    fresh = store.cursors.open("site:1", None, "s")
    assert fresh.id != stale.id
    assert store.cursors.nearest(fresh.id, 100) is None  # old positions are not inherited

    store.cursors.open("site:2", None, "s", ttl=timedelta(seconds=-1))
    assert store.cursors.purge_expired() == 1
    assert store.cursors.purge_expired(now_utc() + timedelta(hours=1)) == 1
    assert store.cursors.get(fresh.id) is None


def test_cache_generations_count_writes_per_scope_and_the_fast_reader_agrees(store):
    from bridge.store.repos.generations import GenerationReader

    reader = GenerationReader(store.engine)
    assert store.cache_generations.current("crm") == 0 == reader.current("crm")
    assert store.cache_generations.advance("crm") == 1
    assert store.cache_generations.advance("crm") == 2
    assert store.cache_generations.advance("other") == 1
    assert store.cache_generations.current("crm") == 2 == reader.current("crm")
    assert reader.current("other") == 1
    with store.transaction() as tx:
        assert tx.cache_generations.advance("crm") == 3
    assert reader.current("crm") == 3
