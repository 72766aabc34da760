"""Render every page and dialog on a demo database into docs/screenshots (not a test).

Run under a virtual screen so the real platform plugin draws the widgets:

    xvfb-run -a -s "-screen 0 1400x900x24" python tests/ui/make_screenshots.py [OUT_DIR]
"""

from __future__ import annotations

import datetime as dt
import sqlite3
import sys
import tempfile
from dataclasses import replace
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QEventLoop, Qt, QTime, QTimer
from PySide6.QtWidgets import QApplication, QMessageBox, QWidget
from sqlalchemy import delete

from ccmdesk.db import open_database
from ccmdesk.models import Patient, TimeEntry, TimeSegment
from ccmdesk.rules.care_plan import PlanContent, prefill
from ccmdesk.rules.icd10 import behavioural_health
from ccmdesk.rules.intervals import month_days
from ccmdesk.rules.records import PATIENT_COLUMNS
from ccmdesk.rules.week import week_days
from ccmdesk.services import Services
from ccmdesk.services.activity import IdleBegan
from ccmdesk.ui.app import configure_application
from ccmdesk.ui.background import InlineTaskRunner, ThreadTaskRunner
from ccmdesk.ui.calls import LogCallDialog
from ccmdesk.ui.care_plan_copy import PatientCopyDialog, RecordCopyDialog
from ccmdesk.ui.care_plan_dialogs import CarePlanEditor, PlanSignDialog, compare_versions
from ccmdesk.ui.export_dialog import ExportDialog
from ccmdesk.ui.first_start import FirstStartDialog, setup_actor
from ccmdesk.ui.forms import ReasonDialog
from ccmdesk.ui.global_shortcut import GlobalShortcut, system_backend
from ccmdesk.ui.import_dialog import ImportProblemsDialog
from ccmdesk.ui.main_window import (
    AUDIT,
    BILLING,
    DASHBOARD,
    MY_DAY,
    PATIENTS,
    PAYERS,
    PRACTICE,
    REVIEW,
    STAFF,
    WEEK,
    WORKLIST,
    MainWindow,
)
from ccmdesk.ui.month_facts import MonthFactsDialog
from ccmdesk.ui.pages.audit import AuditPage
from ccmdesk.ui.pages.billing import ALL, BHI, PAYS_MORE, PROGRAM, BillingPage
from ccmdesk.ui.pages.dashboard import DashboardPage
from ccmdesk.ui.pages.patients import PatientsPage
from ccmdesk.ui.pages.payers import PayerDialog, PayersPage
from ccmdesk.ui.pages.practice import PracticePage
from ccmdesk.ui.pages.review import ReviewPage, SignDialog
from ccmdesk.ui.pages.staff import StaffDialog, StaffPage
from ccmdesk.ui.pages.week import WeekPage
from ccmdesk.ui.pages.worklist import WorklistPage
from ccmdesk.ui.patient_dialog import PatientDialog
from ccmdesk.ui.shortcut_dialog import GlobalShortcutDialog
from ccmdesk.ui.sign_in import SignInDialog
from ccmdesk.ui.state import GuiState
from ccmdesk.ui.stopwatch_dialogs import (
    IdleDialog,
    ManualEntryDialog,
    RecoveryDialog,
    StopDialog,
    SwitchDialog,
    add_by_hand,
    save_until_taken,
)
from ccmdesk.ui.waivers import WaiverDialog
from tests.helpers.care_plans import COMPLETE, signed_plan
from tests.helpers.week import insert_entry

REPO = Path(__file__).resolve().parents[2]
BAD_PATIENTS = (
    "mrn,last_name,first_name,dob,billing_practitioner,conditions,consent_date,consent_method\n"
    "RB900001,Quintero,Rosa,1950-02-30,dr-okafor,I10,,\n"
    "RB900002,Delacroix,Albert,1949-05-14,rn-lee,E11;I10,2026-01-05,\n"
    "RB900003,Xiong,Mei,1938-11-02,np-lindqvist,Z99.99,2026-01-12,phone\n"
)


def settle(milliseconds: int = 150) -> None:
    """Let the window system map, lay out and paint what was just shown."""
    loop = QEventLoop()
    QTimer.singleShot(milliseconds, loop.quit)
    loop.exec()
    QCoreApplication.processEvents()


def save(widget: QWidget, out: Path, name: str) -> None:
    settle()
    path = out / name
    if not widget.grab().save(str(path)):
        raise RuntimeError(f"could not write {path}")
    print(f"wrote {path.relative_to(REPO) if path.is_relative_to(REPO) else path}")


def shown(widget: QWidget, width: int | None = None, height: int | None = None) -> QWidget:
    if width and height:
        widget.resize(width, height)
    widget.show()
    widget.raise_()
    widget.activateWindow()
    return widget


# What an administrator types into the claim settings (the demo practice leaves them blank).
DEMO_CLAIM_SETTINGS = {
    "street": "120 Harbor Street, Suite 4", "city": "Portland", "state": "ME",
    "zip": "04101-3312", "taxonomy": "207Q00000X", "submitter_id": "RIVERBEND01",
    "submitter_name": "Riverbend Family Medicine", "submitter_phone": "207-555-0142",
    "receiver_id": "CLEARPATH", "receiver_name": "ClearPath Claims",
}  # fmt: skip


def practice_claims(window: QWidget, practice: PracticePage, out: Path) -> None:
    """The Claims and Clearinghouse sections as an administrator fills them in; put back
    unsaved afterwards, so the later screenshots see the demo practice as it is."""
    claims = practice.claims
    for name, value in DEMO_CLAIM_SETTINGS.items():
        editor = claims.inputs[name]
        editor.setText(value)  # type: ignore[attr-defined]
    bar = practice.scroll_area.verticalScrollBar()
    bar.setValue(claims.y() + claims.claims_box.y() - 8)
    save(window, out, "practice-claims.png")  # both sections fit the window
    practice.load()
    bar.setValue(0)


def first_start(out: Path, folder: Path) -> None:
    empty = folder / "empty"
    empty.mkdir()
    services = Services(open_database(f"sqlite:///{empty / 'ccmdesk.sqlite3'}"))
    dialog = FirstStartDialog(services, InlineTaskRunner())
    save(shown(dialog), out, "first-start.png")
    dialog.show_create()
    form = dialog.practice_form
    form.name.setText("Lakeside Clinic")
    form.tin.setText("12-34567")
    dialog.admin_staff_id.setText("jane-jones")
    dialog.create_practice()  # no administrator name, a short TIN: errors beside both
    save(dialog, out, "first-start-create.png")
    dialog.close()


class ShiftedClock:
    """The real clock plus an offset the script moves, so a stopwatch shows minutes passed."""

    def __init__(self) -> None:
        self.offset = dt.timedelta()

    def __call__(self) -> dt.datetime:
        return dt.datetime.now(dt.UTC).replace(microsecond=0) + self.offset

    def advance(self, **delta: float) -> None:
        self.offset += dt.timedelta(**delta)


