"""Find connectors by kind: the built-in ones and any a third party registers.

A third-party package registers a factory under the ``soapbridge.connectors`` entry-point
group; the built-ins are listed here by import path so that importing the registry stays
cheap (a connector's dependencies load only when it is built).
"""

from __future__ import annotations

import dataclasses
import importlib
from collections.abc import Callable
from importlib.metadata import entry_points

from bridge.auth import SharedTokens
from bridge.config import ConnectionConfig
from bridge.connectors.base import Connector
from bridge.errors import ConfigError

ConnectorFactory = Callable[[ConnectionConfig], Connector]

BUILTIN: dict[str, str] = {
    "legacy": "bridge.connectors.legacy.connector:LegacyConnector.from_config",
    "bigin": "bridge.connectors.bigin.connector:BiginConnector.from_config",
    "engagifii": "bridge.connectors.engagifii.connector:EngagifiiConnector.from_config",
    "egito": "bridge.connectors.egito.connector:EgitoConnector.from_config",
    "hubspot": "bridge.connectors.hubspot.connector:HubSpotConnector.from_config",
}

_registered: dict[str, ConnectorFactory] = {}


def register(kind: str, factory: ConnectorFactory) -> None:
    """Register a connector factory for ``kind`` (replacing any earlier one)."""
    _registered[kind] = factory


def _load(path: str) -> ConnectorFactory:
    module_name, _, attr = path.partition(":")
    target: object = importlib.import_module(module_name)
    for part in attr.split("."):
        target = getattr(target, part)
    return target  # type: ignore[return-value]


def connector_kinds() -> list[str]:
    """Every kind a connector can be built for."""
    kinds = set(BUILTIN) | set(_registered)
    kinds.update(ep.name for ep in entry_points(group="soapbridge.connectors"))
    return sorted(kinds)


def factory_for(kind: str) -> ConnectorFactory:
    if kind in _registered:
        return _registered[kind]
    if kind in BUILTIN:
        return _load(BUILTIN[kind])
    for ep in entry_points(group="soapbridge.connectors"):
        if ep.name == kind:
            factory: ConnectorFactory = ep.load()
            return factory
    raise ConfigError(f"no connector for kind {kind!r} (known: {', '.join(connector_kinds())})")


def build_connector(
    config: ConnectionConfig, *, shared_tokens: SharedTokens | None = None
) -> Connector:
    """A connector for one configured connection.

    ``shared_tokens`` (the store's ``oauth_tokens``) lets the connector share its OAuth
    tokens with every other process of the same account instead of fetching its own.
    """
    if shared_tokens is not None:
        config = dataclasses.replace(config, shared_tokens=shared_tokens)
    return factory_for(config.kind)(config)
