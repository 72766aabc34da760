"""Hardship waivers on screen: the waiver dialog, ending one, and the lists billing keeps."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from typing import TypeVar

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ccmdesk.rules.intervals import date_text
from ccmdesk.services import Actor, ServiceError, Services, ValidationFailed, WaiverRow
from ccmdesk.ui.forms import (
    FieldErrorLabel,
    FormErrors,
    ValueComboBox,
    hint_label,
    plain,
    show_failure,
)
from ccmdesk.ui.widgets.tables import prepare_table

LABELS = {
    "from_month": "First month",
    "to_month": "Last month",
    "approved_by": "Approved by",
    "approved_on": "Approved on",
    "reason": "Reason",
    "mrn": "Patient",
}


def this_month(today: dt.date) -> str:
    return f"{today.year:04d}-{today.month:02d}"


class WaiverDialog(QDialog):
    """Record a patient's hardship waiver, or change one; saved through the waiver service,
    which refuses (beside the fields, or in one line) what may not be."""

    saved = Signal(object)  # WaiverRow

    def __init__(
        self,
        services: Services,
        actor: Callable[[], Actor],
        mrn: str,
        patient_name: str,
        today: dt.date,
        row: WaiverRow | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("waiverDialog")
        self.setWindowTitle("Change hardship waiver" if row else "Record a hardship waiver")
        self.setMinimumWidth(520)
        self._services = services
        self._actor = actor
        self._mrn = mrn
        self._row = row
        heading = plain(QLabel(f"{patient_name} — MRN {mrn}"))
        heading.setObjectName("dialogHeading")
        explanation = hint_label(
            "Waive the coinsurance only for this patient's documented financial hardship, "
            "judged against the practice's written criteria. While the waiver covers a month "
            "the patient owes nothing and the superbill says who approved it."
        )
        self.from_month = QLineEdit(this_month(today))
        self.from_month.setPlaceholderText("YYYY-MM")
        self.to_month = QLineEdit()
        self.to_month.setPlaceholderText("YYYY-MM; blank: until it is ended")
        self.approved_by = ValueComboBox()
        for approver in services.waivers.approvers(actor()):
            if approver.active:
                self.approved_by.add_value(approver.name, approver.staff_id)
        self.approved_on = QLineEdit(today.isoformat())
        self.approved_on.setPlaceholderText("YYYY-MM-DD")
        self.reason = QPlainTextEdit()
        self.reason.setPlaceholderText("The hardship, and the criteria it meets (required)")
        self.reason.setTabChangesFocus(True)
        self.reason.setFixedHeight(self.reason.fontMetrics().height() * 4 + 16)
        if row is not None:
            record = row.record
            self.from_month.setText(record.from_month)
            self.to_month.setText(record.to_month or "")
            self.approved_by.set_value(record.approved_by, row.approved_by_name)
            self.approved_on.setText(record.approved_on.isoformat() if record.approved_on else "")
            self.reason.setPlainText(record.reason)
        else:
            self.approved_by.set_value(actor().key)
        self.inputs: dict[str, QWidget] = {
            "from_month": self.from_month,
            "to_month": self.to_month,
            "approved_by": self.approved_by,
            "approved_on": self.approved_on,
            "reason": self.reason,
        }
        self.general_error = FieldErrorLabel()
        self.errors = FormErrors(self.general_error)
        form = QFormLayout()
        for name, widget in self.inputs.items():
            widget.setObjectName(name)
            widget.setAccessibleName(LABELS[name])
            form.addRow(LABELS[name], self.errors.add(name, LABELS[name], widget))
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.save_button = buttons.addButton(
            "Save" if row else "Record waiver", QDialogButtonBox.ButtonRole.AcceptRole
        )
        buttons.accepted.connect(self.save)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(heading)
        layout.addWidget(explanation)
        layout.addLayout(form)
        layout.addWidget(self.general_error)
        layout.addWidget(buttons)

    def raw(self) -> dict[str, str]:
        return {
            "mrn": self._mrn,
            "from_month": self.from_month.text(),
            "to_month": self.to_month.text(),
            "approved_by": self.approved_by.value(),
            "approved_on": self.approved_on.text(),
            "reason": self.reason.toPlainText(),
        }

    def save(self) -> bool:
        waivers = self._services.waivers
        try:
            if self._row is None:
                row = waivers.record_text(self._actor(), self.raw())
            else:
                row = waivers.change_text(self._actor(), self._row.waiver_id, self.raw())
        except ServiceError as error:
            self.errors.show_refusal(error)
            return False
        self.saved.emit(row)
        self.accept()
        return True


class EndWaiverDialog(QDialog):
    """End a waiver: the last month it covers."""

    saved = Signal(object)  # WaiverRow

    def __init__(
        self,
        services: Services,
        actor: Callable[[], Actor],
        row: WaiverRow,
        today: dt.date,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("endWaiverDialog")
        self.setWindowTitle("End hardship waiver")
        self.setMinimumWidth(440)
        self._services = services
        self._actor = actor
        self._row = row
        text = hint_label(
            f"{row.patient_name}: the waiver {row.span}. The last month it covers may not "
            "leave out a month already signed or closed."
        )
        self.last_month = QLineEdit(row.record.to_month or this_month(today))
        self.last_month.setObjectName("to_month")
        self.last_month.setPlaceholderText("YYYY-MM")
        self.error = FieldErrorLabel()
        form = QFormLayout()
        form.addRow("Last month covered", self.last_month)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        buttons.addButton("End waiver", QDialogButtonBox.ButtonRole.AcceptRole)
        buttons.accepted.connect(self.save)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(text)
        layout.addLayout(form)
        layout.addWidget(self.error)
        layout.addWidget(buttons)

    def save(self) -> bool:
        try:
            row = self._services.waivers.end(
                self._actor(), self._row.waiver_id, self.last_month.text().strip()
            )
        except ValidationFailed as failure:
            self.error.set_error("\n".join(f"Last month: {e.message}" for e in failure.errors))
            return False
        except ServiceError as error:
            self.error.set_error(str(error))
            return False
        self.saved.emit(row)
        self.accept()
        return True


WAIVER_HEADERS = ("Months", "Approved", "By", "Reason")
D = TypeVar("D", WaiverDialog, EndWaiverDialog)


class WaiverList(QWidget):
    """Waivers in a table with their buttons: one patient's (with New…) or everyone's."""

    changed = Signal()

    def __init__(
        self,
        services: Services,
        actor: Callable[[], Actor],
        today: Callable[[], dt.date],
        *,
        everyone: bool = False,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("waiverList")
        self._services = services
        self._actor = actor
        self._today = today
        self._everyone = everyone
        self._mrn: str | None = None
        self._patient_name = ""
        self.rows: list[WaiverRow] = []
        headers = (("Patient", "MRN") if everyone else ()) + WAIVER_HEADERS
        self.table = QTableWidget(0, len(headers))
        self.table.setObjectName("waiverTable")
        self.table.setHorizontalHeaderLabels(list(headers))
        prepare_table(self.table)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.message = hint_label()
        self.new_button = QPushButton("Record waiver…")
        self.new_button.setObjectName("newWaiver")
        self.edit_button = QPushButton("Edit…")
        self.end_button = QPushButton("End…")
        self.delete_button = QPushButton("Delete…")
        self.new_button.clicked.connect(self.new_waiver)
        self.edit_button.clicked.connect(self.edit_waiver)
        self.end_button.clicked.connect(self.end_waiver)
        self.delete_button.clicked.connect(self.delete_waiver)
        self.table.itemSelectionChanged.connect(self._update_buttons)
        self.table.doubleClicked.connect(lambda _: self.edit_waiver())
        bar = QHBoxLayout()
        bar.addWidget(self.message, 1)
        for button in (self.new_button, self.edit_button, self.end_button, self.delete_button):
            bar.addWidget(button)
        self.new_button.setVisible(not everyone)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(bar)
        layout.addWidget(self.table)
        self._update_buttons()

    def set_patient(self, mrn: str, patient_name: str) -> None:
        self._mrn, self._patient_name = mrn, patient_name
        self.reload()

    def reload(self) -> None:
        try:
            self.rows = self._services.waivers.list(
                self._actor(), None if self._everyone else self._mrn
            )
        except ServiceError as error:
            self.rows = []
            self.message.setText(str(error))
        else:
            count = len(self.rows)
            self.message.setText(
                "No hardship waiver on file." if not count
                else f"{count} hardship waiver{'s' if count != 1 else ''} on file."
            )  # fmt: skip
        self._show_rows()

    def _show_rows(self) -> None:
        self.table.setRowCount(len(self.rows))
        for number, row in enumerate(self.rows):
            record = row.record
            approved = date_text(record.approved_on) if record.approved_on else ""
            cells: Sequence[str] = (
                *((row.patient_name, record.mrn) if self._everyone else ()),
                row.span, approved, row.approved_by_name, record.reason.splitlines()[0],
            )  # fmt: skip
            for column, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if column == len(cells) - 1:  # the reason's first line; all of it on hover
                    item.setToolTip(record.reason)
                self.table.setItem(number, column, item)
        self.table.resizeColumnsToContents()
        self._update_buttons()

    def selected(self) -> WaiverRow | None:
        rows = self.table.selectionModel().selectedRows()
        return self.rows[rows[0].row()] if rows else None

    def select(self, waiver_id: int) -> None:
        for number, row in enumerate(self.rows):
            if row.waiver_id == waiver_id:
                self.table.selectRow(number)

    def _update_buttons(self) -> None:
        chosen = self.selected() is not None
        for button in (self.edit_button, self.end_button, self.delete_button):
            button.setEnabled(chosen)

    def new_waiver(self) -> WaiverDialog | None:
        if self._mrn is None:
            return None
        dialog = WaiverDialog(
            self._services, self._actor, self._mrn, self._patient_name, self._today(),
            parent=self,
        )  # fmt: skip
        return self._open(dialog)

    def edit_waiver(self) -> WaiverDialog | None:
        row = self.selected()
        if row is None:
            return None
        dialog = WaiverDialog(
            self._services, self._actor, row.record.mrn, row.patient_name, self._today(), row,
            parent=self,
        )  # fmt: skip
        return self._open(dialog)

    def end_waiver(self) -> EndWaiverDialog | None:
        row = self.selected()
        if row is None:
            return None
        return self._open(EndWaiverDialog(self._services, self._actor, row, self._today(), self))

    def _open(self, dialog: D) -> D:
        dialog.saved.connect(self._after_save)
        dialog.open()
        return dialog

    def _after_save(self, row: WaiverRow) -> None:
        self.reload()
        self.select(row.waiver_id)
        self.changed.emit()

    def delete_waiver(self) -> bool:
        row = self.selected()
        if row is None or not self.confirm_delete(row):
            return False
        try:
            self._services.waivers.delete(self._actor(), row.waiver_id)
        except ServiceError as error:
            show_failure(self, error)
            return False
        self.reload()
        self.changed.emit()
        return True

    def confirm_delete(self, row: WaiverRow) -> bool:
        """Ask first (a method, so tests answer instead of a person)."""
        answer = QMessageBox.question(
            self,
            "Delete hardship waiver",
            f"Delete {row.patient_name}'s waiver {row.span}? Delete only a waiver recorded by "
            "mistake; to stop one, end it. The audit trail keeps it.",
        )
        return answer == QMessageBox.StandardButton.Yes


class WaiversDialog(QDialog):
    """Every patient's hardship waivers, for billing staff (from the Billing page)."""

    def __init__(
        self,
        services: Services,
        actor: Callable[[], Actor],
        today: Callable[[], dt.date],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("waiversDialog")
        self.setWindowTitle("Hardship waivers")
        self.resize(900, 480)
        heading = QLabel("Hardship waivers")
        heading.setObjectName("dialogHeading")
        explanation = hint_label(
            "Each patient's waivers of the coinsurance for documented financial hardship. "
            "Record a new one from the patient's record. A month already signed or closed "
            "keeps its waiver: a change may not add it or take it away."
        )
        self.list = WaiverList(services, actor, today, everyone=True, parent=self)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(heading)
        layout.addWidget(explanation)
        layout.addWidget(self.list, 1)
        layout.addWidget(buttons)
        self.list.reload()