def stopwatch(out: Path, services: Services, clock: ShiftedClock) -> None:
    """The patient page with a running stopwatch and everything around it (issue #3)."""
    nurse = services.staff.actor_for("rn-lee")
    window = MainWindow(
        services,
        nurse,
        runner=InlineTaskRunner(),
        state=GuiState(None),
        monotonic=lambda: clock().timestamp(),
    )
    shown(window, 1280, 800)
    settle()  # the window's first look for stopwatches left running, before time moves on
    worklist = services.minutes.worklist(nurse)
    # A patient part-way to a threshold, so the bar and the log have something to show.
    mrn = next(r.mrn for r in worklist if 5 * 60 < r.progress.countable_seconds < 18 * 60)
    patients = window.pages[PATIENTS]
    assert isinstance(patients, PatientsPage) and patients.panel is not None
    patients.show_patient(mrn)
    window.stopwatch.start(mrn)
    for _ in range(12 * 60 + 34):  # the stopwatch's timer fires once a second
        clock.advance(seconds=1)
        window.stopwatch.ticked.emit()
    patients.panel.refresh()
    save(window, out, "stopwatch-running.png")

    timer = window.stopwatch.running
    assert timer is not None
    zone = services.practice_zone()
    stop = StopDialog(
        timer,
        window.stopwatch.seconds(timer),
        services.practice.stopwatch_settings().activities,
        zone,
        activity="Medication reconciliation",
        parent=window,
    )
    stop.note.setPlainText("Reconciled the list after the cardiology visit; stopped aspirin.")
    save(shown(stop), out, "stop-dialog.png")
    stop.close()

    window.tray.update_view()
    window.tray.menu.adjustSize()
    window.tray.menu.popup(window.mapToGlobal(window.rect().center()))
    save(window.tray.menu, out, "tray-menu.png")
    window.tray.menu.hide()

    window.mini_action.setChecked(True)
    assert window.mini_timer is not None
    save(window.mini_timer, out, "mini-timer.png")
    window.mini_action.setChecked(False)

    # Locked with the stopwatch running: the lock screen over the window, no patient data.
    screen = window.lock()
    screen.secret.setText("wrong")
    screen.unlock_button.click()
    save(screen, out, "lock-screen.png")
    save(window, out, "locked-window.png")
    window.locking.unlocked()

    idle = IdleDialog(timer, IdleBegan(clock() - dt.timedelta(minutes=7), "inactive"), zone, window)
    save(shown(idle), out, "idle-dialog.png")
    idle.close()

    other = next(r for r in worklist if r.mrn != mrn)
    switch = SwitchDialog(timer, window.stopwatch.seconds(timer), other.patient_name, window)
    save(shown(switch), out, "switch-dialog.png")
    switch.close()

    manual = ManualEntryDialog(
        timer.patient_name,
        services.practice.stopwatch_settings().activities,
        zone,
        clock(),
        parent=window,
    )
    manual.reason.setText("Call taken on the ward phone, away from my desk")
    save(shown(manual), out, "manual-entry.png")
    manual.close()
    manual_overlap(out, services, clock, window)

    # Switching user with the stopwatch running: the question before anyone else signs in.
    def answer_switch() -> None:
        box = QApplication.activeModalWidget()
        assert isinstance(box, QMessageBox)
        save(box, out, "switch-user-running.png")
        box.reject()  # Cancel: stay signed in, the stopwatch runs on

    colleague = next(
        s
        for s in services.staff.list(include_inactive=False)
        if s.role == "clinical" and s.staff_id != nurse.key
    )
    QTimer.singleShot(300, answer_switch)
    window._switch_to(services.staff.actor_for(colleague.staff_id))
    assert window.actor() == nurse

    window.show_page(WORKLIST)
    save(window, out, "worklist.png")
    window.show_page(MY_DAY)
    save(window, out, "my-day.png")
    window.stopwatch.pause()
    window.close()

    # ccmdesk "crashes" while the stopwatch runs; three hours later it starts again.
    services.stopwatch.resume(nurse, timer.entry_id)
    clock.advance(minutes=8)
    services.stopwatch.heartbeat(nurse, timer.entry_id)
    clock.advance(hours=3)
    [stale] = services.stopwatch.stale_timers(nurse)
    recovery = RecoveryDialog(stale, clock(), zone)
    save(shown(recovery), out, "recovery-dialog.png")
    recovery.close()
    services.stopwatch.recover(nurse, stale.entry_id, "stop_at_heartbeat")


def week_view(out: Path, services: Services, clock: ShiftedClock) -> None:
    """The Week page (issue #19): Grace Lee's last full week, with an entry an old import
    left overlapping one of hers; deleted afterwards, so no other screenshot counts it."""
    nurse = services.staff.actor_for("rn-lee")
    zone = services.practice_zone()
    monday = week_days(services.today())[0] - dt.timedelta(days=7)
    tuesday = monday + dt.timedelta(days=1)
    week = services.time_log.my_week(nurse, monday)
    # Her longest call that Tuesday, so the shared minutes show.
    mine = max(
        (
            e.row
            for e in week.entries
            if e.row.started_at.astimezone(zone).date() == tuesday and e.row.ended_at is not None
        ),
        key=lambda row: row.seconds,
    )
    other = next(r.mrn for r in services.minutes.worklist(nurse) if r.mrn != mine.mrn)
    start = mine.started_at + dt.timedelta(minutes=8)
    overlap = insert_entry(
        services._db,
        "rn-lee",
        other,
        [(start, start + dt.timedelta(minutes=22))],
        activity="Phone call",
    )
    window = MainWindow(
        services,
        nurse,
        runner=InlineTaskRunner(),
        state=GuiState(None),
        monotonic=lambda: clock().timestamp(),
    )
    shown(window, 1280, 860)
    window.show_page(WEEK)
    page = window.pages[WEEK]
    assert isinstance(page, WeekPage)
    page.set_day(tuesday)
    page.scroll_to_workday()
    page.canvas.setFocus()
    save(window, out, "week-view.png")
    window.close()
    # Gone without a trace, as it came: a deletion through the services would keep the row,
    # which no audit event made, and the review's deep check would rightly name it.
    with services._db.session() as session:
        session.execute(delete(TimeSegment).where(TimeSegment.entry_id == overlap))
        session.execute(delete(TimeEntry).where(TimeEntry.id == overlap))


def bhi_stopwatch(out: Path, services: Services, clock: ShiftedClock) -> None:
    """Timing BHI (issue #18): Start BHI beside Start CCM for a patient with a behavioural-
    health condition, the BHI bar to 20 minutes, and a stopwatch timing BHI."""
    # Mateo García: by now the review's "behind ccmdesk's back" step has made Grace Lee an
    # administrator, who has no worklist and times no one.
    nurse = services.staff.actor_for("lpn-garcia")
    mine = {r.mrn for r in services.minutes.worklist(nurse)}
    mrn = next(
        r.mrn
        for r in services.patients.list_rows(nurse)
        if r.mrn in mine and any(map(behavioural_health, r.conditions))
    )
    # Fourteen minutes of BHI earlier today, so the bar has something to show.
    start, end = services.entries.free_span(nurse, 14)
    services.entries.add_manual(
        nurse, mrn, start, end, reason="Call taken away from my desk", activity="Education",
        service="bhi", note="PHQ-9 follow-up; agreed a plan with the psychiatric consultant.",
    )  # fmt: skip
    clock.advance(minutes=20)
    window = MainWindow(
        services,
        nurse,
        runner=InlineTaskRunner(),
        state=GuiState(None),
        monotonic=lambda: clock().timestamp(),
    )
    shown(window, 1280, 800)
    settle()
    patients = window.pages[PATIENTS]
    assert isinstance(patients, PatientsPage) and patients.panel is not None
    patients.show_patient(mrn)
    save(window, out, "stopwatch-bhi-choice.png")
    patients.panel.stopwatch.bhi_button.click()
    for _ in range(4 * 60 + 12):
        clock.advance(seconds=1)
        window.stopwatch.ticked.emit()
    patients.panel.refresh()
    save(window, out, "stopwatch-bhi-running.png")
    timer = window.stopwatch.running
    assert timer is not None and timer.service == "bhi"
    window.stopwatch.discard(timer, "screenshot only")
    window.close()


