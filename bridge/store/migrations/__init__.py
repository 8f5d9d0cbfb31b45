"""Alembic migrations of the store, run by ``Store.migrate()`` (no alembic.ini needed).

To add a revision after changing the models, autogenerate it against a database at head::

    from alembic import command
    from bridge.store import Store, alembic_config

    Store("sqlite:///dev.db").migrate()
    command.revision(alembic_config("sqlite:///dev.db"), "what changed", autogenerate=True)

then spell the column types out in the new file (as 0001 does) and review it: autogenerate
misses renames and server-side defaults. ``tests/store/test_store_migrations.py`` fails
while the models and the migrations disagree.
"""
