"""API credits per rolling window and a concurrency cap, as Bigin enforces them.

Credits [V: Bigin API-limits page]: most calls cost 1; inserts and updates cost 1 per 10
records (so at most 10 for a 100-record call); the allowance is per rolling 24 hours
(Free edition: 5,000). Going over, and going over the concurrency cap, answer 429
``TOO_MANY_REQUESTS`` [I: Zoho CRM; the Bigin caps are not published]. The emulator adds
``Retry-After`` with the seconds until enough credits free up [I: not seen on Bigin].
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable


def write_cost(records: int) -> int:
    return max(1, math.ceil(records / 10))


class CreditMeter:
    """Credits spent in the last ``window`` seconds, refusing what would exceed ``limit``."""

    def __init__(
        self,
        limit: int | None,
        window: float = 86400.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.limit = limit
        self.window = window
        self._clock = clock
        self._lock = threading.Lock()
        self._spent: deque[tuple[float, int]] = deque()
        self.total = 0

    def _expire(self, now: float) -> None:
        while self._spent and now - self._spent[0][0] >= self.window:
            self._spent.popleft()

    def used(self) -> int:
        with self._lock:
            self._expire(self._clock())
            return sum(cost for _, cost in self._spent)

    def spend(self, cost: int) -> float | None:
        """Record ``cost``; or, when that would exceed the limit, seconds until it would not."""
        with self._lock:
            now = self._clock()
            self._expire(now)
            used = sum(c for _, c in self._spent)
            if self.limit is not None and used + cost > self.limit:
                # Walk the oldest spends until enough would have expired.
                freed = 0
                for at, spent in self._spent:
                    freed += spent
                    if used - freed + cost <= self.limit:
                        return max(at + self.window - now, 0.0)
                return self.window
            self._spent.append((now, cost))
            self.total += cost
            return None


class ConcurrencyGate:
    """At most ``limit`` API calls in flight at once."""

    def __init__(self, limit: int | None) -> None:
        self.limit = limit
        self._lock = threading.Lock()
        self.in_flight = 0
        self.peak = 0

    def enter(self) -> bool:
        with self._lock:
            if self.limit is not None and self.in_flight >= self.limit:
                return False
            self.in_flight += 1
            self.peak = max(self.peak, self.in_flight)
            return True

    def leave(self) -> None:
        with self._lock:
            self.in_flight -= 1
