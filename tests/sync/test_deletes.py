"""Deletes carried between the legacy emulator and each REST emulator, under each policy."""

from __future__ import annotations

from typing import Any

import pytest

from bridge.connectors.base import Capability, Connector
from bridge.connectors.hubspot import HubSpotConnector
from bridge.connectors.hubspot.mapping import DEFAULT_DELETED_PROPERTY as HUBSPOT_FLAG
from bridge.connectors.registry import build_connector
from bridge.model import Contact
from bridge.store import Store
from bridge.store.repos.tombstones import SOURCE, TARGET, SideRef
from bridge.sync import PassOptions, SyncEngine, SyncReport, SyncSpec
from bridge.sync.deletes import DeleteOptions

RECORDS = 20


class Bridge:
    """Legacy (source) and one REST CRM (target) with one integration between them."""

    def __init__(self, store: Store, legacy: Any, rest: Any, kind: str) -> None:
        self.store = store
        self.legacy = legacy
        self.rest = rest
        self.kind = kind

    def connectors(self) -> tuple[Connector, Connector]:
        # Engagifii's connector deactivates on delete unless told to delete for real.
        overrides: dict[str, Any] = {
            "bigin": {"max_calls_per_second": 0},
            "engagifii": {"delete_mode": "delete"},
        }.get(self.kind, {})
        return (
            build_connector(self.legacy.connection()),
            build_connector(self.rest.connection(**overrides)),
        )

    def run(
        self,
        direction: str = "source-to-target",
        *,
        dry_run: bool = False,
        **deletes: Any,
    ) -> SyncReport:
        source, target = self.connectors()
        with source, target:
            options = PassOptions(dry_run=dry_run, deletes=DeleteOptions(**deletes))
            spec = SyncSpec("members", source, target, direction, options=options)
            return SyncEngine(self.store, spec).run()

    def integration_id(self) -> str:
        integration = self.store.integrations.by_name("members")
        assert integration is not None
        return integration.id

    def link_of(self, legacy_id: str) -> str:
        link = self.store.links.get(self.integration_id(), source_id=legacy_id)
        assert link is not None and link.target_id
        return link.target_id

    def legacy_ids(self) -> list[str]:
        return [str(r["entityId"]) for r in self.legacy.app.store.all_records()]


@pytest.fixture
def make_bridge(start_legacy, start_bigin, start_engagifii, start_egito, start_hubspot, store):
    def make(kind: str = "bigin", records: int = RECORDS) -> Bridge:
        legacy = start_legacy(records=records)
        starters = {
            "bigin": start_bigin,
            "engagifii": start_engagifii,
            "egito": start_egito,
            "hubspot": start_hubspot,
        }
        return Bridge(store, legacy, starters[kind](records=0), kind)

    return make


def rest_state(bridge: Bridge, rest_id: str) -> str:
    """'gone', 'flagged' or 'live': what the REST CRM holds for ``rest_id``."""
    _, target = bridge.connectors()
    with target:
        if bridge.kind == "bigin":
            response = target.client.call("GET", f"/Contacts/{rest_id}")  # type: ignore[attr-defined]
            rows = [] if response.empty else (response.body or {}).get("data") or []
            if not rows:
                return "gone"
            tags = {t["name"] for t in rows[0].get("Tag") or ()}
            return "flagged" if "deleted" in tags else "live"
        if bridge.kind == "engagifii":
            person = target.client.get_person(rest_id)  # type: ignore[attr-defined]
            if person is None:
                return "gone"
            return "flagged" if person.get("isActive") is False else "live"
        if bridge.kind == "hubspot":
            held = bridge.rest.app.store.live.get(int(rest_id))
            if held is None:
                return "gone"
            return "flagged" if held.props.get(HUBSPOT_FLAG) == "true" else "live"
        record = target.client.get("Contact", rest_id)  # type: ignore[attr-defined]
        if record is None:
            return "gone"
        return "flagged" if str(record.get("description") or "").startswith("[deleted]") else "live"


