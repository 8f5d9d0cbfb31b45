"""The feed screen's store work on both backends: records on file or flagged are held back,
and records written again lose their flag tombstones, with the revive skipped (no DELETE
sent) for a pass whose writer side had no flag tombstones when it began."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event

from bridge.model import Contact
from bridge.store.repos.tombstones import SOURCE, TARGET, SideRef
from bridge.sync.deletes import FeedScreen


def _refs(store):
    integration_id = store.integrations.create("screened").id
    return SideRef(integration_id, SOURCE, "crm", "legacy"), SideRef(
        integration_id, TARGET, "bigin", "bigin"
    )


@contextmanager
def _deletes_sent(store) -> Iterator[list[str]]:
    """The DELETE statements sent to the database inside the block."""
    sent: list[str] = []

    def seen(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.lstrip().upper().startswith("DELETE"):
            sent.append(statement)

    event.listen(store.engine, "before_cursor_execute", seen)
    try:
        yield sent
    finally:
        event.remove(store.engine, "before_cursor_execute", seen)


def test_records_on_file_or_flagged_are_held_back_and_flagged_ones_filed(store):
    source, target = _refs(store)
    store.tombstones.record(source, "L2", seen_by="reconcile")
    screen = FeedScreen(store, source, target)
    page = [
        Contact(ids={"legacy": "L1"}),
        Contact(ids={"legacy": "L2"}),
        Contact(ids={"legacy": "L3"}, deleted=True),
    ]
    screen.file_flagged(page)
    with store.reading() as reads:
        kept, held = screen.screen(page, reads)
    assert [c.ids["legacy"] for c in kept] == ["L1"] and held == 2
    assert store.tombstones.among(source, ["L1", "L2", "L3"]) == {"L2", "L3"}
    assert screen.holds_deleted("L3") and not screen.holds_deleted("L1")


def test_records_written_again_lose_their_flag_tombstones(store):
    source, target = _refs(store)
    store.tombstones.record(target, "B1", seen_by="bridge", gone=False)
    store.tombstones.record(target, "B2", seen_by="bridge", gone=True)  # gone stays gone
    screen = FeedScreen(store, source, target)
    with store.transaction() as tx:
        screen.written(tx, ["B3"])
    with store.transaction() as tx:
        screen.written(tx, ["B1", "B2"])
    assert store.tombstones.among(target, ["B1", "B2", "B3"]) == {"B2"}


def test_a_pass_without_flag_tombstones_on_its_writer_side_sends_no_revive(store):
    source, target = _refs(store)
    store.tombstones.record(source, "L1", seen_by="feed", gone=False)  # the reader's side
    store.tombstones.record(target, "B9", seen_by="bridge", gone=True)
    screen = FeedScreen(store, source, target)
    with _deletes_sent(store) as sent:
        for page in (["B1", "B2"], ["B3"], []):
            with store.transaction() as tx:
                screen.written(tx, page)
    assert sent == []
    # A pass that begins with one on file revives on every page.
    store.tombstones.record(target, "B1", seen_by="bridge", gone=False)
    later = FeedScreen(store, source, target)
    with _deletes_sent(store) as sent:
        for page in (["B3"], ["B1", "B2"]):
            with store.transaction() as tx:
                later.written(tx, page)
    assert len(sent) == 2
    assert store.tombstones.among(target, ["B1", "B9"]) == {"B9"}
