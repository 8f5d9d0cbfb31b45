"""Initial schema: every table the store has (see bridge.store for who uses which).

Revision ID: 0001
Revises:
Create Date: 2026-11-22 17:14:25.646009
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

# Types spelled out here rather than imported from the models, so this revision keeps
# creating the same schema however the models change later.
DATETIME = sa.DateTime(timezone=True)
JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.String(length=24), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("prefix", sa.String(length=16), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", DATETIME, nullable=False),
        sa.Column("last_used_at", DATETIME, nullable=True),
        sa.Column("revoked_at", DATETIME, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_api_tokens_token_hash")),
    )
    op.create_index(op.f("ix_api_tokens_prefix"), "api_tokens", ["prefix"], unique=False)

    op.create_table(
        "connections",
        sa.Column("id", sa.String(length=24), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("settings", JSON, nullable=False),
        sa.Column("secrets_encrypted", sa.Text(), nullable=True),
        sa.Column("secret_keys", JSON, nullable=False),
        sa.Column("created_at", DATETIME, nullable=False),
        sa.Column("last_modified", DATETIME, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_connections")),
        sa.UniqueConstraint("name", name=op.f("uq_connections_name")),
    )
    op.create_table(
        "entity_ids",
        sa.Column("scope", sa.String(length=200), nullable=False),
        sa.Column("entity_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("crm_id", sa.String(length=200), nullable=False),
        sa.Column("created_at", DATETIME, nullable=False),
        sa.PrimaryKeyConstraint("scope", "entity_id", name=op.f("pk_entity_ids")),
        sa.UniqueConstraint("scope", "crm_id", name=op.f("uq_entity_ids_scope_crm_id")),
    )
    op.create_table(
        "facade_cursors",
        sa.Column("id", sa.String(length=24), nullable=False),
        sa.Column("scope", sa.String(length=200), nullable=False),
        sa.Column("since_key", sa.String(length=40), nullable=False),
        sa.Column("since", DATETIME, nullable=True),
        sa.Column("snapshot", sa.String(length=64), nullable=False),
        sa.Column("created_at", DATETIME, nullable=False),
        sa.Column("expires_at", DATETIME, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_facade_cursors")),
        sa.UniqueConstraint(
            "scope",
            "since_key",
            "snapshot",
            name=op.f("uq_facade_cursors_scope_since_key_snapshot"),
        ),
    )
    op.create_index(
        op.f("ix_facade_cursors_expires_at"), "facade_cursors", ["expires_at"], unique=False
    )

    op.create_table(
        "integrations",
        sa.Column("id", sa.String(length=24), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("readme", sa.Text(), nullable=False),
        sa.Column("mode", sa.String(length=16), nullable=False),
        sa.Column("settings", JSON, nullable=False),
        sa.Column("version", sa.String(length=32), nullable=False),
        sa.Column("update_in_progress", sa.Boolean(), nullable=False),
        sa.Column("install_steps", JSON, nullable=False),
        sa.Column("source", sa.String(length=200), nullable=True),
        sa.Column("target", sa.String(length=200), nullable=True),
        sa.Column("direction", sa.String(length=32), nullable=True),
        sa.Column("created_at", DATETIME, nullable=False),
        sa.Column("last_modified", DATETIME, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_integrations")),
        sa.UniqueConstraint("name", name=op.f("uq_integrations_name")),
    )
    op.create_table(
        "leases",
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("holder", sa.String(length=200), nullable=False),
        sa.Column("acquired_at", DATETIME, nullable=False),
        sa.Column("expires_at", DATETIME, nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_leases")),
    )
    op.create_table(
        "sites",
        sa.Column("site_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("connection", sa.String(length=200), nullable=False),
        sa.Column("username", sa.String(length=200), nullable=False),
        sa.Column("password_hash", sa.String(length=400), nullable=True),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("created_at", DATETIME, nullable=False),
        sa.Column("last_modified", DATETIME, nullable=False),
        sa.PrimaryKeyConstraint("site_id", name=op.f("pk_sites")),
    )
    op.create_table(
        "checkpoints",
        sa.Column("integration_id", sa.String(length=24), nullable=False),
        sa.Column("direction", sa.String(length=32), nullable=False),
        sa.Column("watermark", DATETIME, nullable=True),
        sa.Column("position", JSON, nullable=True),
        sa.Column("updated_at", DATETIME, nullable=False),
        sa.ForeignKeyConstraint(
            ["integration_id"],
            ["integrations.id"],
            name=op.f("fk_checkpoints_integration_id_integrations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("integration_id", "direction", name=op.f("pk_checkpoints")),
    )
    op.create_table(
        "dead_letters",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("integration_id", sa.String(length=24), nullable=False),
        sa.Column("direction", sa.String(length=32), nullable=False),
        sa.Column("record_key", sa.String(length=200), nullable=False),
        sa.Column("payload", JSON, nullable=False),
        sa.Column("error_code", sa.String(length=64), nullable=True),
        sa.Column("error_message", sa.Text(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("resolved", sa.Boolean(), nullable=False),
        sa.Column("created_at", DATETIME, nullable=False),
        sa.Column("last_attempt_at", DATETIME, nullable=False),
        sa.Column("resolved_at", DATETIME, nullable=True),
        sa.ForeignKeyConstraint(
            ["integration_id"],
            ["integrations.id"],
            name=op.f("fk_dead_letters_integration_id_integrations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dead_letters")),
    )
    op.create_index(
        op.f("ix_dead_letters_integration_id_direction_resolved_record_key"),
        "dead_letters",
        ["integration_id", "direction", "resolved", "record_key"],
        unique=False,
    )

    op.create_table(
        "facade_cursor_positions",
        sa.Column("cursor_id", sa.String(length=24), nullable=False),
        sa.Column("record_start", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("position", JSON, nullable=False),
        sa.ForeignKeyConstraint(
            ["cursor_id"],
            ["facade_cursors.id"],
            name=op.f("fk_facade_cursor_positions_cursor_id_facade_cursors"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "cursor_id", "record_start", name=op.f("pk_facade_cursor_positions")
        ),
    )
    op.create_table(
        "id_links",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("integration_id", sa.String(length=24), nullable=False),
        sa.Column("source_id", sa.String(length=200), nullable=True),
        sa.Column("target_id", sa.String(length=200), nullable=True),
        sa.Column("external_id", sa.String(length=200), nullable=True),
        sa.Column("email", sa.String(length=320), nullable=True),
        sa.Column("source_hash", sa.String(length=64), nullable=True),
        sa.Column("target_hash", sa.String(length=64), nullable=True),
        sa.Column("created_at", DATETIME, nullable=False),
        sa.Column("updated_at", DATETIME, nullable=False),
        sa.ForeignKeyConstraint(
            ["integration_id"],
            ["integrations.id"],
            name=op.f("fk_id_links_integration_id_integrations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_id_links")),
        sa.UniqueConstraint(
            "integration_id", "source_id", name=op.f("uq_id_links_integration_id_source_id")
        ),
        sa.UniqueConstraint(
            "integration_id", "target_id", name=op.f("uq_id_links_integration_id_target_id")
        ),
    )
    op.create_index(
        op.f("ix_id_links_integration_id_email"),
        "id_links",
        ["integration_id", "email"],
        unique=False,
    )
    op.create_index(
        op.f("ix_id_links_integration_id_external_id"),
        "id_links",
        ["integration_id", "external_id"],
        unique=False,
    )

    op.create_table(
        "jobs",
        sa.Column("id", sa.String(length=24), nullable=False),
        sa.Column("integration_id", sa.String(length=24), nullable=False),
        sa.Column("type", sa.String(length=16), nullable=False),
        sa.Column("direction", sa.String(length=32), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("num_read", sa.Integer(), nullable=False),
        sa.Column("num_created", sa.Integer(), nullable=False),
        sa.Column("num_updated", sa.Integer(), nullable=False),
        sa.Column("num_unchanged", sa.Integer(), nullable=False),
        sa.Column("num_failed", sa.Integer(), nullable=False),
        sa.Column("num_conflicts", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("created_at", DATETIME, nullable=False),
        sa.Column("started_at", DATETIME, nullable=True),
        sa.Column("finished_at", DATETIME, nullable=True),
        sa.Column("last_modified", DATETIME, nullable=False),
        sa.ForeignKeyConstraint(
            ["integration_id"],
            ["integrations.id"],
            name=op.f("fk_jobs_integration_id_integrations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_jobs")),
    )
    op.create_index(
        op.f("ix_jobs_integration_id_created_at"),
        "jobs",
        ["integration_id", "created_at"],
        unique=False,
    )
    op.create_index(
        op.f("ix_jobs_status_created_at"), "jobs", ["status", "created_at"], unique=False
    )

    op.create_table(
        "webhook_channels",
        sa.Column("channel_id", sa.String(length=32), nullable=False),
        sa.Column("connection", sa.String(length=200), nullable=False),
        sa.Column("integration_id", sa.String(length=24), nullable=True),
        sa.Column("events", JSON, nullable=False),
        sa.Column("notify_url", sa.Text(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("token_encrypted", sa.Text(), nullable=False),
        sa.Column("expires_at", DATETIME, nullable=False),
        sa.Column("created_at", DATETIME, nullable=False),
        sa.Column("last_modified", DATETIME, nullable=False),
        sa.ForeignKeyConstraint(
            ["integration_id"],
            ["integrations.id"],
            name=op.f("fk_webhook_channels_integration_id_integrations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("channel_id", name=op.f("pk_webhook_channels")),
    )
    op.create_index(
        op.f("ix_webhook_channels_connection"), "webhook_channels", ["connection"], unique=False
    )

    op.create_table(
        "job_errors",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("job_id", sa.String(length=24), nullable=False),
        sa.Column("record_key", sa.String(length=200), nullable=True),
        sa.Column("code", sa.String(length=64), nullable=True),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("source", sa.String(length=32), nullable=True),
        sa.Column("created_at", DATETIME, nullable=False),
        sa.ForeignKeyConstraint(
            ["job_id"], ["jobs.id"], name=op.f("fk_job_errors_job_id_jobs"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_job_errors")),
    )
    op.create_index(op.f("ix_job_errors_job_id"), "job_errors", ["job_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_job_errors_job_id"), table_name="job_errors")

    op.drop_table("job_errors")
    op.drop_index(op.f("ix_webhook_channels_connection"), table_name="webhook_channels")

    op.drop_table("webhook_channels")
    op.drop_index(op.f("ix_jobs_status_created_at"), table_name="jobs")
    op.drop_index(op.f("ix_jobs_integration_id_created_at"), table_name="jobs")

    op.drop_table("jobs")
    op.drop_index(op.f("ix_id_links_integration_id_external_id"), table_name="id_links")
    op.drop_index(op.f("ix_id_links_integration_id_email"), table_name="id_links")

    op.drop_table("id_links")
    op.drop_table("facade_cursor_positions")
    op.drop_index(
        op.f("ix_dead_letters_integration_id_direction_resolved_record_key"),
        table_name="dead_letters",
    )

    op.drop_table("dead_letters")
    op.drop_table("checkpoints")
    op.drop_table("sites")
    op.drop_table("leases")
    op.drop_table("integrations")
    op.drop_index(op.f("ix_facade_cursors_expires_at"), table_name="facade_cursors")

    op.drop_table("facade_cursors")
    op.drop_table("entity_ids")
    op.drop_table("connections")
    op.drop_index(op.f("ix_api_tokens_prefix"), table_name="api_tokens")

    op.drop_table("api_tokens")
