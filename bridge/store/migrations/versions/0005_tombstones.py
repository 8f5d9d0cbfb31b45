"""Deletions: tombstones, the deletes each integration carried, reconciliation scratch ids,
and a ``num_deleted`` counter on jobs."""

from __future__ import annotations

from alembic import op

from bridge.store.migrations.columns import (
    boolean,
    create_table,
    drop_tables,
    integer,
    stamp,
    string,
)

revision = "0005"
down_revision = "0004"


def upgrade() -> None:
    create_table(
        "tombstones",
        integer("id", autoincrement=True),
        string("integration_id", 24, nullable=True),
        string("side", 16, nullable=True),
        string("connection", 200, nullable=True),
        string("system", 32),
        string("record_id", 200),
        string("external_id", 200, nullable=True),
        string("email", 320, nullable=True),
        string("seen_by", 16),
        boolean("gone"),
        stamp("deleted_at"),
        primary_key=["id"],
        references={"integration_id": "integrations.id"},
        unique=[["integration_id", "side", "record_id"]],
        indexes=[["connection", "record_id"], ["connection", "deleted_at"]],
    )
    create_table(
        "deletes_carried",
        string("integration_id", 24),
        integer("tombstone_id"),
        string("outcome", 16),
        stamp("carried_at"),
        primary_key=["integration_id", "tombstone_id"],
        references={"integration_id": "integrations.id", "tombstone_id": "tombstones.id"},
    )
    create_table(
        "reconcile_ids",
        string("run_key", 64),
        string("record_id", 200),
        primary_key=["run_key", "record_id"],
    )
    with op.batch_alter_table("jobs") as batch:
        batch.add_column(integer("num_deleted", server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("jobs") as batch:
        batch.drop_column("num_deleted")
    drop_tables("reconcile_ids", "deletes_carried", "tombstones")
