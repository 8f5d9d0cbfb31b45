"""Tombstones on both backends: filed once, pending while linked and not carried, carried
once, listed for the facade, and reconciliation's scratch ids compared in SQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bridge.store import IdLink
from bridge.store.repos.tombstones import SOURCE, TARGET, SideRef


def _setup(store):
    integration = store.integrations.create("members")
    source = SideRef(integration.id, SOURCE, "crm", "legacy")
    target = SideRef(integration.id, TARGET, "bigin", "bigin")
    store.links.save_many(
        integration.id,
        [IdLink(source_id=f"L{i}", target_id=f"B{i}", email=f"p{i}@example.com") for i in range(6)],
    )
    return integration.id, source, target


def test_a_delete_is_filed_once_and_pending_until_carried(store):
    integration_id, source, target = _setup(store)
    assert store.tombstones.record(source, "L1", seen_by="feed", email="P1@example.com")
    assert not store.tombstones.record(source, "L1", seen_by="reconcile")  # already on file
    store.tombstones.record(source, "L-unlinked", seen_by="reconcile")
    # A facade delete on the target's connection belongs to the target side too.
    store.tombstones.record(None, "B2", seen_by="facade", connection="bigin", system="bigin")
    store.tombstones.record(None, "B3", seen_by="facade", connection="elsewhere", system="bigin")

    assert store.tombstones.count_pending(source) == 1  # the unlinked one waits for nothing
    assert [s.record_id for s in store.tombstones.pending(source)] == ["L1"]
    assert [s.record_id for s in store.tombstones.pending(target)] == ["B2"]
    assert store.tombstones.among(target, ["B1", "B2", "B3"]) == {"B2"}
    [stone] = store.tombstones.pending(source)
    assert stone.email == "p1@example.com" and stone.seen_by == "feed"

    with store.transaction() as tx:
        tx.tombstones.mark_carried(integration_id, stone.id, "deleted")
        tx.tombstones.mark_carried(integration_id, stone.id, "deleted")  # once, however often
    assert store.tombstones.count_pending(source) == 0
    assert store.tombstones.outcomes(integration_id) == {"deleted": 1}


def test_flag_tombstones_are_revived_when_the_record_is_written_again(store):
    _, _, target = _setup(store)
    store.tombstones.record(target, "B4", seen_by="bridge", gone=False)
    store.tombstones.record(target, "B5", seen_by="bridge", gone=True)
    assert store.tombstones.revive(target, ["B4", "B5"]) == 1
    assert store.tombstones.among(target, ["B4", "B5"]) == {"B5"}


def test_any_flagged_sees_flag_tombstones_of_the_side_only(store):
    _, source, target = _setup(store)
    elsewhere = SideRef(store.integrations.create("others").id, TARGET, "bigin", "bigin")
    store.tombstones.record(target, "B1", seen_by="bridge", gone=True)
    store.tombstones.record(source, "L1", seen_by="feed", gone=False)
    store.tombstones.record(elsewhere, "B2", seen_by="feed", gone=False)
    store.tombstones.record(None, "B3", seen_by="facade", connection="bigin", system="bigin")
    assert not store.tombstones.any_flagged(target)  # gone, other sides, the facade's
    assert store.tombstones.any_flagged(source) and store.tombstones.any_flagged(elsewhere)
    store.tombstones.record(target, "B4", seen_by="bridge", gone=False)
    assert store.tombstones.any_flagged(target)


def test_look_ups_and_revives_keep_to_their_side_integration_and_connection(store):
    # The statements are built once and bound per call: each call sees only its own side.
    integration_id, source, target = _setup(store)
    other = store.integrations.create("others")
    bare = SideRef(integration_id, TARGET, None, "bigin")  # no connection: the side alone
    elsewhere = SideRef(other.id, TARGET, None, "bigin")
    store.tombstones.record(target, "B1", seen_by="feed", gone=False)
    store.tombstones.record(elsewhere, "B2", seen_by="feed", gone=False)
    store.tombstones.record(source, "B3", seen_by="feed", gone=False)
    store.tombstones.record(None, "B4", seen_by="facade", connection="bigin", system="bigin")
    ids = ["B1", "B2", "B3", "B4"]
    assert store.tombstones.among(bare, ids) == {"B1"}
    assert store.tombstones.among(target, ids) == {"B1", "B4"}
    assert store.tombstones.among(elsewhere, ids) == {"B2"}
    assert store.tombstones.among(source, ids) == {"B3"}

    assert store.tombstones.revive(elsewhere, ids) == 1
    assert store.tombstones.among(elsewhere, ids) == set()
    assert store.tombstones.among(target, ids) == {"B1", "B4"}
    assert store.tombstones.revive(target, ids) == 1  # the facade's own delete stays
    assert store.tombstones.among(target, ids) == {"B4"}
    assert store.tombstones.among(source, ids) == {"B3"}


def test_the_facade_lists_gone_records_of_a_connection_since_a_time_in_filing_order(store):
    _, _, target = _setup(store)
    old = datetime.now(UTC) - timedelta(days=2)
    store.tombstones.record(target, "B0", seen_by="webhook", deleted_at=old)
    store.tombstones.record(target, "B1", seen_by="reconcile")
    store.tombstones.record(target, "B2", seen_by="bridge", gone=False)  # flagged: in its feed
    store.tombstones.record(None, "B1", seen_by="facade", connection="bigin", system="bigin")
    store.tombstones.record(None, "B3", seen_by="facade", connection="bigin", system="bigin")

    everything = store.tombstones.gone_since("bigin", None)
    assert [s.record_id for s in everything] == ["B0", "B1", "B3"]  # B1 once
    recent = store.tombstones.gone_since("bigin", datetime.now(UTC) - timedelta(hours=1))
    assert [s.record_id for s in recent] == ["B1", "B3"]
    after = store.tombstones.gone_since("bigin", None, after_id=everything[1].id, limit=1)
    assert [s.record_id for s in after] == ["B3"]


def test_reconciliation_finds_linked_records_missing_from_the_listing(store):
    _, _, target = _setup(store)
    run = "run-1"
    store.tombstones.scratch_add(run, ["B0", "B2", "B3"])
    store.tombstones.scratch_add(run, ["B3", "B5"])  # a page listed twice adds nothing twice
    assert store.tombstones.scratch_count(run) == 4
    store.tombstones.record(target, "B4", seen_by="webhook")  # on file already

    missing = store.tombstones.missing(target, run)
    assert [(record_id, email) for _, record_id, _, email in missing] == [("B1", "p1@example.com")]
    first = store.tombstones.missing(target, "run-2", limit=2)
    rest = store.tombstones.missing(target, "run-2", after_link=first[-1][0])
    assert [m[1] for m in first + rest] == ["B0", "B1", "B2", "B3", "B5"]
    store.tombstones.scratch_clear(run)
    assert store.tombstones.scratch_count(run) == 0
