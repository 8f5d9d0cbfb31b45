"""The delete capabilities every connector declares, against its own emulator: listing
every id (reconciliation) and flagging a record deleted (the ``flag`` policy)."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from bridge.connectors.base import Capability, Connector, IdPage, Position
from bridge.connectors.registry import factory_for

from .harnesses import Harness, Started, all_harnesses

StartHarness = Callable[..., Started]


def declaring(capability: Capability) -> pytest.MarkDecorator:
    """Parametrise over the harnesses whose connector class declares ``capability``."""
    harnesses = [
        h
        for h in all_harnesses()
        if capability in getattr(factory_for(h.kind), "__self__", Connector).capabilities
    ]
    return pytest.mark.parametrize("harness", harnesses, ids=[h.kind for h in harnesses])


def ids_of(pages: list[IdPage]) -> list[str]:
    return [i for page in pages for i in page.ids]


def test_every_builtin_connector_can_be_reconciled_and_flagged() -> None:
    for kind in ("legacy", "bigin", "engagifii", "egito", "hubspot"):
        declared = factory_for(kind).__self__.capabilities  # type: ignore[attr-defined]
        assert {Capability.LIST_IDS, Capability.FLAG_DELETED} <= declared, kind


@declaring(Capability.LIST_IDS)
def test_list_ids_names_every_record_once_and_resumes(
    harness: Harness, start_harness: StartHarness
):
    started = start_harness(harness, records=450)
    everything = [c.ids[harness.kind] for p in started.connector.read_changes() for c in p.contacts]
    pages = list(started.connector.list_ids())
    assert len(pages) >= 3 and [p.more for p in pages][-1] is False
    assert sorted(ids_of(pages)) == sorted(everything)
    listing = started.connector.list_ids()
    head = [next(listing), next(listing)]
    listing.close()
    position = Position.from_json(json.loads(json.dumps(head[-1].position.to_json())))
    tail = list(started.connector.list_ids(position))
    assert sorted(ids_of(head) + ids_of(tail)) == sorted(everything)


@declaring(Capability.FLAG_DELETED)
def test_flag_deleted_marks_a_record_once_and_says_when_there_is_none(
    harness: Harness, start_harness: StartHarness
):
    started = start_harness(harness, records=5)
    connector = started.connector
    first = next(iter(connector.read_changes())).contacts[0].ids[harness.kind]
    assert connector.flag_deleted(first)
    assert connector.flag_deleted(first)  # already flagged: still true, nothing doubled
    assert not connector.flag_deleted("999999999")
    listed = ids_of(list(connector.list_ids()))
    # The record is kept, not destroyed; systems whose flag reads as deleted (legacy's
    # `deleted`, Engagifii's inactive person) no longer list it among the live ones.
    reads_as_deleted = {
        "legacy": True,
        "engagifii": True,
        "bigin": False,
        "egito": False,
        "hubspot": False,
    }
    assert (first not in listed) is reads_as_deleted[harness.kind]
    assert len(listed) == (4 if reads_as_deleted[harness.kind] else 5)


def test_bigin_lists_past_2000_records_with_the_page_token(start_harness: StartHarness):
    from .harnesses import HARNESSES

    started = start_harness(HARNESSES["bigin"], records=2300, per_page=200)
    pages = list(started.connector.list_ids())
    assert len(ids_of(pages)) == len(set(ids_of(pages))) == 2300
    assert "page_token" in pages[9].position.cursor  # the 10th page hands over to the token
