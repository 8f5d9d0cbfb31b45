"""OAuth access tokens shared by every process of one account (encrypted)."""

from __future__ import annotations

from bridge.store.migrations.columns import create_table, drop_tables, integer, stamp, string, text

revision = "0002"
down_revision = "0001"


def upgrade() -> None:
    create_table(
        "oauth_tokens",
        string("key", 64),
        string("system", 32),
        text("token_encrypted"),
        stamp("expires_at", nullable=True),
        integer("refreshes"),
        stamp("refreshed_at"),
        primary_key=["key"],
    )


def downgrade() -> None:
    drop_tables("oauth_tokens")
