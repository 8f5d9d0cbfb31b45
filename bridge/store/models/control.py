"""Control-plane tables: integrations, connections, sites, API tokens, webhook channels,
and the OAuth access tokens every process of one account shares."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from bridge.store.models.base import Base, GivenNumberKey, IdKey, Str16, Str24, Str32, Str64, Str200
from bridge.store.types import JSONValue


class IntegrationRow(Base):
    """An integration, shaped like integrator.io's (``_id``, mode, install steps, version)."""

    __tablename__ = "integrations"

    id: Mapped[IdKey]
    name: Mapped[Str200] = mapped_column(unique=True)
    readme: Mapped[str] = mapped_column(Text, default="")
    mode: Mapped[Str16] = mapped_column(default="settings")
    settings: Mapped[dict[str, Any]] = mapped_column(JSONValue, default=dict)
    version: Mapped[Str32] = mapped_column(default="1.0.0")
    update_in_progress: Mapped[bool] = mapped_column(Boolean, default=False)
    install_steps: Mapped[list[dict[str, Any]]] = mapped_column(JSONValue, default=list)
    # Connection names of the two ends and the configured direction; None until configured.
    source: Mapped[Str200 | None]
    target: Mapped[Str200 | None]
    direction: Mapped[Str32 | None]
    created_at: Mapped[datetime]
    last_modified: Mapped[datetime]


class ConnectionRow(Base):
    """A remote system's endpoint: non-secret settings in clear, secrets Fernet-encrypted."""

    __tablename__ = "connections"

    id: Mapped[IdKey]
    name: Mapped[Str200] = mapped_column(unique=True)
    kind: Mapped[Str32]
    settings: Mapped[dict[str, Any]] = mapped_column(JSONValue, default=dict)
    secrets_encrypted: Mapped[str | None] = mapped_column(Text)
    # Names only, so a listing shows which secrets are set without needing the key.
    secret_keys: Mapped[list[str]] = mapped_column(JSONValue, default=list)
    created_at: Mapped[datetime]
    last_modified: Mapped[datetime]


class SiteRow(Base):
    """A legacy site the facade serves: what a consumer presents, and which connection."""

    __tablename__ = "sites"

    site_id: Mapped[GivenNumberKey]
    connection: Mapped[Str200]
    username: Mapped[Str200] = mapped_column(default="")
    password_hash: Mapped[str | None] = mapped_column(String(400))
    timezone: Mapped[Str64] = mapped_column(default="UTC")
    created_at: Mapped[datetime]
    last_modified: Mapped[datetime]


class ApiTokenRow(Base):
    """A control-plane API token; only its SHA-256 hash and a lookup prefix are kept."""

    __tablename__ = "api_tokens"

    id: Mapped[IdKey]
    name: Mapped[Str200]
    prefix: Mapped[Str16] = mapped_column(index=True)
    token_hash: Mapped[Str64] = mapped_column(unique=True)
    created_at: Mapped[datetime]
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]


class WebhookChannelRow(Base):
    """A Bigin notification (actions/watch) channel and its verification token."""

    __tablename__ = "webhook_channels"

    channel_id: Mapped[Str32] = mapped_column(primary_key=True)
    connection: Mapped[Str200] = mapped_column(index=True)
    integration_id: Mapped[Str24 | None] = mapped_column(
        ForeignKey("integrations.id", ondelete="CASCADE")
    )
    events: Mapped[list[str]] = mapped_column(JSONValue, default=list)
    notify_url: Mapped[str] = mapped_column(Text)
    # The hash is what a callback is compared against (constant time); the encrypted copy
    # exists because renewing a channel (PUT) must send the same token again.
    token_hash: Mapped[Str64]
    token_encrypted: Mapped[str] = mapped_column(Text)
    expires_at: Mapped[datetime]
    created_at: Mapped[datetime]
    last_modified: Mapped[datetime]


class OAuthTokenRow(Base):
    """The current OAuth token of one account, shared by every process that uses it.

    ``key`` is a SHA-256 of the account's identity (system, token URL, client, user, hashed
    refresh token); the token (access token, expiry, refresh token if any) is Fernet-
    encrypted with a key derived from the account's own secrets.
    """

    __tablename__ = "oauth_tokens"

    key: Mapped[Str64] = mapped_column(primary_key=True)
    system: Mapped[Str32]
    token_encrypted: Mapped[str] = mapped_column(Text)
    expires_at: Mapped[datetime | None]
    # How many tokens were fetched for the account through the store (for operators).
    refreshes: Mapped[int] = mapped_column(Integer, default=0)
    refreshed_at: Mapped[datetime]
