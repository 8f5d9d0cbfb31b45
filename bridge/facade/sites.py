"""Sites: which credentials a legacy consumer presents and which connection serves it.

Every check costs one Argon2 verification whether the site exists, the user name is right
or not, so the answer's timing says nothing about which part was wrong. A plain
``password`` in the config is hashed at start-up with the same parameters as the stand-in
hash used for unknown sites. Verified credentials are remembered for a few minutes under
a keyed digest (never the password itself), so a consumer paging through thousands of
contacts pays for one verification, not one per page; failures are never remembered.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from bridge.config import SiteConfig
from bridge.errors import AuthError, ConfigError

# OWASP's Argon2id baseline (19 MiB, 2 passes, 1 lane): tens of milliseconds per check.
HASHER = PasswordHasher(time_cost=2, memory_cost=19456, parallelism=1)
BAD_LOGIN = "ERROR: Invalid Username/Password or Site ID."


def hash_password(password: str) -> str:
    """An Argon2id hash for the config's ``password_hash`` (same parameters as start-up)."""
    return HASHER.hash(password)


@dataclass(slots=True)
class Site:
    site_id: int
    connection: str
    username: str
    tz: ZoneInfo
    password_hash: str = field(repr=False)


class SiteDirectory:
    """Authenticates ``(siteId, username, password)`` and names the site it unlocks."""

    def __init__(self, sites: Sequence[SiteConfig], *, remember_seconds: float = 300.0) -> None:
        self._sites: dict[int, Site] = {}
        for config in sites:
            try:
                tz = ZoneInfo(config.timezone)
            except (ZoneInfoNotFoundError, ValueError):
                raise ConfigError(
                    f"site {config.site_id}: unknown timezone {config.timezone!r}"
                ) from None
            if config.password_hash:
                password_hash = config.password_hash
            elif config.password is not None:
                password_hash = HASHER.hash(config.password)
            else:
                raise ConfigError(f"site {config.site_id}: give password or password_hash")
            if config.site_id in self._sites:
                raise ConfigError(f"site {config.site_id} is configured twice")
            self._sites[config.site_id] = Site(
                config.site_id, config.connection, config.username, tz, password_hash
            )
        # Unknown sites verify against this, so they cost what a known site costs.
        self._stand_in = HASHER.hash(secrets.token_urlsafe(16))
        self._key = secrets.token_bytes(32)
        self._remember = remember_seconds
        self._verified: dict[bytes, float] = {}
        self._lock = threading.Lock()

    def __contains__(self, site_id: int) -> bool:
        return site_id in self._sites

    def sites(self) -> list[Site]:
        return list(self._sites.values())

    def authenticate(self, site_id: int | None, username: str | None, password: str | None) -> Site:
        """The site these credentials open; :class:`AuthError` (same message) otherwise."""
        username = username or ""
        password = password or ""
        digest = hmac.new(
            self._key, f"{site_id}\0{username}\0{password}".encode(), hashlib.sha256
        ).digest()
        site = self._sites.get(site_id) if site_id is not None else None
        now = time.monotonic()
        with self._lock:
            expires = self._verified.get(digest)
        if site is not None and expires is not None and expires > now:
            return site
        stored = site.password_hash if site is not None else self._stand_in
        expected_user = site.username if site is not None else ""
        password_ok = _verify(stored, password)
        user_ok = hmac.compare_digest(username.encode(), expected_user.encode())
        if site is None or not (password_ok and user_ok):
            raise AuthError(BAD_LOGIN, system="facade")
        with self._lock:
            if len(self._verified) > 10_000:
                self._verified = {k: v for k, v in self._verified.items() if v > now}
            self._verified[digest] = now + self._remember
        return site


def _verify(stored: str, password: str) -> bool:
    try:
        return HASHER.verify(stored, password)
    except VerifyMismatchError:
        return False
    except (VerificationError, InvalidHashError):
        return False
