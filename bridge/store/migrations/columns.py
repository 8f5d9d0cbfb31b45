"""The column builders and table steps the migration revisions are written with.

Types are spelled out here rather than imported from the models, so a revision keeps
creating the same schema however the models change later. For the same reason these
helpers are frozen like the revisions that use them: never change what one of them
builds (a revision would silently start making another schema); add a new helper instead.

A column is NOT NULL unless built with ``nullable=True``. Constraints and indexes are named
as the models' naming convention names them (:data:`bridge.store.models.base.NAMING_CONVENTION`),
through ``op.f`` so that both engines use exactly those names; every foreign key cascades
on delete, as every one in the models does.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

DATETIME = sa.DateTime(timezone=True)
JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def string(name: str, length: int, *, nullable: bool = False) -> sa.Column[Any]:
    return sa.Column(name, sa.String(length=length), nullable=nullable)


def text(name: str, *, nullable: bool = False) -> sa.Column[Any]:
    return sa.Column(name, sa.Text(), nullable=nullable)


def integer(name: str, *, nullable: bool = False, **options: Any) -> sa.Column[Any]:
    """An integer; ``autoincrement=`` for a key column (True: generated, False: given)."""
    return sa.Column(name, sa.Integer(), nullable=nullable, **options)


def boolean(name: str) -> sa.Column[Any]:
    return sa.Column(name, sa.Boolean(), nullable=False)


def json(name: str, *, nullable: bool = False) -> sa.Column[Any]:
    return sa.Column(name, JSON, nullable=nullable)


def stamp(name: str, *, nullable: bool = False) -> sa.Column[Any]:
    """An aware UTC datetime (``UTCDateTime`` in the models)."""
    return sa.Column(name, DATETIME, nullable=nullable)


def _joined(columns: Sequence[str]) -> str:
    return "_".join(columns)


def create_table(
    name: str,
    *columns: sa.Column[Any],
    primary_key: Sequence[str],
    references: Mapping[str, str] | None = None,
    unique: Sequence[Sequence[str]] = (),
    indexes: Sequence[Sequence[str]] = (),
) -> None:
    """Create table ``name`` with its named constraints, then its (non-unique) indexes.

    ``references`` maps a column to the ``table.column`` it points at.
    """
    foreign_keys = [
        sa.ForeignKeyConstraint(
            [column],
            [target],
            name=op.f(f"fk_{name}_{column}_{target.partition('.')[0]}"),
            ondelete="CASCADE",
        )
        for column, target in (references or {}).items()
    ]
    op.create_table(
        name,
        *columns,
        *foreign_keys,
        sa.PrimaryKeyConstraint(*primary_key, name=op.f(f"pk_{name}")),
        *(sa.UniqueConstraint(*key, name=op.f(f"uq_{name}_{_joined(key)}")) for key in unique),
    )
    for indexed in indexes:
        op.create_index(op.f(f"ix_{name}_{_joined(indexed)}"), name, list(indexed), unique=False)


def create_resource(name: str, *columns: sa.Column[Any]) -> None:
    """An integrator.io-shaped table: a 24-character ``id`` and a unique ``name`` first,
    ``created_at`` and ``last_modified`` last."""
    identity = [string("id", 24), string("name", 200)]
    stamps = [stamp("created_at"), stamp("last_modified")]
    create_table(name, *identity, *columns, *stamps, primary_key=["id"], unique=[["name"]])


def drop_tables(*names: str) -> None:
    """Drop the tables in the order given (dependents first); their indexes go with them."""
    for name in names:
        op.drop_table(name)
