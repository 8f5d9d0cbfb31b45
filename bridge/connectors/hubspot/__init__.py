"""HubSpot CRM (v3 contacts) as a connector: search change feed past the 10,000 ceiling,
batch upserts on a unique external-id property, merges followed, the archived list as the
deletions feed, signed webhooks."""

from bridge.connectors.hubspot.connector import HubSpotConnector
from bridge.connectors.hubspot.webhooks import WebhookEvent, parse_events, verify_signature

__all__ = ["HubSpotConnector", "WebhookEvent", "parse_events", "verify_signature"]
