"""The declarative base: one metadata, with constraint names fixed by convention.

Fixed names matter because Alembic migrations refer to constraints by name, and the two
engines would otherwise invent different ones. A ``Mapped[datetime]`` column is a
:class:`~bridge.store.types.UTCDateTime` and a ``Mapped[Str64]`` one a ``VARCHAR(64)``
without saying so (the type map below).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from sqlalchemy import MetaData, String
from sqlalchemy.orm import DeclarativeBase, mapped_column

from bridge.store.types import UTCDateTime

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


#: Strings of the lengths the tables use over and over (``Mapped[Str200]`` is a
#: ``VARCHAR(200)``); a length used once or twice is spelled ``String(n)`` where it is.
Str16 = Annotated[str, 16]
Str24 = Annotated[str, 24]  # integrator.io's ``_id`` (see bridge.store.types.new_id)
Str32 = Annotated[str, 32]
Str64 = Annotated[str, 64]  # SHA-256 hex digests, codes, short keys
Str200 = Annotated[str, 200]  # names, record ids and keys

#: The primary keys the tables use: integrator.io's 24-hex ``_id`` (made by the repository,
#: :func:`bridge.store.types.new_id`), a number the database counts up, a number given.
IdKey = Annotated[str, mapped_column(String(24), primary_key=True)]
SerialKey = Annotated[int, mapped_column(primary_key=True, autoincrement=True)]
GivenNumberKey = Annotated[int, mapped_column(primary_key=True, autoincrement=False)]


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    # Every datetime is stored as aware UTC on both engines: ``Mapped[datetime]`` says it all.
    type_annotation_map = {
        datetime: UTCDateTime,
        Str16: String(16),
        Str24: String(24),
        Str32: String(32),
        Str64: String(64),
        Str200: String(200),
    }
