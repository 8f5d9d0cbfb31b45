"""The garbage collector during a pass: fewer collections, and none of older objects.

A pass allocates a few dozen objects per record (contacts, wire dicts, statement
parameters), nearly all freed by reference counting. CPython's cyclic collector still
counts them: with its default thresholds it ran a young collection every few records'
worth of allocations, and a full collection every few thousand records that walked every
object in the process (the imported libraries alone are over 100,000). Measured on a
20,000-contact legacy -> Bigin sync: full collections about 13 microseconds of the
engine's ~215 per contact, young and middle ones about 7 more.

:func:`quiet_collector`, while any pass of the process runs: moves the objects that
existed when the first pass started into the collector's permanent generation
(``gc.freeze``), and lets ten times more allocations pass before a young collection.
When the last pass ends, the objects are handed back (``gc.unfreeze``) and the
thresholds set back, so nothing is kept from the collector beyond the passes: a cycle
that becomes garbage meanwhile is collected after them.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

#: Allocations between young collections during a pass (CPython's default is 700).
PASS_THRESHOLD = 7_000

_lock = threading.Lock()
_holders = 0
_saved: tuple[int, int, int] = gc.get_threshold()


@contextmanager
def quiet_collector() -> Iterator[None]:
    """Fewer collections, none of older objects, for as long as any pass holding this runs."""
    global _holders, _saved
    with _lock:
        if _holders == 0:
            gc.freeze()
            _saved = gc.get_threshold()
            gc.set_threshold(max(PASS_THRESHOLD, _saved[0]), *_saved[1:])
        _holders += 1
    try:
        yield
    finally:
        with _lock:
            _holders -= 1
            if _holders == 0:
                gc.set_threshold(*_saved)
                gc.unfreeze()
