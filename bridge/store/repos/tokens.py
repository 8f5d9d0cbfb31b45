"""Control-plane API tokens (stored hashed) and Bigin webhook channels.

An API token is ``sb_`` + 43 url-safe characters (256 random bits). The store keeps its
SHA-256 and its first characters (``prefix``, to find the row without scanning); the
plaintext is returned once, by :meth:`ApiTokenRepo.issue`. Comparisons of presented tokens
with stored hashes run in constant time.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, delete, select, update

from bridge.errors import NotFound
from bridge.store.crypto import same_hash, token_hash
from bridge.store.models import ApiTokenRow, WebhookChannelRow
from bridge.store.repos.base import Record, Repository, existing, ms, now_utc, record_of
from bridge.store.types import new_id, utc

TOKEN_PREFIX = "sb_"
PREFIX_LENGTH = 11  # "sb_" + 8 characters: 48 bits, enough to make a lookup hit one row
LAST_USED_RESOLUTION = timedelta(minutes=1)


@dataclass(frozen=True, slots=True)
class ApiToken(Record):
    id: str
    name: str
    prefix: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None

    @property
    def revoked(self) -> bool:
        return self.revoked_at is not None


class ApiTokenRepo(Repository):
    def issue(self, name: str) -> tuple[ApiToken, str]:
        """A new token: its record and its plaintext (shown once, never stored)."""
        plaintext = TOKEN_PREFIX + secrets.token_urlsafe(32)
        row = ApiTokenRow(
            id=new_id(),
            name=name,
            prefix=plaintext[:PREFIX_LENGTH],
            token_hash=token_hash(plaintext),
            created_at=ms(now_utc()),
        )
        return self._add(row, ApiToken), plaintext

    def verify(self, plaintext: str) -> ApiToken | None:
        """The live token ``plaintext`` is, with ``last_used_at`` kept current; else None.

        ``last_used_at`` is written at most once a minute per token, so checking a token
        on every API request does not make every request a database write.
        """
        if not plaintext.startswith(TOKEN_PREFIX) or len(plaintext) <= PREFIX_LENGTH:
            return None
        with self._read() as session:
            rows = session.scalars(
                select(ApiTokenRow).filter_by(prefix=plaintext[:PREFIX_LENGTH], revoked_at=None)
            ).all()
            match = next((row for row in rows if same_hash(plaintext, row.token_hash)), None)
            if match is None:
                return None
            token = ApiToken.from_row(match)
        now = ms(now_utc())
        if token.last_used_at is None or now - token.last_used_at >= LAST_USED_RESOLUTION:
            with self._write() as session:
                session.execute(update(ApiTokenRow).filter_by(id=token.id).values(last_used_at=now))
            token = replace(token, last_used_at=now)
        return token

    def revoke(self, token_id: str) -> ApiToken:
        with self._write() as session:
            row = existing(session, ApiTokenRow, token_id, "API token")
            if row.revoked_at is None:
                row.revoked_at = ms(now_utc())
            session.flush()
            return ApiToken.from_row(row)

    def all(self, *, include_revoked: bool = False) -> list[ApiToken]:
        query = select(ApiTokenRow).order_by(ApiTokenRow.created_at, ApiTokenRow.id)
        if not include_revoked:
            query = query.filter_by(revoked_at=None)
        return self._list(query, ApiToken)


@dataclass(frozen=True, slots=True)
class WebhookChannel(Record):
    channel_id: str
    connection: str
    integration_id: str | None
    events: tuple[str, ...]
    notify_url: str
    expires_at: datetime
    created_at: datetime
    last_modified: datetime

    @classmethod
    def from_row(cls, row: WebhookChannelRow) -> WebhookChannel:
        return record_of(cls, row, events=tuple(row.events or ()))


class WebhookChannelRepo(Repository):
    def put(
        self,
        channel_id: str,
        *,
        connection: str,
        events: Sequence[str],
        notify_url: str,
        token: str,
        expires_at: datetime,
        integration_id: str | None = None,
    ) -> WebhookChannel:
        """Create or replace a channel; ``token`` is what Bigin will echo in callbacks."""
        return self._put(
            WebhookChannelRow,
            {"channel_id": channel_id},
            WebhookChannel,
            connection=connection,
            integration_id=integration_id,
            events=list(events),
            notify_url=notify_url,
            token_hash=token_hash(token),
            token_encrypted=self._cipher.encrypt(token),
            expires_at=utc(expires_at),
        )

    def verify(self, channel_id: str, token: str | None) -> WebhookChannel | None:
        """The channel if ``token`` is its token (constant-time) and it has not expired."""
        with self._read() as session:
            row = session.get(WebhookChannelRow, str(channel_id))
            # Hash even when the channel is unknown, so timing does not tell which ids exist.
            matches = same_hash(token or "", row.token_hash if row else "0" * 64)
            if row is None or not matches or row.expires_at <= now_utc():
                return None
            return WebhookChannel.from_row(row)

    def token(self, channel_id: str) -> str:
        """The plaintext token, to renew the channel with the same one."""
        with self._read() as session:
            row = existing(session, WebhookChannelRow, channel_id, "webhook channel")
            return str(self._cipher.decrypt(row.token_encrypted))

    def renew(self, channel_id: str, expires_at: datetime) -> WebhookChannel:
        with self._write() as session:
            result = session.execute(
                update(WebhookChannelRow)
                .filter_by(channel_id=channel_id)
                .values(expires_at=utc(expires_at), last_modified=ms(now_utc()))
            )
            if not result.rowcount:  # type: ignore[attr-defined]
                raise NotFound(f"no webhook channel {channel_id}")
            row = session.get(WebhookChannelRow, channel_id, populate_existing=True)
            assert row is not None
            return WebhookChannel.from_row(row)

    def get(self, channel_id: str) -> WebhookChannel | None:
        return self._get(WebhookChannelRow, channel_id, WebhookChannel)

    def all(self, connection: str | None = None) -> list[WebhookChannel]:
        query = select(WebhookChannelRow).order_by(WebhookChannelRow.created_at)
        return self._list(_of_connection(query, connection), WebhookChannel)

    def expiring(self, before: datetime, connection: str | None = None) -> list[WebhookChannel]:
        """Channels that expire before ``before`` (to renew them in time), soonest first."""
        query = select(WebhookChannelRow).where(WebhookChannelRow.expires_at < utc(before))
        query = _of_connection(query, connection).order_by(WebhookChannelRow.expires_at)
        return self._list(query, WebhookChannel)

    def delete(self, channel_id: str) -> bool:
        return bool(self._change(delete(WebhookChannelRow).filter_by(channel_id=channel_id)))


def _of_connection(query: Select[Any], connection: str | None) -> Select[Any]:
    """``query`` narrowed to the channels of ``connection`` (all channels for None)."""
    return query if connection is None else query.filter_by(connection=connection)