def delete_in_legacy(bridge: Bridge, legacy_id: str) -> None:
    source, _ = bridge.connectors()
    with source:
        assert source.delete(legacy_id)


@pytest.mark.parametrize("kind", ["bigin", "engagifii", "egito", "hubspot"])
@pytest.mark.parametrize("policy", ["propagate", "flag"])
def test_a_contact_deleted_in_legacy_is_deleted_or_flagged_on_the_rest_side(
    make_bridge, kind, policy
):
    bridge = make_bridge(kind)
    assert bridge.run(policy=policy).totals.created == RECORDS
    victim, bystander = bridge.legacy_ids()[:2]
    rest_victim, rest_bystander = bridge.link_of(victim), bridge.link_of(bystander)
    delete_in_legacy(bridge, victim)

    report = bridge.run(policy=policy, reconcile=True)

    assert report.ok, report.error
    assert report.totals.deleted == 1
    assert rest_state(bridge, rest_victim) == ("gone" if policy == "propagate" else "flagged")
    assert rest_state(bridge, rest_bystander) == "live"
    assert bridge.store.links.count(bridge.integration_id()) == RECORDS - 1
    # A rerun carries nothing and writes nothing.
    again = bridge.run(policy=policy, reconcile=True)
    assert (again.totals.deleted, again.totals.created, again.totals.updated) == (0, 0, 0)


def test_a_legacy_contact_flagged_deleted_travels_without_reconciliation(make_bridge):
    bridge = make_bridge("bigin")
    bridge.run(policy="propagate")
    victim = bridge.legacy_ids()[3]
    rest_victim = bridge.link_of(victim)
    source, _ = bridge.connectors()
    with source:
        assert source.flag_deleted(victim)  # the legacy `deleted` flag, through UpdateInsert

    report = bridge.run(policy="propagate")

    assert report.totals.deleted == 1
    assert rest_state(bridge, rest_victim) == "gone"
    stones = bridge.store.tombstones.for_side(
        SideRef(bridge.integration_id(), SOURCE, None, "legacy")
    )
    assert [(s.record_id, s.seen_by, s.gone) for s in stones] == [(victim, "feed", False)]


def test_a_contact_deleted_in_bigin_leaves_the_legacy_side_by_reconciliation(make_bridge):
    bridge = make_bridge("bigin")
    bridge.run("both", policy="propagate")
    victim = bridge.legacy_ids()[5]
    rest_victim = bridge.link_of(victim)
    _, target = bridge.connectors()
    with target:
        assert target.delete(rest_victim)

    report = bridge.run("both", policy="propagate", reconcile=True)

    assert report.ok, report.error
    assert report.directions["target-to-source"].deleted == 1
    assert victim not in bridge.legacy_ids()
    assert len(bridge.legacy_ids()) == RECORDS - 1
    again = bridge.run("both", policy="propagate", reconcile=True)
    assert (again.totals.deleted, again.totals.created, again.totals.updated) == (0, 0, 0)
    assert len(bridge.legacy_ids()) == RECORDS - 1


def test_flag_policy_marks_the_legacy_record_deleted_and_it_does_not_travel_back(make_bridge):
    bridge = make_bridge("bigin")
    bridge.run("both")
    victim = bridge.legacy_ids()[7]
    _, target = bridge.connectors()
    with target:
        assert target.delete(bridge.link_of(victim))

    bridge.run("both", reconcile=True)  # default policy: flag

    [row] = [r for r in bridge.legacy.app.store.all_records() if str(r["entityId"]) == victim]
    assert row["deleted"] is True
    again = bridge.run("both", reconcile=True)
    assert (again.totals.created, again.totals.updated, again.totals.deleted) == (0, 0, 0)
    assert len(bridge.rest.app.store.select("Contacts")) == RECORDS - 1


