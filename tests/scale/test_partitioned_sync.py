"""Partitioned full syncs run by several `soapbridge worker` processes (Celery on Redis).

Sizes are a few thousand contacts so the suite stays quick on a small machine; the same
assertions at 50,000 contacts are bench/scale_out.py's.
"""

from __future__ import annotations

import re
import time
from typing import Any

import pytest

from bridge.config import ConnectionConfig
from bridge.connectors.registry import build_connector
from bridge.emulators.kit.server import Faults
from bridge.runs.queueing import submit_run
from bridge.store import Store
from bridge.sync import PassOptions, SyncEngine, SyncSpec

RECORDS = 3000
# Fields Bigin sets itself: they differ between any two writes of the same data.
VOLATILE = {"id", "Created_Time", "Modified_Time", "Owner", "Created_By", "Modified_By",
            "Last_Activity_Time", "Tag", "Account_Name"}  # fmt: skip


def comparable(rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Bigin rows by External ID, without the fields Bigin sets on every write."""
    return {str(r.get("External_ID")): {k: v for k, v in r.items() if k not in VOLATILE}
            for r in rows}  # fmt: skip


def settings_of(emulator: Any, **extra: Any) -> dict[str, Any]:
    """The emulator's connection table (``kind`` included) with ``extra`` settings."""
    return {**emulator.table, **extra}


def connection(name: str, settings: dict[str, Any]) -> ConnectionConfig:
    return ConnectionConfig(
        name, settings["kind"], {k: v for k, v in settings.items() if k != "kind"}
    )


def members(**options: Any) -> dict[str, Any]:
    return {"name": "members", "source": "crm", "target": "bigin", "workers": 2, **options}


def single_worker_rows(legacy: Any, bigin: Any, tmp_path: Any) -> list[dict[str, Any]]:
    """What one in-process run writes to an empty Bigin from the same legacy site."""
    store = Store(f"sqlite:///{tmp_path / 'single.db'}")
    store.migrate()
    source = build_connector(connection("crm", settings_of(legacy)))
    target = build_connector(connection("bigin", settings_of(bigin, max_calls_per_second=0)))
    with source, target:
        spec = SyncSpec("members", source, target, options=PassOptions(full=True, workers=2))
        report = SyncEngine(store, spec).run()
    store.dispose()
    assert report.totals.read == RECORDS and report.ok
    return bigin.app.store.select("Contacts")


def test_two_workers_sync_partitions_to_the_single_worker_result(
    make_cluster, start_legacy, start_bigin, tmp_path
):
    legacy = start_legacy(records=RECORDS)
    bigin = start_bigin(records=0)
    cluster = make_cluster(
        {"crm": settings_of(legacy), "bigin": settings_of(bigin, max_calls_per_second=0)},
        members(),
        queue={"partition_size": 500, "parallelism": 2},
    )
    workers = cluster.start_workers(2)
    submitted = submit_run(cluster.config(), "members", cluster.store, full=True)
    job = cluster.wait_job(submitted.job_id)
    assert job.status == "completed", job.error
    assert (job.num_read, job.num_failed) == (RECORDS, 0)
    assert job.num_created == RECORDS  # every contact new to Bigin, each created once
    # Both workers took partitions (the coordinator and its helper).
    for worker in workers:
        assert re.search(rb"partition \d+ .* synced", worker.log.read_bytes()), worker.name
    many = bigin.app.store.select("Contacts")
    assert len(many) == RECORDS

    one = single_worker_rows(legacy, start_bigin(records=0), tmp_path)
    assert comparable(many) == comparable(one)
    integration = cluster.store.integrations.by_name("members")
    assert cluster.store.links.count(integration.id) == RECORDS
    # The run leaves one checkpoint, the direction's watermark, and no partition state.
    checkpoints = cluster.store.checkpoints.all(integration.id)
    assert [c.direction for c in checkpoints] == ["source-to-target"]
    assert checkpoints[0].watermark is not None and checkpoints[0].position is None

    # An incremental run afterwards is an ordinary one and finds nothing to write.
    again = submit_run(cluster.config(), "members", cluster.store)
    job = cluster.wait_job(again.job_id)
    assert job.status == "completed"
    assert job.num_created == job.num_updated == job.num_failed == 0


def _pid(holder: str | None) -> int | None:
    parts = (holder or "").split(":")
    return int(parts[1]) if len(parts) == 3 and parts[1].isdigit() else None


def _holder_pid(store: Store, name: str) -> int | None:
    lease = store.leases.get(name)
    return _pid(lease.holder if lease else None)


@pytest.mark.parametrize("victim_role", ["helper", "coordinator"])
def test_a_worker_killed_mid_run_loses_nothing(
    make_cluster, start_legacy, start_bigin, victim_role
):
    # Latency on the legacy side makes the run last long enough to kill a worker inside it.
    legacy = start_legacy(records=RECORDS, faults=Faults(latency=0.05))
    bigin = start_bigin(records=0)
    cluster = make_cluster(
        {"crm": settings_of(legacy), "bigin": settings_of(bigin, max_calls_per_second=0)},
        members(),
        # A short visibility timeout: the run message of a dead coordinator comes back soon.
        queue={
            "partition_size": 500,
            "parallelism": 2,
            "claim_seconds": 5,
            "visibility_timeout": 5,
        },
    )
    workers = cluster.start_workers(2)
    submitted = submit_run(cluster.config(), "members", cluster.store, full=True)
    integration_id = submitted.integration_id

    # Kill the worker in that role while it holds a partition with some of it committed.
    by_pid = {w.process.pid: w for w in workers}
    victim = None
    deadline = time.monotonic() + 60
    while victim is None:
        assert time.monotonic() < deadline, f"the {victim_role} never took a partition"
        coordinator = _holder_pid(cluster.store, f"integration:{integration_id}")
        for index in range(RECORDS // 500 + 1):
            pid = _holder_pid(cluster.store, f"partition:{integration_id}:{index}")
            checkpoint = cluster.store.checkpoints.get(
                integration_id, f"source-to-target@{index:05d}"
            )
            role = "coordinator" if pid == coordinator else "helper"
            if pid in by_pid and role == victim_role and checkpoint is not None:
                victim = by_pid[pid]
                break
        time.sleep(0.05)
    victim.kill()

    job = cluster.wait_job(submitted.job_id, timeout=180)
    assert job.status == "completed", job.error
    assert job.num_failed == 0
    rows = bigin.app.store.select("Contacts")
    keys = [r.get("External_ID") for r in rows]
    assert len(keys) == len(set(keys)) == RECORDS, "lost or duplicated on Bigin"
    assert set(keys) == {r["externalId"] for r in legacy.app.store.all_records()}
    # At most the pages in flight when it died were sent twice (as updates, not twins).
    assert RECORDS <= job.num_read <= RECORDS + 500
    assert cluster.store.links.count(integration_id) == RECORDS
    # One run: no second job was started by a repeated delivery of the message.
    assert [j.id for j in cluster.store.jobs.query(integration_id=integration_id)] == [job.id]
