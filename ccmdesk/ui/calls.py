"""The patient panel's Calls tab: numbers, best time, open callbacks and the call log."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence

from PySide6.QtCore import QDate, QDateTime, Qt, QTime, Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QCheckBox,
    QDateTimeEdit,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ccmdesk.rules.calls import OUTCOME_LABELS, call_time_label, call_window_open, due_today
from ccmdesk.rules.catalog import CALL_OUTCOMES
from ccmdesk.services import (
    Actor,
    CallbackRow,
    CallLog,
    Permission,
    ServiceError,
    Services,
    ValidationFailed,
    allowed,
)
from ccmdesk.ui.forms import (
    FieldErrorLabel,
    FormErrors,
    ValueComboBox,
    hint_label,
    plain,
    show_failure,
)
from ccmdesk.ui.widgets.tables import prepare_table

LOG_HEADERS = ("When", "Who", "Outcome", "Number", "Note")
CALLBACK_HEADERS = ("Due", "Who calls", "Note")
NO_NUMBER = "No number on file"


def when_text(instant: dt.datetime, zone: dt.tzinfo) -> str:
    """ "Mon 16 Mar 14:05", the practice's wall clock."""
    return instant.astimezone(zone).strftime("%a %d %b %H:%M")


def numbers_text(log: CallLog, local_now: dt.datetime) -> str:
    """The patient's numbers and best time, one line: what a caller needs at a glance."""
    parts = [f"{label} {number}" for label, number in log.phones] or [NO_NUMBER]
    if log.preferred_call_time:
        best = f"best time: {call_time_label(log.preferred_call_time)}"
        if call_window_open(log.preferred_call_time, local_now):
            best += " (now)"
        parts.append(best)
    return " · ".join(parts)


def _to_qt(instant: dt.datetime, zone: dt.tzinfo) -> QDateTime:
    local = instant.astimezone(zone)
    return QDateTime(
        QDate(local.year, local.month, local.day), QTime(local.hour, local.minute, local.second)
    )


def _from_qt(value: QDateTime, zone: dt.tzinfo) -> dt.datetime:
    """A local date and time typed in the dialog as a UTC instant."""
    day, time = value.date().toPython(), value.time().toPython()
    assert isinstance(day, dt.date) and isinstance(time, dt.time)
    return dt.datetime.combine(day, time, zone).astimezone(dt.UTC)


