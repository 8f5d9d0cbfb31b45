"""OAuth access tokens shared by every run, worker and facade process of one account.

This is the store's side of :class:`bridge.auth.SharedTokens`: a row per account (named by
a SHA-256 of its identity, never by a secret) holding the current token, encrypted with a
key derived from the account's own secrets (:func:`~bridge.store.crypto.derived_cipher`),
and a lease (:mod:`.leases`, the same cross-process lock on SQLite and PostgreSQL) that
admits one refresh at a time. The lease is held only while a token is fetched, outside any
database transaction, so a slow token endpoint never holds the database's write lock; a
holder that dies frees it within :data:`REFRESH_LEASE`.

A row that cannot be decrypted (the account's secrets changed under the same identity)
reads as no token: the next caller fetches a new one and overwrites it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

from bridge.errors import ConfigError
from bridge.store.crypto import SecretCipher, derived_cipher
from bridge.store.models import OAuthTokenRow
from bridge.store.repos.base import Repository, now_utc
from bridge.store.repos.leases import LeaseRepo, LockHeld

#: How long a refresh may hold the lock unrenewed (it is renewed while the fetch runs).
REFRESH_LEASE = timedelta(seconds=15)
_CONTEXT = "soapbridge oauth token"


def _cipher(key: str, secret: str) -> SecretCipher:
    return derived_cipher(secret, f"{_CONTEXT} {key}")


class OAuthTokenRepo(Repository):
    """Implements :class:`bridge.auth.SharedTokens` over the ``oauth_tokens`` table."""

    def load(self, key: str, secret: str) -> dict[str, Any] | None:
        """The account's stored token, or None (none yet, or sealed with other secrets)."""
        with self._read() as session:
            row = session.get(OAuthTokenRow, key)
            sealed = row.token_encrypted if row is not None else None
        if sealed is None:
            return None
        try:
            token = _cipher(key, secret).decrypt(sealed)
        except ConfigError:
            return None
        return dict(token) if isinstance(token, dict) else None

    def save(self, key: str, secret: str, token: dict[str, Any], *, system: str) -> None:
        """Store ``token`` as the account's current one (counting the refresh).

        Callers save under :meth:`locked`, so two processes never write one row at once.
        """
        expires = token.get("expires_at")
        sealed = _cipher(key, secret).encrypt(token)
        with self._write() as session:
            row = session.get(OAuthTokenRow, key)
            if row is None:
                row = OAuthTokenRow(key=key, refreshes=0)
                session.add(row)
            row.system = system
            row.token_encrypted = sealed
            row.expires_at = datetime.fromtimestamp(float(expires), UTC) if expires else None
            row.refreshes += 1
            row.refreshed_at = now_utc()

    def refreshes(self, key: str) -> int:
        """How many tokens were fetched for the account through the store."""
        with self._read() as session:
            row = session.get(OAuthTokenRow, key)
            return row.refreshes if row is not None else 0

    @contextmanager
    def locked(self, key: str) -> Iterator[bool]:
        """Hold the account's refresh lease for the block; False when another process has it."""
        leases = LeaseRepo(self._scope, self._cipher)
        with ExitStack() as stack:
            try:
                stack.enter_context(leases.hold(f"oauth:{key}", ttl=REFRESH_LEASE))
                held = True
            except LockHeld:
                held = False
            yield held
