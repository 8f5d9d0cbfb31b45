"""Cache generations: one counter per connection, advanced by each write through the facade."""

from __future__ import annotations

import sqlalchemy as sa

from bridge.store.migrations.columns import create_table, drop_tables, stamp, string

revision = "0004"
down_revision = "0002"


def upgrade() -> None:
    create_table(
        "cache_generations",
        string("scope", 200),
        sa.Column("generation", sa.BigInteger(), nullable=False),
        stamp("updated_at"),
        primary_key=["scope"],
    )


def downgrade() -> None:
    drop_tables("cache_generations")
