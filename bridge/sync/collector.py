"""The garbage collector during a pass: objects older than the pass are left out of its scans.

A pass allocates a few dozen objects per record (contacts, wire dicts, statement
parameters), so CPython's cyclic collector runs an oldest-generation scan every few
thousand records, and each such scan walks every object in the process: the imported
libraries alone (SQLAlchemy, zeep, requests) are over 100,000. Measured on a 20,000-contact
legacy -> Bigin sync, those scans were about 13 microseconds of the engine's ~215 per
contact.

:func:`older_objects_frozen` moves the objects that exist when the first pass starts into
the collector's permanent generation (``gc.freeze``) and hands them back
(``gc.unfreeze``) when the last pass running in the process ends, so nothing is kept from
the collector beyond the passes: a cycle that becomes garbage meanwhile is collected
after them. Objects made during a pass are collected as usual.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_lock = threading.Lock()
_holders = 0


@contextmanager
def older_objects_frozen() -> Iterator[None]:
    """Freeze the process's objects for as long as any pass holding this runs."""
    global _holders
    with _lock:
        if _holders == 0:
            gc.freeze()
        _holders += 1
    try:
        yield
    finally:
        with _lock:
            _holders -= 1
            if _holders == 0:
                gc.unfreeze()
