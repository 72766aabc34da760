"""Shared fixtures: a fresh database per test, a fixed clock and ready-made actors."""

from __future__ import annotations

import datetime as dt
import os
import sqlite3
from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest
from argon2 import PasswordHasher

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from ccmdesk.db import Database, open_database
from ccmdesk.rules.records import PracticeRecord, StaffRecord
from ccmdesk.services import Actor, Services

# Shared assertion helpers outside test modules still explain their failures.
pytest.register_assert_rewrite("tests.rules.scenario_cases")

NOW = dt.datetime(2026, 4, 15, 16, 0, tzinfo=dt.UTC)
# Argon2id at its cheapest: tests hash many passwords; the product uses the library's defaults.
FAST_HASHER = PasswordHasher(time_cost=1, memory_cost=64, parallelism=1)
VALID_NPIS = ("1234567893", "1245319599", "1003000126", "1679576722")
CLI = Actor(key="cli:test", name="command line (test)", role="system")
ADMIN = Actor(key="admin-a", name="Ann Admin", role="admin")
NURSE = Actor(key="rn-lee", name="Grace Lee", role="clinical")
BILLER = Actor(key="bill-b", name="Bo Biller", role="billing")


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


class FakeClock:
    """An injected clock: tests move time instead of sleeping."""

    def __init__(self, start: dt.datetime) -> None:
        self.now = start

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += dt.timedelta(**delta)


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    database = open_database(f"sqlite:///{tmp_path / 'ccmdesk.sqlite3'}", tmp_path / "backups")
    yield database
    database.dispose()


@pytest.fixture
def services(db: Database) -> Services:
    return Services(db, clock=lambda: NOW, hasher=FAST_HASHER)


@pytest.fixture
def practice(services: Services) -> PracticeRecord:
    record = PracticeRecord(
        name="Test Practice",
        address="1 Main St, Portland, ME 04101",
        phone="207-555-0100",
        group_npi=VALID_NPIS[1],
        tin="123456789",
        timezone="America/New_York",
    )
    return services.practice.save(CLI, record)


@pytest.fixture
def staffed(services: Services, practice: PracticeRecord) -> Services:
    """A practice with one of each role, and Dr. A as a practitioner with an NPI."""
    for record in (
        StaffRecord("admin-a", "Ann Admin", "admin"),
        StaffRecord("dr-a", "Dr. A", "practitioner", "MD", VALID_NPIS[0]),
        StaffRecord("rn-lee", "Grace Lee", "clinical", "RN"),
        StaffRecord("sched-s", "Sam Scheduler", "non_clinical"),
        StaffRecord("bill-b", "Bo Biller", "billing"),
    ):
        services.staff.save(CLI, record, is_new=True)
    return services


def patient_text(**overrides: str) -> dict[str, str]:
    """A valid patients.csv row as column → text."""
    row = {
        "mrn": "1001",
        "last_name": "Rivera",
        "first_name": "Ana",
        "dob": "1950-02-03",
        "sex": "F",
        "phone": "",
        "address": "",
        "city": "",
        "state": "ME",
        "zip": "04101",
        "payer": "Medicare Part B",
        "payer_type": "medicare",
        "member_id": "1EG4-TE5-MK73",
        "qmb": "no",
        "billing_practitioner": "dr-a",
        "care_manager": "rn-lee",
        "conditions": "E11.9;I10",
        "consent_date": "2025-11-04",
        "consent_method": "verbal",
        "consent_practitioner": "",
        "consent_revoked_date": "",
        "initiating_visit_date": "2025-11-04",
        "care_plan_date": "2025-11-04",
    }
    row.update(overrides)
    return row


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


@pytest.fixture
def pg_url() -> str:
    return postgres_url()


def db_dump(db: Database) -> list[str]:
    """Every row of every table, so 'nothing was written' can be checked exactly."""
    assert db.sqlite_path is not None
    connection = sqlite3.connect(db.sqlite_path)
    try:
        return list(connection.iterdump())
    finally:
        connection.close()
