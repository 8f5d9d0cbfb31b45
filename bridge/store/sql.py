"""SQL constructs for the sync's page-sized statements, compiled per database.

``column IN (...)`` with SQLAlchemy's expanding bind re-renders the statement's SQL for
every call (one placeholder per value) and handles each value as a parameter of its own:
on the sync's hot path, where a page of 100 ids is looked up several times per page, that
cost more than the query. :func:`in_ids` binds the whole list as *one* parameter instead,
so the SQL of a statement built once is rendered once:

- SQLite: ``column IN (SELECT value FROM json_each(?))``, the list sent as JSON text
  (still served by the column's index: SQLite walks the list and probes the index);
- PostgreSQL: ``column = ANY(%s)``, the list sent as a text array.

Any number of ids fits in the one parameter, so callers need not split a list in chunks.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from sqlalchemy import BindParameter, Boolean, ColumnElement, Dialect, Text, bindparam
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.visitors import InternalTraversal
from sqlalchemy.types import TypeDecorator, TypeEngine


class IdList(TypeDecorator[list[str]]):
    """A list of text ids bound as one parameter: JSON text on SQLite, ``text[]`` on
    PostgreSQL (what :class:`InIds` compiles against)."""

    impl = Text
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "postgresql":
            return dialect.type_descriptor(ARRAY(Text()))
        return dialect.type_descriptor(Text())

    def process_bind_param(self, value: Iterable[str] | None, dialect: Dialect) -> Any:
        if value is None:
            raise ValueError("an id list is required (an empty list matches nothing)")
        ids = value if isinstance(value, list) else list(value)
        if dialect.name == "postgresql":
            return ids
        return json.dumps(ids)


class InIds(ColumnElement[bool]):
    """``column`` is one of the ids bound to the parameter ``name`` (see the module)."""

    inherit_cache = True
    type = Boolean()
    # A condition in its own right: without this, SQLite (no native booleans) would be
    # given ``(... IN ...) = 1``, which no index serves.
    _is_implicitly_boolean = True
    _traverse_internals = [
        ("column", InternalTraversal.dp_clauseelement),
        ("ids", InternalTraversal.dp_clauseelement),
    ]

    def __init__(self, column: ColumnElement[Any], name: str) -> None:
        self.column = column
        self.ids: BindParameter[list[str]] = bindparam(name, type_=IdList())


def in_ids(column: Any, name: str = "ids") -> InIds:
    """``column IN <the list bound to name>``, the list one parameter whatever its length."""
    return InIds(column, name)


@compiles(InIds)
def _compile_other(element: InIds, compiler: SQLCompiler, **kw: Any) -> str:
    # Only SQLite and PostgreSQL are supported; this renders a readable str(statement).
    column, ids = compiler.process(element.column, **kw), compiler.process(element.ids, **kw)
    return f"{column} IN ({ids})"


@compiles(InIds, "sqlite")
def _compile_sqlite(element: InIds, compiler: SQLCompiler, **kw: Any) -> str:
    column, ids = compiler.process(element.column, **kw), compiler.process(element.ids, **kw)
    return f"{column} IN (SELECT value FROM json_each({ids}))"


@compiles(InIds, "postgresql")
def _compile_postgresql(element: InIds, compiler: SQLCompiler, **kw: Any) -> str:
    column, ids = compiler.process(element.column, **kw), compiler.process(element.ids, **kw)
    return f"{column} = ANY({ids})"
