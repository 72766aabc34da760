"""The page protocol and the table of pages the main window builds its navigation from."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from PySide6.QtWidgets import QWidget

from ccmdesk.services import Actor, PatientRow, Permission, Services
from ccmdesk.ui.refresh import Changes

if TYPE_CHECKING:
    from ccmdesk.ui.background import TaskRunner
    from ccmdesk.ui.stopwatch import StopwatchController

PATIENTS, WORKLIST, MY_DAY, BILLING = "patients", "worklist", "my_day", "billing"
REVIEW, AUDIT, STAFF, PRACTICE = "review", "audit", "staff", "practice"
PAYERS, WEEK, DASHBOARD = "payers", "week", "dashboard"


class Page(Protocol):
    """What the main window asks of every page."""

    def refresh(self, changes: Changes) -> None:
        """Re-read what `changes` touched of what the page shows."""

    def clear(self) -> None:
        """Show nothing: the person now signed in may not see this page."""

    def forget_person(self) -> None:
        """Another person signed in: drop the last one's searches and choices."""


class PageHost(Protocol):
    """What the pages need of the window that holds them."""

    services: Services
    runner: TaskRunner
    stopwatch: StopwatchController
    first_rows: Callable[[], Sequence[PatientRow]] | None

    def actor(self) -> Actor: ...
    def open_patient(self, mrn: str) -> None: ...
    def start_timer(self, mrn: str, callback_id: int | None = None) -> None: ...
    def staff_saved(self, staff_id: str) -> None: ...
    def practice_saved(self) -> None: ...
    def payers_changed(self) -> None: ...
    def time_changed(self) -> None: ...
    def patients_changed(self) -> None: ...
    def restored(self, what: str) -> None: ...


@dataclass(frozen=True)
class PageSpec:
    """One line of the navigation: who sees it, how it is built and wired to the window."""

    name: str
    title: str
    permission: Permission
    build: Callable[[PageHost], QWidget]
    # Shown also to whoever has this one (the page shows them only their part).
    also: Permission | None = None
    # The page re-reads itself whenever it is shown: a change while hidden needs no note.
    reads_when_shown: bool = False


def _patients(host: PageHost) -> QWidget:
    from ccmdesk.ui.pages.patients import PatientsPage

    page = PatientsPage(
        host.services, host.actor, first_rows=host.first_rows, controller=host.stopwatch
    )
    page.patients_changed.connect(host.patients_changed)
    return page


def _worklist(host: PageHost) -> QWidget:
    from ccmdesk.ui.pages.worklist import WorklistPage

    page = WorklistPage(host.services, host.actor, host.runner)
    page.start_requested.connect(host.start_timer)
    page.start_callback_requested.connect(host.start_timer)
    page.open_requested.connect(host.open_patient)
    return page


def _my_day(host: PageHost) -> QWidget:
    from ccmdesk.ui.pages.my_day import MyDayPage

    page = MyDayPage(host.services, host.actor)
    page.open_requested.connect(host.open_patient)
    return page


def _week(host: PageHost) -> QWidget:
    from ccmdesk.ui.pages.week import WeekPage

    page = WeekPage(host.services, host.actor)
    page.open_requested.connect(host.open_patient)
    page.time_changed.connect(host.time_changed)
    return page


def _review(host: PageHost) -> QWidget:
    from ccmdesk.ui.pages.review import ReviewPage

    page = ReviewPage(host.services, host.actor, host.runner)
    page.open_requested.connect(host.open_patient)
    return page


def _billing(host: PageHost) -> QWidget:
    from ccmdesk.ui.pages.billing import BillingPage

    page = BillingPage(host.services, host.actor, host.runner)
    page.open_requested.connect(host.open_patient)
    page.patients_changed.connect(host.patients_changed)
    return page


def _dashboard(host: PageHost) -> QWidget:
    from ccmdesk.ui.pages.dashboard import DashboardPage

    return DashboardPage(host.services, host.actor, host.runner)


def _payers(host: PageHost) -> QWidget:
    from ccmdesk.ui.pages.payers import PayersPage

    page = PayersPage(host.services, host.actor)
    page.changed.connect(host.payers_changed)
    return page


def _audit(host: PageHost) -> QWidget:
    from ccmdesk.ui.pages.audit import AuditPage

    return AuditPage(host.services, host.actor, host.runner)


def _staff(host: PageHost) -> QWidget:
    from ccmdesk.ui.pages.staff import StaffPage

    page = StaffPage(host.services, host.actor)
    page.member_saved.connect(host.staff_saved)
    return page


def _practice(host: PageHost) -> QWidget:
    from ccmdesk.ui.pages.practice import PracticePage

    page = PracticePage(host.services, host.actor)
    page.saved.connect(host.practice_saved)
    page.backups.restored.connect(host.restored)
    return page


# In navigation order. Every page but Patients is built when first opened.
PAGES: tuple[PageSpec, ...] = (
    PageSpec(PATIENTS, "Patients", Permission.VIEW_PATIENTS, _patients),
    PageSpec(WORKLIST, "Worklist", Permission.VIEW_WORKLIST, _worklist, reads_when_shown=True),
    PageSpec(MY_DAY, "My day", Permission.RECORD_TIME, _my_day, reads_when_shown=True),
    # A page of its own, not a toggle of My day: a table of one day and a calendar of seven
    # are read differently, and each keeps its own day or week while the other is used.
    PageSpec(WEEK, "Week", Permission.RECORD_TIME, _week, reads_when_shown=True),
    # The signing practitioner's page; administrators use it to unlock a signed month.
    PageSpec(REVIEW, "Monthly review", Permission.UNLOCK_MONTH, _review),
    PageSpec(BILLING, "Billing", Permission.VIEW_BILLING, _billing),
    # The month at a glance; no patient names, so the care team sees it too.
    PageSpec(DASHBOARD, "Dashboard", Permission.VIEW_DASHBOARD, _dashboard),
    # Billing staff and administrators keep the payer list (docs/payers.md); others read it
    # through the patient editor and the patient list's filter.
    PageSpec(PAYERS, "Payers", Permission.MANAGE_PAYERS, _payers, reads_when_shown=True),
    PageSpec(AUDIT, "Audit trail", Permission.VIEW_AUDIT, _audit),
    PageSpec(STAFF, "Staff", Permission.MANAGE_STAFF, _staff, reads_when_shown=True),
    # Practitioners see only its APCM section, to attest (docs/billing-rules.md, "APCM").
    PageSpec(
        PRACTICE,
        "Practice settings",
        Permission.MANAGE_PRACTICE,
        _practice,
        also=Permission.ATTEST_APCM,
    ),
)
SPECS = {spec.name: spec for spec in PAGES}
