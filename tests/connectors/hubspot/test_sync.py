"""Sync legacy <-> HubSpot over both emulators: a merge seen in the middle of a run."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from bridge.connectors.base import Page, Position
from bridge.connectors.hubspot import HubSpotConnector
from bridge.sync import PassOptions, SyncEngine, SyncSpec


class MergeAfterFirstPage(HubSpotConnector):
    """The HubSpot connector, with a user merging two contacts while its feed is being read."""

    merge: Any = None

    def read_changes(
        self, since: datetime | None = None, resume: Position | None = None
    ) -> Iterator[Page]:
        for number, page in enumerate(super().read_changes(since, resume)):
            yield page
            if number == 0 and self.merge is not None:
                self.merge()
                self.merge = None


def test_a_merge_seen_mid_sync_leaves_one_contact_on_the_legacy_side(
    start_legacy, start_hubspot, store
):
    legacy = start_legacy(records=0)
    hub = start_hubspot(
        150, emulator={"oauth_burst_limit": 0, "search_limit": 0}, searches_per_second=0
    )
    hubspot_store = hub.emulator.store
    first, late = hubspot_store.ids[0], hubspot_store.ids[140]  # page 1 and page 2 of the walk
    plain: HubSpotConnector = hub.connector  # type: ignore[assignment]
    merging = MergeAfterFirstPage(plain.client)
    merged: list[int] = []
    merging.merge = lambda: merged.append(hubspot_store.merge(first, late).id)
    source = legacy.connector()
    with source:
        spec = SyncSpec("merge", source, merging, "target-to-source", options=PassOptions())
        report = SyncEngine(store, spec).run()
    assert merged, "the merge happened during the run"
    rows = legacy.app.store.all_records()
    emails = [r["emailAddress"] for r in rows]
    assert len(rows) == 149 == len(set(emails)), f"{len(rows)} legacy contacts for 149 HubSpot ones"
    survivor = hubspot_store.live[merged[0]].props["email"]
    assert emails.count(survivor) == 1
    assert hubspot_store.archived == {}, "nothing was deleted in HubSpot"
    assert report is not None

    # Both ways again: nothing is duplicated on either side.
    source = legacy.connector()
    with source:
        spec = SyncSpec("merge", source, plain, "both", options=PassOptions())
        SyncEngine(store, spec).run()
    assert len(legacy.app.store.all_records()) == 149
    assert len(hubspot_store.live) == 149
