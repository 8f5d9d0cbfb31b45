"""Find connectors by kind: the built-in ones and any a third party registers.

A built-in kind is its package, ``bridge/connectors/<kind>/connector.py``, whose
:class:`Connector` subclass of that ``kind`` is built through its ``from_config`` (found by
:mod:`bridge.kinds` on disk, imported only when built, so importing the registry stays
cheap). A third-party package registers a factory under the ``soapbridge.connectors``
entry-point group, or calls :func:`register`. No list of kind names is kept anywhere.
"""

from __future__ import annotations

import dataclasses
import importlib
import inspect
from collections.abc import Callable
from importlib.metadata import entry_points

from bridge.auth import SharedTokens
from bridge.config import ConnectionConfig
from bridge.connectors.base import Capability, Connector
from bridge.errors import ConfigError
from bridge.kinds import ENTRY_POINT_GROUP, add_kind, builtin_kinds, connection_kinds

ConnectorFactory = Callable[[ConnectionConfig], Connector]

_registered: dict[str, ConnectorFactory] = {}


def register(kind: str, factory: ConnectorFactory) -> None:
    """Register a connector factory for ``kind`` (replacing any earlier one)."""
    _registered[kind] = factory
    add_kind(kind)


def connector_kinds() -> list[str]:
    """Every kind a connector can be built for."""
    return connection_kinds()


def _builtin_class(kind: str) -> type[Connector] | None:
    """The :class:`Connector` subclass of ``bridge.connectors.<kind>.connector`` for ``kind``."""
    if kind not in builtin_kinds():
        return None
    module = importlib.import_module(f"bridge.connectors.{kind}.connector")
    for value in vars(module).values():
        if (
            isinstance(value, type)
            and issubclass(value, Connector)
            and value.kind == kind
            and value.__module__ == module.__name__
        ):
            return value
    raise ConfigError(f"bridge.connectors.{kind}.connector defines no connector of kind {kind!r}")


def factory_for(kind: str) -> ConnectorFactory:
    if kind in _registered:
        return _registered[kind]
    found = _builtin_class(kind)
    if found is not None:
        return found.from_config
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        if ep.name == kind:
            factory: ConnectorFactory = ep.load()
            return factory
    raise ConfigError(f"no connector for kind {kind!r} (known: {', '.join(connector_kinds())})")


def connector_class(kind: str) -> type[Connector] | None:
    """The connector class behind ``kind`` when its factory is one (to read declarations)."""
    factory: object = factory_for(kind)
    if inspect.ismethod(factory):
        factory = factory.__self__
    return factory if isinstance(factory, type) and issubclass(factory, Connector) else None


def capabilities_of(kind: str) -> frozenset[Capability]:
    """What connectors of ``kind`` declare they can do, without building one."""
    found = connector_class(kind)
    return found.capabilities if found is not None else frozenset()


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
