"""Connections: non-secret settings in clear, secrets Fernet-encrypted and never listed.

Which settings are secret is decided by :data:`bridge.config.SECRET_KEYS` (the same set the
config's ``repr`` redacts), so a connection table pasted from ``soapbridge emulate`` can be
stored as is. Records returned here carry only the names of the secret keys; the secrets
themselves come back only through :meth:`ConnectionRepo.config`, for the code that connects.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bridge.config import SECRET_KEYS, ConnectionConfig
from bridge.kinds import connection_kinds
from bridge.store.models import ConnectionRow
from bridge.store.repos.base import Record, ResourceRepo, existing, ms, new_row, now_utc, record_of


@dataclass(frozen=True, slots=True)
class Connection(Record):
    id: str
    name: str
    kind: str
    settings: dict[str, Any]
    secret_keys: tuple[str, ...]
    created_at: datetime
    last_modified: datetime

    @classmethod
    def from_row(cls, row: ConnectionRow) -> Connection:
        settings, secret_keys = dict(row.settings or {}), tuple(row.secret_keys or ())
        return record_of(cls, row, settings=settings, secret_keys=secret_keys)


def split_secrets(settings: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """``(plain, secret)`` halves of a connection's settings."""
    plain = {k: v for k, v in settings.items() if k not in SECRET_KEYS}
    secret = {k: v for k, v in settings.items() if k in SECRET_KEYS}
    return plain, secret


class ConnectionRepo(ResourceRepo[Connection]):
    model = ConnectionRow
    record = Connection

    def _secrets(self, row: ConnectionRow) -> dict[str, Any]:
        if not row.secrets_encrypted:
            return {}
        value = self._cipher.decrypt(row.secrets_encrypted)
        return dict(value) if isinstance(value, dict) else {}

    def create(self, name: str, kind: str, settings: Mapping[str, Any]) -> Connection:
        """Store a connection; keys in ``SECRET_KEYS`` are encrypted."""
        if kind not in (known := connection_kinds()):
            raise ValueError(f"connection kind must be one of {', '.join(known)}")
        plain, secret = split_secrets(settings)
        row = new_row(
            ConnectionRow,
            name=name,
            kind=kind,
            settings=plain,
            secrets_encrypted=self._cipher.encrypt(secret) if secret else None,
            secret_keys=sorted(secret),
        )
        return self._add(row, Connection, savepoint=True)

    def update(self, connection_id: str, settings: Mapping[str, Any]) -> Connection:
        """Merge ``settings`` into the stored ones; a value of ``None`` removes the key."""
        with self._write() as session:
            row = existing(session, ConnectionRow, connection_id, "connection")
            plain, secret = split_secrets(settings)
            merged_plain = {**(row.settings or {}), **plain}
            merged_secret = {**self._secrets(row), **secret}
            row.settings = {k: v for k, v in merged_plain.items() if v is not None}
            merged_secret = {k: v for k, v in merged_secret.items() if v is not None}
            row.secrets_encrypted = self._cipher.encrypt(merged_secret) if merged_secret else None
            row.secret_keys = sorted(merged_secret)
            row.last_modified = ms(now_utc())
            session.flush()
            return Connection.from_row(row)

    def config(self, connection_id: str) -> ConnectionConfig:
        """The connection with its secrets decrypted, as a connector's factory takes it."""
        with self._read() as session:
            row = existing(session, ConnectionRow, connection_id, "connection")
            settings = {**(row.settings or {}), **self._secrets(row)}
            return ConnectionConfig(name=row.name, kind=row.kind, settings=settings)
