"""One declarative base and the column types every model reuses.

Money is integer fen and points are integers: no floating-point or decimal column type is defined here, on purpose.
Times are stored in UTC; `UTCDateTime` refuses naive datetimes so local time can never slip in unnoticed.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Any, ClassVar

from sqlalchemy import BigInteger, DateTime, Integer, MetaData, String, TypeDecorator
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, mapped_column

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[dt.datetime]):
    """A timezone-aware UTC datetime on every backend (SQLite keeps it as naive UTC text)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(dt.UTC)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)


def new_uuid() -> str:
    return str(uuid.uuid4())


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


IntPK = Annotated[int, mapped_column(Integer, primary_key=True, autoincrement=True)]
Fen = Annotated[int, mapped_column(BigInteger, default=0, server_default="0")]
Points = Annotated[int, mapped_column(BigInteger, default=0, server_default="0")]
UTC = Annotated[dt.datetime, mapped_column(UTCDateTime())]
ClientUUID = Annotated[str, mapped_column(String(36), default=new_uuid, unique=True)]
IdemKey = Annotated[str, mapped_column(String(80), unique=True)]
Str20 = Annotated[str, mapped_column(String(20))]
Str40 = Annotated[str, mapped_column(String(40))]
Str100 = Annotated[str, mapped_column(String(100))]
Str200 = Annotated[str, mapped_column(String(200))]


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {dt.datetime: UTCDateTime()}
