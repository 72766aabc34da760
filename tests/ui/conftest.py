"""GUI test fixtures: a fresh small database per test, acting users, and no screen needed."""

from __future__ import annotations

import datetime as dt
import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

# Before Qt is imported anywhere: real widgets, no display.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from ccmdesk.db import Database, open_database
from ccmdesk.rules.records import PATIENT_COLUMNS, PracticeRecord, StaffRecord
from ccmdesk.services import Actor, Services
from tests.conftest import FAST_HASHER, FakeClock
from tests.services.test_billing import csv_bytes

NOW = dt.datetime(2026, 3, 16, 15, 0, tzinfo=dt.UTC)
DB_FILE = "ccmdesk.sqlite3"

PRACTICE = PracticeRecord(
    name="Harbor Family Practice",
    address="1 Wharf Road, Portland, ME 04101",
    phone="(207) 555-0100",
    group_npi="1245319599",
    tin="123456789",
    timezone="America/New_York",
    place_of_service="11",
    date_of_service_rule="last_day",
)
# Everyone on the seeded staff signs in with this.
PASSWORD = "harbor-password"
STAFF = (
    StaffRecord("admin-ada", "Ada Byron", "admin"),
    StaffRecord("dr-okafor", "Adaeze Okafor", "practitioner", "MD", "1000000012"),
    StaffRecord("np-lind", "Maja Lindqvist", "practitioner", "NP", "1000000020"),
    StaffRecord("rn-lee", "Grace Lee", "clinical", "RN"),
    StaffRecord("bill-chen", "Wei Chen", "billing"),
    StaffRecord("rn-gone", "Olive Retired", "clinical", "RN", active=False),
)
PATIENTS = (
    {
        "mrn": "A100",
        "last_name": "Schäfer",
        "first_name": "Zoë",
        "dob": "1948-03-02",
        "sex": "F",
        "payer": "Medicare Part B",
        "payer_type": "medicare",
        "member_id": "1EG4-TE5-MK73",
        "billing_practitioner": "dr-okafor",
        "care_manager": "rn-lee",
        "conditions": "E11.9;I10",
        "consent_date": "2026-01-10",
        "consent_method": "verbal",
    },
    {
        "mrn": "A101",
        "last_name": "Nguyen",
        "first_name": "Harold",
        "dob": "1950-11-23",
        "billing_practitioner": "np-lind",
    },
    {
        "mrn": "B200",
        "last_name": "Smith",
        "first_name": "Mary",
        "dob": "1948-07-15",
        "billing_practitioner": "dr-okafor",
        "conditions": "I50.22",
        "consent_date": "2025-11-03",
        "consent_method": "written",
    },
    {
        "mrn": "B201",
        "last_name": "Smithson",
        "first_name": "John",
        "dob": "1962-03-02",
        "billing_practitioner": "np-lind",
    },
)


def patient_raw(**values: str) -> dict[str, str]:
    """Every patients.csv column as text, blank unless given."""
    raw = dict.fromkeys(PATIENT_COLUMNS, "")
    raw.update(values)
    return raw


def _open(path: Path, clock: Callable[[], dt.datetime] = lambda: NOW) -> tuple[Database, Services]:
    database = open_database(f"sqlite:///{path / DB_FILE}", path / "backups")
    return database, Services(database, clock=clock, hasher=FAST_HASHER)


