"""Deletions: tombstones, the deletes each integration carried, reconciliation scratch ids,
and a ``num_deleted`` counter on jobs.

Revision ID: 0005
Revises: 0001
Create Date: 2026-11-27 07:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

DATETIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "tombstones",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("integration_id", sa.String(length=24), nullable=True),
        sa.Column("side", sa.String(length=16), nullable=True),
        sa.Column("connection", sa.String(length=200), nullable=True),
        sa.Column("system", sa.String(length=32), nullable=False),
        sa.Column("record_id", sa.String(length=200), nullable=False),
        sa.Column("external_id", sa.String(length=200), nullable=True),
        sa.Column("email", sa.String(length=320), nullable=True),
        sa.Column("seen_by", sa.String(length=16), nullable=False),
        sa.Column("gone", sa.Boolean(), nullable=False),
        sa.Column("deleted_at", DATETIME, nullable=False),
        sa.ForeignKeyConstraint(
            ["integration_id"],
            ["integrations.id"],
            name=op.f("fk_tombstones_integration_id_integrations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tombstones")),
        sa.UniqueConstraint(
            "integration_id",
            "side",
            "record_id",
            name=op.f("uq_tombstones_integration_id_side_record_id"),
        ),
    )
    op.create_index(
        op.f("ix_tombstones_connection_record_id"), "tombstones", ["connection", "record_id"]
    )
    op.create_index(
        op.f("ix_tombstones_connection_deleted_at"), "tombstones", ["connection", "deleted_at"]
    )
    op.create_table(
        "deletes_carried",
        sa.Column("integration_id", sa.String(length=24), nullable=False),
        sa.Column("tombstone_id", sa.Integer(), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("carried_at", DATETIME, nullable=False),
        sa.ForeignKeyConstraint(
            ["integration_id"],
            ["integrations.id"],
            name=op.f("fk_deletes_carried_integration_id_integrations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tombstone_id"],
            ["tombstones.id"],
            name=op.f("fk_deletes_carried_tombstone_id_tombstones"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("integration_id", "tombstone_id", name=op.f("pk_deletes_carried")),
    )
    op.create_table(
        "reconcile_ids",
        sa.Column("run_key", sa.String(length=64), nullable=False),
        sa.Column("record_id", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("run_key", "record_id", name=op.f("pk_reconcile_ids")),
    )
    with op.batch_alter_table("jobs") as batch:
        batch.add_column(sa.Column("num_deleted", sa.Integer(), nullable=False, server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("jobs") as batch:
        batch.drop_column("num_deleted")
    op.drop_table("reconcile_ids")
    op.drop_table("deletes_carried")
    op.drop_index(op.f("ix_tombstones_connection_deleted_at"), table_name="tombstones")
    op.drop_index(op.f("ix_tombstones_connection_record_id"), table_name="tombstones")
    op.drop_table("tombstones")
