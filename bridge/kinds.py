"""Which connection kinds exist: every connector package of the bridge, and any registered.

A kind is a package ``bridge/connectors/<kind>/`` with a ``connector.py`` (found on disk,
nothing imported), an entry point in the ``soapbridge.connectors`` group (a third party's),
or a name given to :func:`add_kind` at run time (the registry's ``register``). The config,
the store and the control plane validate ``kind`` against this one list, so adding a
connector is adding its package: no list of kind names to edit. It sits beside the config
(low in the layers) because the config must check kinds without importing connectors.
"""

from __future__ import annotations

from importlib.metadata import entry_points
from pathlib import Path

ENTRY_POINT_GROUP = "soapbridge.connectors"
_CONNECTORS = Path(__file__).resolve().parent / "connectors"
_added: set[str] = set()


def builtin_kinds() -> list[str]:
    """The kinds with a connector package in ``bridge/connectors/``."""
    return sorted(
        p.name
        for p in _CONNECTORS.iterdir()
        if p.is_dir() and (p / "__init__.py").is_file() and (p / "connector.py").is_file()
    )


def add_kind(kind: str) -> None:
    """Make ``kind`` known for this process (a connector registered at run time)."""
    _added.add(kind)


def connection_kinds() -> list[str]:
    """Every kind a connection may name: built-in, registered, or an entry point's."""
    kinds = set(builtin_kinds()) | _added
    kinds.update(ep.name for ep in entry_points(group=ENTRY_POINT_GROUP))
    return sorted(kinds)


def is_kind(kind: object) -> bool:
    return isinstance(kind, str) and kind in connection_kinds()
