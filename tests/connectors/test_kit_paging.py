"""The kit's loop guard: what every pager checks each page with."""

from __future__ import annotations

import pytest

from bridge.connectors.kit.paging import LoopGuard
from bridge.errors import ProtocolError


def page(*ids: str) -> list[dict[str, str]]:
    return [{"id": i} for i in ids]


def test_pages_that_move_on_pass() -> None:
    guard = LoopGuard("acme")
    guard.check(page("1", "2"), True, "page 1")
    guard.check(page("3", "4"), True, "page 2")
    guard.check([], False, "page 3")  # an empty last page is an end, not a loop
    assert guard.pages == 3


def test_an_empty_page_that_claims_more_stops_the_read() -> None:
    with pytest.raises(ProtocolError, match=r"empty page .* at page 4") as caught:
        LoopGuard("acme").check([], True, "page 4")
    assert caught.value.system == "acme"


def test_the_same_page_twice_stops_the_read() -> None:
    guard = LoopGuard("acme")
    guard.check(page("1", "2"), True, "page 1")
    with pytest.raises(ProtocolError, match="same page twice"):
        guard.check(page("1", "2"), True, "page 2")


def test_a_new_query_may_repeat_the_last_page() -> None:
    guard = LoopGuard("acme")
    guard.check(page("1", "2"), True, "anchor a")
    guard.forget()
    guard.check(page("1", "2"), False, "anchor b")


def test_a_page_limit_stops_a_server_that_always_claims_more() -> None:
    guard = LoopGuard("acme", max_pages=2)
    guard.check(page("1"), True, "page 1")
    with pytest.raises(ProtocolError, match="more than 2 pages"):
        guard.check(page("2"), True, "page 2")


def test_the_key_names_what_identifies_a_record() -> None:
    guard = LoopGuard("acme", key="entityId")
    guard.check([{"entityId": 1, "id": "x"}], True, "recordStart=0")
    guard.check([{"entityId": 2, "id": "x"}], True, "recordStart=1")  # same id, new key
