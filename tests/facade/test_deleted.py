"""Deleted contacts through the facade over Bigin: ``Contact_DeleteBy*`` files tombstones,
``ContactList_Retrieve`` answers them with ``deleted=true`` once, and an integration
carries a facade delete to the legacy side."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

import pytest

from bridge.config import parse_config
from bridge.connectors.legacy import LegacyConnector
from bridge.connectors.registry import build_connector
from bridge.emulators import bigin as bigin_emulator
from bridge.emulators.kit.server import EmulatorServer
from bridge.facade import ENDPOINT_PATH, build_facade
from bridge.store import Store
from bridge.store.repos.tombstones import TARGET, SideRef
from bridge.sync import PassOptions, SyncEngine, SyncSpec
from bridge.sync.deletes import DeleteOptions

from .harness import PASSWORD, SITE, SITE_ID, TIMEZONE, USERNAME

RECORDS = 150


@pytest.fixture
def facade_over_bigin(store: Store):
    crm = bigin_emulator.build_app(RECORDS)
    servers = [EmulatorServer(crm).start()]
    table = bigin_emulator.connection_table(crm, servers[0].url)
    table["max_calls_per_second"] = 0
    config = parse_config(
        {
            "connections": {"crm": table},
            "sites": [SITE],
        },
        env={},
    )
    app = build_facade(config, tombstones=store.tombstones)
    servers.append(EmulatorServer(app).start())
    consumer = LegacyConnector.from_config(
        parse_config(
            {
                "connections": {
                    "site": {
                        "kind": "legacy",
                        "endpoint": servers[1].url + ENDPOINT_PATH,
                        "username": USERNAME,
                        "password": PASSWORD,
                        "site_id": SITE_ID,
                        "timezone": TIMEZONE,
                    }
                }
            },
            env={},
        ).connection("site")
    )
    yield consumer, crm, config
    consumer.close()
    for server in reversed(servers):
        server.stop()


def page_all(consumer: LegacyConnector, since: datetime | None) -> list[Any]:
    return [c for page in consumer.read_changes(since=since) for c in page.contacts]


def test_a_consumer_paging_since_a_date_sees_each_deleted_contact_once(facade_over_bigin, store):
    consumer, crm, config = facade_over_bigin
    emails = sorted(r["Email"] for r in crm.store.select("Contacts"))
    # Two deleted through the facade before the consumer's date, two after it.
    early, late = emails[:2], emails[10:12]
    by_entity_id = consumer.find_by_email(early[0])
    assert by_entity_id is not None
    assert consumer.delete(by_entity_id.ids["legacy"])  # Contact_DeleteByEntityID
    assert consumer.delete_by_email(early[1])  # Contact_DeleteByEmailAddress
    time.sleep(1.2)  # the legacy wire has whole seconds
    since = datetime.now(UTC)
    time.sleep(1.2)
    for email in late:
        assert consumer.delete_by_email(email)
    # A third kind: a delete a sync carried into this connection.
    integration = store.integrations.create("members")
    victim = next(r for r in crm.store.select("Contacts") if r["Email"] == emails[20])
    with build_connector(config.connection("crm")) as bigin:
        assert bigin.delete(str(victim["id"]))
    store.tombstones.record(
        SideRef(integration.id, TARGET, "crm", "bigin"),
        str(victim["id"]),
        seen_by="bridge",
        email=emails[20],
    )
    stones = store.tombstones.gone_since("crm", None, limit=100)
    assert sorted(s.seen_by for s in stones) == ["bridge"] + ["facade"] * 4
    assert sorted(s.email or "" for s in stones) == sorted([*early, *late, emails[20]])

    everything = page_all(consumer, None)
    deleted = [c.email for c in everything if c.deleted]
    assert sorted(deleted) == sorted([*early, *late, emails[20]])
    live = [c.email for c in everything if not c.deleted]
    assert len(live) == len(set(live)) == RECORDS - 5
    assert not set(live) & set(deleted)

    recent = page_all(consumer, since)
    assert sorted(c.email for c in recent if c.deleted) == sorted([*late, emails[20]])
    # Paging again gives the same answer (the positions are per consumer feed, not used up).
    assert sorted(c.email for c in page_all(consumer, since) if c.deleted) == sorted(
        [*late, emails[20]]
    )


def test_without_deletes_the_answer_is_the_live_feed(facade_over_bigin):
    consumer, _, _ = facade_over_bigin
    everything = page_all(consumer, None)
    assert len(everything) == RECORDS and not any(c.deleted for c in everything)


def test_a_facade_delete_is_carried_to_the_legacy_side(facade_over_bigin, store, start_legacy):
    consumer, crm, config = facade_over_bigin
    legacy = start_legacy(records=0)
    with (
        build_connector(legacy.connection()) as source,
        build_connector(config.connection("crm")) as target,
    ):
        options = PassOptions(deletes=DeleteOptions(policy="propagate", confirmed=True))
        spec = SyncSpec(
            "members", source, target, "target-to-source", options=options, target_connection="crm"
        )
        assert SyncEngine(store, spec).run().totals.created == RECORDS
        email = crm.store.select("Contacts")[3]["Email"]
        assert consumer.delete_by_email(email)  # a legacy consumer deletes through the facade
        report = SyncEngine(store, spec).run()
    assert report.totals.deleted == 1
    remaining = {r["emailAddress"].lower() for r in legacy.app.store.all_records()}
    assert email.lower() not in remaining and len(remaining) == RECORDS - 1
