"""The Egito CRM REST API: contacts of one instance, OAuth2 password grant."""

from bridge.connectors.egito.client import EgitoClient
from bridge.connectors.egito.connector import EgitoConnector

__all__ = ["EgitoClient", "EgitoConnector"]
