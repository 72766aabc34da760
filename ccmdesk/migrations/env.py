"""Alembic environment: migrations always run from code on a connection ccmdesk hands in."""

from __future__ import annotations

from alembic import context

from ccmdesk.models import Base

connection = context.config.attributes.get("connection")
if connection is None:
    # Only used by developers generating a revision: `alembic` on a scratch database.
    from sqlalchemy import create_engine

    url = context.config.get_main_option("sqlalchemy.url") or "sqlite:///./scratch.sqlite3"
    connection = create_engine(url).connect()

# render_as_batch lets later ALTERs work on SQLite, which cannot alter most column definitions.
context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
