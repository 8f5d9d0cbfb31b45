"""Alembic migrations of the store, run by ``Store.migrate()`` (no alembic.ini needed).

To add a revision after changing the models, autogenerate it against a database at head::

    from alembic import command
    from bridge.store import Store, alembic_config

    Store("sqlite:///dev.db").migrate()
    command.revision(alembic_config("sqlite:///dev.db"), "what changed", autogenerate=True)

then rewrite the new file with the frozen column helpers of :mod:`.columns` (as the other
revisions are written) and review it: autogenerate misses renames and server-side defaults.
``tests/store/test_store_migrations.py`` fails while the models and the migrations disagree.
"""
