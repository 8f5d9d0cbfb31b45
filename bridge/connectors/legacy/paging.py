"""Offset paging with ``moreRecords``, guarded against servers that would loop forever.

Offsets are independent requests, so the pager can ask for the next few pages while the
current one is being used (``read_ahead``). It assumes full pages of ``page_size``; when a
page comes back short while claiming more records (a server that pages differently), the
guesses are dropped and paging continues one call at a time from the true offset.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
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
        read_ahead: int = 1,
        page_size: int = 100,
    ) -> None:
        self._fetch = fetch
        self._system = system
        self._key = key
        self._max_pages = max_pages
        self._read_ahead = max(1, read_ahead)
        self._page_size = page_size

    def pages(self, since: datetime, start: int = 0) -> Iterator[FetchedPage]:
        if self._read_ahead == 1:
            yield from self._walk(since, start, lambda offset: _ready(self._fetch(since, offset)))
            return
        with ThreadPoolExecutor(self._read_ahead, thread_name_prefix="read-ahead") as pool:
            yield from self._walk(
                since, start, lambda offset: pool.submit(self._fetch, since, offset)
            )

    def _walk(
        self, since: datetime, start: int, submit: Callable[[int], Future[_Page]]
    ) -> Iterator[FetchedPage]:
        offset = start
        previous_keys: tuple[Any, ...] | None = None
        count = 0
        # Requests in flight, by the offset they asked for, in order.
        ahead: deque[tuple[int, Future[_Page]]] = deque()
        guess = offset
        while True:
            while len(ahead) < self._read_ahead:
                ahead.append((guess, submit(guess)))
                guess += self._page_size
            asked, future = ahead.popleft()
            if asked != offset:  # a guess that no longer fits: drop it and ask again
                _drop(ahead, future)
                ahead.clear()
                guess = offset
                continue
            page = future.result()
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
                _drop(ahead)
                return
            if self._max_pages is not None and count >= self._max_pages:
                raise ProtocolError(
                    f"more than {self._max_pages} pages; stopping", system=self._system
                )
            previous_keys = keys
            offset = next_offset


def _ready(page: _Page) -> Future[_Page]:
    done: Future[_Page] = Future()
    done.set_result(page)
    return done


def _drop(ahead: deque[tuple[int, Future[_Page]]], *extra: Future[_Page]) -> None:
    """Forget requests nobody will read (their errors included)."""
    for future in (*extra, *(f for _, f in ahead)):
        future.cancel()
        if future.done() and not future.cancelled():
            future.exception()
