"""Shared fixtures: a fresh database per test, its services, a practice and its staff."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from ccmdesk.db import Database, open_database
from ccmdesk.rules.records import PracticeRecord, StaffRecord
from ccmdesk.services import Services
from tests.helpers.common import CLI, FAST_HASHER, NOW, VALID_NPIS
from tests.helpers.database import postgres_url


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


@pytest.fixture
def pg_url() -> str:
    return postgres_url()
