"""Initial schema: every table the store has (see bridge.store for who uses which)."""

from __future__ import annotations

from bridge.store.migrations.columns import (
    boolean,
    create_resource,
    create_table,
    drop_tables,
    integer,
    json,
    stamp,
    string,
    text,
)

revision = "0001"
down_revision = None

#: The foreign key of every table that belongs to an integration.
INTEGRATION = {"integration_id": "integrations.id"}
#: The job counters of this revision (0005 adds ``num_deleted``).
JOB_COUNTS = ("read", "created", "updated", "unchanged", "failed", "conflicts")


def upgrade() -> None:
    create_table(
        "api_tokens",
        string("id", 24),
        string("name", 200),
        string("prefix", 16),
        string("token_hash", 64),
        stamp("created_at"),
        stamp("last_used_at", nullable=True),
        stamp("revoked_at", nullable=True),
        primary_key=["id"],
        unique=[["token_hash"]],
        indexes=[["prefix"]],
    )
    create_resource(
        "connections",
        string("kind", 32),
        json("settings"),
        text("secrets_encrypted", nullable=True),
        json("secret_keys"),
    )
    create_table(
        "entity_ids",
        string("scope", 200),
        integer("entity_id", autoincrement=False),
        string("crm_id", 200),
        stamp("created_at"),
        primary_key=["scope", "entity_id"],
        unique=[["scope", "crm_id"]],
    )
    create_table(
        "facade_cursors",
        string("id", 24),
        string("scope", 200),
        string("since_key", 40),
        stamp("since", nullable=True),
        string("snapshot", 64),
        stamp("created_at"),
        stamp("expires_at"),
        primary_key=["id"],
        unique=[["scope", "since_key", "snapshot"]],
        indexes=[["expires_at"]],
    )
    create_resource(
        "integrations",
        text("readme"),
        string("mode", 16),
        json("settings"),
        string("version", 32),
        boolean("update_in_progress"),
        json("install_steps"),
        string("source", 200, nullable=True),
        string("target", 200, nullable=True),
        string("direction", 32, nullable=True),
    )
    create_table(
        "leases",
        string("name", 200),
        string("holder", 200),
        stamp("acquired_at"),
        stamp("expires_at"),
        primary_key=["name"],
    )
    create_table(
        "sites",
        integer("site_id", autoincrement=False),
        string("connection", 200),
        string("username", 200),
        string("password_hash", 400, nullable=True),
        string("timezone", 64),
        stamp("created_at"),
        stamp("last_modified"),
        primary_key=["site_id"],
    )
    create_table(
        "checkpoints",
        string("integration_id", 24),
        string("direction", 32),
        stamp("watermark", nullable=True),
        json("position", nullable=True),
        stamp("updated_at"),
        primary_key=["integration_id", "direction"],
        references=INTEGRATION,
    )
    create_table(
        "dead_letters",
        integer("id", autoincrement=True),
        string("integration_id", 24),
        string("direction", 32),
        string("record_key", 200),
        json("payload"),
        string("error_code", 64, nullable=True),
        text("error_message"),
        integer("attempts"),
        boolean("resolved"),
        stamp("created_at"),
        stamp("last_attempt_at"),
        stamp("resolved_at", nullable=True),
        primary_key=["id"],
        references=INTEGRATION,
        indexes=[["integration_id", "direction", "resolved", "record_key"]],
    )
    create_table(
        "facade_cursor_positions",
        string("cursor_id", 24),
        integer("record_start", autoincrement=False),
        json("position"),
        primary_key=["cursor_id", "record_start"],
        references={"cursor_id": "facade_cursors.id"},
    )
    create_table(
        "id_links",
        integer("id", autoincrement=True),
        string("integration_id", 24),
        string("source_id", 200, nullable=True),
        string("target_id", 200, nullable=True),
        string("external_id", 200, nullable=True),
        string("email", 320, nullable=True),
        string("source_hash", 64, nullable=True),
        string("target_hash", 64, nullable=True),
        stamp("created_at"),
        stamp("updated_at"),
        primary_key=["id"],
        references=INTEGRATION,
        unique=[["integration_id", "source_id"], ["integration_id", "target_id"]],
        indexes=[["integration_id", "email"], ["integration_id", "external_id"]],
    )
    create_table(
        "jobs",
        string("id", 24),
        string("integration_id", 24),
        string("type", 16),
        string("direction", 32, nullable=True),
        string("status", 16),
        *(integer(f"num_{count}") for count in JOB_COUNTS),
        text("error", nullable=True),
        stamp("created_at"),
        stamp("started_at", nullable=True),
        stamp("finished_at", nullable=True),
        stamp("last_modified"),
        primary_key=["id"],
        references=INTEGRATION,
        indexes=[["integration_id", "created_at"], ["status", "created_at"]],
    )
    create_table(
        "webhook_channels",
        string("channel_id", 32),
        string("connection", 200),
        string("integration_id", 24, nullable=True),
        json("events"),
        text("notify_url"),
        string("token_hash", 64),
        text("token_encrypted"),
        stamp("expires_at"),
        stamp("created_at"),
        stamp("last_modified"),
        primary_key=["channel_id"],
        references=INTEGRATION,
        indexes=[["connection"]],
    )
    create_table(
        "job_errors",
        integer("id", autoincrement=True),
        string("job_id", 24),
        string("record_key", 200, nullable=True),
        string("code", 64, nullable=True),
        text("message"),
        string("source", 32, nullable=True),
        stamp("created_at"),
        primary_key=["id"],
        references={"job_id": "jobs.id"},
        indexes=[["job_id"]],
    )


def downgrade() -> None:
    drop_tables(
        "job_errors",
        "webhook_channels",
        "jobs",
        "id_links",
        "facade_cursor_positions",
        "dead_letters",
        "checkpoints",
        "sites",
        "leases",
        "integrations",
        "facade_cursors",
        "entity_ids",
        "connections",
        "api_tokens",
    )