def manual_overlap(out: Path, services: Services, clock: ShiftedClock, window: QWidget) -> None:
    """Time added by hand over the nurse's own entry: the refusal in the dialog (issue #16)."""
    nurse = services.staff.actor_for("rn-lee")
    row = services.patients.list_rows(nurse)[0]
    mrn = row.mrn
    # The ten minutes the dialog would offer, saved; then typed again, over that entry.
    start, end = services.entries.free_span(nurse, 10)
    services.entries.add_manual(nurse, mrn, start, end, reason="call from home")
    zone = services.practice_zone()
    manual = ManualEntryDialog(
        f"{row.first_name} {row.last_name}",
        services.practice.stopwatch_settings().activities,
        zone,
        clock(),
        span=(start, end),
        parent=window,
    )
    local = (start + dt.timedelta(minutes=4)).astimezone(zone)
    manual.start.setTime(QTime(local.hour, local.minute, 0))
    manual.reason.setText("Call taken on the ward phone, away from my desk")
    tries: list[ManualEntryDialog] = []

    def press_save_once(dialog: ManualEntryDialog) -> bool:
        tries.append(dialog)
        return len(tries) == 1

    save_until_taken(manual, press_save_once, lambda d: add_by_hand(services, nurse, mrn, d))
    save(shown(manual), out, "manual-entry-overlap.png")
    manual.close()


def billing(out: Path, services: Services) -> None:
    """The billing panel on the demo's previous month, as the biller sees it."""
    window, page = window_on(services, "bill-chen", BILLING, BILLING_WIDTH)
    assert isinstance(page, BillingPage)
    today = services.now().astimezone(services.practice_zone()).date()
    previous = today.replace(day=1) - dt.timedelta(days=1)
    page.set_month(previous.strftime("%Y-%m"))
    blocked = next(r for r in page.model.shown() if r.result.blocks and r.result.option)
    page.select_mrn(blocked.mrn)
    save(window, out, "billing.png")
    page.filter_box.setCurrentIndex(3)  # has warnings
    warned = next(r for r in page.model.shown() if "ALTERNATIVE_PAYS_MORE" in r.result.warnings)
    page.select_mrn(warned.mrn)
    save(window, out, "billing-warnings.png")
    family = page.switch_family(warned.mrn)
    assert family is not None
    family.family.setCurrentIndex(1)  # the better-paying family
    family.reason.setText("Practice policy: bill the better-paying compliant family")
    save(family, out, "family-dialog.png")
    family.close()
    page.filter_box.setCurrentIndex(0)
    facts = page.edit_facts(warned.mrn)
    assert isinstance(facts, MonthFactsDialog)
    facts.other_services.setText("99495")
    facts.reason.setText("TCM billed after the 12 Oct discharge")
    save(facts, out, "month-facts.png")
    facts.close()
    window.close()


def dashboard_overview(out: Path, services: Services) -> None:
    """The dashboard on a 1366×768 laptop, as the billing lead sees it: the charts, scrolled to
    the top, then the same figures as tables."""
    window, page = window_on(services, "bill-chen", DASHBOARD, 1366)
    window.resize(1366, 740)  # the screen less the desktop's own bars
    assert isinstance(page, DashboardPage)
    assert page.glance is not None
    save(window, out, "dashboard.png")
    page.body.parentWidget().parentWidget().verticalScrollBar().setValue(10_000)  # type: ignore[union-attr]
    save(window, out, "dashboard-lower.png")
    page.table_box.setChecked(True)
    page.body.parentWidget().parentWidget().verticalScrollBar().setValue(0)  # type: ignore[union-attr]
    save(window, out, "dashboard-table.png")
    window.close()


