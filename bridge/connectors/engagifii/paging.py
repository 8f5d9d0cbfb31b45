"""``pageIndex``/``pageSize`` paging with ``hasNextPage``, guarded against endless paging."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from bridge.errors import ProtocolError


@dataclass(frozen=True, slots=True)
class IndexedPage:
    records: list[dict[str, Any]]
    page_index: int
    next_index: int
    more: bool
    total: int | None


class PageIndexPager:
    """Walks a 0-based ``pageIndex`` forward until ``hasNextPage`` is false.

    ``hasNextPage`` decides; when a server leaves it out, ``totalCount`` does. An empty
    page that claims more, the same page twice in a row, or more pages than ``totalCount``
    allows are protocol errors, not loops.
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

    def pages(self, start: int = 0) -> Iterator[IndexedPage]:
        index = start
        previous: tuple[Any, ...] | None = None
        while True:
            envelope = self._fetch(index, self._page_size)
            records = [r for r in envelope.get("data") or () if isinstance(r, dict)]
            total = envelope.get("totalCount")
            total = int(total) if isinstance(total, int | float) else None
            size = int(envelope.get("pageSize") or self._page_size)
            more = envelope.get("hasNextPage")
            if not isinstance(more, bool):
                more = total is not None and (index + 1) * size < total
            if more and not records:
                raise ProtocolError(
                    f"empty page with hasNextPage=true at pageIndex={index}", system=self._system
                )
            keys = tuple(r.get(self._key) for r in records)
            if records and keys == previous:
                raise ProtocolError(
                    f"pageIndex={index} returned the previous page again", system=self._system
                )
            if more and total is not None and index * size > total + size:
                raise ProtocolError(
                    f"pageIndex={index} is past totalCount={total}", system=self._system
                )
            yield IndexedPage(records, index, index + 1, more, total)
            if not more:
                return
            previous = keys
            index += 1
