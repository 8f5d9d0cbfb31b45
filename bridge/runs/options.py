"""An integration's options (the keys of an ``[[integrations]]`` entry, or ``settings.options``)
read into the engine's :class:`~bridge.sync.passes.PassOptions`: one reading for the config
file and the store alike."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from bridge.config import IntegrationConfig
from bridge.errors import ConfigError
from bridge.sync.deletes import (
    DEFAULT_MAX_FRACTION,
    DEFAULT_POLICY,
    DeleteOptions,
)
from bridge.sync.engine import CONFLICT_POLICIES
from bridge.sync.passes import PassOptions

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
    """The engine's options for one run of ``integration`` (unknown keys are refused)."""
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
