"""A resumed run looks records up by key a page at a time, through indexes that serve it.

A run interrupted part-way leaves id links behind, so the rerun cannot skip matching by
External ID and email; that matching used to cost one store query per record (and on
SQLite each query read every link of the integration: only the index's integration_id
prefix served the ``external_id = ? OR email = ?`` condition).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import event, text

from bridge.connectors.base import Page
from bridge.sync import PassOptions, SyncEngine, SyncSpec

RECORDS = 600
PAGE = 100
CRASH_AFTER = 3  # pages


class Crash(Exception):
    """Stands for the process dying mid-run."""


def crash_after(pages: int, read: Any) -> Any:
    def read_changes(*args: Any, **kwargs: Any) -> Iterator[Page]:
        for n, page in enumerate(read(*args, **kwargs)):
            if n == pages:
                raise Crash
            yield page

    return read_changes


def test_resume_matches_keys_per_page_with_indexed_queries(make_pair):
    pair = make_pair(records=RECORDS)
    store = pair.store
    source, target = pair.connectors()
    with source, target:
        source.read_changes = crash_after(CRASH_AFTER, source.read_changes)
        spec = SyncSpec("members", source, target, options=PassOptions(workers=1))
        with pytest.raises(Crash):
            SyncEngine(store, spec).run()
    integration = store.integrations.by_name("members")
    assert integration is not None
    linked = store.links.count(integration.id)
    assert 0 < linked < RECORDS  # the page in flight at the crash was written, not linked

    link_reads: list[tuple[str, Any]] = []

    def count(conn: Any, cursor: Any, statement: str, parameters: Any, *rest: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT") and "id_links" in statement:
            link_reads.append((statement, parameters))

    event.listen(store.engine, "before_cursor_execute", count)
    try:
        report = pair.run()
    finally:
        event.remove(store.engine, "before_cursor_execute", count)

    resumed = RECORDS - linked  # from the checkpoint, committed with the links
    assert report.totals.read == resumed
    assert report.totals.failed == 0
    pair.assert_in_step()
    pages = resumed // PAGE
    # A few statements per page (links by id, by External ID, by email; the commit's
    # look-ups), never one per record.
    assert len(link_reads) <= 6 * pages + 2, len(link_reads)

    if store.dialect == "sqlite":
        with store.engine.connect() as connection:
            for statement, parameters in link_reads:
                if "count(" in statement:
                    continue  # once a run: are there links at all
                plan = connection.exec_driver_sql(
                    "EXPLAIN QUERY PLAN " + statement, parameters
                ).fetchall()
                steps = " | ".join(str(row[-1]) for row in plan)
                assert "SCAN id_links" not in steps, (statement, steps)
                # Searching by the integration alone reads every link it has.
                assert "(integration_id=?)" not in steps, (statement, steps)
            assert connection.execute(text("SELECT 1")).scalar() == 1
