"""The public API: what ``bridge`` exports, that each name is the real one, and cheaply."""

from __future__ import annotations

import importlib
import json
import subprocess
import sys

import pytest

import bridge

# The curated surface: changing it is a decision, made here and in bridge/__init__.py.
PUBLIC = {
    "__version__",
    # the canonical model
    "Address", "AddressType", "Company", "Contact", "Phone", "PhoneType",
    # the error tree
    "AuthError", "BridgeError", "ConfigError", "FatalError", "NotFound", "RateLimited",
    "RecordError", "RetryableError", "TransientError",
    # configuration
    "Config", "ConnectionConfig", "IntegrationConfig", "load_config", "parse_config",
    # connectors
    "Capability", "Connector", "Page", "Position", "UpsertOutcome", "UpsertStatus",
    "build_connector", "connector_kinds",
    # the engine and the store
    "Store", "SyncEngine", "SyncReport", "SyncSpec", "open_store",
    # running integrations
    "RunRequest", "Wiring", "launcher_for", "replay_dead_letters", "run_integration",
}  # fmt: skip


def test_all_is_the_curated_surface_sorted_and_listed_by_dir():
    assert set(bridge.__all__) == PUBLIC
    assert bridge.__all__ == sorted(bridge.__all__)
    assert len(bridge.__all__) == len(set(bridge.__all__))
    assert set(dir(bridge)) >= PUBLIC


@pytest.mark.parametrize("name", sorted(PUBLIC - {"__version__"}))
def test_each_name_is_the_object_of_its_home_module(name: str):
    exported = getattr(bridge, name)
    home = importlib.import_module(exported.__module__)
    assert getattr(home, name) is exported


def test_an_unknown_name_is_an_attribute_error():
    with pytest.raises(AttributeError, match="no attribute 'SyncRunner'"):
        bridge.SyncRunner  # noqa: B018


def test_importing_the_package_and_the_model_loads_no_heavy_package():
    probe = (
        "import json, sys, bridge; bridge.Contact; bridge.BridgeError; bridge.load_config; "
        "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True
    )
    loaded = set(json.loads(out.stdout))
    assert not loaded & {"sqlalchemy", "alembic", "celery", "spyne", "zeep", "requests"}
