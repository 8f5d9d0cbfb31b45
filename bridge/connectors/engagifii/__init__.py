"""The Engagifii CRM REST API: people of one tenant, OAuth2 client credentials."""

from bridge.connectors.engagifii.client import EngagifiiClient
from bridge.connectors.engagifii.connector import EngagifiiConnector

__all__ = ["EngagifiiClient", "EngagifiiConnector"]
