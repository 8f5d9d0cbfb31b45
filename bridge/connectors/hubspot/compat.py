"""The deletions interface of the Connector base, until it lands on this branch.

The deletions work adds ``Capability`` and ``IdPage`` to :mod:`bridge.connectors.base`.
This connector implements ``list_ids`` and ``read_deletions`` with the same names and
signatures; where the base does not have them yet, the stand-ins below keep the same
shape. Delete this module (import from the base) once both are in one tree.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bridge.connectors.base import Position

try:
    from bridge.connectors.base import Capability, IdPage  # type: ignore[attr-defined]

    # Any: before the merge these are plain strings, after it the base's Capability members.
    CAPABILITIES: frozenset[Any] = frozenset({Capability.LIST_IDS, Capability.DELETIONS_FEED})
except ImportError:  # the base has no deletions interface yet

    @dataclass(slots=True)
    class IdPage:  # type: ignore[no-redef]
        """One page of a side's ids and where to resume after it (as in the base)."""

        ids: list[str]
        position: Position
        more: bool

    CAPABILITIES = frozenset({"list_ids", "deletions_feed"})

__all__ = ["CAPABILITIES", "IdPage"]
