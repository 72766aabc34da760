"""The chosen patient beside the list: stopwatch, this month's progress and log, enrolment."""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Callable

from PySide6.QtWidgets import (
    QAbstractItemView,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QInputDialog,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from ccmdesk.rules.icd10 import behavioural_health
from ccmdesk.rules.intervals import month_of, month_parts
from ccmdesk.rules.minutes import (
    FAMILY_LABELS,
    NO_MINUTES,
    Progress,
    progress_share,
    threshold_ticks,
)
from ccmdesk.services import Actor, MonthProgress, Permission, ServiceError, Services, allowed
from ccmdesk.services.time.records import EntryRow, Stopped
from ccmdesk.ui.calls import CallsSection
from ccmdesk.ui.care_plan import CarePlanSection
from ccmdesk.ui.enrolment import CannotPayBox, EnrolmentSection
from ccmdesk.ui.forms import hint_label, plain, show_failure
from ccmdesk.ui.stopwatch import StopwatchController
from ccmdesk.ui.stopwatch_dialogs import (
    ManualEntryDialog,
    add_by_hand,
    clock_text,
    correct_entry,
    free_span,
    save_until_taken,
)
from ccmdesk.ui.stopwatch_views import StopwatchPanel
from ccmdesk.ui.widgets.threshold_bar import ThresholdBar

LOG_HEADERS = ("When", "Time", "Service", "Staff", "Activity", "Note")
# Re-read the month's minutes this often while a stopwatch runs (a few queries, not every tick).
PROGRESS_EVERY_TICKS = 15


def progress_text(result: MonthProgress) -> tuple[str, str]:
    """The line above the bar and the line under it."""
    p = result.progress
    title = month_title(result.month)
    if p.family is None:
        return f"{title} · no chronic condition on file", clock_text(p.countable_seconds)
    counted = clock_text(p.countable_seconds)
    above = f"{title} · {FAMILY_LABELS[p.family]}"
    if p.family == NO_MINUTES:
        # APCM bills the month without minutes (docs/billing-rules.md, "APCM"): no bar, no goal.
        return above, f"APCM: no minutes needed · {counted} recorded this month"
    return above, _toward(p, counted)


def _toward(p: Progress, counted: str) -> str:
    """The line under a bar: the time counted against the next threshold, and the days left."""
    days = f"{p.days_left} day{'s' if p.days_left != 1 else ''} left"
    if p.next_threshold_minutes is None:
        return f"{counted} counted · every threshold reached · {days}"
    short = clock_text(p.seconds_short)
    goal = p.next_threshold_minutes
    return f"{counted} of {goal}:00 counted · {short} still needed · {days}"


def shows_bhi(result: MonthProgress, bh_condition: bool) -> bool:
    """The BHI bar is for a patient with a behavioural-health condition, and for any month
    with BHI time (which then says why it cannot bill)."""
    return bh_condition or result.bhi.countable_seconds > 0


def bhi_text(result: MonthProgress, bh_condition: bool) -> tuple[str, str]:
    """The BHI bar's line above and line under (docs/billing-rules.md, "General BHI")."""
    p = result.bhi
    counted = clock_text(p.countable_seconds)
    above = FAMILY_LABELS["bhi"]
    if not bh_condition:
        return above, (
            f"{counted} of BHI time counted · no behavioural-health condition (F01-F99) is on "
            "file, so BHI cannot bill"
        )
    return above, _toward(p, counted)


class PatientPanel(QFrame):
    """Everything about the chosen patient's time this month, with the stopwatch on top."""

    def __init__(
        self,
        services: Services,
        actor: Callable[[], Actor],
        controller: StopwatchController,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("patientPanel")
        self._services = services
        self._actor = actor
        self._controller = controller
        self._shown_stop: Stopped | None = None  # the last stop shown from what it returned
        self._mrn: str | None = None
        self._rows: list[EntryRow] = []
        self._zone: dt.tzinfo | None = None  # the practice's, read with the patient
        self._ticks = 0
        self.name = plain(QLabel("Choose a patient"))
        self.name.setObjectName("panelHeading")
        self.name.setWordWrap(True)
        self.details = plain(hint_label())
        self.stopwatch = StopwatchPanel(controller)
        # Enrolment, and what to do for a patient who cannot pay (docs/payers.md).
        self.cannot_pay = CannotPayBox()
        self.enrolment = EnrolmentSection(services, actor, self._local_today)
        self.cannot_pay.waiver_requested.connect(self.enrolment.open_waiver)
        self.enrolment.changed.connect(self._show_enrolment)
        # The patient's numbers, callbacks and call log (docs/calls.md).
        self.calls = CallsSection(services, actor)
        self.calls.changed.connect(self._show_calls_title)
        # The comprehensive care plan: versions, signing (docs/care-plans.md).
        self.care_plan = CarePlanSection(services, actor)
        self.month_label = QLabel()
        self.month_label.setObjectName("monthLabel")
        self.bar = ThresholdBar()
        self.bar.setObjectName("thresholdBar")
        self.bar_text = QLabel()
        self.bar_text.setWordWrap(True)
        # General BHI, timed apart toward its own 20 minutes: shown for a patient with a
        # behavioural-health condition (or with BHI time recorded).
        self.bhi_label = QLabel()
        self.bhi_label.setObjectName("bhiLabel")
        self.bhi_bar = ThresholdBar()
        self.bhi_bar.setObjectName("bhiBar")
        self.bhi_text = QLabel()
        self.bhi_text.setObjectName("bhiText")
        self.bhi_text.setWordWrap(True)
        self._bhi_shown = False
        self._bh_condition = False  # the patient's: read with the patient's record
        self.log = QTableWidget(0, len(LOG_HEADERS))
        self.log.setObjectName("patientLog")
        self.log.setHorizontalHeaderLabels(list(LOG_HEADERS))
        self.log.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.log.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.log.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.log.verticalHeader().hide()
        self.log.setShowGrid(False)
        self.log.setAlternatingRowColors(True)
        self.log.setWordWrap(False)
        header = self.log.horizontalHeader()
        header.setStretchLastSection(True)
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.log_label = QLabel("This month's time")
        self.log_label.setObjectName("sectionHeading")
        self.add_button = QPushButton("Add time…")
        self.edit_button = QPushButton("Correct…")
        self.delete_button = QPushButton("Delete…")
        self.add_button.clicked.connect(self.add_time)
        self.edit_button.clicked.connect(self.edit_time)
        self.delete_button.clicked.connect(self.delete_time)
        self.log.itemSelectionChanged.connect(self._update_buttons)
        self.log.doubleClicked.connect(lambda _: self.edit_time())

        log_bar = QHBoxLayout()
        log_bar.addWidget(self.log_label, 1)
        for button in (self.add_button, self.edit_button, self.delete_button):
            log_bar.addWidget(button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 12, 16, 12)
        layout.addWidget(self.name)
        layout.addWidget(self.details)
        layout.addWidget(self.cannot_pay)
        layout.addSpacing(8)
        layout.addWidget(self.stopwatch)
        layout.addSpacing(12)
        layout.addWidget(self.month_label)
        layout.addWidget(self.bar)
        layout.addWidget(self.bar_text)
        layout.addSpacing(4)
        layout.addWidget(self.bhi_label)
        layout.addWidget(self.bhi_bar)
        layout.addWidget(self.bhi_text)
        layout.addSpacing(12)
        # The month's time and the enrolment share the room under the month's progress.
        time_page = QWidget()
        time_layout = QVBoxLayout(time_page)
        time_layout.setContentsMargins(0, 8, 0, 0)
        time_layout.addLayout(log_bar)
        time_layout.addWidget(self.log, 1)
        self.enrolment.setContentsMargins(0, 8, 0, 0)
        self.tabs = QTabWidget()
        self.tabs.setObjectName("patientTabs")
        self.tabs.setDocumentMode(True)
        self.tabs.addTab(time_page, "Time this month")
        self.tabs.addTab(self.enrolment, "Enrolment")
        self.tabs.addTab(self.calls, "Calls")
        self.tabs.addTab(self.care_plan, "Care plan")
        layout.addWidget(self.tabs, 100)
        # Takes the room the log leaves while no patient is chosen, so the text stays on top.
        layout.addStretch(1)

        # Saved time and stopwatch changes reach the panel through its page's refresh (one
        # coalesced "data changed" for the window); the once-a-second tick reads nothing.
        controller.ticked.connect(self._tick)
        self.set_mrn(None)

    @property
    def mrn(self) -> str | None:
        return self._mrn

    def set_mrn(self, mrn: str | None) -> None:
        self._mrn = mrn
        self._bh_condition = False  # until the patient's record is read
        self.stopwatch.set_mrn(mrn)
        self.refresh()

    def _show_enrolment(self) -> None:
        """The "cannot pay" options and the tab's title, from the history just read."""
        enrolment = self.enrolment.enrolment
        waivers = allowed(self._actor(), Permission.MANAGE_WAIVERS)
        self.cannot_pay.show_for(enrolment, waivers)
        title = "Enrolment and waivers" if waivers else "Enrolment"
        if enrolment is not None and enrolment.declined:
            title += " · declined"
        self.tabs.setTabText(1, title)

    def _show_calls_title(self) -> None:
        """The Calls tab says how many callbacks are open, so they are seen from any tab."""
        log = self.calls.log
        count = len(log.open_callbacks) if log is not None else 0
        self.tabs.setTabText(2, f"Calls · {count} callback{'s' if count != 1 else ''}"
                             if count else "Calls")  # fmt: skip

    def _local_today(self) -> dt.date:
        return self._services.now().astimezone(self._zone or self._services.practice_zone()).date()

    def _tick(self) -> None:
        self._ticks += 1
        running = self._controller.running
        on_this_patient = running is not None and running.mrn == self._mrn
        if not on_this_patient:
            return
        assert running is not None
        # The running entry's line counts on with the stopwatch, not only when it stops.
        for row, entry in enumerate(self._rows):
            item = self.log.item(row, 1)
            if entry.entry_id == running.entry_id and item is not None:
                item.setText(clock_text(self._controller.seconds(running)))
        if self._ticks % PROGRESS_EVERY_TICKS == 0:
            self._show_progress()

    # --- reading -----------------------------------------------------------------------------

    def refresh(self) -> None:
        has = self._mrn is not None
        for widget in (self.stopwatch, self.month_label, self.bar, self.bar_text, self.log,
                       self.tabs, self.cannot_pay):  # fmt: skip
            widget.setVisible(has)
        self.log_label.setVisible(has)
        for button in (self.add_button, self.edit_button, self.delete_button):
            button.setVisible(has and self._controller.can_record)
        self._show_bhi(has and self._bhi_shown)
        if self._mrn is None:
            self.name.setText("Choose a patient")
            self.details.setText("Pick a patient in the list to time, and to see this month.")
            return
        try:
            record = self._services.patients.get(self._actor(), self._mrn)
        except ServiceError as error:
            self.name.setText(str(error))
            return
        self.name.setText(f"{record.first_name} {record.last_name}")
        dob = record.dob.isoformat() if record.dob else "—"
        conditions = ", ".join(record.conditions) if record.conditions else "none on file"
        self.details.setText(f"MRN {record.mrn} · born {dob} · chronic conditions: {conditions}")
        self._bh_condition = any(map(behavioural_health, record.conditions))
        self.stopwatch.set_mrn(record.mrn, bhi=self._bh_condition)
        self._zone = self._services.practice_zone()
        self.enrolment.set_patient(record.mrn, f"{record.first_name} {record.last_name}")
        self._show_enrolment()
        self.calls.set_patient(record.mrn, f"{record.first_name} {record.last_name}")
        self._show_calls_title()
        self.care_plan.set_patient(record.mrn, f"{record.first_name} {record.last_name}")
        self._show_progress()
        self._show_log()

    def refresh_time(self) -> None:
        """Only time changed (saved, or a stopwatch moved): the month's figures and the log,
        not the patient's details."""
        if self._mrn is None or self._zone is None:
            self.refresh()
            return
        stopped = self._controller.last_stop
        if stopped is not None and stopped is not self._shown_stop and self._shows(stopped):
            # This patient's stopwatch was just stopped: the stop returned the saved entry and
            # the month as they are now, read in its own transaction; no need to read again.
            self._shown_stop = stopped
            self._show_month(stopped.progress)
            self._rows = [r for r in self._rows if r.entry_id != stopped.entry.entry_id]
            self._rows.append(stopped.entry)
            self._show_rows()
            self._refresh_calls()
            return
        self._show_progress()
        self._show_log()
        self._refresh_calls()

    def _refresh_calls(self) -> None:
        """A stopwatch started from a callback and stopped makes it done: read the calls
        again, but only when an open callback has a stopwatch (a stop reads nothing more)."""
        log = self.calls.log
        if self._mrn is None or log is None:
            return
        if any(c.time_entry_id is not None for c in log.open_callbacks):
            self.calls.set_patient(self._mrn, self.calls.patient_name)
            self._show_calls_title()

    def _shows(self, stopped: Stopped) -> bool:
        """Whether the stop's entry and month are this panel's patient and month."""
        assert self._zone is not None
        month = month_of(self._services.now(), self._zone)
        return (
            stopped.timer.mrn == self._mrn
            and stopped.progress.month == month
            and month_of(stopped.entry.started_at, self._zone) == month
        )

    def _show_progress(self) -> None:
        if self._mrn is None:
            return
        try:
            result = self._services.minutes.month_progress(self._actor(), self._mrn)
        except ServiceError as error:
            self.month_label.setText(str(error))
            return
        self._show_month(result)

    def _show_month(self, result: MonthProgress) -> None:
        above, below = progress_text(result)
        p = result.progress
        self.month_label.setText(above)
        self.bar_text.setText(below)
        # The same bar as the worklist's: the share of the next threshold, ticks below it.
        self.bar.set_progress(progress_share(p) or 0.0, threshold_ticks(p))
        self.bar.setVisible(p.family != NO_MINUTES)  # APCM: nothing to fill
        self._bhi_shown = shows_bhi(result, self._bh_condition)
        self._show_bhi(self._bhi_shown)
        if self._bhi_shown:
            above, below = bhi_text(result, self._bh_condition)
            self.bhi_label.setText(above)
            self.bhi_text.setText(below)
            self.bhi_bar.set_progress(progress_share(result.bhi) or 0.0, ())

    def _show_bhi(self, shown: bool) -> None:
        for widget in (self.bhi_label, self.bhi_bar, self.bhi_text):
            widget.setVisible(shown)

    def _show_log(self) -> None:
        assert self._mrn is not None
        zone = self._zone or self._services.practice_zone()
        month = month_of(self._services.now(), zone)
        try:
            self._rows = self._services.time_log.patient_log(self._actor(), self._mrn, month)
        except ServiceError as error:
            self._rows = []
            self.log_label.setText(str(error))
            return
        self._show_rows()

    def _show_rows(self) -> None:
        zone = self._zone or self._services.practice_zone()
        self._rows.sort(key=lambda r: r.started_at, reverse=True)
        total = sum(r.seconds for r in self._rows)
        self.log_label.setText(
            f"This month's time: {len(self._rows)} entr{'y' if len(self._rows) == 1 else 'ies'}, "
            f"{clock_text(total)} recorded"
        )
        self.log.setRowCount(len(self._rows))
        for row, entry in enumerate(self._rows):
            start = entry.started_at.astimezone(zone)
            end = entry.ended_at.astimezone(zone).strftime("%H:%M") if entry.ended_at else "now"
            cells = (
                f"{start:%a %d %b} {start:%H:%M}–{end}",
                clock_text(entry.seconds),
                entry.service.upper() + (" · face to face" if entry.face_to_face else ""),
                entry.staff_name,
                entry.activity,
                entry.note.splitlines()[0] if entry.note else "",
            )
            for column, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if column == 5 and entry.note:
                    item.setToolTip(entry.note)
                self.log.setItem(row, column, item)
        self._update_buttons()

    def selected_entry(self) -> EntryRow | None:
        rows = self.log.selectionModel().selectedRows()
        return self._rows[rows[0].row()] if rows else None

    def _update_buttons(self) -> None:
        entry = self.selected_entry()
        mine = (
            entry is not None and entry.staff_id == self._actor().key and entry.state == "stopped"
        )
        self.edit_button.setEnabled(mine)
        self.delete_button.setEnabled(mine)
        tip = "" if mine or entry is None else "Only your own stopped entries can be changed."
        self.edit_button.setToolTip(tip)
        self.delete_button.setToolTip(tip)

    # --- changing time -----------------------------------------------------------------------

    def _entry_dialog(self, entry: EntryRow | None) -> ManualEntryDialog:
        settings = self._services.practice.stopwatch_settings()
        return ManualEntryDialog(
            self.name.text(),
            settings.activities,
            self._services.practice_zone(),
            self._services.now(),
            entry=entry,
            span=None if entry else free_span(self._services, self._actor()),
            parent=self,
        )

    def add_time(self) -> bool:
        if self._mrn is None:
            return False
        dialog = self._entry_dialog(None)
        mrn = self._mrn
        return self._until_saved(
            dialog,
            lambda d: add_by_hand(self._services, self._actor(), mrn, d),
        )

    def edit_time(self) -> bool:
        entry = self.selected_entry()
        if entry is None or not self.edit_button.isEnabled():
            return False
        dialog = self._entry_dialog(entry)
        return self._until_saved(
            dialog, lambda d: correct_entry(self._services, self._actor(), entry, d)
        )

    def _until_saved(self, dialog: ManualEntryDialog, save: Callable[..., object]) -> bool:
        if not save_until_taken(dialog, self.exec_dialog, save):
            return False
        self.refresh()
        return True

    def exec_dialog(self, dialog: ManualEntryDialog) -> bool:
        """Run a dialog (a method, so tests can fill it in instead of a person)."""
        return dialog.exec() == ManualEntryDialog.DialogCode.Accepted

    def delete_time(self) -> bool:
        entry = self.selected_entry()
        if entry is None or not self.delete_button.isEnabled():
            return False
        reason = self.ask_reason(entry)
        if reason is None:
            return False
        try:
            self._services.entries.delete(self._actor(), entry.entry_id, reason)
        except ServiceError as error:
            show_failure(self, error)
            return False
        self.refresh()
        return True

    def ask_reason(self, entry: EntryRow) -> str | None:
        zone = self._services.practice_zone()
        when = entry.started_at.astimezone(zone).strftime("%a %d %b %H:%M")
        text, ok = QInputDialog.getText(
            self,
            "Delete time",
            f"Delete {clock_text(entry.seconds)} from {when}? The entry is kept in the audit "
            "trail.\nReason (required):",
        )
        return text.strip() if ok and text.strip() else None


def month_title(month: str) -> str:
    year, number = month_parts(month)
    return f"{calendar.month_name[number]} {year}"
