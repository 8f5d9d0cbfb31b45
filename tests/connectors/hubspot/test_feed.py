"""The HubSpot change feed past the search ceiling, the full walk, resumes, the deletions feed."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import requests

from bridge.connectors.base import Position
from bridge.connectors.hubspot import HubSpotConnector
from bridge.emulators.hubspot.search import CEILING

from ..test_battery import person

FAST = {"emulator": {"search_limit": 0, "oauth_burst_limit": 0}, "searches_per_second": 0,
        "calls_per_10s": 100_000}  # fmt: skip


def ids_of(pages: list[Any]) -> list[str]:
    return [c.ids["hubspot"] for page in pages for c in page.contacts]


def touch_all(url: str, token: str, ids: list[int]) -> None:
    """Update ``ids`` through the API in batches of 100 (most share a millisecond)."""
    headers = {"Authorization": f"Bearer {token}"}
    for start in range(0, len(ids), 100):
        inputs = [
            {"id": str(i), "properties": {"jobtitle": "Touched"}} for i in ids[start : start + 100]
        ]
        answer = requests.post(f"{url}/crm/v3/objects/contacts/batch/update",
                               json={"inputs": inputs}, headers=headers, timeout=30)  # fmt: skip
        assert answer.status_code == 200, answer.text[:300]


def test_12000_changes_read_incrementally_past_the_search_ceiling(start_hubspot):
    started = start_hubspot(12_500, **FAST)
    connector: HubSpotConnector = started.connector  # type: ignore[assignment]
    app = started.emulator
    since = datetime.now(UTC)
    changed = app.store.ids[:12_100]
    touch_all(started.url, app.app.private_token, changed)
    # Thousands of the updates share one millisecond: a feed ordered by time would loop.
    stamps = [app.store.live[i].updated for i in changed]
    assert len(stamps) - len(set(stamps)) > 1000

    pages = list(connector.read_changes(since=since))
    seen = ids_of(pages)
    assert len(seen) == len(set(seen)), "a contact came twice"
    assert set(seen) == {str(i) for i in changed}, "a changed contact was lost (or one too many)"
    assert len(seen) > CEILING
    assert all(c.updated_at is not None and c.updated_at >= since.replace(microsecond=0)
               for page in pages for c in page.contacts)  # fmt: skip
    counts = requests.get(f"{started.url}/_emulator/stats", timeout=5).json()
    assert counts.get("status_400", 0) == 0, "the feed must never page into the ceiling"


def test_the_search_ceiling_is_real(start_hubspot):
    started = start_hubspot(10, **FAST)
    token = started.emulator.app.private_token
    answer = requests.post(f"{started.url}/crm/v3/objects/contacts/search",
                           json={"limit": 200, "after": str(CEILING)},
                           headers={"Authorization": f"Bearer {token}"}, timeout=10)  # fmt: skip
    assert answer.status_code == 400
    assert answer.json()["category"] == "VALIDATION_ERROR"


def test_a_full_read_walks_every_id_once_and_resumes_from_a_position(start_hubspot):
    started = start_hubspot(1_234, **FAST)
    connector = started.connector
    feed = connector.read_changes()
    head = [next(feed) for _ in range(5)]
    feed.close()
    stored = Position.from_json(json.loads(json.dumps(head[-1].position.to_json())))
    tail = list(connector.read_changes(resume=stored))
    seen = ids_of(head) + ids_of(tail)
    assert len(seen) == 1_234 == len(set(seen))
    assert seen == sorted(seen), "the walk goes in ascending id order"


def test_an_incremental_read_resumes_inside_its_window(start_hubspot):
    started = start_hubspot(900, **FAST)
    connector = started.connector
    since = datetime.now(UTC)
    touch_all(started.url, started.emulator.app.private_token, started.emulator.store.ids[:700])
    feed = connector.read_changes(since=since)
    first = [next(feed), next(feed)]
    feed.close()
    # Written after the feed opened: beyond its upper bound, so the next run's, not this one's.
    touch_all(started.url, started.emulator.app.private_token, started.emulator.store.ids[800:810])
    rest = list(connector.read_changes(resume=first[-1].position))
    seen = ids_of(first) + ids_of(rest)
    assert len(seen) == 700 == len(set(seen))


def test_a_write_is_read_by_the_next_run_despite_the_index_lag(start_hubspot):
    started = start_hubspot(5, emulator={"index_lag": 0.5, "search_limit": 0},
                            searches_per_second=0, overlap_seconds=60)  # fmt: skip
    connector = started.connector
    since = datetime.now(UTC)

    assert connector.upsert([person(1, "lag")])[0].ok
    assert ids_of(list(connector.read_changes(since=since))) == []  # not indexed yet

    time.sleep(0.6)
    later = since + timedelta(seconds=30)  # the next run's watermark, within the overlap
    assert len(ids_of(list(connector.read_changes(since=later)))) == 1


def test_archived_contacts_are_the_deletions_feed(start_hubspot):
    started = start_hubspot(30, **FAST)
    connector: HubSpotConnector = started.connector  # type: ignore[assignment]
    store = started.emulator.store
    early = [str(i) for i in store.ids[:3]]
    for contact_id in early:
        assert connector.delete(contact_id)
    since = datetime.now(UTC) + timedelta(seconds=1)

    time.sleep(1.1)
    late = [str(i) for i in store.ids[:2]]
    for contact_id in late:
        assert connector.delete(contact_id)
    assert [i for ids in connector.read_deletions(None) for i in ids] == early + late
    assert [i for ids in connector.read_deletions(since) for i in ids] == late
    listed = [i for page in connector.list_ids() for i in page.ids]
    assert len(listed) == 25 and not set(listed) & set(early + late)
    assert connector.get(early[0]) is None
