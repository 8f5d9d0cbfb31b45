"""Harnesses: how the connector battery starts each kind's emulator and connector.

The battery (``tests/connectors/test_battery.py``) runs the same tests against every
connector kind, each against its own emulator on loopback. A kind takes part by having a
module here, ``tests/connectors/harnesses/<kind>.py``, that builds a :class:`Harness` and
calls :func:`register` at import time. Every module in this package is imported when the
package is, so adding the file is all it takes.

To add a kind:

1. Write ``start(records=0, *, fail_rate=0.0, throttle_rate=0.0, retry_after=1,
   token_ttl=None, bad_credentials=False) -> Started``: start the emulator
   (``build_app`` + :class:`~bridge.emulators.kit.server.EmulatorServer` wrapped in
   :func:`~bridge.emulators.kit.server.with_admin`, so ``GET {url}/_emulator/stats`` works),
   then build the connector from the emulator's connection table through
   :func:`bridge.connectors.registry.build_connector`. ``bad_credentials`` means: the
   same table with a wrong secret. ``stop`` closes the connector and the server.
2. Declare the optional behaviours the emulator can show in ``capabilities`` (see
   :data:`CAPABILITIES`). A battery test that needs one is parametrised only over the
   harnesses that declare it; it is not skipped for the others.
3. ``register(Harness(kind=..., capabilities=..., start=...))``.

The meta-test fails when a kind in :func:`bridge.connectors.registry.connector_kinds` has
no harness, so a new connector cannot ship without the battery.

Contract the battery relies on (beyond the :class:`~bridge.connectors.base.Connector`
interface): ``/_emulator/stats`` counts ``status_<code>`` per response (``with_admin``
does this); with ``"tokens"`` the emulator also counts ``tokens_issued``; a contact whose
email is not an email address is refused per record (``UpsertStatus.FAILED``).
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bridge.config import ConnectionConfig
from bridge.connectors.base import Connector
from bridge.connectors.registry import build_connector
from bridge.emulators.kit.server import EmulatorServer, with_admin

CAPABILITIES = frozenset(
    {
        # read_changes(since=...) returns only what changed at or after ``since``
        # (a connector may add an overlap window before ``since``).
        "modified_since",
        # start(throttle_rate=..., retry_after=...) makes the emulator answer 429.
        "throttle",
        # start(fail_rate=...) makes the emulator answer 5xx.
        "server_errors",
        # start(token_ttl=...) makes access tokens expire; stats count ``tokens_issued``.
        "tokens",
        # upsert reports created vs updated (not only ``upserted``) with the new id.
        "upsert_outcomes",
        # a record modified while the feed is being read cannot push an unread record
        # out of reach (offset paging over a changing order loses one per write).
        "stable_paging",
    }
)


@dataclass
class Started:
    """A running emulator and a connector pointed at it."""

    connector: Connector
    #: The emulator's app object (its store is there for assertions).
    emulator: Any
    #: Base URL of the emulator on loopback.
    url: str
    stop: Callable[[], None]
    #: The connection table the emulator printed (``kind`` plus settings).
    table: dict[str, Any] | None = None


@dataclass
class Harness:
    kind: str
    capabilities: frozenset[str]
    start: Callable[..., Started]

    def __post_init__(self) -> None:
        unknown = self.capabilities - CAPABILITIES
        if unknown:
            raise ValueError(f"{self.kind}: unknown capabilities {sorted(unknown)}")


HARNESSES: dict[str, Harness] = {}


def serve(
    kind: str,
    module: Any,
    app: Any,
    stats: Any,
    *,
    defaults: dict[str, Any] | None = None,
    overrides: dict[str, Any] | None = None,
    cleanup: Callable[[], None] | None = None,
) -> Started:
    """Serve ``app`` (emulator package ``module``) on loopback and connect a ``kind``
    connector from its connection table: ``defaults`` under the table, ``overrides``
    (bad credentials, test settings) over it; ``cleanup`` runs after the server stops."""
    server = EmulatorServer(with_admin(app, stats), faults=app.faults).start()
    table = module.connection_table(app, server.url)
    settings = dict(defaults or {})
    settings.update({k: v for k, v in table.items() if k != "kind"})
    settings.update(overrides or {})

    def stop_server() -> None:
        server.stop()
        if cleanup is not None:
            cleanup()

    try:
        connector = build_connector(ConnectionConfig(f"battery-{kind}", kind, settings))
    except BaseException:
        stop_server()
        raise

    def stop() -> None:
        try:
            connector.close()
        finally:
            stop_server()

    return Started(connector=connector, emulator=app, url=server.url, stop=stop, table=table)


def register(harness: Harness) -> Harness:
    HARNESSES[harness.kind] = harness
    return harness


def with_capability(capability: str) -> list[Harness]:
    """The harnesses that declare ``capability``, sorted by kind (for parametrize)."""
    if capability not in CAPABILITIES:
        raise ValueError(f"unknown capability {capability!r}")
    return [h for _, h in sorted(HARNESSES.items()) if capability in h.capabilities]


def all_harnesses() -> list[Harness]:
    return [h for _, h in sorted(HARNESSES.items())]


def _load_all() -> None:
    for module in pkgutil.iter_modules(__path__):
        importlib.import_module(f"{__name__}.{module.name}")


_load_all()
