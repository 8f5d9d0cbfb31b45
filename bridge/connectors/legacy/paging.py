"""Offset paging with ``moreRecords``, guarded against servers that would loop forever."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from bridge.errors import ProtocolError


class _Page(Protocol):
    @property
    def records(self) -> list[dict[str, Any]]: ...

    @property
    def more_records(self) -> bool: ...


@dataclass(frozen=True, slots=True)
class FetchedPage:
    records: list[dict[str, Any]]
    offset: int
    next_offset: int
    more: bool


class OffsetPager:
    """Walks ``recordStart`` forward by the number of records each call returned.

    Advancing by what came back (not by a fixed 100) stays right when a server returns
    short pages. Two misbehaviours are caught instead of looping: an empty page that
    claims more records, and a page identical to the one before it.
    """

    def __init__(
        self,
        fetch: Callable[[datetime, int], _Page],
        *,
        system: str,
        key: str = "entityId",
        max_pages: int | None = None,
    ) -> None:
        self._fetch = fetch
        self._system = system
        self._key = key
        self._max_pages = max_pages

    def pages(self, since: datetime, start: int = 0) -> Iterator[FetchedPage]:
        offset = start
        previous_keys: tuple[Any, ...] | None = None
        count = 0
        while True:
            page = self._fetch(since, offset)
            records = page.records
            count += 1
            if not records and page.more_records:
                raise ProtocolError(
                    f"server returned an empty page with moreRecords=true at recordStart={offset}",
                    system=self._system,
                )
            keys = tuple(r.get(self._key) for r in records)
            if records and keys == previous_keys:
                raise ProtocolError(
                    f"server returned the same page twice (recordStart={offset}); "
                    "it is ignoring recordStart",
                    system=self._system,
                )
            next_offset = offset + len(records)
            yield FetchedPage(records, offset, next_offset, page.more_records)
            if not page.more_records:
                return
            if self._max_pages is not None and count >= self._max_pages:
                raise ProtocolError(
                    f"more than {self._max_pages} pages; stopping", system=self._system
                )
            previous_keys = keys
            offset = next_offset
