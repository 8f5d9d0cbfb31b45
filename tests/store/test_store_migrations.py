"""Migrations: upgrade, downgrade and upgrade again on an empty database; models match."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect

from bridge.store import Store, alembic_config
from bridge.store.models import Base

TABLES = {
    "integrations",
    "connections",
    "sites",
    "api_tokens",
    "webhook_channels",
    "id_links",
    "checkpoints",
    "jobs",
    "job_errors",
    "dead_letters",
    "leases",
    "entity_ids",
    "facade_cursors",
    "facade_cursor_positions",
    "oauth_tokens",
    "cache_generations",
    "tombstones",
    "deletes_carried",
    "reconcile_ids",
    "console_sessions",
    "facade_activity",
    "facade_faults",
}
#: The newest revision shipped (one head: the migrations form a single line).
HEAD = ScriptDirectory.from_config(alembic_config()).get_current_head()


def tables(store: Store) -> set[str]:
    return set(inspect(store.engine).get_table_names()) - {"alembic_version"}


def test_upgrade_downgrade_upgrade_on_empty_database(store_url):
    store = Store(store_url)
    try:
        assert tables(store) == set()
        assert store.current_revision() is None

        store.migrate()
        assert tables(store) == TABLES
        assert store.current_revision() == HEAD
        store.integrations.create("survives nothing")

        store.downgrade("base")
        assert tables(store) == set()
        assert store.current_revision() is None

        store.migrate()
        assert tables(store) == TABLES
        assert store.integrations.count() == 0
        store.migrate()  # at head already: a no-op, not an error
        assert store.current_revision() == HEAD
    finally:
        store.dispose()


def test_migrations_create_exactly_what_the_models_describe(store):
    with store.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, Base.metadata)
    assert differences == []


def test_db_upgrade_command_migrates_the_configured_store(tmp_path):
    import subprocess
    import sys

    config = tmp_path / "bridge.toml"
    config.write_text(f'[store]\nurl = "sqlite:///{tmp_path / "s.db"}"\n')
    out = subprocess.run(
        [sys.executable, "-m", "bridge", "db", "upgrade", "--config", str(config)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    assert f"at revision {HEAD}" in out.stdout
