"""Bounded retries for the calls the HTTP layer must not retry by itself.

:func:`bridge.http.build_session` already retries idempotent methods (with backoff and
``Retry-After``). A write travels on a session that does not, because a write that timed
out may have happened. Some write failures are known to be safe to repeat, though:

- a 429 means the remote did not process the call, so sending it again after
  ``Retry-After`` cannot double anything;
- a 5xx on a write that is idempotent by key (an upsert whose every record carries its
  duplicate-check value) repeats the same end state.

A connector says which errors are safe for the call at hand; this module waits
(``Retry-After`` when the remote gave one, else exponential backoff with jitter) and gives
up after a bounded number of attempts, re-raising the last error. A ``Retry-After``
longer than the longest wait is raised at once (the caller decides; a run should not
sleep for hours inside one call).
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from tenacity import RetryCallState, Retrying, retry_if_exception, stop_after_attempt

from bridge.errors import BridgeError, RateLimited

log = logging.getLogger(__name__)

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class RetrySchedule:
    """``attempts`` in all; waits grow from ``initial`` seconds, capped at ``maximum``."""

    attempts: int = 5
    initial: float = 0.5
    maximum: float = 30.0
    jitter: float = 0.25

    def wait(self, error: BaseException | None, attempt: int) -> float:
        """Seconds to wait before attempt ``attempt + 1`` after ``error``."""
        retry_after = getattr(error, "retry_after", None)
        if retry_after is not None:
            # The remote said when; a little jitter keeps parallel workers from
            # coming back in the same instant.
            return min(float(retry_after) + random.uniform(0, self.jitter), self.maximum)
        backoff = self.initial * (2 ** max(attempt - 1, 0))
        return min(backoff + random.uniform(0, self.jitter), self.maximum)


DEFAULT_SCHEDULE = RetrySchedule()


def call_with_retry(
    call: Callable[[], T],
    *,
    retry_on: tuple[type[BridgeError], ...] = (RateLimited,),
    schedule: RetrySchedule = DEFAULT_SCHEDULE,
    sleep: Callable[[float], None] = time.sleep,
    what: str = "call",
) -> T:
    """``call()``, repeated on the listed errors per ``schedule``; the last error re-raised."""

    def wait(state: RetryCallState) -> float:
        error = state.outcome.exception() if state.outcome else None
        seconds = schedule.wait(error, state.attempt_number)
        log.info("%s: %s; retrying in %.2f s", what, error, seconds)
        return seconds

    def worth_waiting(error: BaseException) -> bool:
        # A Retry-After beyond the schedule's longest wait (daily credits spent) is the
        # caller's to handle: waiting here would stall a run for hours.
        retry_after = getattr(error, "retry_after", None)
        return isinstance(error, retry_on) and (
            retry_after is None or float(retry_after) <= schedule.maximum
        )

    retrying = Retrying(
        stop=stop_after_attempt(max(schedule.attempts, 1)),
        wait=wait,
        retry=retry_if_exception(worth_waiting),
        sleep=sleep,
        reraise=True,
    )
    return retrying(call)
