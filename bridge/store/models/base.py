"""The declarative base: one metadata, with constraint names fixed by convention.

Fixed names matter because Alembic migrations refer to constraints by name, and the two
engines would otherwise invent different ones. A ``Mapped[datetime]`` column is a
:class:`~bridge.store.types.UTCDateTime` without saying so.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

from bridge.store.types import UTCDateTime

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    # Every datetime is stored as aware UTC on both engines: ``Mapped[datetime]`` says it all.
    type_annotation_map = {datetime: UTCDateTime}
