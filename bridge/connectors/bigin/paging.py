"""The Bigin change feed's paging: an ``If-Modified-Since`` anchor that moves forward.

Bigin pages two ways: ``page``/``per_page`` for the first 2,000 records, then
``page_token=<info.next_page_token>``, which expires (``info.page_token_expiry``) [V2: S8;
field names V: S7]. Either way the pages are offsets into a live list, and a feed sorted
by ``Modified_Time`` is a list that moves while we read it: a record modified mid-run jumps
to the end, every record behind it shifts back by one, and one record nobody has read yet
slides into a page already read. It is not modified itself, so the next incremental run
misses it too.

So this pager pages by key instead: each request asks for page 1 of "modified after the
anchor", and the anchor moves to one second before the last ``Modified_Time`` seen (the
wire has second precision). The records of that last second that were already handed out
are skipped by id. Page numbers, and past 2,000 the page token, are used only while more
than a page of records share one second (a bulk import), where nothing can shift a
second that has already passed.

The cursor is plain JSON: ``{"anchor": "...", "page": 1, "skip": ["761..."]}``, plus
``page_token``/``expiry`` while paging by token.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from bridge.connectors.kit.paging import LoopGuard
from bridge.errors import ProtocolError
from bridge.model import utc_now

PAGE_LIMIT = 2000
log = logging.getLogger(__name__)

# fetch(params, anchor) -> (records, info), or None when the answer was 204/304 (nothing).
Fetch = Callable[
    [dict[str, Any], datetime | None], tuple[list[dict[str, Any]], dict[str, Any]] | None
]


@dataclass(frozen=True, slots=True)
class FetchedPage:
    records: list[dict[str, Any]]
    next_cursor: dict[str, Any]
    more: bool


def _parse(value: Any) -> datetime | None:
    if not value:
        return None
    return datetime.fromisoformat(str(value).replace("Z", "+00:00"))


def _expired(cursor: dict[str, Any]) -> bool:
    expiry = cursor.get("expiry")
    if not expiry:
        return False
    try:
        return datetime.fromisoformat(expiry) <= utc_now()
    except ValueError:
        return True


class ModifiedTimePager:
    """Walks a ``Modified_Time``-ascending feed by moving its anchor (see module doc)."""

    def __init__(self, fetch: Fetch, *, per_page: int = 200, system: str = "bigin") -> None:
        if not 1 <= per_page <= 200:
            raise ValueError("per_page must be 1..200")
        self._fetch = fetch
        self.per_page = per_page
        self._system = system

    def pages(
        self, cursor: dict[str, Any] | None = None, anchor: datetime | None = None
    ) -> Iterator[FetchedPage]:
        """Pages from ``cursor`` (a previous page's), else from ``anchor`` (None: all)."""
        state = dict(cursor or {})
        if state.get("done"):
            return
        if cursor:
            anchor = _parse(state.get("anchor"))
        page = int(state.get("page", 1))
        skip = set(state.get("skip") or ())
        token = state.get("page_token")
        if token and _expired(state):
            # The page token died with its query: restart this anchor's pages.
            log.info("%s page token expired; reading this anchor again", self._system)
            token, page = None, 1
        expiry = state.get("expiry")
        guard = LoopGuard(self._system)
        while True:
            params: dict[str, Any] = {"per_page": self.per_page}
            if token:
                params["page_token"] = token
            else:
                params["page"] = page
            result = self._fetch(params, anchor)
            if result is None:
                yield FetchedPage([], self._cursor(anchor, page, skip, done=True), False)
                return
            records, info = result
            more = bool(info.get("more_records"))
            guard.check(records, more, f"anchor {anchor}, page {page}")
            fresh = [r for r in records if str(r.get("id")) not in skip]
            if not more:
                yield FetchedPage(fresh, self._cursor(anchor, page, set(), done=True), False)
                return
            last = _parse(records[-1].get("Modified_Time"))
            if last is None:
                raise ProtocolError("a record without Modified_Time", system=self._system)
            boundary = {str(r.get("id")) for r in records if _parse(r.get("Modified_Time")) == last}
            next_anchor = last - timedelta(seconds=1)
            if anchor is None or next_anchor > anchor:
                anchor, page, token, expiry = next_anchor, 1, None, None
                skip = boundary
                # A new anchor may well answer records seen before: not a repeat.
                guard.forget()
            else:
                # A whole page inside one second: page on within this anchor. Later pages
                # never hold what page 1 held, so the skip list has done its job.
                page += 1
                skip = set()
                if page * self.per_page > PAGE_LIMIT:
                    token = info.get("next_page_token")
                    expiry = info.get("page_token_expiry")
                    if not token:
                        raise ProtocolError(
                            f"more records past {PAGE_LIMIT} but no next_page_token",
                            system=self._system,
                        )
            next_cursor = self._cursor(anchor, page, skip, token=token, expiry=expiry)
            if fresh:
                yield FetchedPage(fresh, next_cursor, True)

    @staticmethod
    def _cursor(
        anchor: datetime | None,
        page: int,
        skip: set[str],
        *,
        done: bool = False,
        token: str | None = None,
        expiry: str | None = None,
    ) -> dict[str, Any]:
        cursor: dict[str, Any] = {
            "anchor": anchor.isoformat() if anchor else None,
            "page": page,
            "skip": sorted(skip),
        }
        if done:
            cursor["done"] = True
        if token:
            cursor["page_token"] = token
            if expiry:
                cursor["expiry"] = expiry
        return cursor
