"""Emulator of the legacy hosted CRM's SOAP contact service."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from bridge.emulators.kit import local_now
from bridge.emulators.kit.server import Faults
from bridge.emulators.legacy.app import SERVICE_PATH, LegacyApp, LegacySite
from bridge.emulators.legacy.store import LegacyStore

ENDPOINT_PATH = "/CatalystWebService/CatalystCRMWebservice.asmx"


def build_app(
    records: int = 0,
    *,
    site: LegacySite | None = None,
    faults: Faults | None = None,
    quirk: str | None = None,
    seed: int = 42,
    max_batch: int = 1000,
) -> LegacyApp:
    """A seeded legacy emulator app (``records`` contacts, deterministic for a seed)."""
    site = site or LegacySite()
    tz = ZoneInfo(site.timezone)
    store = LegacyStore(clock=lambda: local_now(tz), max_batch=max_batch)
    store.seed(records, seed=seed)
    return LegacyApp(store, site, faults or Faults(), quirk)


def connection_table(app: LegacyApp, base_url: str) -> dict[str, Any]:
    """The ``[connections.<name>]`` table for this emulator, with ``kind``."""
    return {
        "kind": "legacy",
        "endpoint": base_url.rstrip("/") + ENDPOINT_PATH,
        "username": app.site.username,
        "password": app.site.password,
        "site_id": app.site.site_id,
        "timezone": app.site.timezone,
    }


__all__ = [
    "ENDPOINT_PATH",
    "SERVICE_PATH",
    "LegacyApp",
    "LegacySite",
    "build_app",
    "connection_table",
]
