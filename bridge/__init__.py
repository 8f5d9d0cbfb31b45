"""SoapBridge: the legacy SOAP CRM contract bridged to modern REST CRMs.

The public API, importable from ``bridge`` itself (everything else is internal and may
move):

- the canonical model: :class:`Contact` and its parts (:mod:`bridge.model`);
- the error tree, rooted at :class:`BridgeError` (:mod:`bridge.errors`);
- configuration: :func:`load_config`, :func:`parse_config`, :class:`Config`
  (:mod:`bridge.config`);
- connectors: the :class:`Connector` interface and :func:`build_connector`
  (:mod:`bridge.connectors`);
- the engine and the store: :class:`SyncEngine`, :class:`SyncSpec`, :class:`SyncReport`,
  :class:`Store`, :func:`open_store`;
- running integrations: :class:`Wiring` (the catalog), :func:`run_integration`,
  :func:`launcher_for`, :func:`replay_dead_letters` (:mod:`bridge.runs`).

Names are imported on first use, so ``import bridge`` (and the command line's help) stays
cheap: the store brings SQLAlchemy and Alembic, the facade spyne, the queue Celery.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bridge.config import Config, ConnectionConfig, IntegrationConfig, load_config, parse_config
    from bridge.connectors.base import (
        Capability,
        Connector,
        Page,
        Position,
        UpsertOutcome,
        UpsertStatus,
    )
    from bridge.connectors.registry import build_connector, connector_kinds
    from bridge.errors import (
        AuthError,
        BridgeError,
        ConfigError,
        FatalError,
        NotFound,
        RateLimited,
        RecordError,
        RetryableError,
        TransientError,
    )
    from bridge.model import Address, AddressType, Company, Contact, Phone, PhoneType
    from bridge.runs.launch import RunRequest, launcher_for, run_integration
    from bridge.runs.replay import replay_dead_letters
    from bridge.runs.wiring import Wiring
    from bridge.store.store import Store, open_store
    from bridge.sync.engine import SyncEngine, SyncSpec
    from bridge.sync.report import SyncReport

__version__ = "0.1.0"

_HOMES = {
    "Address": "bridge.model",
    "AddressType": "bridge.model",
    "AuthError": "bridge.errors",
    "BridgeError": "bridge.errors",
    "Capability": "bridge.connectors.base",
    "Company": "bridge.model",
    "Config": "bridge.config",
    "ConfigError": "bridge.errors",
    "ConnectionConfig": "bridge.config",
    "Connector": "bridge.connectors.base",
    "Contact": "bridge.model",
    "FatalError": "bridge.errors",
    "IntegrationConfig": "bridge.config",
    "NotFound": "bridge.errors",
    "Page": "bridge.connectors.base",
    "Phone": "bridge.model",
    "PhoneType": "bridge.model",
    "Position": "bridge.connectors.base",
    "RateLimited": "bridge.errors",
    "RecordError": "bridge.errors",
    "RetryableError": "bridge.errors",
    "RunRequest": "bridge.runs.launch",
    "Store": "bridge.store.store",
    "SyncEngine": "bridge.sync.engine",
    "SyncReport": "bridge.sync.report",
    "SyncSpec": "bridge.sync.engine",
    "TransientError": "bridge.errors",
    "UpsertOutcome": "bridge.connectors.base",
    "UpsertStatus": "bridge.connectors.base",
    "Wiring": "bridge.runs.wiring",
    "build_connector": "bridge.connectors.registry",
    "connector_kinds": "bridge.connectors.registry",
    "launcher_for": "bridge.runs.launch",
    "load_config": "bridge.config",
    "open_store": "bridge.store.store",
    "parse_config": "bridge.config",
    "replay_dead_letters": "bridge.runs.replay",
    "run_integration": "bridge.runs.launch",
}

__all__ = [
    "Address",
    "AddressType",
    "AuthError",
    "BridgeError",
    "Capability",
    "Company",
    "Config",
    "ConfigError",
    "ConnectionConfig",
    "Connector",
    "Contact",
    "FatalError",
    "IntegrationConfig",
    "NotFound",
    "Page",
    "Phone",
    "PhoneType",
    "Position",
    "RateLimited",
    "RecordError",
    "RetryableError",
    "RunRequest",
    "Store",
    "SyncEngine",
    "SyncReport",
    "SyncSpec",
    "TransientError",
    "UpsertOutcome",
    "UpsertStatus",
    "Wiring",
    "__version__",
    "build_connector",
    "connector_kinds",
    "launcher_for",
    "load_config",
    "open_store",
    "parse_config",
    "replay_dead_letters",
    "run_integration",
]


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(home), name)
    globals()[name] = value  # the next look finds it without this hook
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