def test_a_deleted_contact_recreated_with_the_same_email_is_a_new_contact(make_bridge):
    bridge = make_bridge("bigin")
    bridge.run(policy="propagate")
    victim = bridge.legacy_ids()[2]
    [row] = [r for r in bridge.legacy.app.store.all_records() if str(r["entityId"]) == victim]
    old_rest_id = bridge.link_of(victim)
    delete_in_legacy(bridge, victim)
    bridge.run(policy="propagate", reconcile=True)
    assert rest_state(bridge, old_rest_id) == "gone"

    source, _ = bridge.connectors()
    with source:
        [outcome] = source.upsert(
            [Contact(email=row["emailAddress"], last_name="Again", first_name="Back")]
        )
        assert outcome.ok
        reborn = source.find_by_email(row["emailAddress"])
    assert reborn is not None
    new_legacy_id = reborn.ids["legacy"]
    assert new_legacy_id != victim

    report = bridge.run(policy="propagate", reconcile=True)

    assert report.totals.created == 1 and report.totals.deleted == 0
    new_rest_id = bridge.link_of(new_legacy_id)
    assert new_rest_id != old_rest_id
    assert rest_state(bridge, new_rest_id) == "live"
    again = bridge.run(policy="propagate", reconcile=True)
    assert (again.totals.deleted, again.totals.created) == (0, 0)
    assert rest_state(bridge, new_rest_id) == "live"


def test_the_guard_holds_every_delete_past_the_threshold_until_confirmed(make_bridge):
    bridge = make_bridge("bigin")
    bridge.run(policy="propagate")
    ids = bridge.legacy_ids()
    rest_ids = [bridge.link_of(i) for i in ids[:2]]
    delete_in_legacy(bridge, ids[0])
    # One of twenty is 5%: at the threshold, carried.
    assert bridge.run(policy="propagate", reconcile=True).totals.deleted == 1
    # Two of nineteen is over 5%: held, nothing deleted, the count reported.
    for legacy_id in ids[1:3]:
        delete_in_legacy(bridge, legacy_id)
    held = bridge.run(policy="propagate", reconcile=True)
    assert held.deletes_held == 2 and held.totals.deleted == 0
    assert not held.ok and "2 delete(s)" in (held.error or "")
    assert rest_state(bridge, rest_ids[1]) == "live"
    job = bridge.store.jobs.get(held.job_id or "")
    assert job is not None and "mass-delete guard" in (job.error or "")
    # A dry run lists them.
    planned = bridge.run(policy="propagate", dry_run=True)
    assert sorted(p.action for p in planned.planned) == ["delete", "delete"]
    assert rest_state(bridge, rest_ids[1]) == "live"
    # Confirmed: carried.
    done = bridge.run(policy="propagate", confirmed=True)
    assert done.ok and done.totals.deleted == 2
    assert rest_state(bridge, rest_ids[1]) == "gone"
    assert len(bridge.rest.app.store.select("Contacts")) == RECORDS - 3


def test_max_deletes_trips_the_guard_whatever_the_fraction(make_bridge):
    bridge = make_bridge("bigin")
    bridge.run(policy="propagate")
    delete_in_legacy(bridge, bridge.legacy_ids()[0])
    held = bridge.run(policy="propagate", reconcile=True, max_fraction=1.0, max_deletes=0)
    assert held.deletes_held == 1
    assert len(bridge.rest.app.store.select("Contacts")) == RECORDS


def test_ignore_records_the_delete_and_writes_nothing(make_bridge):
    bridge = make_bridge("bigin")
    bridge.run(policy="ignore")
    victim = bridge.legacy_ids()[0]
    rest_victim = bridge.link_of(victim)
    delete_in_legacy(bridge, victim)
    report = bridge.run(policy="ignore", reconcile=True)
    assert report.ok and report.totals.deleted == 0
    assert rest_state(bridge, rest_victim) == "live"
    assert bridge.store.tombstones.outcomes(bridge.integration_id()) == {"ignored": 1}


