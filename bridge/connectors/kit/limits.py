"""Account pacing, in one place: calls a second and a credit budget spread over the day.

A vendor limits an account, not a process. Each connector's client paces itself with a
:class:`Pacer` (calls a second) and a :class:`CreditBudget` (a token bucket), held as its
``pacer`` and ``budget``; a connector that declares ``Capability.SHARED_LIMITS`` hands that
client out through ``account_limits()`` so :func:`bridge.ratelimit.share_rate_limits` can
swap both for buckets shared by every worker of the account.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Protocol

log = logging.getLogger(__name__)


class CallPacer(Protocol):
    """Spaces calls: ``wait()`` before each; ``interval`` seconds apart (0 = none)."""

    interval: float

    def wait(self) -> None: ...


class Budget(Protocol):
    """A token bucket: ``take(cost)`` sleeps until the tokens are there; seconds slept."""

    rate: float
    burst: float

    def take(self, cost: int) -> float: ...


class AccountLimits(Protocol):
    """What a client that paces an account holds (and a shared limit may replace)."""

    pacer: CallPacer
    budget: Budget


class Pacer:
    """Spaces calls at least ``1 / rate`` seconds apart across threads (0 = no pacing)."""

    def __init__(self, rate: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.interval = 1.0 / rate if rate > 0 else 0.0
        self._clock = clock
        self._lock = threading.Lock()
        self._next = 0.0

    def wait(self) -> None:
        if self.interval <= 0:
            return
        with self._lock:
            now = self._clock()
            slot = max(self._next, now)
            self._next = slot + self.interval
        if slot > now:
            time.sleep(slot - now)


class CreditBudget:
    """Spreads API credits over the day: ``burst`` at once, refilled at ``daily / 86400``/s.

    An allowance per rolling 24 hours (Bigin's) spent at full speed early would leave every
    other integration of the account throttled until the window rolls. A call takes its
    credits from the bucket and waits (outside the lock) when it runs dry.
    """

    def __init__(
        self,
        daily: float | None,
        burst: float = 200.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.rate = daily / 86400.0 if daily else 0.0
        self.burst = burst
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._level = burst
        self._at = clock()
        self.waited = 0.0

    def take(self, cost: int) -> float:
        """Take ``cost`` credits; seconds slept waiting for them."""
        if self.rate <= 0:
            return 0.0
        with self._lock:
            now = self._clock()
            self._level = min(self.burst, self._level + (now - self._at) * self.rate)
            self._at = now
            # Reserve now (the level may go negative) so concurrent callers queue fairly.
            self._level -= cost
            wait = -self._level / self.rate if self._level < 0 else 0.0
        if wait > 0:
            if wait > 1:
                log.info("credit budget: waiting %.1f s", wait)
            self._sleep(wait)
            self.waited += wait
        return wait
