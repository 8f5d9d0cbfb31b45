"""Alembic environment: runs on the connection ``Store`` hands over, or on a URL.

``Store.migrate()`` passes its open connection in ``config.attributes["connection"]``; the
``alembic`` command line (``-x url=...`` or ``sqlalchemy.url``) builds an engine the same way
the store does. SQLite gets batch mode, since it cannot alter most of a table in place.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from bridge.store.engine import make_engine
from bridge.store.models import Base

config = context.config
target_metadata = Base.metadata


def run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def main() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        run(connection)
        return
    url = context.get_x_argument(as_dictionary=True).get("url") or config.get_main_option(
        "sqlalchemy.url"
    )
    if not url:
        raise SystemExit("give the database URL: alembic -x url=sqlite:///soapbridge.db ...")
    engine = make_engine(url)
    try:
        with engine.begin() as connection:
            run(connection)
    finally:
        engine.dispose()


main()