def test_a_refused_delete_goes_to_the_dead_letters_and_the_job_errors(make_bridge):
    bridge = make_bridge("bigin")
    bridge.run(policy="propagate")
    victim = bridge.legacy_ids()[0]
    rest_victim = bridge.link_of(victim)
    delete_in_legacy(bridge, victim)
    integration_id = bridge.integration_id()
    bridge.store.tombstones.record(
        SideRef(integration_id, SOURCE, None, "legacy"), victim, seen_by="lookup"
    )
    bridge.rest.app.faults.fail_rate = 1.0  # every Bigin call answers 500 now

    report = bridge.run(policy="propagate")

    assert report.totals.failed == 1 and report.totals.deleted == 0
    letters = bridge.store.dead_letters.query(integration_id=integration_id)
    assert [(x.direction, x.record_key) for x in letters] == [
        ("source-to-target/delete", rest_victim)
    ]
    errors = bridge.store.jobs.errors(report.job_id or "")
    assert [e.message.startswith("delete failed") for e in errors] == [True]
    # The next run (Bigin answering again) carries it and resolves the letter.
    bridge.rest.app.faults.fail_rate = 0.0
    assert bridge.run(policy="propagate").totals.deleted == 1
    assert bridge.store.dead_letters.count(integration_id=integration_id) == 0
    assert rest_state(bridge, rest_victim) == "gone"


def test_lookup_that_finds_nothing_for_a_linked_id_carries_the_delete(make_bridge):
    bridge = make_bridge("bigin")
    bridge.run("both", policy="propagate")
    victim = bridge.legacy_ids()[4]
    rest_victim = bridge.link_of(victim)
    _, target = bridge.connectors()
    with target:
        target.delete(rest_victim)
    source, target = bridge.connectors()
    with source, target:
        options = PassOptions(deletes=DeleteOptions(policy="propagate"))
        spec = SyncSpec("members", source, target, "both", options=options)
        counts = SyncEngine(bridge.store, spec).push_ids("target-to-source", [rest_victim])
    assert counts.deleted == 1
    assert victim not in bridge.legacy_ids()
    stones = bridge.store.tombstones.for_side(
        SideRef(bridge.integration_id(), TARGET, None, "bigin")
    )
    assert [(s.record_id, s.seen_by) for s in stones] == [(rest_victim, "lookup")]


def test_a_reconcile_schedule_runs_reconciling_syncs(start_legacy, start_bigin, tmp_path):
    from bridge.config import load_config
    from bridge.sync.runner import open_store, run_integration
    from bridge.sync.scheduler import Scheduler

    from .conftest import write_config

    legacy, bigin = start_legacy(records=RECORDS), start_bigin(records=0)
    path = write_config(
        tmp_path / "bridge.toml",
        f"sqlite:///{tmp_path / 's.db'}",
        legacy,
        bigin,
        "source-to-target",
        deletes="propagate",
        schedule="*/15 * * * *",
        reconcile_schedule="0 3 * * *",
    )
    config = load_config(path)
    store = open_store(config)
    assert run_integration(config, "members", store=store).totals.created == RECORDS
    first = legacy.app.store.all_records()[0]
    assert legacy.app.store.delete(first["entityId"])
    scheduler = Scheduler.from_config(config, store)
    assert sorted(scheduler.schedules) == ["members", "members (reconcile)"]
    # The plain schedule cannot see a delete the legacy CRM forgot; the reconciling one does.
    assert scheduler.run("members").totals.deleted == 0
    reconciling = scheduler.schedules["members (reconcile)"]
    assert reconciling.run is not None
    assert reconciling.run("members (reconcile)").totals.deleted == 1
    assert len(bigin.app.store.select("Contacts")) == RECORDS - 1
    store.dispose()


