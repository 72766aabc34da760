"""The fixed instant, password hasher, NPIs, actors, fake clock and patient row most tests use."""

from __future__ import annotations

import datetime as dt

from argon2 import PasswordHasher

from ccmdesk.rules.records import PracticeRecord
from ccmdesk.services import Actor

NOW = dt.datetime(2026, 4, 15, 16, 0, tzinfo=dt.UTC)
# Argon2id at its cheapest: tests hash many passwords; the product uses the library's defaults.
FAST_HASHER = PasswordHasher(time_cost=1, memory_cost=64, parallelism=1)
VALID_NPIS = ("1234567893", "1245319599", "1003000126", "1679576722")
CLI = Actor(key="cli:test", name="command line (test)", role="system")
ADMIN = Actor(key="admin-a", name="Ann Admin", role="admin")
NURSE = Actor(key="rn-lee", name="Grace Lee", role="clinical")
BILLER = Actor(key="bill-b", name="Bo Biller", role="billing")
# The `staffed` fixture's practitioner, Dr. A, acting.
DOCTOR = Actor(key="dr-a", name="Dr. A", role="practitioner")
# The `staffed` fixture's scheduler: staff with neither clinical nor billing rights.
SCHEDULER = Actor(key="sched-s", name="Sam Scheduler", role="non_clinical")


class FakeClock:
    """An injected clock: tests move time instead of sleeping."""

    def __init__(self, start: dt.datetime) -> None:
        self.now = start

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += dt.timedelta(**delta)


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


# The least a practice needs, for the tests that set one up on a database of their own.
SMALL_PRACTICE = PracticeRecord(
    name="P",
    address="1 Main St",
    phone="207-555-0100",
    group_npi="",
    tin="123456789",
    timezone="America/New_York",
)
