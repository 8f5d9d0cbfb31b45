"""Request-count limits the emulated CRMs enforce: a rolling window and a daily count.

Each answers :meth:`take` per call: the calls left after this one, ``None`` when refused,
``-1`` when unlimited (a limit of 0). HubSpot's burst, search and daily limits and Bigin's
token-refresh cap stand on them. :class:`Throttle` is the per-minute window with the
random 429s of :class:`~bridge.emulators.kit.server.Faults` that every REST app holds
(:class:`~bridge.emulators.kit.restapp.RestParts`).
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from bridge.emulators.kit.server import Faults


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


@dataclass(slots=True)
class Throttle:
    """A per-window request limit plus the shared random 429s of :class:`Faults`.

    ``limit`` requests per ``window`` seconds (0 disables the count); on top of it,
    ``faults.throttle_rate`` of calls are refused with ``faults.retry_after``.
    """

    limit: int = 0
    window: float = 60.0
    faults: Faults = field(default_factory=Faults)
    clock: Callable[[], float] = time.monotonic
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _window_start: float = 0.0
    _count: int = 0

    def check(self) -> tuple[float | None, int]:
        """(seconds to wait or None when allowed, requests left in this window or -1)."""
        with self._lock:
            now = self.clock()
            if now - self._window_start >= self.window:
                self._window_start = now
                self._count = 0
            self._count += 1
            left = max(self.limit - self._count, 0) if self.limit else -1
            if self.limit and self._count > self.limit:
                return max(self.window - (now - self._window_start), 0.0), 0
        if self.faults.throttled():
            return self.faults.retry_after, left
        return None, left

    def reset_in(self) -> float:
        """Seconds until the current window ends."""
        with self._lock:
            return max(self._window_start + self.window - self.clock(), 0.0)
