"""A run of an integration the control plane keeps in the store (not in the config file)."""

from __future__ import annotations

from cryptography.fernet import Fernet

from bridge.runs.queueing import submit_run

RECORDS = 600


def test_a_worker_runs_an_integration_defined_in_the_store(make_cluster, start_legacy, start_bigin):
    legacy, bigin = start_legacy(records=RECORDS), start_bigin(records=0)
    key = Fernet.generate_key().decode()
    cluster = make_cluster({}, None, queue={"partition_size": 200, "parallelism": 1},
                           store={"secret_key": key})  # fmt: skip
    store = cluster.store
    source = store.connections.create(
        "crm", "legacy", {k: v for k, v in legacy.table.items() if k != "kind"}
    )
    target = store.connections.create(
        "bigin", "bigin",
        {**{k: v for k, v in bigin.table.items() if k != "kind"}, "max_calls_per_second": 0},
    )  # fmt: skip
    integration = store.integrations.create(
        "members-api",
        settings={"source": source.id, "target": target.id, "direction": "source-to-target"},
    )
    cluster.start_workers(1)
    submitted = submit_run(cluster.config(), integration.id, store)
    assert submitted.integration_id == integration.id
    job = cluster.wait_job(submitted.job_id)
    assert job.status == "completed", job.error
    assert (job.num_read, job.num_created, job.num_failed) == (RECORDS, RECORDS, 0)
    assert len(bigin.app.store.select("Contacts")) == RECORDS