def billing_programs(out: Path, services: Services) -> None:
    """The billing panel's Program and BHI columns with the "Another program pays more" filter
    and its total, at 1,366 px; and a monthly summary comparing the programs (issue #18). The
    demo has the BHI time, the APCM and PCM-by-focus patients and the APCM attestation."""
    window, page = window_on(services, "bill-chen", BILLING, 1366)
    assert isinstance(page, BillingPage)
    today = services.now().astimezone(services.practice_zone()).date()
    previous = (today.replace(day=1) - dt.timedelta(days=1)).strftime("%Y-%m")
    page.set_month(previous)
    page.filter_box.setCurrentIndex(page.filter_box.findData(PAYS_MORE))
    # The other programs first (PCM by focus, then CCM/PCM, then APCM), one explained.
    page.table.sortByColumn(PROGRAM, Qt.SortOrder.DescendingOrder)
    rows = page.model.shown()
    chosen = next((r for r in rows if r.result.program != "ccm"), rows[0])
    page.select_mrn(chosen.mrn)
    page.details.lines.scrollToBottom()  # the comparison, last in the details
    save(window, out, "billing-programs.png")
    # Change program… on a CCM month APCM would pay more for: APCM chosen, not yet saved.
    ccm = next((r for r in rows if r.result.program == "ccm"), rows[0])
    page.select_mrn(ccm.mrn)
    dialog = page.change_program(ccm.mrn)
    assert dialog is not None
    dialog.section.program.set_value("apcm")  # type: ignore[attr-defined]
    save(dialog, out, "billing-change-program.png")
    dialog.close()
    # The months with BHI time first, one that bills 99484 explained.
    page.filter_box.setCurrentIndex(page.filter_box.findData(ALL))
    page.table.sortByColumn(BHI, Qt.SortOrder.DescendingOrder)
    rows = page.model.shown()
    bhi = next((r for r in rows if r.result.bhi is not None and r.result.bhi.billable), rows[0])
    page.select_mrn(bhi.mrn)
    save(window, out, "billing-bhi.png")
    window.close()

    review_window, review_page = window_on(services, "dr-okafor", REVIEW)
    assert isinstance(review_page, ReviewPage)
    review_page.set_month(previous)
    queue = [review_page.model.row_at(n)[0] for n in range(review_page.model.rowCount())]
    compared = [row for row in queue if row.result.others]
    best = next(
        (row for row in compared if row.result.bhi is not None and row.result.pays_more),
        next((row for row in compared if row.result.pays_more), compared[0]),
    )
    review_page.select_mrn(best.mrn)
    # The comparison sits under the minutes and codes: scroll it into view.
    bar = review_page.view.verticalScrollBar()
    bar.setValue(bar.maximum() // 2)
    save(review_window, out, "review-programs.png")
    review_window.close()


def waivers_and_enrolment(out: Path, services: Services) -> None:
    """A patient who declined for the cost share, the options the care team sees, the waiver
    dialog and billing's list of waivers (issue #17)."""
    nurse = services.staff.actor_for("rn-lee")
    biller = services.staff.actor_for("bill-chen")
    today = services.now().astimezone(services.practice_zone()).date()
    rows = services.patients.list_rows(nurse)
    declining = next(r for r in rows if r.enrollment == "No consent")
    services.enrolment.offered(nurse, declining.mrn, today - dt.timedelta(days=12))
    services.enrolment.declined(
        nurse, declining.mrn, today - dt.timedelta(days=5), "cost share",
        "Says $13 a month is more than she can manage on her pension",
    )  # fmt: skip
    window, page = window_on(services, "rn-lee", PATIENTS)
    assert isinstance(page, PatientsPage) and page.panel is not None
    page.show_patient(declining.mrn)
    page.panel.tabs.setCurrentIndex(1)  # the enrolment
    save(window, out, "enrolment-history.png")
    window.close()

    # A consented patient who says they cannot pay, seen by billing, with a waiver on file.
    paying = next(r for r in rows if r.enrollment == "Enrolled" and r.mrn != declining.mrn)
    record = services.patients.get(nurse, paying.mrn)
    raw = {name: _text(getattr(record, name)) for name in PATIENT_COLUMNS}
    services.patients.save_text(nurse, {**raw, "cannot_pay": "yes"}, paying.mrn)
    month = f"{today.year:04d}-{today.month:02d}"
    services.waivers.record_text(biller, {
        "mrn": paying.mrn, "from_month": month, "to_month": "",
        "approved_on": today.isoformat(),
        "reason": "Income below 150% of the poverty line (practice policy 4.2); letter on file",
    })  # fmt: skip
    window, page = window_on(services, "bill-chen", PATIENTS)
    assert isinstance(page, PatientsPage) and page.panel is not None
    page.show_patient(paying.mrn)
    page.panel.tabs.setCurrentIndex(1)  # the enrolment and the patient's waivers
    save(window, out, "cannot-pay.png")
    section = page.panel.enrolment
    section.waivers.table.selectRow(0)
    dialog = section.waivers.edit_waiver()
    assert isinstance(dialog, WaiverDialog)
    dialog.to_month.setText(f"{today.year:04d}-01")  # before the first month: refused
    dialog.save()
    save(dialog, out, "waiver-dialog.png")
    dialog.close()
    window.close()

    window, billing_page = window_on(services, "bill-chen", BILLING)
    assert isinstance(billing_page, BillingPage)
    waivers = billing_page.show_waivers()
    save(waivers, out, "waivers-list.png")
    waivers.close()
    window.close()


def _text(value: object) -> str:
    if value is None or value is False:
        return ""
    if value is True:
        return "yes"
    if isinstance(value, tuple):
        return ";".join(value)
    return value.isoformat() if isinstance(value, dt.date) else str(value)


# The billing panel's ten columns need a wider window than the other pages.
BILLING_WIDTH = 1400


def window_on(
    services: Services, staff_id: str, name: str, width: int = 1280
) -> tuple[MainWindow, QWidget]:
    """A main window for a staff member, showing one of its pages."""
    actor = services.staff.actor_for(staff_id)
    window = MainWindow(services, actor, runner=InlineTaskRunner(), state=GuiState(None))
    shown(window, width, 800)
    window.show_page(name)
    return window, window.pages[name]


def review(out: Path, services: Services) -> None:
    """The practitioner's monthly review, batch signing, unlock, closing and the audit trail."""
    window, page = window_on(services, "dr-okafor", REVIEW)
    assert isinstance(page, ReviewPage)
    today = services.now().astimezone(services.practice_zone()).date()
    previous = (today.replace(day=1) - dt.timedelta(days=1)).strftime("%Y-%m")
    page.set_month(previous)
    ready = [page.model.row_at(n)[0] for n in range(page.model.rowCount())
             if page.model.row_at(n)[1] == "ready to sign"]  # fmt: skip
    with_notes = max(ready, key=lambda row: row.result.countable_seconds)
    page.select_mrn(with_notes.mrn)
    save(window, out, "review.png")
    page.select_ready()
    batch = page.sign_selected()
    assert isinstance(batch, SignDialog)
    save(batch, out, "sign-batch.png")
    batch.accept()
    page.select_mrn(with_notes.mrn)
    save(window, out, "review-signed.png")
    unlock = page.unlock_current()
    assert isinstance(unlock, ReasonDialog)
    unlock.reason.setPlainText("The 28th's call with the cardiology office was left out")
    save(unlock, out, "unlock-dialog.png")
    unlock.reject()
    window.close()

    billing_window, billing_page = window_on(services, "bill-chen", BILLING, BILLING_WIDTH)
    assert isinstance(billing_page, BillingPage)
    billing_page.set_month(previous)
    billing_page_actor = services.staff.actor_for("bill-chen")
    box = billing_page.close_month()
    assert box is not None
    save(box, out, "close-month.png")
    box.close()
    with tempfile.TemporaryDirectory() as target:
        export = billing_page.export_month(Path(target) / previous)
        assert export is not None
        export.signed_only.setChecked(True)
        export.start()  # the inline runner: the export is done when this returns
        save(export, out, "export-dialog.png")
        export.close()
        # The month under way: the dialog asks before exporting it.
        current = ExportDialog(
            services, lambda: billing_page_actor, today.strftime("%Y-%m"), Path(target) / "now",
            InlineTaskRunner(), billing_page,
        )  # fmt: skip
        shown(current)
        current.start()
        question = current.findChild(QMessageBox, "openMonthQuestion")
        assert question is not None
        save(question, out, "export-open-month.png")
        question.reject()
        current.close()
        # The same export on a worker thread (and worker processes), caught on its way.
        running = ExportDialog(
            services, lambda: billing_page_actor, previous, Path(target) / "again",
            ThreadTaskRunner(), billing_page,
        )  # fmt: skip
        running.start()
        while running.outcome is None and running.progress_bar.value() < 30:
            QCoreApplication.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 20)
        save(running, out, "export-progress.png")
        running.cancel()
        ThreadTaskRunner.wait()
        running.close()
    flag_a_late_revocation(services, previous)
    billing_page.reload()
    save(billing_window, out, "billing-flagged.png")
    billing_window.close()

    audit_window, audit = window_on(services, "admin-patel", AUDIT)
    assert isinstance(audit, AuditPage)
    audit.action_box.setCurrentIndex(audit.action_box.findData("month."))
    audit.verify()
    audit.deep_check()
    # Everything this script did through the GUI is in the trail: the tables must match it.
    assert audit.deep_label.text().startswith("The data tables match"), audit.deep_label.text()
    save(audit_window, out, "audit.png")
    behind_ccmdesks_back(services)
    audit.deep_check()
    save(audit_window, out, "audit-deep-check.png")
    audit_window.close()


