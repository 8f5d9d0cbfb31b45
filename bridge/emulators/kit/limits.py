"""Request-count limits the emulated CRMs enforce: a rolling window and a daily count.

Each answers :meth:`take` per call: the calls left after this one, ``None`` when refused,
``-1`` when unlimited (a limit of 0). HubSpot's burst, search and daily limits and Bigin's
token-refresh cap stand on them; the per-minute window with random 429s of the Engagifii
and Egito emulators is :class:`bridge.emulators.kit.rest.Throttle`.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable


class RollingLimit:
    """At most ``limit`` calls in any ``window`` seconds (0 = unlimited)."""

    def __init__(self, limit: int, window: float, clock: Callable[[], float] = time.monotonic):
        self.limit = limit
        self.window = window
        self._clock = clock
        self._lock = threading.Lock()
        self._calls: deque[float] = deque()

    def take(self) -> int | None:
        """The calls left after this one, or None when refused."""
        if self.limit <= 0:
            return -1
        with self._lock:
            now = self._clock()
            while self._calls and now - self._calls[0] >= self.window:
                self._calls.popleft()
            if len(self._calls) >= self.limit:
                return None
            self._calls.append(now)
            return self.limit - len(self._calls)


class DailyLimit:
    """Calls per UTC day (0 = unlimited)."""

    def __init__(self, limit: int, clock: Callable[[], float] = time.time) -> None:
        self.limit = limit
        self._clock = clock
        self._lock = threading.Lock()
        self._day = -1
        self._used = 0

    def take(self) -> int | None:
        if self.limit <= 0:
            return -1
        with self._lock:
            day = int(self._clock() // 86400)
            if day != self._day:
                self._day, self._used = day, 0
            if self._used >= self.limit:
                return None
            self._used += 1
            return self.limit - self._used
