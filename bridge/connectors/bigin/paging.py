"""Bigin's two paging styles: ``page`` for the first 2,000 records, ``page_token`` beyond.

``page``/``per_page`` reach only the first 2,000 records; past that the next page is
asked for with ``page_token=<info.next_page_token>``, which expires
(``info.page_token_expiry``); an expired token means starting again from page 1 [V2: S8;
field names V: S7]. The cursor is plain JSON so a run can resume from it:
``{"page": 7}`` or ``{"page_token": "...", "expiry": "...", "page": 12}``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bridge.errors import ProtocolError
from bridge.model import utc_now

PAGE_LIMIT = 2000
log = logging.getLogger(__name__)

# fetch(params) -> (records, info), or None when the answer was 204/304 (nothing).
Fetch = Callable[[dict[str, Any]], tuple[list[dict[str, Any]], dict[str, Any]] | None]


@dataclass(frozen=True, slots=True)
class FetchedPage:
    records: list[dict[str, Any]]
    next_cursor: dict[str, Any]
    more: bool


def _expired(cursor: dict[str, Any]) -> bool:
    expiry = cursor.get("expiry")
    if not expiry:
        return False
    try:
        return datetime.fromisoformat(expiry) <= utc_now()
    except ValueError:
        return True


class TokenPager:
    """Walks pages by number while they stay under 2,000 records, then by token."""

    def __init__(self, fetch: Fetch, *, per_page: int = 200, system: str = "bigin") -> None:
        if not 1 <= per_page <= 200:
            raise ValueError("per_page must be 1..200")
        self._fetch = fetch
        self.per_page = per_page
        self._system = system

    def pages(self, cursor: dict[str, Any] | None = None) -> Iterator[FetchedPage]:
        cursor = dict(cursor or {"page": 1})
        if cursor.get("done"):
            return
        previous: tuple[Any, ...] | None = None
        while True:
            if "page_token" in cursor and _expired(cursor):
                # Records already read come again; nothing is lost.
                log.info("%s page token expired; reading again from page 1", self._system)
                cursor = {"page": 1}
            params: dict[str, Any] = {"per_page": self.per_page}
            if "page_token" in cursor:
                params["page_token"] = cursor["page_token"]
            else:
                params["page"] = int(cursor.get("page", 1))
            page_number = int(cursor.get("page", 1))
            result = self._fetch(params)
            if result is None:
                yield FetchedPage([], {"page": page_number, "done": True}, False)
                return
            records, info = result
            more = bool(info.get("more_records"))
            keys = tuple(r.get("id") for r in records)
            if not records and more:
                raise ProtocolError(
                    f"empty page with more_records=true at page {page_number}",
                    system=self._system,
                )
            if records and keys == previous:
                raise ProtocolError(
                    f"the same page came twice (page {page_number})", system=self._system
                )
            previous = keys
            if not more:
                yield FetchedPage(records, {"page": page_number + 1, "done": True}, False)
                return
            next_page = page_number + 1
            if next_page * self.per_page <= PAGE_LIMIT:
                cursor = {"page": next_page}
            else:
                token = info.get("next_page_token")
                if not token:
                    raise ProtocolError(
                        f"more records past {PAGE_LIMIT} but no next_page_token",
                        system=self._system,
                    )
                cursor = {"page": next_page, "page_token": token}
                if info.get("page_token_expiry"):
                    cursor["expiry"] = info["page_token_expiry"]
            yield FetchedPage(records, dict(cursor), True)
