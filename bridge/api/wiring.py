"""From store rows to live objects: connections to connectors, integrations to sync specs.

An integration's ``settings`` (the bridge's own, as the control plane shows them) name
its ends by connection ``_id``::

    {"source": "<_id>", "target": "<_id>", "direction": "source-to-target",
     "schedule": "*/15 * * * *", "mapping": {...}, "options": {"conflict_policy": "latest"}}

Connections and integrations of the config file are copied into the store at start-up
(:meth:`Wiring.import_config`) so they have ``_id`` s and show in the API; the file stays
their source of truth: their secrets are read from the file, never copied into the store,
and the API refuses to change them (``managedBy: "config"``).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from typing import Any

from sqlalchemy.exc import IntegrityError

from bridge.config import Config, ConnectionConfig, IntegrationConfig
from bridge.connectors.base import Connector
from bridge.connectors.registry import build_connector
from bridge.errors import ConfigError, NotFound
from bridge.store import Connection, Integration, Store
from bridge.store.repos.connections import split_secrets
from bridge.sync.engine import SyncSpec
from bridge.sync.fieldmap import FieldMap
from bridge.sync.runner import pass_options

MANAGED_BY_CONFIG = "config"
MANAGED_BY_API = "api"


class Wiring:
    """The store and the config file, seen together."""

    def __init__(self, store: Store, config: Config | None = None) -> None:
        self.store = store
        self.config = config or Config()

    # -- ownership ---------------------------------------------------------------------

    def connection_managed_by(self, connection: Connection) -> str:
        configured = self.config.connections.get(connection.name)
        if configured is not None and configured.kind == connection.kind:
            return MANAGED_BY_CONFIG
        return MANAGED_BY_API

    def integration_managed_by(self, integration: Integration) -> str:
        names = {i.name for i in self.config.integrations}
        return MANAGED_BY_CONFIG if integration.name in names else MANAGED_BY_API

    # -- connections -------------------------------------------------------------------

    def connection(self, connection_id: str) -> Connection:
        found = self.store.connections.get(connection_id)
        if found is None:
            raise NotFound(f"no connection {connection_id}")
        return found

    def connection_config(self, connection_id: str) -> ConnectionConfig:
        """What a connector's factory takes, secrets included (from the file or decrypted)."""
        connection = self.connection(connection_id)
        if self.connection_managed_by(connection) == MANAGED_BY_CONFIG:
            return self.config.connections[connection.name]
        return self.store.connections.config(connection_id)

    @contextmanager
    def connector(self, connection_id: str) -> Iterator[Connector]:
        config = self.connection_config(connection_id)
        with build_connector(config, shared_tokens=self.store.oauth_tokens) as connector:
            yield connector

    # -- integrations ------------------------------------------------------------------

    def integration_config(self, integration: Integration) -> IntegrationConfig:
        settings = integration.settings
        source, target = settings.get("source"), settings.get("target")
        if not source or not target:
            raise ConfigError(
                f"integration {integration.name}: settings.source and settings.target "
                "must name connections before it can run"
            )
        return IntegrationConfig(
            name=integration.name,
            source=str(source),
            target=str(target),
            direction=str(settings.get("direction") or "source-to-target"),
            schedule=settings.get("schedule"),
            mapping=dict(settings.get("mapping") or {}),
            options=dict(settings.get("options") or {}),
        )

    @contextmanager
    def spec(
        self, integration: Integration, *, reconcile: bool = False, confirm_deletes: bool = False
    ) -> Iterator[SyncSpec]:
        """A :class:`SyncSpec` with live connectors for ``integration``, closed after."""
        wanted = self.integration_config(integration)
        with ExitStack() as stack:
            source = stack.enter_context(self.connector(wanted.source))
            target = stack.enter_context(self.connector(wanted.target))
            yield SyncSpec(
                name=integration.name,
                source=source,
                target=target,
                direction=wanted.direction,
                fieldmap=FieldMap.from_config(wanted.mapping, "settings.mapping"),
                options=pass_options(
                    wanted,
                    full=False,
                    dry_run=False,
                    reconcile=reconcile,
                    confirm_deletes=confirm_deletes,
                ),
                source_connection=self.connection(wanted.source).name,
                target_connection=self.connection(wanted.target).name,
            )

    def references(self, connection_id: str) -> list[Integration]:
        """Integrations whose settings or install steps name ``connection_id``."""
        found = []
        for integration in self.store.integrations.all(limit=100_000):
            steps = {s.get("_connectionId") for s in integration.install_steps}
            ends = {integration.settings.get("source"), integration.settings.get("target")}
            if connection_id in steps | ends:
                found.append(integration)
        return found

    # -- the config file ---------------------------------------------------------------

    def import_config(self) -> None:
        """Give the file's connections and integrations rows (idempotent, race-safe)."""
        ids: dict[str, str] = {}
        for name, configured in self.config.connections.items():
            ids[name] = self._ensure_connection(configured).id
        for configured_integration in self.config.integrations:
            settings: dict[str, Any] = {
                "source": ids[configured_integration.source],
                "target": ids[configured_integration.target],
                "direction": configured_integration.direction,
                "schedule": configured_integration.schedule,
                "mapping": dict(configured_integration.mapping),
                "options": dict(configured_integration.options),
            }
            self._ensure_integration(configured_integration.name, settings)

    def _ensure_connection(self, configured: ConnectionConfig) -> Connection:
        plain, _secret = split_secrets(configured.settings)
        for _ in range(3):
            existing = self.store.connections.by_name(configured.name)
            if existing is None:
                try:
                    return self.store.connections.create(configured.name, configured.kind, plain)
                except IntegrityError:
                    continue  # another worker created it: read it on the next turn
            if existing.kind != configured.kind:
                raise ConfigError(
                    f"connections.{configured.name}: the store holds a {existing.kind} "
                    f"connection of that name, the file says {configured.kind}"
                )
            if existing.settings != plain:
                removed = {k: None for k in existing.settings if k not in plain}
                return self.store.connections.update(existing.id, {**plain, **removed})
            return existing
        raise RuntimeError(f"connection {configured.name!r} could not be created nor read")

    def _ensure_integration(self, name: str, settings: dict[str, Any]) -> Integration:
        for _ in range(3):
            existing = self.store.integrations.by_name(name)
            if existing is None:
                try:
                    return self.store.integrations.create(name, settings=settings)
                except IntegrityError:
                    continue
            if existing.settings != settings:
                return self.store.integrations.update(existing.id, settings=settings)
            return existing
        raise RuntimeError(f"integration {name!r} could not be created nor read")