def cp_rules_care_plan_in_force(out: Path, services: Services) -> None:
    """A signed care plan past its review date: the worklist's *Plan review due* filter and the
    monthly summary naming the version in force (issue #20)."""
    nurse = services.staff.actor_for("rn-lee")
    today = services.now().astimezone(services.practice_zone()).date()
    month = today.strftime("%Y-%m")
    last_day = month_days(month)[1]
    mrn = services.minutes.worklist(nurse, month)[0].mrn
    practitioner = services.staff.actor_for(services.patients.get(nurse, mrn).billing_practitioner)
    plan = services.care_plans.plan(nurse, mrn)
    content = replace(
        COMPLETE,
        problems=plan.problems or COMPLETE.problems,
        # Two weeks on, yet before the month's last day: passed by the month's end.
        review_on=max(today, min(today + dt.timedelta(days=14), last_day - dt.timedelta(days=1))),
    )
    signed_plan(services, mrn, author=nurse, signer=practitioner, base=content)

    window, page = window_on(services, "rn-lee", WORKLIST)
    assert isinstance(page, WorklistPage)
    page.reload()
    page.review_box.setChecked(True)
    assert page.model.rowCount() >= 1
    save(window, out, "worklist-plan-review-due.png")
    window.close()

    window, review_page = window_on(services, practitioner.key, REVIEW)
    assert isinstance(review_page, ReviewPage)
    review_page.set_month(month)
    assert review_page.select_mrn(mrn)
    assert "Care plan: version" in review_page.view.toPlainText()
    save(window, out, "review-care-plan.png")
    window.close()


def behind_ccmdesks_back(services: Services) -> None:
    """Someone with the database file makes a nurse administrator and adds 45 minutes to one
    of her entries (issue #15, F12)."""
    path = services.stopwatch._db.sqlite_path
    assert path is not None
    connection = sqlite3.connect(path)
    try:
        connection.execute("UPDATE staff SET role = 'admin' WHERE staff_id = 'rn-lee'")
        connection.execute(
            "UPDATE time_segment SET ended_at = datetime(ended_at, '+45 minutes') WHERE id = "
            "(SELECT max(t.id) FROM time_segment t JOIN time_entry e ON e.id = t.entry_id "
            "JOIN staff s ON s.id = e.staff_id WHERE s.staff_id = 'rn-lee' "
            "AND e.state = 'stopped' AND e.deleted_at IS NULL)"
        )
        connection.commit()
    finally:
        connection.close()


def claims_and_payers(out: Path, services: Services) -> None:
    """The billing panel's Claim column with a filter applied, and a monthly summary blocked by
    a payer that does not pay for CCM, on the demo's first month (issue #17)."""
    biller = services.staff.actor_for("bill-chen")
    today = services.now().astimezone(services.practice_zone()).date()
    first = today.replace(day=1) - dt.timedelta(days=1)
    month = (first.replace(day=1) - dt.timedelta(days=1)).strftime("%Y-%m")
    # The clearinghouse settings and Part B's EDI id, as the practice and payer pages keep them.
    part_b = services.payers.get(biller, "mcr-b")
    services.payers.save(biller, replace(part_b, edi_payer_id="MCRB1"))
    services.payers.save_text(biller, {"payer_id": "acme-pcm", "name": "Acme Health PCM",
                                       "kind": "commercial", "covers": "pcm",
                                       "coinsurance_percent": "10"})  # fmt: skip
    path = services.stopwatch._db.sqlite_path
    assert path is not None
    rows = services.billing.month(biller, month).rows
    billable = [r for r in rows if r.result.billable and r.result.conditions >= 2]
    blocked, sent = billable[0], billable[1:3]
    connection = sqlite3.connect(path)
    try:
        connection.execute(
            "UPDATE practice SET street = '120 Riverbend Rd', city = 'Portland', state = 'ME', "
            "zip = '04101-2210', submitter_id = 'RIVERBEND01', submitter_name = 'Riverbend "
            "Family Medicine', submitter_phone = '2075550100', receiver_id = 'CLEARHOUSE', "
            "receiver_name = 'Clearing House Inc'"
        )
        connection.execute(
            "UPDATE patient SET primary_payer_id = (SELECT id FROM payer WHERE payer_id = "
            "'acme-pcm'), payer = 'Acme Health PCM', payer_type = 'commercial', member_id = "
            "'ACM55120' WHERE mrn = ?",
            (blocked.mrn,),
        )
        for row in sent:
            connection.execute(
                "INSERT INTO sent_claim (patient_id, month, claim_id, payer_id, file, "
                "control_number, sent_on, sent_at, sent_by, total_cents) SELECT id, ?, ?, "
                "'mcr-b', ?, 1, ?, ?, 'bill-chen', ? FROM patient WHERE mrn = ?",
                (month, f"{row.mrn}-{month.replace('-', '')}", f"claims-{month}-mcr-b.x12",
                 today.isoformat(), f"{today.isoformat()} 15:00:00.000000",
                 row.result.amount_cents, row.mrn),
            )  # fmt: skip
        connection.commit()
    finally:
        connection.close()
    # Some months signed, so the column shows every state.
    by_doctor: dict[str, list[str]] = {}
    for row in billable[1:40]:
        by_doctor.setdefault(row.practitioner_key, []).append(row.mrn)
    for key, mrns in by_doctor.items():
        services.review.sign_many(services.staff.actor_for(key), month, mrns)

    window, page = window_on(services, "bill-chen", BILLING, BILLING_WIDTH)
    assert isinstance(page, BillingPage)
    page.set_month(month)
    page.table.sortByColumn(9, Qt.SortOrder.DescendingOrder)  # the Claim column
    page.filter_box.setCurrentIndex(page.filter_box.findData("claim_ready"))
    page.select_mrn(sent[0].mrn)
    save(window, out, "billing-claims.png")
    page.filter_box.setCurrentIndex(page.filter_box.findData("not_claim_ready"))
    shown = page.model.shown()
    unready = next((r for r in shown if r.result.signed), shown[0])
    page.select_mrn(unready.mrn)
    save(window, out, "billing-not-claim-ready.png")
    window.close()

    doctor = blocked.practitioner_key
    review_window, review_page = window_on(services, doctor, REVIEW)
    assert isinstance(review_page, ReviewPage)
    review_page.set_month(month)
    review_page.select_mrn(blocked.mrn)
    save(review_window, out, "review-payer-block.png")
    review_window.close()


def flag_a_late_revocation(services: Services, month: str) -> None:
    """Close the month, then record a revocation dated before it: the month is flagged."""
    from ccmdesk.rules.records import PATIENT_COLUMNS

    services.closing.close(services.staff.actor_for("bill-chen"), month)
    nurse = services.staff.actor_for("rn-lee")
    first = dt.date.fromisoformat(f"{month}-01")
    revoked = (first - dt.timedelta(days=1)).replace(day=10)
    row = next(
        r
        for r in services.billing.month(services.staff.actor_for("bill-chen"), month).rows
        if r.result.billable
        and (record := services.patients.get(nurse, r.mrn)).consent_date is not None
        and record.consent_date < revoked
    )
    record = services.patients.get(nurse, row.mrn)
    raw = {name: _text(getattr(record, name)) for name in PATIENT_COLUMNS}
    raw["consent_revoked_date"] = revoked.isoformat()
    services.patients.save_text(nurse, raw, row.mrn)


