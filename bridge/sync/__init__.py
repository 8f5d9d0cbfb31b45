"""The sync engine: read pages -> compare -> upsert -> link -> checkpoint, per direction.

:class:`~bridge.sync.engine.SyncEngine` runs one integration once;
:func:`~bridge.sync.runner.run_integration` builds it from the config file.
"""

from bridge.sync.engine import SyncEngine, SyncSpec
from bridge.sync.passes import PassOptions
from bridge.sync.report import Counts, SyncReport

__all__ = ["Counts", "PassOptions", "SyncEngine", "SyncReport", "SyncSpec"]
