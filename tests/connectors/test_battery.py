"""The battery every connector passes against its own emulator on loopback.

Each test is parametrised over the registered harnesses (see ``harnesses/__init__.py``);
a test that needs an optional behaviour runs only for the harnesses that declare it.
"""

from __future__ import annotations

import json
import time
import urllib.request
from collections.abc import Callable

import pytest

from bridge.config import SECRET_KEYS
from bridge.connectors.base import Connector, Page, UpsertStatus
from bridge.connectors.registry import connector_kinds
from bridge.errors import AuthError
from bridge.model import Contact, utc_now

from .harnesses import HARNESSES, Harness, Started, all_harnesses, with_capability

StartHarness = Callable[..., Started]


def _ids(harnesses: list[Harness]) -> list[str]:
    return [h.kind for h in harnesses]


def every(capability: str | None = None) -> pytest.MarkDecorator:
    harnesses = all_harnesses() if capability is None else with_capability(capability)
    return pytest.mark.parametrize("harness", harnesses, ids=_ids(harnesses))


def person(i: int, tag: str = "bat") -> Contact:
    return Contact(
        external_id=f"{tag.upper()}-{i:05d}",
        email=f"{tag}.{i}@battery.example.com",
        first_name="Bat",
        last_name=f"Tery{i}",
    )


def stats(started: Started) -> dict[str, int]:
    with urllib.request.urlopen(f"{started.url}/_emulator/stats", timeout=5) as response:
        data: dict[str, int] = json.loads(response.read())
    return data


def read_all(connector: Connector, **kwargs: object) -> list[Page]:
    return list(connector.read_changes(**kwargs))  # type: ignore[arg-type]


def contact_keys(pages: list[Page], system: str) -> list[str]:
    return [c.ids[system] for page in pages for c in page.contacts]


def test_every_registered_connector_is_in_the_battery() -> None:
    missing = sorted(set(connector_kinds()) - set(HARNESSES))
    assert not missing, f"connector kinds without a battery harness: {missing}"


@every()
def test_paging_reads_every_record_exactly_once(harness: Harness, start_harness: StartHarness):
    started = start_harness(harness, records=450)
    pages = read_all(started.connector)
    keys = contact_keys(pages, harness.kind)
    assert len(pages) >= 3, "450 records should span several pages"
    assert len(keys) == 450
    assert len(set(keys)) == 450
    assert [p.more for p in pages] == [True] * (len(pages) - 1) + [False]
    for page in pages:
        json.dumps(page.position.to_json())  # a checkpoint must be storable as is


@every()
def test_resuming_from_a_position_continues_without_gaps_or_repeats(
    harness: Harness, start_harness: StartHarness
):
    started = start_harness(harness, records=450)
    feed = started.connector.read_changes()
    first = [next(feed), next(feed)]
    feed.close()
    position = type(first[-1].position).from_json(
        json.loads(json.dumps(first[-1].position.to_json()))
    )
    rest = list(started.connector.read_changes(resume=position))
    head, tail = contact_keys(first, harness.kind), contact_keys(rest, harness.kind)
    assert not set(head) & set(tail)
    assert len(head) + len(tail) == 450


