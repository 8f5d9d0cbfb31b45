"""An index for the exact-match look-ups a client makes of an emulated CRM (email, External ID).

A connector finds a record by a key before it writes; answered by a scan, every write of a
sync would cost a pass over every record. :class:`KeyIndex` keeps ``(field, value) -> ids``
beside an emulator's records. It has no lock of its own: its store's lock guards it.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from typing import Generic, TypeVar

Id = TypeVar("Id", bound=Hashable)


class KeyIndex(Generic[Id]):
    """The ids of the records holding each ``(field, value)`` key (values as the caller folds
    them); several records may share a key."""

    def __init__(self) -> None:
        self._ids: dict[tuple[str, str], set[Id]] = {}

    def add(self, keys: Iterable[tuple[str, str]], record_id: Id) -> None:
        for key in keys:
            self._ids.setdefault(key, set()).add(record_id)

    def discard(self, keys: Iterable[tuple[str, str]], record_id: Id) -> None:
        for key in keys:
            ids = self._ids.get(key)
            if ids is not None:
                ids.discard(record_id)
                if not ids:
                    del self._ids[key]

    def ids(self, field: str, value: str) -> set[Id]:
        """The ids holding ``value`` in ``field`` (empty when none)."""
        return self._ids.get((field, value), set())


__all__ = ["KeyIndex"]
