"""Database helpers: the PostgreSQL server, a dump of every row, damage, a signed month, SELECTs."""

from __future__ import annotations

import datetime as dt
import os
import sqlite3
import traceback
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, event, select, text

from ccmdesk.db import Database
from ccmdesk.models import MonthlyReview, Patient, Staff

# A statement as sent to the database: its SQL and its parameters.
Statement = tuple[str, Sequence[Any]]


def reset_schema(url: str) -> None:
    """Empty the scratch PostgreSQL database: drop its public schema and create it again."""
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    engine.dispose()


def postgres_url(environ: Mapping[str, str] = os.environ) -> str:
    """The scratch PostgreSQL database the PostgreSQL tests use (its schema is dropped).

    Without one they skip, except in CI (CI=true), where a missing server fails them: CI runs
    them through scripts/test.sh, which starts a throwaway server, and a skip there would hide
    that PostgreSQL was never tested.
    """
    url = environ.get("CCMDESK_TEST_POSTGRES_URL", "")
    if url:
        return url
    if environ.get("CI", "").strip().lower() == "true":
        pytest.fail(
            "CI=true but CCMDESK_TEST_POSTGRES_URL is not set, so the PostgreSQL tests cannot "
            "run: run the suite through scripts/test.sh, which starts a throwaway server.",
            pytrace=False,
        )
    pytest.skip("no PostgreSQL: set CCMDESK_TEST_POSTGRES_URL, or run scripts/test.sh")


def db_dump(db: Database) -> list[str]:
    """Every row of every table, so 'nothing was written' can be checked exactly."""
    assert db.sqlite_path is not None
    connection = sqlite3.connect(db.sqlite_path)
    try:
        return list(connection.iterdump())
    finally:
        connection.close()


def damage_an_index(path: Path) -> None:
    """Damage only SQLite's full integrity check sees (the quick check and every audit hash
    pass): an index whose declared column no longer matches what it holds."""
    raw = sqlite3.connect(path)
    raw.execute("CREATE TABLE t (a TEXT, b TEXT)")
    raw.execute("CREATE INDEX t_a ON t (a)")
    raw.executemany("INSERT INTO t VALUES (?, ?)", [(f"a{n}", f"b{n}") for n in range(50)])
    raw.commit()
    raw.execute("PRAGMA writable_schema = ON")
    raw.execute("UPDATE sqlite_master SET sql = 'CREATE INDEX t_a ON t (b)' WHERE name = 't_a'")
    raw.commit()
    raw.close()


def sign(db: Database, mrn: str, month: str, when: dt.datetime) -> None:
    """A signature row by Dr. A as the sign-off service writes it, without its checks."""
    with db.session() as session:
        patient = session.scalars(select(Patient).where(Patient.mrn == mrn)).one()
        doctor = session.scalars(select(Staff).where(Staff.staff_id == "dr-a")).one()
        session.add(MonthlyReview(patient_id=patient.id, month=month, signed_by_id=doctor.id,
                                  signed_at=when, attestation="I directed the care."))  # fmt: skip


def count_sessions(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every write and read session opened from now on, with where it was opened from."""
    opened: list[str] = []
    for name in ("session", "read"):
        original = getattr(Database, name)

        def counted(self: Database, *args: object, _o=original, _n=name, **kwargs: object):
            frames = [f for f in traceback.extract_stack() if "/ccmdesk/" in f.filename]
            where = " < ".join(f"{Path(f.filename).name}:{f.name}" for f in reversed(frames))
            opened.append(f"{_n}: {where}")
            return _o(self, *args, **kwargs)

        monkeypatch.setattr(Database, name, counted)
    return opened


@contextmanager
def emitted(db: Database) -> Iterator[list[Statement]]:
    """The SELECT statements (with their parameters) sent to the database inside the block."""
    seen: list[Statement] = []

    def grab(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            seen.append((statement, parameters))

    event.listen(db.engine, "before_cursor_execute", grab)
    try:
        yield seen
    finally:
        event.remove(db.engine, "before_cursor_execute", grab)
