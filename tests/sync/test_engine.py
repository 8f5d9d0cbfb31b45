"""The sync engine between the legacy and Bigin emulators, on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
import time

import pytest

from bridge.emulators.kit.server import Faults
from bridge.model import Contact
from bridge.store.repos.leases import LockHeld, integration_lock
from bridge.sync import PassOptions


def test_one_way_full_sync_then_a_rerun_writes_nothing(make_pair):
    pair = make_pair(records=450)
    first = pair.run()
    counts = first.directions["source-to-target"]
    assert (counts.read, counts.created, counts.updated, counts.failed) == (450, 450, 0, 0)
    pair.assert_in_step()
    job = pair.store.jobs.get(first.job_id)
    assert job.status == "completed" and job.num_created == 450
    before = pair.bigin.stats()
    again = pair.run()
    counts = again.directions["source-to-target"]
    assert counts.created == counts.updated == 0
    assert counts.unchanged == counts.read > 0
    # No write call reached Bigin on the rerun.
    after = pair.bigin.stats()
    assert after.get("credits", 0) - before.get("credits", 0) <= counts.read // 200 + 2


def test_incremental_run_sends_only_what_changed(make_pair):
    pair = make_pair(records=300)
    pair.run()
    rows = pair.legacy_rows()
    source, _ = pair.connectors()
    with source:
        source.upsert([Contact(external_id=rows[5]["externalId"], last_name="Renamed")])
    report = pair.run()
    counts = report.directions["source-to-target"]
    assert counts.updated == 1 and counts.created == 0
    assert counts.read < 300  # the watermark limited the read
    pair.assert_in_step()


def test_two_way_edits_on_both_sides_converge_and_a_second_run_writes_nothing(make_pair):
    pair = make_pair(records=200)
    pair.run("both")
    rows = pair.legacy_rows()
    source, target = pair.connectors()
    with source, target:
        source.upsert([Contact(external_id=rows[1]["externalId"], last_name="FromLegacy")])
        bigin_row = target.find_by_external_id(rows[2]["externalId"])
        target.upsert([bigin_row.copy(last_name="FromBigin", ids={})])
        target.upsert(
            [Contact(external_id="NEW-B", email="new.b@example.com", last_name="BornInBigin")]
        )
    report = pair.run("both")
    assert report.directions["source-to-target"].updated == 1
    back = report.directions["target-to-source"]
    assert back.updated + back.created == 2
    pair.assert_in_step()
    assert pair.legacy.app.store.find_external(rows[2]["externalId"])["lastName"] == "FromBigin"
    assert pair.legacy.app.store.find_external("NEW-B")["lastName"] == "BornInBigin"
    quiet = pair.run("both")
    for counts in quiet.directions.values():
        assert counts.created == counts.updated == counts.failed == 0


@pytest.mark.parametrize(("policy", "winner"), [("latest", "FromBigin"), ("source", "FromLegacy")])
def test_a_conflict_is_resolved_by_policy_and_counted(make_pair, policy, winner):
    pair = make_pair(records=50)
    pair.run("both", conflict_policy=policy)
    key = pair.legacy_rows()[3]["externalId"]
    source, target = pair.connectors()
    with source, target:
        source.upsert([Contact(external_id=key, last_name="FromLegacy")])
        # Changed later on Bigin (both sides keep whole seconds; a tie goes to the source).
        time.sleep(1.1)
        row = target.find_by_external_id(key)
        target.upsert([row.copy(last_name="FromBigin", ids={})])
    report = pair.run("both", conflict_policy=policy)
    assert report.totals.conflicts == 1
    assert pair.legacy.app.store.find_external(key)["lastName"] == winner
    pair.assert_in_step()


def test_a_failed_record_is_dead_lettered_and_replayed_after_the_data_is_fixed(make_pair, tmp_path):
    from bridge.runs.replay import replay_dead_letters

    pair = make_pair(records=20)
    rows = pair.legacy_rows()
    bad = rows[4]
    # Bigin requires Last_Name; blank it on the legacy side.
    pair.legacy.app.store._records[bad["entityId"]]["lastName"] = None
    report = pair.run()
    assert report.totals.failed == 1 and report.totals.created == 19
    assert not report.ok
    letters = pair.store.dead_letters.query()
    assert len(letters) == 1
    assert letters[0].error_code == "MANDATORY_NOT_FOUND"
    assert letters[0].record_key == str(bad["entityId"])
    assert pair.store.jobs.errors(report.job_id)[0].code == "MANDATORY_NOT_FOUND"
    # Fix the data at the source, then replay.
    pair.legacy.app.store._records[bad["entityId"]]["lastName"] = "Fixed"
    config = _config_for(pair, tmp_path)
    result = replay_dead_letters(config, "members", store=pair.store)
    assert (result.tried, result.resolved, result.failed) == (1, 1, 0)
    assert pair.store.dead_letters.count() == 0
    pair.assert_in_step()


def test_dry_run_plans_and_writes_nothing(make_pair):
    pair = make_pair(records=30)
    report = pair.run(dry_run=True)
    assert report.job_id is None
    assert len(report.planned) == 30 and {p.action for p in report.planned} == {"create"}
    assert pair.bigin.app.store.count("Contacts") == 0
    assert pair.store.links.count(pair.store.integrations.by_name("members").id) == 0
    assert pair.store.checkpoints.all(pair.store.integrations.by_name("members").id) == []


def test_rate_limits_server_errors_and_short_tokens_lose_nothing(make_pair):
    faults = Faults(throttle_rate=0.2, fail_rate=0.05, retry_after=0, seed=11)
    pair = make_pair(records=700, bigin_options={"faults": faults, "token_ttl": 2})
    report = pair.run()
    assert report.totals.failed == 0
    pair.assert_in_step()
    stats = pair.bigin.stats()
    assert stats.get("status_429", 0) > 0
    assert stats.get("tokens_issued", 0) >= 1


def test_one_run_per_integration_at_a_time(make_pair):
    pair = make_pair(records=10)
    pair.run()
    integration = pair.store.integrations.by_name("members")
    held = threading.Event()
    release = threading.Event()

    def hold() -> None:
        with pair.store.leases.hold(integration_lock(integration.id)):
            held.set()
            release.wait(10)

    thread = threading.Thread(target=hold)
    thread.start()
    held.wait(10)
    try:
        with pytest.raises(LockHeld):
            pair.run()
    finally:
        release.set()
        thread.join()
    assert pair.run().ok


def _config_for(pair, tmp_path):
    from bridge.config import parse_config

    def table(connection):
        return {"kind": connection.kind, **connection.settings}

    return parse_config(
        {
            "store": {"url": pair.store.url.render_as_string(hide_password=False)},
            "connections": {
                "crm": table(pair.legacy.connection()),
                "bigin": table(pair.bigin.connection()),
            },
            "integrations": [{"name": "members", "source": "crm", "target": "bigin"}],
        },
        env={},
    )


def test_push_ids_syncs_named_records_now_without_moving_the_checkpoint(make_pair):
    from bridge.sync import SyncEngine, SyncSpec

    pair = make_pair(records=40)
    pair.run("both")
    integration = pair.store.integrations.by_name("members")
    before = pair.store.checkpoints.get(integration.id, "target-to-source")
    key = pair.legacy_rows()[7]["externalId"]
    source, target = pair.connectors()
    with source, target:
        row = target.find_by_external_id(key)
        target.upsert([row.copy(last_name="Pushed", ids={})])
        engine = SyncEngine(pair.store, SyncSpec("members", source, target, "both"))
        counts = engine.push_ids("target-to-source", [row.ids["bigin"], row.ids["bigin"]])
    assert counts.updated == 1 and counts.read == 1
    assert pair.legacy.app.store.find_external(key)["lastName"] == "Pushed"
    after = pair.store.checkpoints.get(integration.id, "target-to-source")
    assert (after.watermark, after.position) == (before.watermark, before.position)
    jobs = pair.store.jobs.query(integration_id=integration.id)
    assert any(j.type == "webhook" and j.num_updated == 1 for j in jobs)
    # The next scheduled run finds it in step.
    quiet = pair.run("both")
    assert quiet.totals.updated == quiet.totals.created == 0


def test_a_record_changed_during_the_read_cannot_make_another_one_go_missing(make_pair):
    """Offset paging: a record updated mid-read jumps to the end and the rest shift forward
    by one, so the record at the next page boundary is stepped over. The engine keeps the
    window open and the next run brings the stepped-over record."""
    from bridge.sync import SyncEngine, SyncSpec

    pair = make_pair(records=300)
    rows = pair.legacy_rows()
    source, target = pair.connectors()
    changed = []

    def touch_after_first_page(direction, counts, total):
        if not changed:
            changed.append(rows[10]["externalId"])
            pair.legacy.app.store.update_insert(
                [{"externalId": rows[10]["externalId"], "lastName": "Moved"}]
            )

    with source, target:
        spec = SyncSpec(
            "members", source, target, "source-to-target", options=PassOptions(workers=1)
        )
        SyncEngine(pair.store, spec, on_progress=touch_after_first_page).run()
    on_bigin = {r["External_ID"] for r in pair.bigin_rows()}
    missing = {r["externalId"] for r in rows} - on_bigin
    assert len(missing) == 1 and changed[0] not in missing  # the shift really stepped over one
    integration = pair.store.integrations.by_name("members")
    assert pair.store.checkpoints.get(integration.id, "source-to-target").watermark is None
    pair.run()
    pair.assert_in_step()
    assert {r["External_ID"]: r["Last_Name"] for r in pair.bigin_rows()}[changed[0]] == "Moved"
