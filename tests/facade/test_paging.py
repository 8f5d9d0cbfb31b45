"""Offset paging over a connector: exactly once when nothing changes, never a miss when it does."""

from __future__ import annotations

import pytest
from lxml import etree

from bridge.wsdl import NAMESPACE

T = f"{{{NAMESPACE}}}"
ALL = "<lastUpdateDate>0001-01-01T00:00:00</lastUpdateDate>"


def page(facade, start: int) -> tuple[list[tuple[int, str]], int, bool]:
    response = facade.call("ContactList_Retrieve", f"{ALL}<recordStart>{start}</recordStart>")
    assert response.status_code == 200, response.content[:500]
    wrapper = etree.fromstring(response.content)[0][0]
    records = [
        (int(r.findtext(T + "entityId")), r.findtext(T + "emailAddress"))
        for r in wrapper.find(T + "ContactList_RetrieveResult")
    ]
    return records, int(wrapper.findtext(T + "recordStart")), wrapper.findtext(
        T + "moreRecords"
    ) == "true"


def walk(facade, start: int = 0, between=None) -> list[tuple[int, str]]:
    seen: list[tuple[int, str]] = []
    calls = 0
    while True:
        records, start, more = page(facade, start)
        seen.extend(records)
        calls += 1
        if between is not None:
            between(calls)
        if not more:
            return seen
        assert calls < 100


def test_every_contact_exactly_once_with_stable_entity_ids(start_facade):
    facade = start_facade("legacy", records=350)
    first = walk(facade)
    assert len(first) == 350 and len(set(first)) == 350
    assert len({entity_id for entity_id, _ in first}) == 350
    second = walk(facade)
    assert sorted(second) == sorted(first)


def test_a_deep_offset_without_a_saved_position_is_still_right(start_facade):
    facade = start_facade("legacy", records=260)
    everything = walk(facade)
    fresh = start_facade("legacy", records=260)  # same seed, empty cursor map
    records, next_start, more = page(fresh, 200)
    assert [email for _, email in records] == [email for _, email in everything[200:260]]
    assert (next_start, more) == (260, False)
    assert page(fresh, 900)[0] == []


@pytest.mark.parametrize("cache_seconds", [0, 60])
def test_changes_while_paging_never_make_a_contact_go_missing(start_facade, cache_seconds):
    facade = start_facade("legacy", records=350, page_cache_seconds=cache_seconds)
    before = {email for _, email in walk(facade)}

    def change_served_contacts(calls: int) -> None:
        if calls != 1:
            return
        # Contacts already served (positions 40-89 of page one) change in the CRM itself
        # (not through the facade, so no cache is dropped) and move to the end of its
        # order, shifting every later contact back by 50.
        facade.crm.store.update_insert(
            [{"emailAddress": email, "firstName": "Changed"} for email in sorted_emails[40:90]]
        )
        # With the cache on, let every cached page expire except the first one (read
        # before the change): the next answer must not stitch that old page to a new one.
        cache = facade.app.facade.pager.cache
        for key in [k for k in cache._pages if k[2] != "start"]:
            del cache._pages[key]

    first_page, _, _ = page(facade, 0)
    sorted_emails = [email for _, email in first_page]
    seen = walk(facade, between=change_served_contacts)
    emails = [email for _, email in seen]
    assert before <= set(emails)  # nobody missing
    repeated = {e for e in emails if emails.count(e) > 1}
    assert repeated <= set(sorted_emails[40:90])  # only the changed ones may come twice


def test_workers_sharing_the_store_continue_each_others_paging(start_facade, tmp_path):
    from bridge.facade.state import StoreCursorMap, StoreEntityIdMap
    from bridge.store import Store

    store = Store(f"sqlite:///{tmp_path}/bridge.db")
    store.migrate()
    one = start_facade("legacy", records=230)
    two = start_facade("legacy", records=230)
    for facade in (one, two):
        facade.app.facade.entity_ids = StoreEntityIdMap(store)
        facade.app.facade.pager.cursors = StoreCursorMap(store)
    # Both "workers" front the same CRM: point the second at the first one's emulator.
    two.app.facade.connector_for = one.app.facade.connector_for
    seen, start, more, turn = [], 0, True, 0
    while more:
        records, start, more = page((one, two)[turn % 2], start)
        seen.extend(records)
        turn += 1
    assert len(seen) == 230 and len(set(seen)) == 230
    # The entityIds are the store's: the other worker answers lookups by them.
    entity_id, email = seen[150]
    found = one.call("Contact_RetrieveByEntityID", f"<entityId>{entity_id}</entityId>")
    assert email.encode() in found.content
    store.dispose()


def test_consumers_paging_the_same_feed_share_crm_pages(start_facade):
    facade = start_facade("legacy", records=450, page_cache_seconds=60)
    connector = facade.app.facade.connector_for("crm")
    real = connector.read_changes
    reads = []

    def counting(*args, **kwargs):
        for crm_page in real(*args, **kwargs):
            reads.append(1)
            yield crm_page

    connector.read_changes = counting
    first = walk(facade)
    first_reads = len(reads)
    second = walk(facade)
    assert second == first and len(first) == 450
    assert len(reads) - first_reads < first_reads / 2


def test_an_expired_page_answers_while_a_background_read_refreshes_it(start_facade):
    import threading
    import time

    facade = start_facade("legacy", records=150, page_cache_seconds=0.3,
                          page_cache_stale_seconds=60)
    connector = facade.app.facade.connector_for("crm")
    real = connector.read_changes
    readers = []

    def counting(*args, **kwargs):
        for crm_page in real(*args, **kwargs):
            readers.append(threading.current_thread().name)
            yield crm_page

    connector.read_changes = counting
    first = walk(facade)
    time.sleep(0.5)  # every cached page is now expired, but within the stale window
    before = len(readers)
    assert walk(facade) == first
    deadline = time.monotonic() + 10
    while "facade-page-refresh" not in readers[before:] and time.monotonic() < deadline:
        time.sleep(0.05)
    assert "facade-page-refresh" in readers[before:]


def test_the_cache_never_stitches_an_old_page_to_a_newer_one(start_facade):
    facade = start_facade("legacy", records=350, page_cache_seconds=60,
                          page_cache_stale_seconds=0)
    before = {email for _, email in walk(facade)}  # every page cached, one old generation
    first_page, next_start, _ = page(facade, 0)
    served = [email for _, email in first_page]
    # Contacts of page one change in the CRM and move to its end (a shift of 50).
    facade.crm.store.update_insert(
        [{"emailAddress": email, "firstName": "Changed"} for email in served[40:90]]
    )
    cache = facade.app.facade.pager.cache
    for key in [k for k in cache._pages if k[2] != "start"]:
        del cache._pages[key]
    # Another consumer further on reads the second CRM page afresh: now the cache holds
    # the first page as it was and the second page as it is.
    page(facade, 200)
    rest = walk(facade, start=next_start)
    emails = served + [email for _, email in rest]
    assert before <= set(emails)
