"""Connectors: one package per remote system, each speaking its wire and the canonical model.

Each package has ``client.py`` (wire calls), ``mapping.py`` (wire record <-> ``Contact``) and
``connector.py`` (the :class:`~bridge.connectors.base.Connector` interface), standing on the
connector kit (:mod:`bridge.connectors.kit`: paging with a loop guard, a REST client base,
account pacing, matching). Connectors are found by kind through
:mod:`bridge.connectors.registry`; a kind is its package, with no list to edit.
"""

from bridge.connectors.base import Connector, Page, Position, UpsertOutcome, UpsertStatus
from bridge.connectors.registry import build_connector, connector_kinds

__all__ = [
    "Connector",
    "Page",
    "Position",
    "UpsertOutcome",
    "UpsertStatus",
    "build_connector",
    "connector_kinds",
]
