"""The catalog of integrations: the config file's and the store's, turned into run specs.

:class:`Wiring` is the one place that answers "which integration, built how": given a
config-file integration's name, a store integration's ``_id`` (or name), or a store row,
it finds the two connections (from the file, secrets included, or decrypted from the
store), reads the options (:mod:`bridge.runs.options`) and yields a
:class:`~bridge.sync.engine.SyncSpec` with live connectors that share their OAuth tokens
through the store. Every way of running (here, on the queue, on a schedule, a replay)
starts from it.

A store integration's ``settings`` (the bridge's own, as the control plane shows them) name
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
from dataclasses import dataclass
from typing import Any

from sqlalchemy.exc import IntegrityError

from bridge.config import Config, ConnectionConfig, IntegrationConfig
from bridge.connectors.base import Connector
from bridge.connectors.registry import build_connector
from bridge.errors import ConfigError, NotFound
from bridge.runs.options import pass_options
from bridge.store import Connection, Integration, Store
from bridge.store.repos.connections import split_secrets
from bridge.sync.engine import SyncSpec
from bridge.sync.fieldmap import FieldMap

MANAGED_BY_CONFIG = "config"
MANAGED_BY_API = "api"


@dataclass(frozen=True, slots=True)
class Planned:
    """One integration as it will run: its settings and its two connections, resolved."""

    integration: IntegrationConfig
    source: ConnectionConfig
    target: ConnectionConfig
    #: Where the settings came from, for error messages (``integrations.<name>``...).
    where: str
    #: The store's row of an integration kept there (None for the config file's).
    stored: Integration | None = None


class Wiring:
    """The catalog: the store and the config file, seen together (see the module docstring)."""

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

    def connector(self, connection_id: str) -> Connector:
        """A live connector for the store connection ``connection_id`` (use it in ``with``)."""
        return self._connector(self.connection_config(connection_id))

    def _connector(self, connection: ConnectionConfig) -> Connector:
        return build_connector(connection, shared_tokens=self.store.oauth_tokens)

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

    def plan(self, integration: Integration | str) -> Planned:
        """``integration`` resolved: a store row, or a config-file name, a store ``_id`` or name.

        The config file is the source of truth of its own integrations, also when they are
        given as their store rows (a row the engine made for one carries no settings).
        """
        if isinstance(integration, Integration):
            if self.integration_managed_by(integration) == MANAGED_BY_API:
                return self._stored_plan(integration)
            integration = integration.name
        try:
            configured = self.config.integration(integration)
        except ConfigError:
            stored = self.store.integrations.get(integration) or self.store.integrations.by_name(
                integration
            )
            if stored is None:
                raise
            return self._stored_plan(stored)
        return Planned(
            configured,
            self.config.connection(configured.source),
            self.config.connection(configured.target),
            f"integrations.{configured.name}",
        )

    def _stored_plan(self, integration: Integration) -> Planned:
        wanted = self.integration_config(integration)
        source = self.connection_config(wanted.source)
        target = self.connection_config(wanted.target)
        return Planned(wanted, source, target, "settings", stored=integration)

    def identify(self, integration: str) -> tuple[str, str, str]:
        """(store ``_id``, name, direction) of a config-file or store integration.

        A config-file integration gets its row here if it has none yet (as a run would).
        """
        planned = self.plan(integration)
        wanted = planned.integration
        if planned.stored is not None:
            return planned.stored.id, planned.stored.name, wanted.direction
        row = self.store.integrations.ensure(
            wanted.name,
            source=planned.source.kind,
            target=planned.target.kind,
            direction=wanted.direction,
        )
        return row.id, wanted.name, wanted.direction

    @contextmanager
    def spec(
        self,
        integration: Integration | str,
        *,
        full: bool = False,
        dry_run: bool = False,
        reconcile: bool = False,
        confirm_deletes: bool = False,
    ) -> Iterator[SyncSpec]:
        """A :class:`SyncSpec` with live connectors for ``integration``, closed after.

        The connectors share their OAuth tokens through the store with every other run and
        process of the same account (a run does not fetch a token of its own).
        """
        planned = self.plan(integration)
        wanted = planned.integration
        with ExitStack() as stack:
            source = stack.enter_context(self._connector(planned.source))
            target = stack.enter_context(self._connector(planned.target))
            yield SyncSpec(
                name=wanted.name,
                source=source,
                target=target,
                direction=wanted.direction,
                fieldmap=FieldMap.from_config(wanted.mapping, f"{planned.where}.mapping"),
                options=pass_options(
                    wanted,
                    full=full,
                    dry_run=dry_run,
                    reconcile=reconcile,
                    confirm_deletes=confirm_deletes,
                ),
                source_connection=planned.source.name,
                target_connection=planned.target.name,
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
