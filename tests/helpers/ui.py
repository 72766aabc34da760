"""The GUI tests' world: the seeded practice, its staff and patients, a month, a fake idle."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ccmdesk.rules.records import PATIENT_COLUMNS, PracticeRecord, StaffRecord

if TYPE_CHECKING:
    from ccmdesk.services import Actor, Services
    from ccmdesk.ui.global_shortcut import Combination
    from ccmdesk.ui.main_window import MainWindow
    from ccmdesk.ui.patient_panel import PatientPanel

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


def services_raw(services: Services, actor: Actor, mrn: str) -> dict[str, str]:
    """The patient's stored record as the patients.csv text the editor saves."""
    record = services.patients.get(actor, mrn)
    raw: dict[str, str] = {}
    for column in PATIENT_COLUMNS:
        value = getattr(record, column)
        if isinstance(value, tuple):
            raw[column] = ";".join(value)
        elif isinstance(value, bool):
            raw[column] = "yes" if value else "no"
        elif isinstance(value, dt.date):
            raw[column] = value.isoformat()
        else:
            raw[column] = value or ""
    return raw


def panel_of(window: MainWindow, mrn: str) -> PatientPanel:
    """The Patients page shown with `mrn` chosen; its patient panel."""
    from ccmdesk.ui.main_window import PATIENTS
    from ccmdesk.ui.pages.patients import PatientsPage

    window.show_page(PATIENTS)
    page = window.pages[PATIENTS]
    assert isinstance(page, PatientsPage) and page.panel is not None
    assert page.show_patient(mrn)
    return page.panel


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


class FakeIdle:
    """Input idle time and screen lock as a test sets them."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self.is_locked = False

    def idle_seconds(self) -> float:
        return self.seconds

    def locked(self) -> bool:
        return self.is_locked


class FakeShortcutBackend:
    """A global-shortcut backend the test presses by hand; `taken` combinations are refused
    as another program's."""

    def __init__(self, taken: tuple[str, ...] = (), reason: str = "") -> None:
        self.taken = taken
        self.reason = reason
        self.grabbed: str | None = None
        self._pressed: Callable[[], None] | None = None

    def why_unavailable(self) -> str:
        return self.reason

    def grab(self, combination: Combination, pressed: Callable[[], None]) -> str:
        if combination.text in self.taken:
            return f"{combination.text} is used by another program; choose another."
        self.grabbed, self._pressed = combination.text, pressed
        return ""

    def release(self) -> None:
        self.grabbed, self._pressed = None, None

    def press(self) -> None:
        assert self._pressed is not None, "nothing grabbed"
        self._pressed()


class HeldRunner:
    """A task runner that keeps each task until the test lets it run: off the GUI thread as
    far as a page can tell, finishing in the order the test decides."""

    def __init__(self) -> None:
        self.tasks: list[tuple[Callable[[], Any], Callable[[Any], None], Callable[..., None]]]
        self.tasks = []

    def run(
        self, work: Callable[[], Any], done: Callable[[Any], None], failed: Callable[..., None]
    ) -> None:
        self.tasks.append((work, done, failed))

    def finish(self, n: int = 0) -> None:
        """Run held task n (the oldest by default) and hand its outcome, or its exception, back
        as a worker thread would."""
        work, done, failed = self.tasks.pop(n)
        try:
            outcome = work()
        except Exception as error:
            failed(error)
        else:
            done(outcome)
