"""A patient's enrolment history, the "cannot pay" options and, for billing, their waivers."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ccmdesk.rules.catalog import DECLINE_REASONS
from ccmdesk.rules.intervals import date_text
from ccmdesk.rules.records import FieldError
from ccmdesk.rules.validation import ParseError, parse_date
from ccmdesk.services import (
    Actor,
    Enrolment,
    Permission,
    ServiceError,
    Services,
    allowed,
)
from ccmdesk.ui.forms import FieldErrorLabel, FormErrors, ValueComboBox, hint_label, plain
from ccmdesk.ui.waivers import WaiverDialog, WaiverList
from ccmdesk.ui.widgets.tables import prepare_table

HISTORY_HEADERS = ("Day", "Step", "Recorded by", "Reason")
STEP_LABELS = {
    "offered": "Offered",
    "consented": "Consented",
    "declined": "Declined",
    "revoked": "Consent revoked",
}
# What the care team is shown for a patient who cannot pay, in this order (docs/payers.md).
CANNOT_PAY_OPTIONS = (
    "Check QMB or other Medicare Savings Program eligibility: a QMB patient owes nothing.",
    "Record a secondary payer (Medigap, Medicaid, a retiree plan) in the patient's record.",
    "Record a hardship waiver (billing staff).",
    "Stop the service: a revocation takes effect at the end of its month.",
)


class StepDialog(QDialog):
    """Record that care management was offered, or that the patient declined it (and why)."""

    def __init__(self, step: str, patient_name: str, today: dt.date, parent: QWidget) -> None:
        super().__init__(parent)
        self.setObjectName("enrolmentStepDialog")
        self.step = step
        declined = step == "declined"
        self.setWindowTitle("Patient declined" if declined else "Care management offered")
        self.setMinimumWidth(440)
        text = hint_label(
            f"{patient_name} declined care management. The reason is kept in the enrolment "
            "history." if declined else
            f"Care management was offered to {patient_name}."
        )  # fmt: skip
        self.day = QLineEdit(today.isoformat())
        self.day.setPlaceholderText("YYYY-MM-DD")
        self.reason = ValueComboBox()
        self.reason.add_value("— choose —", "")
        for reason in DECLINE_REASONS:
            self.reason.add_value(reason.capitalize(), reason)
        self.note = QPlainTextEdit()
        self.note.setPlaceholderText("Needed when the reason is Other")
        self.note.setTabChangesFocus(True)
        self.note.setFixedHeight(self.note.fontMetrics().height() * 3 + 16)
        self.general_error = FieldErrorLabel()
        self.errors = FormErrors(self.general_error)
        form = QFormLayout()
        fields: dict[str, tuple[str, QWidget]] = {"day": ("Day", self.day)}
        if declined:
            fields["reason"] = ("Reason", self.reason)
        fields["note"] = ("Note", self.note)
        for name, (label, widget) in fields.items():
            widget.setObjectName(name)
            form.addRow(label, self.errors.add(name, label, widget))
        self.reason.setVisible(declined)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        buttons.addButton("Record", QDialogButtonBox.ButtonRole.AcceptRole)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(text)
        layout.addLayout(form)
        layout.addWidget(self.general_error)
        layout.addWidget(buttons)


class CannotPayBox(QFrame):
    """The options for a patient who cannot pay the coinsurance, in the order of
    docs/payers.md; billing staff get the button for a hardship waiver."""

    waiver_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("cannotPayBox")
        heading = QLabel("Cannot pay the coinsurance")
        heading.setObjectName("sectionHeading")
        self.why = plain(hint_label())
        self.options = [plain(QLabel(f"{n}. {text}")) for n, text in
                        enumerate(CANNOT_PAY_OPTIONS, 1)]  # fmt: skip
        self.waiver_button = QPushButton("Record a hardship waiver…")
        self.waiver_button.setObjectName("cannotPayWaiver")
        self.waiver_button.clicked.connect(self.waiver_requested)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(10, 8, 10, 8)
        layout.setSpacing(3)
        layout.addWidget(heading)
        layout.addWidget(self.why)
        for number, label in enumerate(self.options):
            label.setWordWrap(True)
            if number == 2:
                row = QHBoxLayout()
                row.addWidget(label, 1)
                row.addWidget(self.waiver_button)
                layout.addLayout(row)
            else:
                layout.addWidget(label)

    def show_for(self, enrolment: Enrolment | None, may_waive: bool) -> None:
        shown = enrolment is not None and enrolment.shows_cost_options
        self.setVisible(shown)
        if not shown or enrolment is None:
            return
        self.why.setText(
            "The patient record says the patient cannot pay the coinsurance."
            if enrolment.cannot_pay
            else "The patient last declined or stopped care management because of the cost share."
        )
        self.waiver_button.setVisible(may_waive)


class EnrolmentSection(QWidget):
    """The enrolment history with Offered… and Declined…, and below it, for billing staff,
    the patient's hardship waivers."""

    changed = Signal()

    def __init__(
        self,
        services: Services,
        actor: Callable[[], Actor],
        today: Callable[[], dt.date],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("enrolmentSection")
        self._services = services
        self._actor = actor
        self._today = today
        self._mrn: str | None = None
        self._name = ""
        self.enrolment: Enrolment | None = None
        self.heading = QLabel("Enrolment")
        self.heading.setObjectName("sectionHeading")
        self.offered_button = QPushButton("Offered…")
        self.offered_button.setObjectName("enrolmentOffered")
        self.declined_button = QPushButton("Declined…")
        self.declined_button.setObjectName("enrolmentDeclined")
        self.offered_button.clicked.connect(lambda: self.record_step("offered"))
        self.declined_button.clicked.connect(lambda: self.record_step("declined"))
        self.history = QTableWidget(0, len(HISTORY_HEADERS))
        self.history.setObjectName("enrolmentHistory")
        self.history.setHorizontalHeaderLabels(list(HISTORY_HEADERS))
        prepare_table(self.history)
        self.history.horizontalHeader().setStretchLastSection(True)
        self.history.setMaximumHeight(self.history.verticalHeader().defaultSectionSize() * 5 + 8)
        self.waivers_heading = QLabel("Hardship waivers")
        self.waivers_heading.setObjectName("sectionHeading")
        self.waivers = WaiverList(services, actor, today, parent=self)
        self.waivers.table.setMaximumHeight(
            self.waivers.table.verticalHeader().defaultSectionSize() * 4 + 8
        )
        self.waivers.changed.connect(self.changed)
        bar = QHBoxLayout()
        bar.addWidget(self.heading, 1)
        bar.addWidget(self.offered_button)
        bar.addWidget(self.declined_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(bar)
        layout.addWidget(self.history)
        layout.addSpacing(6)
        layout.addWidget(self.waivers_heading)
        layout.addWidget(self.waivers)
        layout.addStretch(1)

    def set_patient(self, mrn: str, name: str) -> Enrolment | None:
        """Show the patient's history (and waivers, for billing staff); return the history."""
        self._mrn, self._name = mrn, name
        actor = self._actor()
        editing = allowed(actor, Permission.EDIT_PATIENTS)
        self.offered_button.setVisible(editing)
        self.declined_button.setVisible(editing)
        waivers = allowed(actor, Permission.MANAGE_WAIVERS)
        self.waivers_heading.setVisible(waivers)
        self.waivers.setVisible(waivers)
        try:
            self.enrolment = self._services.enrolment.history(actor, mrn)
        except ServiceError as error:
            self.enrolment = None
            self.heading.setText(f"Enrolment: {error}")
            self.history.setRowCount(0)
            return None
        self._show_history(self.enrolment)
        if waivers:
            self.waivers.set_patient(mrn, name)
        return self.enrolment

    def _show_history(self, enrolment: Enrolment) -> None:
        last = enrolment.last
        status = ""
        if last is not None and last.step == "declined":
            status = f" · declined on {date_text(last.day)}: not enrolled"
        self.heading.setText("Enrolment" + status)
        steps = list(reversed(enrolment.steps))  # the newest first, as the time log
        self.history.setRowCount(len(steps))
        for number, step in enumerate(steps):
            reason = step.reason.capitalize()
            if step.note:
                reason = f"{reason}: {step.note}" if reason else step.note
            cells = (date_text(step.day), STEP_LABELS[step.step], step.recorded_by, reason)
            for column, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if column == 3 and step.note:
                    item.setToolTip(step.note)
                self.history.setItem(number, column, item)
        self.history.resizeColumnsToContents()

    def record_step(self, step: str) -> bool:
        """Ask for the day (and why) and record it; the dialog stays open until it is taken."""
        if self._mrn is None:
            return False
        dialog = StepDialog(step, self._name, self._today(), self)
        while self.exec_dialog(dialog):
            if self._save_step(dialog):
                self.set_patient(self._mrn, self._name)
                self.changed.emit()
                return True
        return False

    def _save_step(self, dialog: StepDialog) -> bool:
        assert self._mrn is not None
        try:
            day = parse_date(dialog.day.text())
        except ParseError as exc:
            dialog.errors.show([FieldError("day", str(exc))])
            return False
        if day is None:
            dialog.errors.show([FieldError("day", "is required")])
            return False
        enrolment = self._services.enrolment
        note = dialog.note.toPlainText()
        try:
            if dialog.step == "declined":
                enrolment.declined(self._actor(), self._mrn, day, dialog.reason.value(), note)
            else:
                enrolment.offered(self._actor(), self._mrn, day, note)
        except ServiceError as error:
            dialog.errors.show_refusal(error)
            return False
        return True

    def exec_dialog(self, dialog: QDialog) -> bool:
        """Run a dialog (a method, so tests can fill it in instead of a person)."""
        return dialog.exec() == QDialog.DialogCode.Accepted

    def open_waiver(self) -> WaiverDialog | None:
        """The waiver dialog for this patient (from the "cannot pay" options)."""
        return self.waivers.new_waiver()
