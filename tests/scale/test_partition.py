"""PartitionedRun in one process (no broker): the bookkeeping of bridge.sync.partition."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from bridge.store.repos.leases import LockHeld
from bridge.sync import PassOptions, SyncSpec
from bridge.sync.partition import PartitionedRun, can_partition, partition_key

RECORDS = 650


def spec_for(source: Any, target: Any, **options: Any) -> SyncSpec:
    return SyncSpec("members", source, target, options=PassOptions(full=True, **options))


def test_one_process_syncs_every_partition(start_legacy, start_bigin, store):
    legacy = start_legacy(records=RECORDS)
    bigin = start_bigin(records=0)
    with legacy.connector() as source, bigin.connector() as target:
        spec = spec_for(source, target)
        assert can_partition(spec)
        run = PartitionedRun(store, spec, size=200)
        plans = []
        report = run.coordinate(on_plan=plans.append)
    assert run.partitions_synced == 4  # three full, one of 50 that found the end
    assert report.ok and report.totals.read == RECORDS and report.totals.created == RECORDS
    assert plans and plans[0].fresh and plans[0].size == 200
    keys = sorted(r["External_ID"] for r in bigin.app.store.select("Contacts"))
    assert keys == sorted(r["externalId"] for r in legacy.app.store.all_records())
    integration = store.integrations.by_name("members")
    assert [c.direction for c in store.checkpoints.all(integration.id)] == ["source-to-target"]
    job = store.jobs.get(report.job_id)
    assert job is not None and job.status == "completed" and job.num_read == RECORDS


def test_a_change_during_the_read_keeps_the_watermark(start_legacy, start_bigin, store):
    legacy = start_legacy(records=RECORDS)
    bigin = start_bigin(records=0)
    first = legacy.app.store.all_records()[0]
    with legacy.connector() as source, bigin.connector() as target:
        real = source.read_changes

        def changing(*args: Any, **kwargs: Any):
            for page in real(*args, **kwargs):
                legacy.app.store.update_insert(
                    [{"emailAddress": first["emailAddress"], "firstName": "Changed"}]
                )
                yield page

        source.read_changes = changing
        PartitionedRun(store, spec_for(source, target), size=500).coordinate()
    integration = store.integrations.by_name("members")
    checkpoint = store.checkpoints.get(integration.id, "source-to-target")
    assert checkpoint is not None and checkpoint.watermark is None  # read it all again next time


def test_a_second_coordinator_is_refused_and_helpers_find_nothing_without_a_plan(
    start_legacy, start_bigin, store
):
    legacy = start_legacy(records=300)
    bigin = start_bigin(records=0)
    with legacy.connector() as source, bigin.connector() as target:
        run = PartitionedRun(store, spec_for(source, target), size=100)
        assert run.help() == 0  # no run in progress
        entered, release = threading.Event(), threading.Event()
        outcome: list[Any] = []

        def hold_plan(plan: Any) -> None:
            entered.set()
            release.wait(10)

        worker = threading.Thread(target=lambda: outcome.append(run.coordinate(on_plan=hold_plan)))
        worker.start()
        assert entered.wait(10)
        with legacy.connector() as source2, bigin.connector() as target2:
            second = PartitionedRun(store, spec_for(source2, target2), size=100)
            with pytest.raises(LockHeld):
                second.coordinate()
            assert second.help() == 3  # the helper does all the work while the coordinator waits
        release.set()
        worker.join(30)
    assert outcome and outcome[0].totals.read == 300
    integration = store.integrations.by_name("members")
    assert store.checkpoints.get(integration.id, partition_key("source-to-target", 0)) is None


def test_a_partitioned_run_screens_and_carries_deletes(start_legacy, start_bigin, store):
    from bridge.sync.deletes import DeleteOptions

    legacy = start_legacy(records=RECORDS)
    bigin = start_bigin(records=0)
    with legacy.connector() as source, bigin.connector() as target:
        deletes = DeleteOptions(policy="propagate")
        PartitionedRun(store, spec_for(source, target, deletes=deletes), size=200).coordinate()
        rows = legacy.app.store.all_records()
        flagged, removed = str(rows[10]["entityId"]), rows[400]["entityId"]
        assert source.flag_deleted(flagged)  # seen in the feed
        assert legacy.app.store.delete(removed)  # seen by reconciliation
        spec = spec_for(source, target, deletes=DeleteOptions(policy="propagate", reconcile=True))
        report = PartitionedRun(store, spec, size=200).coordinate()
    assert report.ok and report.totals.deleted == 2
    job = store.jobs.get(report.job_id)
    assert job is not None and job.status == "completed" and job.num_deleted == 2
    keys = {r["External_ID"] for r in bigin.app.store.select("Contacts")}
    assert len(keys) == RECORDS - 2
    assert not {rows[10]["externalId"], rows[400]["externalId"]} & keys