def coverage(out: Path, services: Services, window: MainWindow, patients: PatientsPage) -> None:
    """The payer list, a payer being added, and a patient's coverage (issue #17)."""
    window.show_page(PAYERS)
    page = window.pages[PAYERS]
    assert isinstance(page, PayersPage)
    page.table.selectRow(0)
    save(window, out, "payers.png")
    admin = services.staff.actor_for("admin-patel")
    adding = PayerDialog(services, admin, None, window)
    adding.payer_id.setText("aetna-ma")
    adding.name.setText("Aetna Medicare Advantage")
    adding.kind.set_value("medicare_advantage")
    adding.edi_payer_id.setText("60054")
    adding.covers.unknown.setChecked(False)
    for program in ("ccm", "pcm", "bhi"):
        adding.covers.programs[program].setChecked(True)
    adding.min_diagnoses.setValue(2)
    adding.notes.setPlainText("APCM needs prior authorisation: call 1-800-555-0123.")
    save(shown(adding), out, "payer-editor.png")
    adding.close()

    # A patient whose spouse holds the commercial plan, with a Medigap-like secondary.
    window.show_page(PATIENTS)
    rows = services.patients.list_rows(admin)
    mrn = next(r.mrn for r in rows if r.payer_name == "Anthem Blue Cross")
    editor = patients.open_patient(mrn)
    assert isinstance(editor, PatientDialog)
    editor.relationship.set_value("spouse")
    editor.inputs["insured_last_name"].setText(  # type: ignore[attr-defined]
        services.patients.get(admin, mrn).last_name
    )
    editor.inputs["insured_first_name"].setText("Robert")  # type: ignore[attr-defined]
    editor.secondary_payer.set_value("mainecare")
    editor.inputs["secondary_member_id"].setText("MC-448812")  # type: ignore[attr-defined]
    editor.signature_on_file.set_value("yes")
    editor.scroll_area.ensureWidgetVisible(editor.qmb)
    save(editor, out, "patient-coverage.png")
    editor.done(0)
    patients.payer_filter.set_value("anthem-blue-cross")
    sizes = patients.splitter.sizes()
    patients.splitter.setSizes([sum(sizes) - 300, 300])  # wide enough for the Payer column
    save(window, out, "patients-payer.png")
    patients.splitter.setSizes(sizes)
    patients.payer_filter.set_value("*")


def programs(out: Path, services: Services) -> None:
    """A patient's program with its history, last visit and G0506, and the APCM section of
    the practice settings as a practitioner sees it (issue #18)."""
    window, patients = window_on(services, "dr-okafor", PATIENTS)
    assert isinstance(patients, PatientsPage)
    doctor = services.staff.actor_for("dr-okafor")
    today = services.now().astimezone(services.practice_zone()).date()
    month = today.strftime("%Y-%m")
    mrn = next(
        r.mrn
        for r in services.patients.list_rows(doctor)
        if len(r.conditions) >= 3
        and services.patients.get(doctor, r.mrn).billing_practitioner == "dr-okafor"
    )
    record = services.patients.get(doctor, mrn)
    # PCM on one condition from this month, and APCM planned from the next.
    following = (today.replace(day=28) + dt.timedelta(days=7)).strftime("%Y-%m")
    services.programs.set(doctor, mrn, "apcm", following)
    if not services.programs.set(doctor, mrn, "pcm_focus", month, record.conditions[1]):
        raise RuntimeError("the screenshot's program change did nothing")
    editor = patients.open_patient(mrn)
    assert isinstance(editor, PatientDialog)
    last_visit = editor.inputs["last_visit_date"]
    last_visit.setText((today - dt.timedelta(days=40)).isoformat())  # type: ignore[attr-defined]
    editor.g0506.setChecked(True)
    editor.scroll_area.ensureWidgetVisible(editor.program, 0, 0)
    save(editor, out, "patient-program.png")
    editor.done(0)
    window.show_page(PRACTICE)
    practice = window.pages[PRACTICE]
    assert isinstance(practice, PracticePage)
    practice.apcm.attest()
    save(window, out, "practice-apcm.png")
    window.close()


def shortcut_dialogs(out: Path) -> None:
    """Stopwatch ▸ Global shortcut… on this X display (really listening), and on Wayland."""
    shortcut = GlobalShortcut(system_backend())
    shortcut.set_shortcut("Ctrl+Alt+Shift+S")
    dialog = GlobalShortcutDialog(shortcut, "Ctrl+Alt+Shift+S", lambda _text: None)
    save(shown(dialog), out, "shortcut-dialog.png")
    dialog.close()
    shortcut.release()
    wayland = GlobalShortcut(system_backend("linux", {"XDG_SESSION_TYPE": "wayland"}))
    dialog = GlobalShortcutDialog(wayland, "Ctrl+Alt+Shift+S", lambda _text: None)
    save(shown(dialog), out, "shortcut-dialog-wayland.png")
    dialog.close()


def reminders_shots(out: Path, services: Services, clock: ShiftedClock) -> None:
    """The Notifications panel with several reminders, and the practice's Reminders section
    (issue #19): a callback due, a nudge, a stopwatch left running past its limit. Mateo
    García's: by now the review has made Grace Lee an administrator, who has no worklist."""
    from ccmdesk.models import Callback, Staff
    from ccmdesk.services import Activity

    nurse = services.staff.actor_for("lpn-garcia")
    now = clock()
    with services._db.session() as session:  # a callback as the call log would leave one
        staff_id = session.query(Staff.id).filter(Staff.staff_id == "lpn-garcia").scalar()
        patient_id = (
            session.query(Patient.id).filter(Patient.care_manager_id == staff_id).first()[0]
        )
        session.add(
            Callback(patient_id=patient_id, due_at=now - dt.timedelta(minutes=20),
                     assigned_to_id=staff_id, note="Asked to be called after her lunch.",
                     created_at=now - dt.timedelta(days=1), created_by="lpn-garcia")
        )  # fmt: skip
    services.notifications.check(nurse, Activity(active_minutes=12, in_front=True))
    clock.advance(minutes=3)
    window = MainWindow(
        services,
        nurse,
        runner=InlineTaskRunner(),
        state=GuiState(None),
        monotonic=lambda: clock().timestamp(),
    )
    shown(window, 1280, 800)
    settle()
    window.stopwatch.start(services.minutes.worklist(nurse)[0].mrn)
    for _ in range(64 * 60):  # the stopwatch's timer fires once a second
        clock.advance(seconds=1)
        window.stopwatch.ticked.emit()
    window.reminders.check()
    window.reminders.mark_read([window.reminders.inbox.rows[-1].id])  # one read: not bold
    window.notifications_dock.show()
    window.resizeDocks([window.notifications_dock], [380], Qt.Orientation.Horizontal)
    window.show_page(WORKLIST)
    save(window, out, "reminders-panel.png")
    timer = window.stopwatch.running
    if timer is not None:
        services.stopwatch.discard(nurse, timer.entry_id, "screenshot")
    window.settle_running_timer = lambda **_: True  # type: ignore[method-assign]
    window.close()

    window, page = window_on(services, "admin-patel", PRACTICE)
    assert isinstance(page, PracticePage)
    bar = page.scroll_area.verticalScrollBar()
    bar.setValue(page.reminders_box.y() - 8)
    save(window, out, "reminders-settings.png")
    window.close()


