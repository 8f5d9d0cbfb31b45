"""The sync engine: read pages -> compare -> upsert -> link -> checkpoint, per direction.

:class:`~bridge.sync.engine.SyncEngine` runs one integration once, from a
:class:`~bridge.sync.engine.SyncSpec` with live connectors. The engine knows nothing of
where it runs or how its spec was built: that is :mod:`bridge.runs`.

The names below are imported on first use: ``soapbridge sync`` reads and checks its config
before it needs the engine (and the store, SQLAlchemy, Alembic behind it).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bridge.sync.engine import SyncEngine, SyncSpec
    from bridge.sync.passes import PassOptions
    from bridge.sync.report import Counts, SyncReport

_HOMES = {
    "Counts": "bridge.sync.report",
    "PassOptions": "bridge.sync.passes",
    "SyncEngine": "bridge.sync.engine",
    "SyncReport": "bridge.sync.report",
    "SyncSpec": "bridge.sync.engine",
}
__all__ = ["Counts", "PassOptions", "SyncEngine", "SyncReport", "SyncSpec"]


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(home), name)
