"""Alembic migration environment, run from code by ccmdesk.db."""
