"""OAuth access tokens shared by every process of one account (encrypted).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27 07:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

DATETIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "oauth_tokens",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("system", sa.String(length=32), nullable=False),
        sa.Column("token_encrypted", sa.Text(), nullable=False),
        sa.Column("expires_at", DATETIME, nullable=True),
        sa.Column("refreshes", sa.Integer(), nullable=False),
        sa.Column("refreshed_at", DATETIME, nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_oauth_tokens")),
    )


def downgrade() -> None:
    op.drop_table("oauth_tokens")