@every("stable_paging")
def test_a_record_modified_mid_read_hides_no_other(harness: Harness, start_harness: StartHarness):
    started = start_harness(harness, records=300)
    connector = started.connector
    feed = connector.read_changes()
    first = next(feed)
    assert first.more
    touched = first.contacts[len(first.contacts) // 2]
    assert connector.upsert([touched.copy(first_name="Touched")])[0].ok
    seen = set(contact_keys([first], harness.kind)) | set(contact_keys(list(feed), harness.kind))
    assert len(seen) == 300


@every("modified_since")
def test_modified_since_returns_what_changed(harness: Harness, start_harness: StartHarness):
    started = start_harness(harness, records=40)
    since = utc_now()
    changed = [person(i, "since") for i in range(3)]
    assert all(o.ok for o in started.connector.upsert(changed))
    pages = read_all(started.connector, since=since)
    emails = {c.email for page in pages for c in page.contacts}
    assert emails == {c.email for c in changed}
    everything = read_all(started.connector)
    assert sum(len(p.contacts) for p in everything) == 43


@every()
def test_upsert_inserts_then_updates(harness: Harness, start_harness: StartHarness):
    started = start_harness(harness, records=5)
    connector = started.connector
    fresh = [person(i) for i in range(7)]
    created = connector.upsert(fresh)
    assert [o.ok for o in created] == [True] * 7
    ids = []
    for contact in fresh:
        found = connector.find_by_email(contact.email or "")
        assert found is not None and found.last_name == contact.last_name
        ids.append(found.ids[harness.kind])
    renamed = [c.copy(first_name=f"Renamed{i}") for i, c in enumerate(fresh)]
    updated = connector.upsert(renamed)
    assert [o.ok for o in updated] == [True] * 7
    for i, contact_id in enumerate(ids):
        got = connector.get(contact_id)
        assert got is not None and got.first_name == f"Renamed{i}"
    assert sum(len(p.contacts) for p in read_all(connector)) == 12
    if "upsert_outcomes" in harness.capabilities:
        assert {o.status for o in created} == {UpsertStatus.CREATED}
        assert {o.status for o in updated} == {UpsertStatus.UPDATED}
        assert [o.id for o in created] == ids == [o.id for o in updated]


@every()
def test_one_bad_record_does_not_sink_its_batch(harness: Harness, start_harness: StartHarness):
    started = start_harness(harness)
    batch = [person(i, "mixed") for i in range(5)]
    batch[2] = batch[2].copy(email="not an email address")
    outcomes = started.connector.upsert(batch)
    assert len(outcomes) == 5
    assert [o.ok for o in outcomes] == [True, True, False, True, True]
    assert outcomes[2].status is UpsertStatus.FAILED and outcomes[2].code
    for i in (0, 1, 3, 4):
        assert started.connector.find_by_email(batch[i].email or "") is not None


@every()
def test_get_and_delete(harness: Harness, start_harness: StartHarness):
    started = start_harness(harness)
    connector = started.connector
    assert all(o.ok for o in connector.upsert([person(1, "del")]))
    found = connector.find_by_email("del.1@battery.example.com")
    assert found is not None
    contact_id = found.ids[harness.kind]
    got = connector.get(contact_id)
    assert got is not None and got.email == found.email
    assert connector.delete(contact_id) is True
    assert connector.get(contact_id) is None
    assert connector.find_by_email("del.1@battery.example.com") is None
    assert connector.delete(contact_id) is False


@every("throttle")
def test_429_is_retried_after_retry_after(harness: Harness, start_harness: StartHarness):
    started = start_harness(harness, records=120, throttle_rate=0.3, retry_after=1)
    began = time.monotonic()
    assert sum(len(p.contacts) for p in read_all(started.connector)) == 120
    outcomes = started.connector.upsert([person(i, "slow") for i in range(3)])
    for i in range(3):
        assert started.connector.find_by_email(f"slow.{i}@battery.example.com") is not None
    elapsed = time.monotonic() - began
    assert [o.ok for o in outcomes] == [True] * 3
    throttled = stats(started).get("status_429", 0)
    assert throttled >= 1, "the emulator should have throttled at least once"
    # Each 429 said "Retry-After: 1"; coming back sooner would not honour it.
    assert elapsed >= 0.9 * throttled


@every("server_errors")
def test_server_errors_on_reads_are_retried(harness: Harness, start_harness: StartHarness):
    started = start_harness(harness, records=250, fail_rate=0.3)
    keys = contact_keys(read_all(started.connector), harness.kind)
    assert len(keys) == 250 == len(set(keys))
    counts = stats(started)
    assert sum(v for k, v in counts.items() if k.startswith("status_5")) >= 1


@every("tokens")
def test_token_expiry_mid_run_is_survived(harness: Harness, start_harness: StartHarness):
    started = start_harness(harness, records=150, token_ttl=1)
    pages = []
    for page in started.connector.read_changes():
        pages.append(page)
        time.sleep(1.1)  # past the token's lifetime before asking for the next page
    keys = contact_keys(pages, harness.kind)
    assert len(pages) >= 2
    assert len(keys) == 150 == len(set(keys))
    assert stats(started).get("tokens_issued", 0) >= 2


@every()
def test_wrong_credentials_give_a_clear_auth_error(harness: Harness, start_harness: StartHarness):
    started = start_harness(harness, bad_credentials=True)
    with pytest.raises(AuthError) as caught:
        started.connector.verify()
    text = str(caught.value)
    assert text.strip()
    secrets = [str(v) for k, v in (started.table or {}).items() if k in SECRET_KEYS and v]
    assert not any(secret in text for secret in secrets)
