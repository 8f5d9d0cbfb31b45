"""A legacy consumer paging a HubSpot site through the facade, past search's 10,000 ceiling."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from .harness import TIMEZONE
from .test_paging import T, etree

RECORDS = 10_250
FAST = {"oauth_burst_limit": 0, "search_limit": 0}


def walk(facade, since: str) -> list[tuple[int, str]]:
    seen: list[tuple[int, str]] = []
    start = 0
    for _ in range(RECORDS // 100 + 5):
        response = facade.call(
            "ContactList_Retrieve",
            f"<lastUpdateDate>{since}</lastUpdateDate><recordStart>{start}</recordStart>",
        )
        assert response.status_code == 200, response.content[:500]
        wrapper = etree.fromstring(response.content)[0][0]
        seen += [
            (int(r.findtext(T + "entityId")), r.findtext(T + "emailAddress"))
            for r in wrapper.find(T + "ContactList_RetrieveResult")
        ]
        start = int(wrapper.findtext(T + "recordStart"))
        if wrapper.findtext(T + "moreRecords") != "true":
            return seen
    raise AssertionError("paging did not end")


def test_a_consumer_pages_every_hubspot_contact_exactly_once(start_facade):
    facade = start_facade("hubspot", records=RECORDS, emulator_options=FAST)
    seeded = {r.props["email"] for r in facade.crm.store.live.values()}
    # Since two days ago (in the site's zone): the search change feed, past 10,000.
    local = datetime.now(UTC).astimezone(ZoneInfo(TIMEZONE)) - timedelta(days=2)
    changed = walk(facade, local.strftime("%Y-%m-%dT%H:%M:%S"))
    assert len(changed) == RECORDS == len(set(changed))
    assert {email for _, email in changed} == seeded
    # Everything (the contract's minimum date): the id walk.
    everything = walk(facade, "0001-01-01T00:00:00")
    assert sorted(everything) == sorted(changed)
