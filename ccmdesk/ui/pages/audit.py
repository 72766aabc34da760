"""The audit viewer: who changed what, when, from what to what, and whether the chain holds."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QDate, QModelIndex, QObject, Qt, QTimer
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDateEdit,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QSplitter,
    QTableView,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ccmdesk.rules.billing import clock, dollars
from ccmdesk.services import Actor, AuditFilter, AuditRow, ChainCheck, Services
from ccmdesk.services.deep_check import DeepCheck
from ccmdesk.ui.background import LatestOnly, TaskRunner, ThreadTaskRunner
from ccmdesk.ui.forms import hint_label, plain, show_failure
from ccmdesk.ui.pages.services_page import ServicesPage
from ccmdesk.ui.refresh import Changes
from ccmdesk.ui.widgets.rows_model import RowsModel
from ccmdesk.ui.widgets.tables import BLOCK_COLOR, ModelIndex, prepare_table

WHEN, WHO, ACTION, PATIENT, RECORD, REASON = range(6)
HEADERS = ("When", "Who", "Action", "Patient", "Record", "Why")
# The first date a filter can hold means "no limit" (shown as "any").
ANY_DAY = QDate(2000, 1, 1)
FILTER_DELAY_MS = 250
CHANGED_COLOR = QColor("#fff4d6")
# The deep check's differences listed on the page; the command line lists every one.
DIFFERENCES_SHOWN = 12
GOOD_COLOR = QColor("#1e7a3c")
ACTION_GROUPS = (
    ("time.", "Time (all)"),
    ("month.", "Months: facts, signing, closing (all)"),
    ("patient.", "Patients (all)"),
    ("waiver.", "Hardship waivers (all)"),
    ("staff.", "Staff (all)"),
    ("practice.", "Practice (all)"),
)


# What each recorded action is called on screen; the stored code stays in the tooltip and in
# the trail itself (the chain hashes the code, never this wording).
ACTION_LABELS = {
    "auth.account_lock": "Account locked",
    "auth.failure": "Sign-in refused",
    "auth.password_set": "Password set",
    "auth.pin_removed": "Unlock PIN removed",
    "auth.pin_set": "Unlock PIN set",
    "auth.screen_lock": "Screen locked",
    "auth.screen_unlock": "Screen unlocked",
    "auth.sign_in": "Signed in",
    "auth.sign_out": "Signed out",
    "database.restore": "Backup restored",
    "enrolment.declined": "Patient declined care management",
    "enrolment.offered": "Care management offered",
    "fees.update": "Fee schedule changed",
    "payer.create": "Payer added",
    "payer.delete": "Payer deleted",
    "payer.retire": "Payer retired",
    "payer.update": "Payer changed",
    "month.acknowledge": "Month's changes acknowledged",
    "month.close": "Month closed",
    "month.create": "Month facts added",
    "month.export": "Month exported",
    "month.family": "Code family switched",
    "month.flag": "Billed month flagged",
    "month.reopen": "Month reopened",
    "month.sign": "Month signed",
    "month.unlock": "Signed month unlocked",
    "month.update": "Month facts changed",
    "patient.call": "Call logged",
    "patient.callback": "Callback scheduled",
    "patient.callback_cancel": "Callback cancelled",
    "patient.callback_done": "Callback done",
    "patient.callback_link": "Callback linked to a stopwatch",
    "patient.create": "Patient added",
    "patient.program": "Patient's program changed",
    "patient.program_remove": "Patient's program change removed",
    "patient.update": "Patient changed",
    "practice.apcm_attest": "APCM prerequisites attested",
    "practice.apcm_withdraw": "APCM attestation withdrawn",
    "practice.attestation": "Sign-off statement changed",
    "practice.auto_lock": "Screen lock minutes changed",
    "practice.create": "Practice created",
    "practice.reminders": "Reminder settings changed",
    "practice.stopwatch_settings": "Stopwatch settings changed",
    "practice.update": "Practice changed",
    "staff.create": "Staff member added",
    "staff.reminders": "Own reminders turned on or off",
    "staff.update": "Staff member changed",
    "time.clock_set_back": "Clock set back (stopwatch)",
    "time.create": "Time added",
    "time.delete": "Time deleted",
    "time.discard": "Stopwatch discarded",
    "time.idle_discard": "Idle time left out",
    "time.idle_keep": "Idle time kept",
    "time.pause": "Stopwatch paused",
    "time.recover_keep": "Stopwatch kept after a crash",
    "time.resume": "Stopwatch resumed",
    "time.start": "Stopwatch started",
    "time.stop": "Stopwatch stopped",
    "time.update": "Time changed",
    "waiver.create": "Hardship waiver recorded",
    "waiver.delete": "Hardship waiver deleted",
    "waiver.end": "Hardship waiver ended",
    "waiver.update": "Hardship waiver changed",
}


def action_label(action: str) -> str:
    return ACTION_LABELS.get(action, action)


def _value(name: str, value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int) and name.endswith("_cents"):
        return dollars(value)
    if isinstance(value, int) and (name == "seconds" or name.endswith("_seconds")):
        return clock(value)
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def _field(name: str) -> str:
    """`amount_cents` reads "amount", `staff_id` "staff id"."""
    for suffix in ("_cents", "_seconds"):
        name = name.removesuffix(suffix)
    return name.replace("_", " ")


def changes(row: AuditRow) -> list[tuple[str, str, str]]:
    """(field, before, after) for every field either side has, in name order, in words:
    cents as dollars, seconds as minutes."""
    before, after = row.before or {}, row.after or {}
    return [
        (_field(name), _value(name, before.get(name)), _value(name, after.get(name)))
        for name in sorted(set(before) | set(after))
    ]


class _Note(QLabel):
    """A line that takes no room while it has nothing to say (the checks' outcomes)."""

    def __init__(self) -> None:
        super().__init__()
        self.setVisible(False)

    def setText(self, text: str) -> None:
        super().setText(text)
        self.setVisible(bool(text))


class AuditTableModel(RowsModel[AuditRow]):
    def __init__(self, zone: dt.tzinfo, parent: QObject | None = None) -> None:
        super().__init__(HEADERS, parent)
        self._zone = zone

    def data(self, index: ModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or role not in (
            Qt.ItemDataRole.DisplayRole,
            Qt.ItemDataRole.ToolTipRole,
        ):
            return None
        row = self._rows[index.row()]
        column = index.column()
        if column == WHEN:
            return f"{row.at.astimezone(self._zone):%Y-%m-%d %H:%M:%S}"
        if column == WHO:
            return row.actor_name if role == Qt.ItemDataRole.DisplayRole else row.actor
        if column == ACTION:
            return action_label(row.action) if role == Qt.ItemDataRole.DisplayRole else row.action
        if column == PATIENT:
            return f"{row.patient_name} ({row.mrn})" if row.mrn else ""
        if column == RECORD:
            return f"{row.entity} {row.entity_key}"
        return row.reason


class AuditPage(ServicesPage):
    """The trail, newest first, narrowed by patient, staff, action and days."""

    TITLE = "Audit trail"

    def __init__(
        self,
        services: Services,
        actor: Callable[[], Actor],
        runner: TaskRunner | None = None,
        parent: QWidget | None = None,
    ) -> None:
        # Set before the base builds the page: the first load runs on it.
        self._runner = runner or ThreadTaskRunner()
        super().__init__(services, actor, parent)

    def _build(self) -> None:
        # Each check shows only its newest run's outcome.
        self._checks = LatestOnly(self._runner)
        self._deep_checks = LatestOnly(self._runner)
        self.rows: list[AuditRow] = []

        self.mrn_field = QLineEdit()
        self.mrn_field.setObjectName("auditPatient")
        self.mrn_field.setPlaceholderText("Patient MRN")
        self.mrn_field.setClearButtonEnabled(True)
        self.mrn_field.setMaximumWidth(140)
        self.mrn_field.setMinimumWidth(100)  # "Patient MRN" readable in a narrow window
        self.staff_box = QComboBox()
        self.staff_box.setObjectName("auditStaff")
        self.staff_box.setAccessibleName("Staff member")
        self.action_box = QComboBox()
        self.action_box.setObjectName("auditAction")
        self.action_box.setAccessibleName("Action")
        self.first_day = self._day_edit("auditFrom", "From day")
        self.last_day = self._day_edit("auditTo", "To day")
        self.verify_button = QPushButton("Verify chain")
        self.verify_button.setObjectName("verifyChain")
        self.deep_button = QPushButton("Deep check")
        self.deep_button.setObjectName("deepCheck")
        self.deep_button.setToolTip(
            "Rebuild staff, patients, time, month facts, signatures, closes, fees, the practice "
            "and care plans (versions, signatures, copies given) from the audit trail and name "
            "every row the database holds differently"
        )
        self.count_label = QLabel()
        self.count_label.setObjectName("statusLabel")
        self.chain_label = plain(_Note())
        self.chain_label.setObjectName("chainLabel")
        self.chain_label.setWordWrap(True)
        self.chain_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.deep_label = plain(_Note())
        self.deep_label.setObjectName("deepLabel")
        self.deep_label.setWordWrap(True)
        self.deep_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        self.model = AuditTableModel(self._services.practice_zone(), self)
        self.table = QTableView()
        self.table.setObjectName("auditTable")
        self.table.setModel(self.model)
        prepare_table(self.table)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(True)
        for column, width in enumerate((150, 130, 150, 190, 170)):
            self.table.setColumnWidth(column, width)
        self.detail_heading = plain(hint_label())
        self.detail_heading.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.details = QTableWidget(0, 3)
        self.details.setObjectName("auditChanges")
        self.details.setHorizontalHeaderLabels(["Field", "Before", "After"])
        self.details.verticalHeader().hide()
        self.details.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.details.setWordWrap(True)
        details_header = self.details.horizontalHeader()
        details_header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        details_header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        details_header.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)

        filters = QHBoxLayout()
        filters.addWidget(self.heading)
        filters.addSpacing(12)
        filters.addWidget(self.mrn_field)
        filters.addWidget(self.staff_box)
        filters.addWidget(self.action_box)
        filters.addWidget(QLabel("from"))
        filters.addWidget(self.first_day)
        filters.addWidget(QLabel("to"))
        filters.addWidget(self.last_day)
        filters.addStretch(1)
        # The checks sit on the count's row: one row of filters and buttons needed 1,060 px.
        checks = QHBoxLayout()
        checks.addWidget(self.count_label, 1)
        checks.addWidget(self.verify_button)
        checks.addWidget(self.deep_button)
        for box in (self.staff_box, self.action_box):
            # Long choices ("Months: facts, signing, closing (all)") must not widen the page.
            box.setSizeAdjustPolicy(
                QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
            )
            box.setMinimumContentsLength(10)
        bottom = QWidget()
        bottom_layout = QVBoxLayout(bottom)
        bottom_layout.setContentsMargins(0, 4, 0, 0)
        bottom_layout.addWidget(self.detail_heading)
        bottom_layout.addWidget(self.details, 1)
        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.setChildrenCollapsible(False)
        splitter.addWidget(self.table)
        splitter.addWidget(bottom)
        splitter.setSizes([420, 240])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(filters)
        layout.addWidget(self.chain_label)
        layout.addWidget(self.deep_label)
        layout.addLayout(checks)
        layout.addWidget(splitter, 1)

        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(FILTER_DELAY_MS)
        self._timer.timeout.connect(self.reload)
        self.mrn_field.textChanged.connect(lambda _t: self._timer.start())
        for box in (self.staff_box, self.action_box):
            box.currentIndexChanged.connect(lambda _i: self.reload())
        for edit in (self.first_day, self.last_day):
            edit.dateChanged.connect(lambda _d: self.reload())
        self.verify_button.clicked.connect(self.verify)
        self.deep_button.clicked.connect(self.deep_check)
        self.table.selectionModel().currentRowChanged.connect(self._show_current)
        self._fill_choices()
        self.reload()

    @staticmethod
    def _day_edit(name: str, label: str) -> QDateEdit:
        edit = QDateEdit()
        edit.setObjectName(name)
        edit.setAccessibleName(label)
        edit.setCalendarPopup(True)
        edit.setDisplayFormat("yyyy-MM-dd")
        edit.setMinimumDate(ANY_DAY)
        edit.setSpecialValueText("any day")
        edit.setDate(ANY_DAY)
        return edit

    def _fill_choices(self) -> None:
        actor = self._actor()
        self.staff_box.blockSignals(True)
        self.action_box.blockSignals(True)
        self.staff_box.clear()
        self.staff_box.addItem("Everyone", "")
        for member in self._services.staff.list(include_inactive=True):
            self.staff_box.addItem(f"{member.name} ({member.staff_id})", member.staff_id)
        self.action_box.clear()
        self.action_box.addItem("Every action", "")
        for prefix, label in ACTION_GROUPS:
            self.action_box.addItem(label, prefix)
        for action in self._services.audit.actions(actor):
            self.action_box.addItem(action_label(action), action)
        self.staff_box.blockSignals(False)
        self.action_box.blockSignals(False)

    def current_filter(self) -> AuditFilter:
        def day(edit: QDateEdit) -> dt.date | None:
            value = edit.date()
            return None if value == ANY_DAY else dt.date(value.year(), value.month(), value.day())

        return AuditFilter(
            mrn=self.mrn_field.text(),
            actor=str(self.staff_box.currentData() or ""),
            action=str(self.action_box.currentData() or ""),
            first_day=day(self.first_day),
            last_day=day(self.last_day),
        )

    def reload(self) -> None:
        try:
            rows, more = self._services.audit.events(self._actor(), self.current_filter())
        except Exception as error:
            show_failure(self, error)
            return
        self.rows = rows
        self.model.replace_rows(rows)
        word = "event" if len(rows) == 1 else "events"
        self.count_label.setText(
            f"Newest {len(rows):,} {word} shown; narrow the filters to see older ones."
            if more
            else f"{len(rows):,} {word}."
        )
        if rows:
            self.table.selectRow(0)
        else:
            self.show_event(None)

    def refresh(self, _changes: Changes) -> None:
        self.reload()

    def forget_person(self) -> None:
        self.table.clearSelection()

    def clear(self) -> None:
        """Show nothing (the signed-in person may not see the trail); a late check is ignored."""
        self._checks.forget()
        self._deep_checks.forget()
        self.rows = []
        self.model.replace_rows([])
        self.show_event(None)
        self.count_label.setText("")
        self.chain_label.setText("")
        self.deep_label.setText("")
        self.verify_button.setEnabled(True)
        self.deep_button.setEnabled(True)

    def _show_current(self, current: QModelIndex, _previous: QModelIndex) -> None:
        if current.isValid():
            self.show_event(self.model.row_at(current.row()))

    def show_event(self, row: AuditRow | None) -> None:
        self.details.setRowCount(0)
        if row is None:
            self.detail_heading.setText("")
            return
        self.detail_heading.setText(
            f"Event {row.id} · {action_label(row.action)} ({row.action}) by {row.actor_name} "
            f"({row.actor})"
            + (f" · why: {row.reason}" if row.reason else "")
            + f" · hash {row.hash}"
        )
        found = changes(row)
        self.details.setRowCount(len(found))
        for n, (name, before, after) in enumerate(found):
            items = [QTableWidgetItem(name), QTableWidgetItem(before), QTableWidgetItem(after)]
            for column, item in enumerate(items):
                if before != after and row.before is not None and row.after is not None:
                    item.setBackground(QBrush(CHANGED_COLOR))
                self.details.setItem(n, column, item)
        self.details.resizeRowsToContents()

    def verify(self) -> None:
        """Recompute the whole chain on a worker thread."""
        self._run_check(
            self._checks,
            self.verify_button,
            self.chain_label,
            "Checking every event of the chain…",
            self._services.audit.verify,
            self._verified,
        )

    def _run_check(
        self,
        checks: LatestOnly,
        button: QPushButton,
        label: QLabel,
        text: str,
        check: Callable[[Actor], Any],
        done: Callable[[Any], None],
    ) -> None:
        """Run a check on a worker thread, its button off and `label` saying what it does
        meanwhile; a failure clears the label."""
        button.setEnabled(False)
        label.setText(text)
        actor = self._actor()

        def failed(error: BaseException) -> None:
            button.setEnabled(True)
            label.setText("")
            show_failure(self, error)

        checks.run(lambda: check(actor), done, failed)

    def _verified(self, check: ChainCheck) -> None:
        self.verify_button.setEnabled(True)
        if check.ok:
            self.chain_label.setStyleSheet(f"color: {GOOD_COLOR.name()}")
            self.chain_label.setText(
                f"Chain intact: {check.events:,} events. Head hash {check.head} "
                "(write it down to prove later that nothing before it was removed)."
            )
            return
        self.chain_label.setStyleSheet(f"color: {BLOCK_COLOR.name()}")
        bad = check.first_bad
        where = (
            f"event {bad.id} ({bad.action} by {bad.actor} on {bad.at:%Y-%m-%d %H:%M} UTC)"
            if bad
            else "the chain"
        )
        self.chain_label.setText(f"The audit trail is broken at {where}: {check.problem}.")

    def deep_check(self) -> None:
        """Compare the data tables with the audit trail on a worker thread (it reads every
        row and every event: seconds on a large practice)."""
        self.deep_label.setStyleSheet("")
        self._run_check(
            self._deep_checks,
            self.deep_button,
            self.deep_label,
            "Comparing every data table with the audit trail…",
            self._services.audit.deep_check,
            self._deep_checked,
        )

    def _deep_checked(self, check: DeepCheck) -> None:
        self.deep_button.setEnabled(True)
        color = GOOD_COLOR if check.ok else BLOCK_COLOR
        self.deep_label.setStyleSheet(f"color: {color.name()}")
        lines = [check.summary()]
        lines += [f"• {d.message()}" for d in check.differences[:DIFFERENCES_SHOWN]]
        more = len(check.differences) - DIFFERENCES_SHOWN
        if more > 0:
            lines.append(f"… and {more:,} more: `ccmdesk audit verify --deep` lists them all.")
        self.deep_label.setText("\n".join(lines))