def reminders_tray(out: Path, services: Services) -> None:
    """A reminder shown in the system tray for real (`reminders-tray`): needs a desktop with a
    tray on the screen, e.g. Xvfb with openbox and trayer, and ImageMagick's `import`."""
    import subprocess

    from PySide6.QtWidgets import QSystemTrayIcon

    if not QSystemTrayIcon.isSystemTrayAvailable():
        print("no system tray on this screen: reminders-tray.png not made")
        return
    window = MainWindow(
        services, services.staff.actor_for("lpn-garcia"), runner=InlineTaskRunner(),
        state=GuiState(None),
    )  # fmt: skip
    shown(window, 1100, 700)
    window.move(40, 40)
    settle(1500)  # the tray icon docks
    window.reminders.check()
    settle(2500)  # the message balloon appears
    subprocess.run(["import", "-window", "root", str(out / "reminders-tray.png")], check=True)
    print(f"wrote {out / 'reminders-tray.png'}")


def calls_screens(out: Path, services: Services) -> None:
    """Grace Lee's worklist opening with the callbacks due today, a patient's Calls tab and
    the Log call dialog (issue #19)."""
    nurse = services.staff.actor_for("rn-lee")
    rows = services.minutes.worklist(nurse)
    window, page = window_on(services, "rn-lee", WORKLIST, width=BILLING_WIDTH)
    assert isinstance(page, WorklistPage)
    page.select_mrn(rows[1].mrn)
    save(window, out, "worklist-callbacks.png")
    # The patient called most, with a callback still open.
    logs = [services.calls.patient_log(nurse, r.mrn) for r in rows[:6] if r.callback_id]
    log = max(logs, key=lambda found: len(found.attempts))
    window.show_page(PATIENTS)
    patients = window.pages[PATIENTS]
    assert isinstance(patients, PatientsPage) and patients.panel is not None
    patients.show_patient(log.mrn)
    patients.panel.tabs.setCurrentIndex(2)  # the calls
    save(window, out, "calls-log.png")
    section = patients.panel.calls
    assert section.log is not None
    dialog = LogCallDialog(
        patients.panel.name.text(), section.log, services.now(), services.practice_zone(), window
    )
    dialog.outcome.set_value("voicemail")
    dialog.phone.set_value(section.log.phones[-1][1])
    dialog.note.setPlainText("Left a message on the mobile: we call back tomorrow at 4.")
    tomorrow = services.now().astimezone(services.practice_zone()) + dt.timedelta(days=1)
    dialog.set_call_back_at(tomorrow.replace(hour=16, minute=0, second=0))
    save(shown(dialog), out, "calls-log-dialog.png")
    dialog.close()
    window.close()


def copy_screens(out: Path, services: Services) -> None:
    """The patient copy dialog for a signed plan of a patient who prefers Spanish, one copy
    already given, and its Record as given dialog (issue #20)."""
    nurse = services.staff.actor_for("rn-lee")
    doctor = services.staff.actor_for("dr-okafor")
    # One of the demo's Spanish readers (the demo sets their preferred language).
    row, plan = next(
        (r, p)
        for r in services.patients.list_rows(nurse)
        if (p := services.care_plans.plan(nurse, r.mrn)).preferred_language == "es"
        and p.billing_practitioner.startswith("Adaeze")
    )
    today = services.now().astimezone(services.practice_zone()).date()
    content = replace(COMPLETE, problems=plan.problems, review_on=today + dt.timedelta(days=182))
    version = signed_plan(services, row.mrn, author=nurse, signer=doctor, base=content)
    services.care_plans.record_copy(nurse, row.mrn, version.number, today, "mail",
                                    note="Sent with the visit summary")  # fmt: skip
    dialog = PatientCopyDialog(None, services, nurse, row.mrn, version.number)
    dialog.status.setText(
        f"Saved: /home/glee/Documents/care-plan-{row.mrn}-v{version.number}-es.pdf"
    )
    save(shown(dialog), out, "copy-patient-copy.png")
    record = RecordCopyDialog(today, today, "es", dialog)
    record.method.set_value("in_person")
    record.note.setPlainText("Given to her daughter at the visit")
    save(shown(record), out, "copy-record-given.png")
    record.close()
    dialog.close()


def care_plan_patients(services: Services) -> tuple[str, str]:
    """Two of Dr. Okafor's patients whose conditions match two templates or more: one with
    diabetes and hypertension (the text written below is about them), and another."""
    doctor = services.staff.actor_for("dr-okafor")
    found = []
    for row in services.patients.list_rows(doctor):
        plan = services.care_plans.plan(doctor, row.mrn)
        if plan.can_sign and len(plan.templates) >= 2 and not plan.versions:
            found.append((row.mrn, {t.key for t in plan.templates}))
    diabetic = next(m for m, keys in found if {"diabetes", "hypertension"} <= keys)
    return diabetic, next(m for m, _ in found if m != diabetic)


def care_plan_screens(out: Path, services: Services) -> None:
    """A patient's Care plan tab with a signed version and a newer draft, the editor with
    template text, the diff of the two versions and the sign dialog (issue #20)."""
    nurse = services.staff.actor_for("rn-lee")
    doctor = services.staff.actor_for("dr-okafor")
    plans = services.care_plans
    mrn, first = care_plan_patients(services)
    plan = plans.plan(nurse, mrn)
    today = plan.today
    written = prefill(
        PlanContent(
            problems=plan.problems,
            outcomes="Stable at home with monthly follow-up; good prognosis if sugars and "
            "blood pressure reach target.",
            medications="Metformin 500 mg twice daily; lisinopril 10 mg daily.\n"
            "Nurse reconciles the list at each monthly call; pill organiser filled weekly.",
            community="Diabetes self-management class at the public library (Tuesdays).\n"
            "Meals on Wheels referral made.",
            coordination="Ophthalmology: yearly retinal exam.\nPodiatry referral for foot care.",
            review_on=today + dt.timedelta(days=182),
        ),
        plan.templates,
        plan.problems,
    )
    version = signed_plan(services, mrn, author=nurse, signer=doctor, base=written)
    plans.record_copy(nurse, mrn, version.number, today, "in_person")
    revised = replace(
        written,
        goals=written.goals.replace("HbA1c below 7.0%", "HbA1c below 7.5%"),
        medications=written.medications.replace("Metformin 500 mg", "Metformin 1000 mg"),
        community=written.community + "\nTransport to appointments by the county van.",
    )
    draft = plans.save(nurse, mrn, revised, version.number)

    window, page = window_on(services, "dr-okafor", PATIENTS, width=BILLING_WIDTH)
    assert isinstance(page, PatientsPage) and page.panel is not None
    page.show_patient(mrn)
    page.panel.tabs.setCurrentIndex(3)  # the care plan
    save(window, out, "care-plan-tab.png")

    section = page.panel.care_plan
    assert section.plan is not None
    compare = compare_versions(section.plan, window)
    save(shown(compare), out, "care-plan-diff.png")
    compare.close()

    document, sha = plans.document(doctor, mrn, draft.number)
    sign = PlanSignDialog(draft.number, document, sha, section.plan.billing_practitioner, window)
    save(shown(sign), out, "care-plan-sign.png")
    sign.close()
    window.close()

    # A first plan for another patient: the conditions' templates added, a draft being written.
    fresh = plans.plan(nurse, first)
    editor = CarePlanEditor(fresh, plans.templates(nurse), services.practice_zone())
    editor.exec_dialog = lambda dialog: True  # type: ignore[method-assign]
    editor.add_templates()
    editor.inputs["outcomes"].setPlainText("Stable with monthly calls; fair prognosis.")
    shown(editor)
    settle()
    editor.scroll_area.verticalScrollBar().setValue(0)
    save(editor, out, "care-plan-editor.png")
    editor.discard()


