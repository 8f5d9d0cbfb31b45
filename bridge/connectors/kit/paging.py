"""Paging, one base for every feed: the loop guard, offset paging, page-index paging.

A server that pages wrongly must stop a read, not loop it forever. :class:`LoopGuard` is
that check, in one place: an empty page that claims more, the page before served again,
more pages than allowed. Every pager walks with one: :class:`OffsetPager` (offset +
``moreRecords``: the legacy SOAP CRM, Egito's ``start``), :class:`PageIndexPager`
(``pageIndex`` + ``hasNextPage``/``totalCount``: Engagifii), Bigin's ``Modified_Time``
anchor and HubSpot's search feed (in their packages, their strategies being their own).

Offsets are independent requests, so :class:`OffsetPager` can ask for the next few pages
while the current one is being used (``read_ahead``). It assumes full pages of
``page_size``; when a page comes back short while claiming more records (a server that
pages differently), the guesses are dropped and paging continues one call at a time from
the true offset.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterator, Sequence
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
    """One page of wire records; ``start``/``next_start`` are a record offset or a page
    index (per pager): where it began and where the page after it begins."""

    records: list[dict[str, Any]]
    start: int
    next_start: int
    more: bool
    total: int | None = None


class LoopGuard:
    """Stops a paged read that would never end; :meth:`check` each page as it comes.

    ``key`` names the field that identifies a record: two pages in a row with the same
    keys mean the server ignored the paging parameter. ``max_pages`` (None: no limit)
    bounds a feed whose server always claims more.
    """

    def __init__(self, system: str, *, key: str = "id", max_pages: int | None = None) -> None:
        self.system = system
        self.key = key
        self.max_pages = max_pages
        self.pages = 0
        self._previous: tuple[Any, ...] | None = None

    def check(self, records: Sequence[dict[str, Any]], more: bool, where: str) -> None:
        """Raise ``ProtocolError`` when this page (at ``where``) shows the server looping."""
        self.pages += 1
        if more and not records:
            raise ProtocolError(
                f"server returned an empty page that claims more records at {where}",
                system=self.system,
            )
        keys = tuple(r.get(self.key) for r in records)
        if records and keys == self._previous:
            raise ProtocolError(
                f"server returned the same page twice ({where} served the previous page "
                "again); it is ignoring the paging parameter",
                system=self.system,
            )
        self._previous = keys
        if more and self.max_pages is not None and self.pages >= self.max_pages:
            raise ProtocolError(f"more than {self.max_pages} pages; stopping", system=self.system)

    def forget(self) -> None:
        """A new query begins (a moved anchor): its first page may repeat the last one."""
        self._previous = None


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
        guard = LoopGuard(self._system, key=self._key, max_pages=self._max_pages)
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
            try:
                guard.check(records, page.more_records, f"recordStart={offset}")
            except ProtocolError:
                _drop(ahead)
                raise
            next_offset = offset + len(records)
            yield FetchedPage(records, offset, next_offset, page.more_records)
            if not page.more_records:
                _drop(ahead)
                return
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


class PageIndexPager:
    """Walks a 0-based ``pageIndex`` forward until ``hasNextPage`` is false.

    ``hasNextPage`` decides; when a server leaves it out, ``totalCount`` does. Besides the
    :class:`LoopGuard`'s checks, more pages than ``totalCount`` allows is a protocol error.
    """

    def __init__(
        self,
        fetch: Callable[[int, int], dict[str, Any]],
        *,
        system: str,
        page_size: int = 100,
        key: str = "id",
    ) -> None:
        self._fetch = fetch
        self._system = system
        self._page_size = page_size
        self._key = key

    def pages(self, start: int = 0) -> Iterator[FetchedPage]:
        index = start
        guard = LoopGuard(self._system, key=self._key)
        while True:
            envelope = self._fetch(index, self._page_size)
            records = [r for r in envelope.get("data") or () if isinstance(r, dict)]
            total = envelope.get("totalCount")
            total = int(total) if isinstance(total, int | float) else None
            size = int(envelope.get("pageSize") or self._page_size)
            more = envelope.get("hasNextPage")
            if not isinstance(more, bool):
                more = total is not None and (index + 1) * size < total
            guard.check(records, more, f"pageIndex={index}")
            if more and total is not None and index * size > total + size:
                raise ProtocolError(
                    f"pageIndex={index} is past totalCount={total}", system=self._system
                )
            yield FetchedPage(records, index, index + 1, more, total)
            if not more:
                return
            index += 1
