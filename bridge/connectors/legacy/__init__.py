"""The legacy hosted CRM's SOAP contract: ``ContactList_Retrieve``, ``ContactList_UpdateInsert``."""

from bridge.connectors.legacy.client import LegacyClient
from bridge.connectors.legacy.connector import LegacyConnector

__all__ = ["LegacyClient", "LegacyConnector"]