def test_a_deletions_feed_declared_by_a_connector_is_read_every_run(make_bridge):
    """A system with a readable deletions feed (none of ours has one yet: Zoho CRM's
    ``/deleted`` would be one) plugs in through ``Capability.DELETIONS_FEED``."""
    from datetime import datetime

    from bridge.connectors.base import Capability
    from bridge.connectors.bigin.connector import BiginConnector

    deleted_at: dict[str, datetime] = {}
    asked: list[datetime | None] = []

    class BiginWithFeed(BiginConnector):
        capabilities = BiginConnector.capabilities | {Capability.DELETIONS_FEED}

        def read_deletions(self, since):  # type: ignore[no-untyped-def]
            asked.append(since)
            yield [i for i, at in deleted_at.items() if since is None or at >= since]

    bridge = make_bridge("bigin")
    bridge.run("both", policy="propagate")
    victim = bridge.legacy_ids()[1]
    rest_victim = bridge.link_of(victim)
    source, target = bridge.connectors()
    with source, target:
        assert target.delete(rest_victim)
        deleted_at[rest_victim] = datetime.now().astimezone()
        feed = BiginWithFeed(target.client)  # type: ignore[attr-defined]
        options = PassOptions(deletes=DeleteOptions(policy="propagate"))
        spec = SyncSpec("members", source, feed, "both", options=options)
        report = SyncEngine(bridge.store, spec).run()  # no reconciliation asked
        assert report.directions["target-to-source"].deleted == 1
        assert victim not in bridge.legacy_ids()
        again = SyncEngine(bridge.store, spec).run()
    assert again.totals.deleted == 0
    assert asked[0] is None and asked[1] is not None  # the second read starts at a watermark


def test_a_reconciliation_cut_off_mid_listing_resumes_where_it_stood(make_bridge):
    from bridge.connectors.bigin.connector import BiginConnector
    from bridge.errors import TransientError
    from bridge.sync.reconcile import reconcile_side

    bridge = make_bridge("bigin", records=60)
    bridge.run(policy="propagate")
    victims = [bridge.link_of(i) for i in bridge.legacy_ids()[:2]]
    _, target = bridge.connectors()
    starts: list[dict[str, Any]] = []

    class Flaky(BiginConnector):
        fail_after: int | None = 2

        def list_ids(self, resume=None):  # type: ignore[no-untyped-def]
            starts.append(dict(resume.cursor) if resume else {})
            for n, page in enumerate(super().list_ids(resume)):
                if self.fail_after is not None and n == self.fail_after:
                    raise TransientError("connection reset", system="bigin")
                yield page

    with target:
        for victim in victims:
            assert target.delete(victim)
        flaky = Flaky(target.client, per_page=10)  # type: ignore[attr-defined]
        ref = SideRef(bridge.integration_id(), TARGET, None, "bigin")
        with pytest.raises(TransientError):
            reconcile_side(bridge.store, ref, flaky)
        assert bridge.store.tombstones.for_side(ref) == []  # nothing filed from half a list
        flaky.fail_after = None
        assert reconcile_side(bridge.store, ref, flaky) == 2
    assert starts == [{}, {"page": 3}]  # the second listing went on after the two pages done
    assert sorted(s.record_id for s in bridge.store.tombstones.for_side(ref)) == sorted(victims)


def test_replaying_a_dead_letter_never_brings_a_deleted_contact_back(make_bridge, tmp_path):
    from bridge.config import load_config
    from bridge.sync.replay import replay_dead_letters

    from .conftest import write_config

    bridge = make_bridge("bigin")
    bad = bridge.legacy.app.store.all_records()[4]
    bridge.legacy.app.store._records[bad["entityId"]]["lastName"] = None  # Bigin refuses it
    assert bridge.run().totals.failed == 1
    # Deleted at the source (its `deleted` flag) before anyone fixed and replayed it.
    bridge.legacy.app.store._records[bad["entityId"]]["lastName"] = "Fixed"
    source, _ = bridge.connectors()
    with source:
        assert source.flag_deleted(str(bad["entityId"]))
    config = load_config(
        write_config(tmp_path / "b.toml", "sqlite://", bridge.legacy, bridge.rest, "both")
    )
    result = replay_dead_letters(config, "members", store=bridge.store)
    assert (result.tried, result.resolved, result.failed) == (1, 1, 0)
    assert bridge.store.dead_letters.count() == 0
    emails = {r["Email"] for r in bridge.rest.app.store.select("Contacts")}
    assert bad["emailAddress"] not in emails and len(emails) == RECORDS - 1