class LogCallDialog(QDialog):
    """What came of a call: outcome, number dialled, a note, and when to call back."""

    def __init__(
        self,
        patient_name: str,
        log: CallLog,
        now: dt.datetime,
        zone: dt.tzinfo,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("logCallDialog")
        self.setWindowTitle("Log call")
        self.setMinimumWidth(460)
        self._zone = zone
        text = hint_label(
            f"What came of the call to {patient_name}. A call is a record, not time: time it "
            "with the stopwatch."
        )
        self.outcome = ValueComboBox()
        for outcome in CALL_OUTCOMES:
            self.outcome.add_value(OUTCOME_LABELS[outcome], outcome)
        self.phone = ValueComboBox()
        for label, number in log.phones:
            self.phone.add_value(f"{number} ({label.lower()})", number)
        if not log.phones:
            self.phone.add_value(NO_NUMBER, "")
        self.answers = ValueComboBox()
        self.answers.add_value("No (a call of its own)", "")
        answered = ""
        for callback in log.open_callbacks:
            self.answers.add_value(f"Callback due {when_text(callback.due_at, zone)}",
                                   str(callback.callback_id))  # fmt: skip
            if not answered and due_today(callback.due_at, now, zone):
                answered = str(callback.callback_id)
        self.answers.set_value(answered)  # a callback due today is most likely the one
        self.answers.setEnabled(bool(log.open_callbacks))
        self.note = QPlainTextEdit()
        self.note.setTabChangesFocus(True)
        self.note.setFixedHeight(self.note.fontMetrics().height() * 3 + 16)
        self.call_back = QCheckBox("Call back at")
        self.call_back.setObjectName("callBack")
        self.due = QDateTimeEdit()
        self.due.setCalendarPopup(True)
        self.due.setDisplayFormat("ddd dd MMM yyyy HH:mm")
        self.due.setDateTime(_to_qt(now + dt.timedelta(days=1), zone))
        self.due.setEnabled(False)
        self.call_back.toggled.connect(self.due.setEnabled)
        self.general_error = FieldErrorLabel()
        self.errors = FormErrors(self.general_error)
        form = QFormLayout()
        fields: tuple[tuple[str, str, QWidget], ...] = (
            ("outcome", "Outcome", self.outcome),
            ("phone", "Number", self.phone),
            ("callback", "Answers", self.answers),
            ("note", "Note", self.note),
        )
        for name, label, widget in fields:
            widget.setObjectName(name)
            widget.setAccessibleName(label)
            form.addRow(label, self.errors.add(name, label, widget))
        self.due.setObjectName("due_at")
        self.due.setAccessibleName("Call back at")
        form.addRow(self.call_back, self.errors.add("due_at", "Call back at", self.due))
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        buttons.addButton("Log call", QDialogButtonBox.ButtonRole.AcceptRole)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(text)
        layout.addLayout(form)
        layout.addWidget(self.general_error)
        layout.addWidget(buttons)

    def callback_id(self) -> int | None:
        value = self.answers.value()
        return int(value) if value else None

    def call_back_at(self) -> dt.datetime | None:
        return _from_qt(self.due.dateTime(), self._zone) if self.call_back.isChecked() else None

    def set_call_back_at(self, instant: dt.datetime) -> None:
        self.call_back.setChecked(True)
        self.due.setDateTime(_to_qt(instant, self._zone))


class CallsSection(QWidget):
    """A patient's numbers and best time, open callbacks (Done, Cancel) and the call log, with
    Log call… for whoever phones patients."""

    changed = Signal()

    def __init__(
        self,
        services: Services,
        actor: Callable[[], Actor],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("callsSection")
        self._services = services
        self._actor = actor
        self._mrn: str | None = None
        self._name = ""
        self.log: CallLog | None = None
        self._callbacks: list[CallbackRow] = []
        self.numbers = plain(QLabel())
        self.numbers.setObjectName("callNumbers")
        self.numbers.setWordWrap(True)
        self.log_button = QPushButton("Log call…")
        self.log_button.setObjectName("logCall")
        self.log_button.clicked.connect(self.log_call)
        self.callbacks_heading = QLabel("Callbacks")
        self.callbacks_heading.setObjectName("sectionHeading")
        self.done_button = QPushButton("Done")
        self.done_button.setObjectName("callbackDone")
        self.cancel_button = QPushButton("Cancel callback")
        self.cancel_button.setObjectName("callbackCancel")
        self.done_button.clicked.connect(lambda: self.finish("done"))
        self.cancel_button.clicked.connect(lambda: self.finish("cancelled"))
        self.callbacks = self._table("openCallbacks", CALLBACK_HEADERS)
        row_height = self.callbacks.verticalHeader().defaultSectionSize()
        self.callbacks.setMaximumHeight(row_height * 4 + 8)
        self.callbacks.itemSelectionChanged.connect(self._update_buttons)
        self.history_heading = QLabel("Call log")
        self.history_heading.setObjectName("sectionHeading")
        self.history = self._table("callLog", LOG_HEADERS)

        top = QHBoxLayout()
        top.addWidget(self.numbers, 1)
        top.addWidget(self.log_button)
        callback_bar = QHBoxLayout()
        callback_bar.addWidget(self.callbacks_heading, 1)
        callback_bar.addWidget(self.done_button)
        callback_bar.addWidget(self.cancel_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 8, 0, 0)
        layout.addLayout(top)
        layout.addLayout(callback_bar)
        layout.addWidget(self.callbacks)
        layout.addWidget(self.history_heading)
        layout.addWidget(self.history, 1)

    @property
    def patient_name(self) -> str:
        return self._name

    @staticmethod
    def _table(name: str, headers: Sequence[str]) -> QTableWidget:
        table = QTableWidget(0, len(headers))
        table.setObjectName(name)
        table.setHorizontalHeaderLabels(list(headers))
        prepare_table(table)
        table.horizontalHeader().setStretchLastSection(True)
        return table

    def set_patient(self, mrn: str, name: str) -> CallLog | None:
        """Read and show the patient's calls; return them."""
        self._mrn, self._name = mrn, name
        calling = allowed(self._actor(), Permission.LOG_CALLS)
        for button in (self.log_button, self.done_button, self.cancel_button):
            button.setVisible(calling)
        try:
            self.log = self._services.calls.patient_log(self._actor(), mrn)
        except ServiceError as error:
            self.log = None
            self.numbers.setText(str(error))
            self.callbacks.setRowCount(0)
            self.history.setRowCount(0)
            return None
        self._show(self.log)
        return self.log

    def _show(self, log: CallLog) -> None:
        zone = self._services.practice_zone()
        now = self._services.now()
        self.numbers.setText(numbers_text(log, now.astimezone(zone)))
        self._callbacks = list(log.open_callbacks)
        self.callbacks_heading.setText(
            f"Callbacks: {len(self._callbacks)} open" if self._callbacks else "Callbacks: none open"
        )
        self.callbacks.setRowCount(len(self._callbacks))
        bold = QFont(self.font())
        bold.setBold(True)
        for row, callback in enumerate(self._callbacks):
            overdue = callback.due_at <= now
            due = when_text(callback.due_at, zone) + (" · overdue" if overdue else "")
            due_cells = (due, callback.assigned_name or "Care manager", callback.note)
            for column, text in enumerate(due_cells):
                item = QTableWidgetItem(text)
                if column == 2 and callback.note:
                    item.setToolTip(callback.note)
                if overdue and column == 0:
                    item.setForeground(Qt.GlobalColor.red)
                    item.setFont(bold)
                self.callbacks.setItem(row, column, item)
        self.callbacks.resizeColumnsToContents()
        self.history_heading.setText(
            f"Call log: {len(log.attempts)} call{'' if len(log.attempts) == 1 else 's'}"
        )
        self.history.setRowCount(len(log.attempts))
        for row, attempt in enumerate(log.attempts):
            cells = (
                when_text(attempt.at, zone),
                attempt.caller,
                OUTCOME_LABELS[attempt.outcome],
                attempt.phone,
                attempt.note.splitlines()[0] if attempt.note else "",
            )
            for column, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if column == 4 and attempt.note:
                    item.setToolTip(attempt.note)
                self.history.setItem(row, column, item)
        self.history.resizeColumnsToContents()
        self._update_buttons()

    def selected_callback(self) -> CallbackRow | None:
        rows = self.callbacks.selectionModel().selectedRows()
        return self._callbacks[rows[0].row()] if rows else None

    def _update_buttons(self) -> None:
        chosen = self.selected_callback() is not None
        self.done_button.setEnabled(chosen)
        self.cancel_button.setEnabled(chosen)

    def log_call(self) -> bool:
        """Ask what came of a call and log it; the dialog stays open until it is taken."""
        if self._mrn is None or self.log is None:
            return False
        zone = self._services.practice_zone()
        dialog = LogCallDialog(self._name, self.log, self._services.now(), zone, self)
        while self.exec_dialog(dialog):
            if self._save(dialog):
                self.set_patient(self._mrn, self._name)
                self.changed.emit()
                return True
        return False

    def _save(self, dialog: LogCallDialog) -> bool:
        assert self._mrn is not None
        try:
            self._services.calls.record_attempt(
                self._actor(), self._mrn, dialog.outcome.value(), dialog.phone.value(),
                dialog.note.toPlainText(), callback_id=dialog.callback_id(),
                call_back_at=dialog.call_back_at(),
            )  # fmt: skip
        except ValidationFailed as failure:
            dialog.errors.show(failure.errors)
            return False
        except ServiceError as error:
            dialog.errors.show_refusal(error)
            return False
        return True

    def finish(self, status: str) -> bool:
        """Mark the chosen callback done, or cancel it."""
        callback = self.selected_callback()
        if callback is None or self._mrn is None:
            return False
        calls = self._services.calls
        try:
            if status == "done":
                calls.done(self._actor(), callback.callback_id)
            else:
                calls.cancel(self._actor(), callback.callback_id)
        except ServiceError as error:
            show_failure(self, error)
            self.set_patient(self._mrn, self._name)
            return False
        self.set_patient(self._mrn, self._name)
        self.changed.emit()
        return True

    def exec_dialog(self, dialog: QDialog) -> bool:
        """Run a dialog (a method, so tests can fill it in instead of a person)."""
        return dialog.exec() == QDialog.DialogCode.Accepted
