"""Declarative base, naming convention and the UTC timestamp column type."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from sqlalchemy import CheckConstraint, DateTime, MetaData, TypeDecorator
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase

# Stable constraint names keep Alembic migrations identical on SQLite and PostgreSQL.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def one_of(
    column: str, values: Iterable[str], name: str | None = None, *, nullable: bool = False
) -> CheckConstraint:
    """A check that `column` holds one of `values` (or NULL, when `nullable`); named after
    the column unless `name` is given, as the migrations named it."""
    check = f"{column} IN ({', '.join(repr(str(value)) for value in values)})"
    if nullable:
        check = f"{column} IS NULL OR {check}"
    return CheckConstraint(check, name=name or column)


class UTCDateTime(TypeDecorator[dt.datetime]):
    """An instant stored as naive UTC and always returned timezone-aware in UTC.

    SQLite has no time zone type; storing naive UTC everywhere (and refusing naive input) means
    the same rows mean the same instants on SQLite and PostgreSQL.
    """

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given for a UTC instant column")
        return value.astimezone(dt.UTC).replace(tzinfo=None)

    def process_result_value(
        self, value: dt.datetime | None, dialect: Dialect
    ) -> dt.datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=dt.UTC)


class Base(DeclarativeBase):
    """Base of every ccmdesk table."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)
