"""Build and run an integration from the config file: connectors, store, options."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from datetime import timedelta
from typing import Any

from bridge.config import Config, IntegrationConfig
from bridge.connectors.registry import build_connector
from bridge.errors import ConfigError
from bridge.store import Store, open_store
from bridge.sync.deletes import (
    DEFAULT_MAX_FRACTION,
    DEFAULT_POLICY,
    DeleteOptions,
)
from bridge.sync.engine import CONFLICT_POLICIES, SyncEngine, SyncSpec
from bridge.sync.fieldmap import FieldMap
from bridge.sync.passes import PassOptions, ProgressCallback
from bridge.sync.report import SyncReport

# Integration options (keys of an [[integrations]] entry besides the documented ones).
OPTION_KEYS = {
    "overlap_seconds",
    "workers",
    "conflict_policy",
    "deletes",
    "max_delete_fraction",
    "max_deletes",
    "reconcile",
    "reconcile_schedule",
}


def delete_options(
    integration: IntegrationConfig, *, reconcile: bool = False, confirm_deletes: bool = False
) -> DeleteOptions:
    """The integration's delete policy and guard (``deletes``, ``max_delete_fraction``...)."""
    options = integration.options
    max_deletes = options.get("max_deletes")
    try:
        return DeleteOptions(
            policy=str(options.get("deletes", DEFAULT_POLICY)),
            max_fraction=float(options.get("max_delete_fraction", DEFAULT_MAX_FRACTION)),
            max_deletes=int(max_deletes) if max_deletes is not None else None,
            confirmed=confirm_deletes,
            reconcile=reconcile or bool(options.get("reconcile", False)),
        )
    except ValueError as exc:
        raise ConfigError(f"integration {integration.name}: {exc}") from None


def pass_options(
    integration: IntegrationConfig,
    *,
    full: bool,
    dry_run: bool,
    reconcile: bool = False,
    confirm_deletes: bool = False,
) -> PassOptions:
    options: dict[str, Any] = dict(integration.options)
    unknown = set(options) - OPTION_KEYS
    if unknown:
        raise ConfigError(
            f"integration {integration.name}: unknown key(s) {', '.join(sorted(unknown))}"
        )
    policy = str(options.get("conflict_policy", "latest"))
    if policy not in CONFLICT_POLICIES:
        raise ConfigError(
            f"integration {integration.name}: conflict_policy must be one of "
            + ", ".join(CONFLICT_POLICIES)
        )
    return PassOptions(
        full=full,
        dry_run=dry_run,
        overlap=timedelta(seconds=float(options.get("overlap_seconds", 300))),
        workers=int(options.get("workers", 4)),
        conflict_policy=policy,
        deletes=delete_options(integration, reconcile=reconcile, confirm_deletes=confirm_deletes),
    )


@contextmanager
def integration_spec(
    config: Config,
    name: str,
    *,
    full: bool = False,
    dry_run: bool = False,
    reconcile: bool = False,
    confirm_deletes: bool = False,
    store: Store | None = None,
) -> Iterator[SyncSpec]:
    """A :class:`SyncSpec` with live connectors, closed when the block ends.

    With ``store``, the connectors share their OAuth tokens through it with every other
    run and process of the same account (a run does not fetch a token of its own).
    """
    integration = config.integration(name)
    tokens = store.oauth_tokens if store is not None else None
    with ExitStack() as stack:
        source = stack.enter_context(
            build_connector(config.connection(integration.source), shared_tokens=tokens)
        )
        target = stack.enter_context(
            build_connector(config.connection(integration.target), shared_tokens=tokens)
        )
        yield SyncSpec(
            name=integration.name,
            source=source,
            target=target,
            direction=integration.direction,
            fieldmap=FieldMap.from_config(integration.mapping, f"integrations.{name}.mapping"),
            options=pass_options(
                integration,
                full=full,
                dry_run=dry_run,
                reconcile=reconcile,
                confirm_deletes=confirm_deletes,
            ),
            source_connection=integration.source,
            target_connection=integration.target,
        )


def run_integration(
    config: Config,
    name: str,
    *,
    store: Store | None = None,
    full: bool = False,
    dry_run: bool = False,
    on_progress: ProgressCallback | None = None,
    reconcile: bool = False,
    confirm_deletes: bool = False,
) -> SyncReport:
    store = store or open_store(config)
    with integration_spec(
        config,
        name,
        full=full,
        dry_run=dry_run,
        reconcile=reconcile,
        confirm_deletes=confirm_deletes,
        store=store,
    ) as spec:
        return SyncEngine(store, spec, on_progress=on_progress).run()