def settings_care_plan_templates(out: Path, window: MainWindow, services: Services) -> None:
    """The care plan templates dialog (issue #20), opened from Practice settings: a template
    being edited, and the Spanish words of the patient copy."""
    window.show_page(PRACTICE)
    practice = window.pages[PRACTICE]
    assert isinstance(practice, PracticePage)
    dialog = practice.open_templates()
    assert dialog is not None
    shown(dialog, 1000, 660)
    tab = dialog.templates
    tab.list.setCurrentRow(2)  # heart failure
    tab.texts["goals"].setPlainText(
        tab.texts["goals"].toPlainText() + "\nWalk 10 minutes twice a day by the next review."
    )
    save(dialog, out, "care-plan-templates.png")
    dialog.tabs.setCurrentWidget(dialog.words)
    dialog.words.languages.setCurrentIndex(1)  # español
    save(dialog, out, "care-plan-copy-words.png")
    dialog.done(0)  # straight out, past the "close without saving?" question


def main(out: Path) -> int:
    out.mkdir(parents=True, exist_ok=True)
    app = QApplication(sys.argv[:1])
    configure_application(app)
    with tempfile.TemporaryDirectory() as temporary:
        folder = Path(temporary)
        first_start(out, folder)
        shortcut_dialogs(out)

        demo = folder / "demo"
        demo.mkdir()
        clock = ShiftedClock()
        services = Services(open_database(f"sqlite:///{demo / 'ccmdesk.sqlite3'}"), clock)
        print("creating the demo practice…")
        services.demo.create(setup_actor())
        admin = services.staff.actor_for("admin-patel")
        nurse = services.staff.actor_for("rn-lee")

        signing = SignInDialog(services, "rn-lee", "Riverbend Family Medicine")
        signing.password.setText("a wrong one")
        signing.ok_button.click()  # what a mistyped password looks like
        save(shown(signing), out, "sign-in.png")
        signing.close()

        window = MainWindow(services, admin, runner=InlineTaskRunner(), state=GuiState(None))
        shown(window, 1280, 800)
        patients = window.pages[PATIENTS]
        assert isinstance(patients, PatientsPage)
        patients.table.selectRow(3)
        save(window, out, "patients.png")
        patients.search_field.setText("mar 19")
        save(window, out, "patients-search.png")
        patients.search_field.clear()

        mrn = next(r.mrn for r in services.patients.list_rows(nurse) if len(r.conditions) >= 3)
        editor = patients.open_patient(mrn)
        assert isinstance(editor, PatientDialog)
        save(editor, out, "patient-editor.png")
        editor.conditions.search_field.setText("heart failure")
        editor.conditions.search_now()
        editor.conditions.results.setCurrentRow(2)
        editor.scroll_area.ensureWidgetVisible(editor.conditions.results)
        save(editor, out, "conditions-search.png")
        editor.close()

        errors = patients.new_patient()
        assert isinstance(errors, PatientDialog)
        fill: dict[str, str] = {
            "mrn": mrn,
            "last_name": "Quintero",
            "first_name": "Rosa",
            "dob": "1950-02-30",
            "state": "Maine",
            "consent_date": "2026-01-05",
        }
        for name, value in fill.items():
            widget = errors.inputs[name]
            widget.setText(value)  # type: ignore[attr-defined]
        errors.primary_payer.set_value("mcr-b")
        errors.inputs["primary_member_id"].setText("1EG4-TE5-MK7")  # type: ignore[attr-defined]
        errors.conditions.set_codes(["I10", "E11"])
        errors.save()
        save(errors, out, "patient-editor-errors.png")
        errors.done(0)  # straight out, past the "discard changes?" question
        coverage(out, services, window, patients)

        window.show_page(STAFF)
        save(window, out, "staff.png")
        staff = window.pages[STAFF]
        assert isinstance(staff, StaffPage)
        staff.table.selectRow(0)
        member = next(m for m in services.staff.list() if m.staff_id == "np-lindqvist")
        staff_dialog = StaffDialog(services, admin, member, window)
        staff_dialog.npi.setText("1000000021")
        staff_dialog.save()
        save(shown(staff_dialog), out, "staff-editor.png")
        staff_dialog.close()

        window.show_page(PRACTICE)
        save(window, out, "practice.png")
        practice = window.pages[PRACTICE]
        assert isinstance(practice, PracticePage)
        practice_claims(window, practice, out)
        bar = practice.scroll_area.verticalScrollBar()
        practice.scroll_area.ensureWidgetVisible(practice.attestation_box)
        save(window, out, "practice-sign-off.png")
        services.backups.daily()  # the first start of the day's copies
        practice.backups.back_up_now()
        practice.backups.reload()
        bar.setValue(bar.maximum())
        save(window, out, "practice-security.png")
        practice.scroll_area.ensureWidgetVisible(practice.fees, 0, 0)
        bar.setValue(practice.fees.y() - 8)
        save(window, out, "practice-fees.png")
        settings_care_plan_templates(out, window, services)

        bad = folder / "patients-march.csv"
        bad.write_text(BAD_PATIENTS, encoding="utf-8")
        window.import_files([bad])
        problems = window.findChild(ImportProblemsDialog)
        assert problems is not None
        save(problems, out, "import-problems.png")
        problems.close()

        window.close()
        calls_screens(out, services)  # before the stopwatch pages add time of their own
        copy_screens(out, services)
        care_plan_screens(out, services)
        billing(out, services)
        dashboard_overview(out, services)
        billing_programs(out, services)
        waivers_and_enrolment(out, services)
        stopwatch(out, services, clock)
        week_view(out, services, clock)
        # Before the review: it changes a nurse's role behind ccmdesk's back.
        cp_rules_care_plan_in_force(out, services)
        review(out, services)
        claims_and_payers(out, services)
        programs(out, services)
        bhi_stopwatch(out, services, clock)  # last: its BHI time is in no other screenshot
        reminders_shots(out, services, clock)
        reminders_tray(out, services)  # only where the screen has a system tray
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]) if len(sys.argv) > 1 else REPO / "docs" / "screenshots"))
