"""Zoho Bigin v2: OAuth refresh-token auth, Modified_Time change feed, keyed upserts, watch."""

from bridge.connectors.bigin.client import BiginClient
from bridge.connectors.bigin.connector import BiginConnector
from bridge.connectors.bigin.watch import WatchChannel, WatchManager, verify_notification

__all__ = ["BiginClient", "BiginConnector", "WatchChannel", "WatchManager", "verify_notification"]
