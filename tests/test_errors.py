"""Known errors: each driver failure a person can meet maps to one sentence; bugs map to none."""

from __future__ import annotations

import errno
import sqlite3

import pytest

from ccmdesk.errors import (
    DatabaseBusy,
    DatabaseDamaged,
    DatabaseFull,
    DatabaseReadOnly,
    DatabaseUnavailable,
    DiskFull,
    classify,
)


def sqlite_error(message: str, code: int) -> sqlite3.OperationalError:
    error = sqlite3.OperationalError(message)
    error.sqlite_errorcode = code  # type: ignore[attr-defined]
    return error


class PgError(Exception):
    """Stands in for a psycopg error: classification reads only its SQLSTATE."""

    def __init__(self, sqlstate: str) -> None:
        super().__init__(sqlstate)
        self.sqlstate = sqlstate


@pytest.mark.parametrize(
    ("error", "kind"),
    [
        (sqlite_error("database is locked", 5), DatabaseBusy),
        (sqlite_error("database table is locked", 6), DatabaseBusy),
        (sqlite_error("database or disk is full", 13), DatabaseFull),
        (sqlite_error("attempt to write a readonly database", 8), DatabaseReadOnly),
        (sqlite_error("database disk image is malformed", 11), DatabaseDamaged),
        (sqlite_error("file is not a database", 26), DatabaseDamaged),
        (sqlite_error("disk I/O error", 10 | (4 << 8)), DatabaseDamaged),
        (PgError("40P01"), DatabaseBusy),
        (PgError("55P03"), DatabaseBusy),
        (PgError("53100"), DatabaseFull),
        (PgError("25006"), DatabaseReadOnly),
        (PgError("08006"), DatabaseUnavailable),
        (OSError(errno.ENOSPC, "No space left on device", "/x/superbill.pdf"), DiskFull),
    ],
)
def test_each_known_failure_reads_as_a_sentence_saying_what_to_do(
    error: BaseException, kind: type
) -> None:
    known = classify(error)
    assert isinstance(known, kind)
    text = str(known)
    assert text.endswith(".") and ("again" in text or "restore" in text or "IT" in text)


def test_a_wrapped_driver_error_is_classified_by_what_it_wraps() -> None:
    from sqlalchemy.exc import OperationalError

    wrapped = OperationalError("INSERT ...", {}, sqlite_error("database is locked", 5))
    assert isinstance(classify(wrapped), DatabaseBusy)


@pytest.mark.parametrize(
    "error",
    [
        ValueError("bad"),
        sqlite3.OperationalError("no such column: x"),
        OSError(errno.EACCES, "denied"),
        PgError("42P01"),
    ],
)
def test_bugs_are_not_dressed_up_as_known_errors(error: BaseException) -> None:
    assert classify(error) is None
