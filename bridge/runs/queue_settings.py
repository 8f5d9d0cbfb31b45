"""The ``[queue]`` table: where the broker is, and how runs are split across workers.

```toml
[queue]
broker_url = "redis://127.0.0.1:6379/0"   # no broker_url: runs stay in-process (the default)
# result_backend = "redis://127.0.0.1:6379/1"   # only to keep task results; jobs are in the store
# rate_limit_url = "redis://127.0.0.1:6379/0"   # shared vendor limits ("" = off); default: broker
name = "soapbridge"            # the Celery queue the runs go to
partition_size = 5000          # records per partition of a partitioned full sync
parallelism = 4                # workers a partitioned run asks for (itself and helpers)
claim_seconds = 30             # a dead worker's partition is taken over after this
visibility_timeout = 3600      # seconds before the broker hands a dead worker's task to another
```
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bridge.config import Config
from bridge.errors import ConfigError
from bridge.sync.partition import DEFAULT_SIZE, PAGE_SIZE

_KEYS = {"broker_url", "result_backend", "rate_limit_url", "name", "partition_size",
         "parallelism", "claim_seconds", "visibility_timeout"}  # fmt: skip


@dataclass(frozen=True, slots=True)
class QueueSettings:
    broker_url: str
    result_backend: str | None = None
    rate_limit_url: str | None = None
    name: str = "soapbridge"
    partition_size: int = DEFAULT_SIZE
    parallelism: int = 4
    claim_seconds: float = 30.0
    visibility_timeout: float = 3600.0

    def __repr__(self) -> str:
        # Broker URLs may carry a password: show only the scheme and host part.
        return f"QueueSettings(broker={_redacted(self.broker_url)!r}, name={self.name!r})"

    @classmethod
    def from_config(cls, config: Config) -> QueueSettings | None:
        """The settings, or None when no broker is configured (runs stay in-process)."""
        table: dict[str, Any] = dict(config.queue)
        unknown = set(table) - _KEYS
        if unknown:
            raise ConfigError(f"queue: unknown key(s) {', '.join(sorted(unknown))}")
        broker = table.get("broker_url")
        if not broker:
            return None
        if not str(broker).startswith(("redis://", "rediss://", "memory://")):
            raise ConfigError("queue.broker_url: a redis:// URL (the broker the workers share)")
        # An empty rate_limit_url turns sharing off; absent, a Redis broker serves for it.
        rate_limit_url = table.get("rate_limit_url")
        if rate_limit_url is None and str(broker).startswith(("redis://", "rediss://")):
            rate_limit_url = broker
        settings = cls(
            broker_url=str(broker),
            result_backend=table.get("result_backend") or None,
            rate_limit_url=rate_limit_url or None,
            name=str(table.get("name", "soapbridge")),
            partition_size=_number(table, "partition_size", int, DEFAULT_SIZE),
            parallelism=_number(table, "parallelism", int, 4),
            claim_seconds=_number(table, "claim_seconds", float, 30.0),
            visibility_timeout=_number(table, "visibility_timeout", float, 3600.0),
        )
        if settings.partition_size < PAGE_SIZE or settings.partition_size % PAGE_SIZE:
            raise ConfigError(f"queue.partition_size: a multiple of {PAGE_SIZE}")
        if settings.parallelism < 1 or settings.claim_seconds <= 0:
            raise ConfigError("queue.parallelism and queue.claim_seconds must be positive")
        return settings


def _number(table: dict[str, Any], key: str, kind: type, default: Any) -> Any:
    value = table.get(key, default)
    try:
        return kind(value)
    except (TypeError, ValueError):
        raise ConfigError(f"queue.{key}: expected a number, got {value!r}") from None


def _redacted(url: str) -> str:
    scheme, _, rest = url.partition("://")
    return f"{scheme}://{rest.rpartition('@')[2]}"
