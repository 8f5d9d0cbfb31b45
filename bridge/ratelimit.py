"""A token bucket in Redis, shared by every worker process that talks to one vendor account.

A vendor limits an account (Bigin: calls per second per org, credits per rolling day), not a
process. Each connector paces itself locally (:mod:`bridge.connectors.kit.limits`: a
``Pacer`` and a credit budget); ten worker processes pacing themselves at the account's
rate would together send ten times too much and collect the 429s.
:func:`share_rate_limits` swaps those local objects for buckets kept in Redis under a key
per account, so all workers draw from one.

The bucket is one Lua script, run atomically by Redis: refill by elapsed time (Redis's own
clock, so workers on hosts with skewed clocks agree), take the cost, and answer how long
the caller must wait. The level may go below zero: a caller reserves its slot and sleeps
outside Redis, so concurrent callers queue in arrival order instead of polling.

The seam is declared: a connector with ``Capability.SHARED_LIMITS`` hands out its client's
``pacer`` and ``budget`` (:class:`bridge.connectors.kit.limits.AccountLimits`) through
``account_limits()``; connectors without it are left as they are.
"""

from __future__ import annotations

import hashlib
import logging
import math
import time
from collections.abc import Callable

import redis

from bridge.config import ConnectionConfig
from bridge.connectors.base import Capability, Connector
from bridge.errors import TransientError

log = logging.getLogger(__name__)
KEY_PREFIX = "soapbridge:ratelimit"

# KEYS[1] bucket hash; ARGV rate (tokens/s), burst (tokens), cost. Returns the wait (s).
_TAKE = """
local now_parts = redis.call('TIME')
local now = tonumber(now_parts[1]) + tonumber(now_parts[2]) / 1000000
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local cost = tonumber(ARGV[3])
local state = redis.call('HMGET', KEYS[1], 'level', 'at')
local level = tonumber(state[1]) or burst
local at = tonumber(state[2]) or now
level = math.min(burst, level + math.max(0, now - at) * rate) - cost
redis.call('HSET', KEYS[1], 'level', tostring(level), 'at', tostring(now))
-- Forget the bucket once it would be full again: a missing key reads as a full bucket.
redis.call('EXPIRE', KEYS[1], math.ceil((burst - level) / rate) + 1)
if level < 0 then
  return tostring(-level / rate)
end
return '0'
"""

# Connection settings that say which account a connection talks to (never secrets).
# HubSpot: one host and one app (client_id) for every account, so ``portal_id`` tells them apart.
_ACCOUNT_KEYS = ("api_domain", "accounts_url", "base_url", "endpoint", "client_id", "username",
                 "site_id", "tenant_code", "portal_id")  # fmt: skip


class RedisTokenBucket:
    """``rate`` tokens a second, at most ``burst`` saved up, shared through one Redis key.

    Answers both interfaces the connectors pace with: ``wait()`` (one call, like the Bigin
    ``Pacer``) and ``take(cost)`` (credits, like its credit budget).
    """

    def __init__(
        self,
        client: redis.Redis,
        key: str,
        *,
        rate: float,
        burst: float = 1.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if rate <= 0:
            raise ValueError("a shared bucket needs a positive rate")
        self.key = key
        self.rate = rate
        self.burst = max(burst, 1.0)
        self.interval = 1.0 / rate
        self.waited = 0.0
        self._sleep = sleep
        self._take = client.register_script(_TAKE)

    def __repr__(self) -> str:
        return f"RedisTokenBucket({self.key!r}, rate={self.rate:g}/s, burst={self.burst:g})"

    def reserve(self, cost: float = 1.0) -> float:
        """Take ``cost`` tokens now; the seconds to wait before using them (no sleeping)."""
        try:
            answer = self._take(keys=[self.key], args=[self.rate, self.burst, cost])
        except redis.RedisError as exc:
            raise TransientError(
                f"shared rate limit unavailable ({type(exc).__name__})", system="redis"
            ) from exc
        return float(answer)

    def take(self, cost: float = 1.0) -> float:
        """Take ``cost`` tokens, sleeping until they are ours; the seconds slept."""
        wait = self.reserve(cost)
        if wait > 0:
            if wait > 1:
                log.info("%s: waiting %.1f s for the shared rate limit", self.key, wait)
            self._sleep(wait)
            self.waited += wait
        return wait

    def wait(self) -> None:
        self.take(1.0)


def account_key(connection: ConnectionConfig) -> str:
    """A stable name for the vendor account behind ``connection``.

    ``rate_limit_account`` in the connection's settings names it outright (two connections
    with different credentials to one org); otherwise it is a digest of the settings that
    address the account, so two configs naming the same org share one bucket.
    """
    named = connection.settings.get("rate_limit_account")
    if named:
        return f"{connection.kind}:{named}"
    identity = "|".join(
        f"{key}={connection.settings.get(key)}"
        for key in _ACCOUNT_KEYS
        if connection.settings.get(key) not in (None, "")
    )
    digest = hashlib.sha256(f"{connection.kind}|{identity}".encode()).hexdigest()[:16]
    return f"{connection.kind}:{digest}"


def share_rate_limits(
    connector: Connector, client: redis.Redis, account: str, *, prefix: str = KEY_PREFIX
) -> list[str]:
    """Replace ``connector``'s local pacing with buckets in Redis; the names of those shared.

    The shared buckets keep the local ones' rates: ``max_calls_per_second`` of a connection
    becomes the rate of the whole account instead of each process's.
    """
    if not connector.can(Capability.SHARED_LIMITS):
        return []
    limits = connector.account_limits()
    shared: list[str] = []
    interval = limits.pacer.interval
    if interval > 0:
        # A burst of one spaces calls 1/rate apart across all workers, as the Pacer does.
        limits.pacer = RedisTokenBucket(client, f"{prefix}:{account}:calls", rate=1.0 / interval)
        shared.append("calls")
    rate = limits.budget.rate
    if rate > 0:
        limits.budget = RedisTokenBucket(
            client,
            f"{prefix}:{account}:credits",
            rate=rate,
            burst=max(1.0, math.floor(limits.budget.burst)),
        )
        shared.append("credits")
    if shared:
        log.info("%s: %s limited through Redis as %s", connector.system, "+".join(shared), account)
    return shared
