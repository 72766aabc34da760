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
from ccmdesk.services import Actor, Services
from ccmdesk.ui.background import InlineTaskRunner
from ccmdesk.ui.main_window import MainWindow
from ccmdesk.ui.state import GuiState
from tests.helpers.billing import csv_bytes
from tests.helpers.common import FAST_HASHER, FakeClock
from tests.helpers.ui import (
    DB_FILE,
    ENROLLED,
    MONTH,
    NOW,
    PASSWORD,
    PATIENTS,
    PEOPLE,
    PRACTICE,
    STAFF,
    patient_raw,
)


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


@pytest.fixture
def doctor(services: Services) -> Actor:
    """Dr. Okafor, the practitioner who bills for most of the patients."""
    return services.staff.actor_for("dr-okafor")


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


@pytest.fixture
def nurse_window(qtbot, services: Services, nurse: Actor, clock: FakeClock) -> Iterator[MainWindow]:
    """The nurse's main window, shown; its monotonic clock moves with the wall clock (time
    passes awake, not asleep)."""
    main = MainWindow(
        services,
        nurse,
        runner=InlineTaskRunner(),
        state=GuiState(None),
        monotonic=lambda: clock().timestamp(),
    )
    main.show()
    yield main
    # Closing with a stopwatch running asks first (a modal question): settle it beforehand.
    # (Not qtbot.addWidget: pytest-qt closes its widgets before this teardown runs.)
    main.stopwatch.pause()
    # A test that failed part-way (an idle question open, say) must not hang on that question.
    main.settle_running_timer = lambda **_: True  # type: ignore[method-assign]
    main.close()
    main.deleteLater()
