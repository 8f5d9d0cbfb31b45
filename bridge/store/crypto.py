"""Encryption of stored secrets (Fernet) and hashing of stored tokens.

Connection secrets and webhook verification tokens are encrypted with Fernet (AES-128-CBC
plus HMAC-SHA256, from the ``cryptography`` package). The key comes from the
``SOAPBRIDGE_SECRET_KEY`` environment variable or from ``Store(secret_key=...)``; several
comma-separated keys may be given to rotate: the first encrypts, all of them decrypt.
Generate one with ``Fernet.generate_key()`` (``cryptography.fernet``).

API tokens are never stored, only their SHA-256: they are 256-bit random strings, so a
plain hash cannot be brute-forced and a lookup needs no per-row salt.

OAuth access tokens shared between processes are encrypted with a key derived (HKDF) from
the credentials that mint them (:func:`derived_cipher`): only someone who could mint a
token can read the stored one, and sharing tokens needs no key to be configured.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from bridge.errors import ConfigError

SECRET_KEY_ENV = "SOAPBRIDGE_SECRET_KEY"


class SecretCipher:
    """Encrypts and decrypts small JSON values; never shows its key."""

    def __init__(self, keys: str | None) -> None:
        self._fernet: MultiFernet | None = None
        if keys:
            try:
                self._fernet = MultiFernet([Fernet(k.strip()) for k in keys.split(",") if k])
            except ValueError:
                raise ConfigError(
                    f"{SECRET_KEY_ENV}: not a Fernet key (32 url-safe base64-encoded bytes)"
                ) from None

    def __repr__(self) -> str:
        return f"SecretCipher(configured={self.configured})"

    @property
    def configured(self) -> bool:
        return self._fernet is not None

    def _require(self) -> MultiFernet:
        if self._fernet is None:
            raise ConfigError(
                f"storing or reading secrets needs an encryption key: set {SECRET_KEY_ENV}"
            )
        return self._fernet

    def encrypt(self, value: Any) -> str:
        """``value`` (any JSON value) as a Fernet token."""
        data = json.dumps(value, separators=(",", ":"), sort_keys=True).encode()
        return self._require().encrypt(data).decode("ascii")

    def decrypt(self, token: str) -> Any:
        try:
            data = self._require().decrypt(token.encode("ascii"))
        except InvalidToken:
            raise ConfigError(
                f"a stored secret cannot be decrypted with the key in {SECRET_KEY_ENV} "
                "(wrong or rotated-away key)"
            ) from None
        return json.loads(data)


def derived_cipher(secret: str, context: str) -> SecretCipher:
    """A cipher whose key is derived from ``secret`` for one ``context`` (HKDF-SHA256)."""
    key = HKDF(
        algorithm=hashes.SHA256(), length=32, salt=b"soapbridge", info=context.encode()
    ).derive(secret.encode())
    return SecretCipher(base64.urlsafe_b64encode(key).decode("ascii"))


def token_hash(token: str) -> str:
    """Hex SHA-256 of a high-entropy token."""
    return hashlib.sha256(token.encode()).hexdigest()


def same_hash(token: str, stored_hash: str) -> bool:
    """Whether ``token`` hashes to ``stored_hash``, compared in constant time."""
    return hmac.compare_digest(token_hash(token), stored_hash)