def test_the_cli_holds_lists_and_confirms_deletes(start_legacy, start_bigin, tmp_path):
    import json

    from .conftest import write_config
    from .test_cli import soapbridge

    legacy, bigin = start_legacy(records=RECORDS), start_bigin(records=0)
    config = str(
        write_config(
            tmp_path / "bridge.toml",
            f"sqlite:///{tmp_path / 's.db'}",
            legacy,
            bigin,
            "source-to-target",
            deletes="propagate",
        )
    )
    assert soapbridge("sync", "members", "--config", config).returncode == 0
    for record in legacy.app.store.all_records()[:3]:
        assert legacy.app.store.delete(record["entityId"])

    held = soapbridge("sync", "members", "--config", config, "--reconcile")
    assert held.returncode == 1
    assert "mass-delete guard: 3 delete(s) of 20 linked record(s)" in " ".join(held.stdout.split())
    planned = soapbridge("sync", "members", "--config", config, "--dry-run")
    assert planned.stdout.count("source-to-target: delete") == 3, planned.stdout
    assert len(bigin.app.store.select("Contacts")) == RECORDS
    done = soapbridge("sync", "members", "--config", config, "--confirm-deletes", "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["totals"]["deleted"] == 3
    assert len(bigin.app.store.select("Contacts")) == RECORDS - 3


@pytest.mark.parametrize("policy", ["propagate", "flag"])
def test_a_contact_archived_in_hubspot_reaches_legacy_through_the_archived_list(
    make_bridge, policy
):
    bridge = make_bridge("hubspot")
    bridge.run("both", policy=policy)
    victim = bridge.legacy_ids()[4]
    _, target = bridge.connectors()
    with target:
        assert target.delete(bridge.link_of(victim))  # archived: HubSpot's delete

    report = bridge.run("both", policy=policy)  # no reconciliation: the feed tells

    assert report.ok, report.error
    assert report.directions["target-to-source"].deleted == 1
    rows = {str(r["entityId"]): r for r in bridge.legacy.app.store.all_records()}
    if policy == "propagate":
        assert victim not in rows and len(rows) == RECORDS - 1
    else:
        assert rows[victim]["deleted"] is True and len(rows) == RECORDS
    stones = bridge.store.tombstones.for_side(
        SideRef(bridge.integration_id(), TARGET, None, "hubspot")
    )
    assert [s.seen_by for s in stones] == ["feed"]
    again = bridge.run("both", policy=policy)
    assert (again.totals.deleted, again.totals.created, again.totals.updated) == (0, 0, 0)
    assert len(bridge.legacy.app.store.all_records()) == len(rows)


class HubSpotWithoutFlag(HubSpotConnector):
    """A connector that cannot flag (no ``Capability.FLAG_DELETED``), as a kit connector may."""

    capabilities = HubSpotConnector.capabilities - {Capability.FLAG_DELETED}


def test_under_flag_a_system_that_cannot_flag_keeps_its_record_and_the_delete_is_noted(
    make_bridge,
):
    bridge = make_bridge("hubspot")
    bridge.run(policy="flag")
    victim = bridge.legacy_ids()[1]
    rest_victim = bridge.link_of(victim)
    delete_in_legacy(bridge, victim)

    def run() -> SyncReport:
        source, target = bridge.connectors()
        unflagging = HubSpotWithoutFlag(target.client)  # type: ignore[attr-defined]
        with source, unflagging:
            options = PassOptions(deletes=DeleteOptions(policy="flag", reconcile=True))
            spec = SyncSpec("members", source, unflagging, "source-to-target", options=options)
            return SyncEngine(bridge.store, spec).run()

    report = run()

    assert report.ok, report.error
    assert report.totals.deleted == 0
    assert rest_state(bridge, rest_victim) == "live"
    assert bridge.rest.app.store.live[int(rest_victim)].props.get(HUBSPOT_FLAG) is None
    assert bridge.store.tombstones.outcomes(bridge.integration_id()) == {"ignored": 1}
    again = run()
    assert (again.totals.deleted, again.totals.created, again.totals.updated) == (0, 0, 0)
    assert bridge.store.tombstones.outcomes(bridge.integration_id()) == {"ignored": 1}