@pytest.fixture(scope="session")
def templates(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Migrated databases built once; each test gets its own copy (migrating takes ~0.3 s)."""
    empty = tmp_path_factory.mktemp("empty-template")
    database, _ = _open(empty)
    database.dispose()  # closing the last connection folds the WAL into the file we copy
    seeded = tmp_path_factory.mktemp("seeded-template")
    shutil.copy(empty / DB_FILE, seeded / DB_FILE)
    database, filled = _open(seeded)
    setup = Actor.command_line()
    filled.practice.save(setup, PRACTICE)
    for member in STAFF:
        filled.staff.save(setup, member, is_new=True)
        filled.auth.set_password(setup, member.staff_id, PASSWORD)
    for values in PATIENTS:
        filled.patients.save_text(setup, patient_raw(**values))
    database.dispose()
    return {"empty": empty, "seeded": seeded}


@pytest.fixture
def clock() -> FakeClock:
    """The services' clock: tests move it (stopwatches need time to pass) instead of sleeping."""
    return FakeClock(NOW)


def _services_on_copy(template: Path, target: Path, clock: FakeClock) -> Iterator[Services]:
    target.mkdir(parents=True, exist_ok=True)
    shutil.copy(template / DB_FILE, target / DB_FILE)
    database, services = _open(target, clock)
    yield services
    database.dispose()


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


@pytest.fixture
def empty_services(
    templates: dict[str, Path], data_dir: Path, clock: FakeClock
) -> Iterator[Services]:
    """A migrated database with nothing in it: the first start."""
    yield from _services_on_copy(templates["empty"], data_dir, clock)


@pytest.fixture
def services(templates: dict[str, Path], data_dir: Path, clock: FakeClock) -> Iterator[Services]:
    """The practice, six staff (one inactive) and four patients."""
    yield from _services_on_copy(templates["seeded"], data_dir, clock)


@pytest.fixture
def admin(services: Services) -> Actor:
    return services.staff.actor_for("admin-ada")


@pytest.fixture
def nurse(services: Services) -> Actor:
    return services.staff.actor_for("rn-lee")


@pytest.fixture
def biller(services: Services) -> Actor:
    return services.staff.actor_for("bill-chen")


# A month of billing figures: shared by the billing and review page tests.
MONTH = "2026-03"
ENROLLED = {
    "billing_practitioner": "dr-okafor",
    "care_manager": "rn-lee",
    "conditions": "E11.9;I10",
    "consent_date": "2025-11-04",
    "consent_method": "verbal",
    "initiating_visit_date": "2025-11-04",
    "care_plan_date": "2025-11-04",
}
# MRN, last name, minutes of RN time on 2 March
PEOPLE = (
    ("M1", "Able", 25),  # 99490
    ("M2", "Nearly", 17),  # 3 minutes short
    ("M3", "Excluded", 30),  # G0181 the same month: blocked
    ("M4", "Complex", 60),  # complexity attested: 99487, 99490 + 99439 x2 pays more
)


@pytest.fixture
def month_data(services: Services) -> Services:
    setup = Actor.command_line()
    patients = [patient_raw(mrn=mrn, last_name=last, first_name="Pat", dob="1950-01-01",
                            **ENROLLED) for mrn, last, _ in PEOPLE]  # fmt: skip
    entries = []
    start = dt.datetime(2026, 3, 2, 14, 0, tzinfo=dt.UTC)
    for mrn, _, minutes in PEOPLE:
        end = start + dt.timedelta(minutes=minutes)
        entries.append({"mrn": mrn, "staff_id": "rn-lee", "start": start.isoformat(),
                        "end": end.isoformat()})  # fmt: skip
        start = end + dt.timedelta(minutes=5)
    months = [
        {"mrn": "M3", "month": MONTH, "other_services": "G0181", "complexity": "none"},
        {"mrn": "M4", "month": MONTH, "other_services": "", "complexity": "moderate"},
    ]
    services.imports.import_data(
        setup,
        [
            ("patients.csv", csv_bytes(patients)),
            ("time_entries.csv", csv_bytes(entries)),
            ("patient_months.csv", csv_bytes(months)),
        ],
    )
    return services


@pytest.fixture(autouse=True)
def _no_window_outlives_its_test(qapp) -> Iterator[None]:
    """Close what a test left on screen. A stopwatch controller without a window keeps its
    once-a-second tick, and with a fake idle clock that never resets it asks the idle question
    again after teardown closed it; a dialog left visible keeps the next test's event loop
    (run_gui's app.exec) from ending when its window closes."""
    yield
    for _ in range(5):
        left = [w for w in qapp.topLevelWidgets() if w.isVisible()]
        if not left:
            break
        for widget in left:
            widget.close()
        qapp.processEvents()
