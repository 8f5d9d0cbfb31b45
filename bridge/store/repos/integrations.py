"""Integrations (integrator.io shape) and the legacy sites the facade serves."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from bridge.store.models import IntegrationRow, SiteRow
from bridge.store.repos.base import (
    Record,
    Repository,
    ResourceRepo,
    existing,
    ms,
    new_row,
    now_utc,
    record_of,
)

MODES = ("install", "settings", "uninstall")
_EDITABLE = frozenset(
    {
        "name",
        "readme",
        "mode",
        "settings",
        "version",
        "update_in_progress",
        "install_steps",
        "source",
        "target",
        "direction",
    }
)


@dataclass(frozen=True, slots=True)
class Integration(Record):
    id: str
    name: str
    readme: str
    mode: str
    settings: dict[str, Any]
    version: str
    update_in_progress: bool
    install_steps: list[dict[str, Any]]
    source: str | None
    target: str | None
    direction: str | None
    created_at: datetime
    last_modified: datetime

    @classmethod
    def from_row(cls, row: IntegrationRow) -> Integration:
        settings, steps = dict(row.settings or {}), list(row.install_steps or [])
        return record_of(cls, row, settings=settings, install_steps=steps)


def _check_mode(mode: str) -> None:
    if mode not in MODES:
        raise ValueError(f"integration mode must be one of {', '.join(MODES)}, got {mode!r}")


class IntegrationRepo(ResourceRepo[Integration]):
    """Deleting an integration deletes its links, checkpoints, jobs and dead letters."""

    model = IntegrationRow
    record = Integration

    def create(self, name: str, **fields: Any) -> Integration:
        """A new integration; ``fields`` are any of the editable columns."""
        unknown = set(fields) - _EDITABLE
        if unknown:
            raise TypeError(f"unknown integration field(s): {', '.join(sorted(unknown))}")
        _check_mode(fields.get("mode", "settings"))
        row = new_row(
            IntegrationRow,
            name=name,
            readme=fields.pop("readme", ""),
            mode=fields.pop("mode", "settings"),
            settings=fields.pop("settings", None) or {},
            version=fields.pop("version", "1.0.0"),
            update_in_progress=fields.pop("update_in_progress", False),
            install_steps=fields.pop("install_steps", None) or [],
            **fields,
        )
        return self._add(row, Integration, savepoint=True)

    def ensure(self, name: str, *, source: str, target: str, direction: str) -> Integration:
        """The integration named ``name``, created if missing; the config's ends win.

        Two processes ensuring the same new name both end with the same row.
        """
        for _ in range(3):
            existing = self.by_name(name)
            if existing is None:
                try:
                    return self.create(name, source=source, target=target, direction=direction)
                except IntegrityError:
                    continue  # created concurrently: read it on the next turn
            wanted = {"source": source, "target": target, "direction": direction}
            if any(getattr(existing, k) != v for k, v in wanted.items()):
                return self.update(existing.id, **wanted)
            return existing
        raise RuntimeError(f"integration {name!r} could not be created nor read")

    def count(self) -> int:
        return self._count(IntegrationRow)

    def update(self, integration_id: str, **changes: Any) -> Integration:
        unknown = set(changes) - _EDITABLE
        if unknown:
            raise TypeError(f"unknown integration field(s): {', '.join(sorted(unknown))}")
        if "mode" in changes:
            _check_mode(changes["mode"])
        with self._write() as session:
            row = existing(session, IntegrationRow, integration_id, "integration")
            for key, value in changes.items():
                setattr(row, key, value)
            row.last_modified = ms(now_utc())
            session.flush()
            return Integration.from_row(row)


@dataclass(frozen=True, slots=True)
class Site(Record):
    site_id: int
    connection: str
    username: str
    timezone: str
    created_at: datetime
    last_modified: datetime
    password_hash: str | None = field(default=None, repr=False)


class SiteRepo(Repository):
    def put(
        self,
        site_id: int,
        *,
        connection: str,
        username: str = "",
        password_hash: str | None = None,
        timezone: str = "UTC",
    ) -> Site:
        """Create or replace site ``site_id``."""
        values = {"connection": connection, "username": username, "timezone": timezone}
        return self._put(SiteRow, {"site_id": site_id}, Site, **values, password_hash=password_hash)

    def get(self, site_id: int) -> Site | None:
        return self._get(SiteRow, site_id, Site)

    def all(self) -> list[Site]:
        return self._list(select(SiteRow).order_by(SiteRow.site_id), Site)

    def delete(self, site_id: int) -> bool:
        return bool(self._change(delete(SiteRow).filter_by(site_id=site_id)))
