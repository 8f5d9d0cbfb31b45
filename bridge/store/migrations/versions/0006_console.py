"""The operator console: sessions, facade activity per site, the last SOAP faults."""

from __future__ import annotations

from bridge.store.migrations.columns import create_table, drop_tables, integer, stamp, string, text

revision = "0006"
down_revision = "0005"


def upgrade() -> None:
    create_table(
        "console_sessions",
        string("session_hash", 64),
        string("token_id", 24),
        string("csrf_token", 64),
        stamp("created_at"),
        stamp("expires_at"),
        primary_key=["session_hash"],
        indexes=[["expires_at"]],
    )
    create_table(
        "facade_activity",
        integer("site_id", autoincrement=False),
        integer("calls"),
        integer("faults"),
        stamp("last_call_at"),
        primary_key=["site_id"],
    )
    create_table(
        "facade_faults",
        integer("id", autoincrement=True),
        integer("site_id", nullable=True),
        string("operation", 64),
        text("message"),
        stamp("created_at"),
        primary_key=["id"],
        indexes=[["created_at"]],
    )


def downgrade() -> None:
    drop_tables("facade_faults", "facade_activity", "console_sessions")
