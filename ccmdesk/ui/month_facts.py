"""Dialogs for one patient-month: its facts (complexity, other services, stays) and its family."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable

from PySide6.QtCore import QDate, Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QDateEdit,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from ccmdesk.rules.billing import codes_words, day_text, dollars
from ccmdesk.rules.catalog import FAMILIES
from ccmdesk.rules.intervals import month_days, month_label
from ccmdesk.rules.month_facts import stay_error
from ccmdesk.rules.validation import REASON_LIMIT
from ccmdesk.services import (
    Actor,
    BillingRow,
    MonthFactsEdit,
    MonthFactsRecord,
    ServiceError,
    Services,
    ValidationFailed,
)
from ccmdesk.ui.forms import FieldErrorLabel, ValueComboBox, hint_label, plain, show_failure

COMPLEXITY_LABELS = (
    ("none", "Not attested"),
    ("moderate", "Moderate medical decision making"),
    ("high", "High medical decision making"),
)
FIELD_LABELS = {
    "complexity": "Complexity",
    "other_services": "Other services",
    "inpatient": "Inpatient stays",
}


def stay_text(stay: tuple[dt.date, dt.date]) -> str:
    admitted, discharged = stay
    if admitted == discharged:
        return f"{day_text(admitted)} {admitted.year}"
    return f"{day_text(admitted)} {admitted.year} – {day_text(discharged)} {discharged.year}"


class _MonthDialog(QDialog):
    """What both dialogs of one patient-month share: Save and Cancel, the error line above
    them, and how a save ends (the month's new row, or why the service refused)."""

    saved = Signal(object)  # BillingRow

    def __init__(
        self,
        services: Services,
        actor: Callable[[], Actor],
        name: str,
        title: str,
        parent: QWidget | None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName(name)
        self.setWindowTitle(title)
        self._services = services
        self._actor = actor
        self.error = FieldErrorLabel()
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.accepted.connect(self.save)
        self.buttons.rejected.connect(self.reject)

    def _lay_out(self, heading: QLabel, form: QFormLayout, hint: str) -> None:
        """The heading, the form, a hint under it, the error line and the buttons."""
        note = hint_label(hint)
        layout = QVBoxLayout(self)
        layout.addWidget(heading)
        layout.addLayout(form)
        layout.addWidget(note)
        layout.addWidget(self.error)
        layout.addWidget(self.buttons)

    def save(self) -> None:
        raise NotImplementedError

    def _finish(self, save: Callable[[], BillingRow]) -> None:
        """Run the service call `save`; on success hand the new row on and close."""
        try:
            row = save()
        except ServiceError as error:
            self.error.set_error(self._refusal(error))
            return
        except Exception as error:
            show_failure(self, error)
            return
        self.saved.emit(row)
        self.accept()

    def _refusal(self, error: ServiceError) -> str:
        return str(error)


class MonthFactsDialog(_MonthDialog):
    """What is known about the month besides the minutes. Complexity is the billing
    practitioner's attestation; the rest is billing staff's. Fields the signed-in person may
    not change are shown but locked, and the service refuses them anyway."""

    def __init__(
        self,
        services: Services,
        actor: Callable[[], Actor],
        row: BillingRow,
        facts: MonthFactsEdit,
        parent: QWidget | None = None,
    ) -> None:
        """The facts of `row`'s month; what the service says this person may not change is
        shown locked, with its refusal."""
        super().__init__(services, actor, "monthFactsDialog", "Month facts", parent)
        self._mrn = row.mrn
        self._month = month = row.result.month
        self._first, self._last = month_days(month)
        record = facts.record
        patient_name = row.patient_name
        # Who may change what is the service's decision (MonthFactsService.for_edit).
        may_attest, may_set = facts.can_attest, facts.can_set

        heading = plain(QLabel(f"{patient_name} · {month_label(month)}"))
        heading.setObjectName("dialogHeading")
        self.complexity = ValueComboBox()
        for value, label in COMPLEXITY_LABELS:
            self.complexity.add_value(label, value)
        self.complexity.set_value(record.complexity)
        self.complexity.setEnabled(may_attest)
        locked = facts.attest_refusal
        self.complexity_note = QLabel(locked)
        self.complexity_note.setObjectName("hint")
        self.complexity_note.setVisible(not may_attest)
        if not may_attest:
            self.complexity.setToolTip(locked)
        self.other_services = QLineEdit("; ".join(record.other_services))
        self.other_services.setPlaceholderText("Codes billed this month, e.g. G0181; 99495")
        self.billed_elsewhere = QCheckBox("Another practitioner bills care management this month")
        self.billed_elsewhere.setChecked(record.billed_elsewhere)
        self.stays = QListWidget()
        self.stays.setObjectName("stayList")
        self.stays.setMaximumHeight(84)
        for stay in record.inpatient_stays:
            self._add_stay_item(stay)
        self.admitted = QDateEdit(QDate(self._first.year, self._first.month, self._first.day))
        self.discharged = QDateEdit(QDate(self._first.year, self._first.month, self._first.day))
        for edit in (self.admitted, self.discharged):
            edit.setCalendarPopup(True)
            edit.setDisplayFormat("yyyy-MM-dd")
        self.add_stay = QPushButton("Add stay")
        self.remove_stay = QPushButton("Remove")
        stay_row = QHBoxLayout()
        stay_row.addWidget(QLabel("Admitted"))
        stay_row.addWidget(self.admitted)
        stay_row.addWidget(QLabel("discharged"))
        stay_row.addWidget(self.discharged)
        stay_row.addWidget(self.add_stay)
        stay_row.addWidget(self.remove_stay)
        for widget in (
            self.other_services,
            self.billed_elsewhere,
            self.stays,
            self.admitted,
            self.discharged,
            self.add_stay,
            self.remove_stay,
        ):
            widget.setEnabled(may_set)
            widget.setToolTip(facts.set_refusal)
        self.reason = QLineEdit()
        self.reason.setPlaceholderText("Why (kept in the audit trail)")
        self.reason.setMaxLength(REASON_LIMIT)

        form = QFormLayout()
        form.addRow("Complexity", self.complexity)
        form.addRow("", self.complexity_note)
        form.addRow("Other services", self.other_services)
        form.addRow("", self.billed_elsewhere)
        form.addRow("Inpatient stays", self.stays)
        form.addRow("", stay_row)
        form.addRow("Reason", self.reason)
        self._lay_out(
            heading,
            form,
            "Time on the days of a stay (admission and discharge days included) is not "
            "counted; a stay reaching into the next month is entered here once.",
        )
        self._dates_pending = False  # stay dates typed but not added yet
        for edit in (self.admitted, self.discharged):
            edit.dateChanged.connect(self._mark_pending)
        self.add_stay.clicked.connect(self._on_add_stay)
        self.remove_stay.clicked.connect(self._on_remove_stay)
        save_button = self.buttons.button(QDialogButtonBox.StandardButton.Save)
        save_button.setEnabled(may_attest or may_set)
        self.reason.setEnabled(may_attest or may_set)
        self.resize(560, self.sizeHint().height())

    def _add_stay_item(self, stay: tuple[dt.date, dt.date]) -> None:
        item = QListWidgetItem(stay_text(stay))
        item.setData(Qt.ItemDataRole.UserRole, stay)
        self.stays.addItem(item)

    def stays_entered(self) -> tuple[tuple[dt.date, dt.date], ...]:
        return tuple(
            self.stays.item(i).data(Qt.ItemDataRole.UserRole) for i in range(self.stays.count())
        )

    def _mark_pending(self) -> None:
        self._dates_pending = True

    def _on_add_stay(self) -> bool:
        """Add the stay the date fields hold; False (with the reason shown) if it cannot be."""
        admitted = self.admitted.date().toPython()
        discharged = self.discharged.date().toPython()
        assert isinstance(admitted, dt.date) and isinstance(discharged, dt.date)
        # The same rule, and sentence, as the service and the import apply.
        if message := stay_error((admitted, discharged), self._month):
            self.error.set_error(f"{FIELD_LABELS['inpatient']}: {message}.")
            return False
        self.error.set_error("")
        if (admitted, discharged) not in self.stays_entered():
            self._add_stay_item((admitted, discharged))
        self._dates_pending = False
        return True

    def _on_remove_stay(self) -> None:
        for item in self.stays.selectedItems():
            self.stays.takeItem(self.stays.row(item))

    def record(self) -> MonthFactsRecord:
        codes = tuple(c for c in re.split(r"[;,\s]+", self.other_services.text().upper()) if c)
        return MonthFactsRecord(
            complexity=self.complexity.value(),
            other_services=codes,
            billed_elsewhere=self.billed_elsewhere.isChecked(),
            inpatient_stays=self.stays_entered(),
        )

    def save(self) -> None:
        # Dates typed into the stay fields and Save pressed: the stay was meant to be kept.
        if self._dates_pending and self.add_stay.isEnabled() and not self._on_add_stay():
            return
        self._finish(
            lambda: self._services.month_facts.save(
                self._actor(), self._mrn, self._month, self.record(), self.reason.text()
            )
        )

    def _refusal(self, error: ServiceError) -> str:
        if isinstance(error, ValidationFailed):
            return " ".join(
                f"{FIELD_LABELS.get(e.field, e.field)}: {e.message}." for e in error.errors
            )
        return str(error)


class FamilyDialog(_MonthDialog):
    """Bill the month under another family it qualifies for, with a reason for the audit."""

    def __init__(
        self,
        services: Services,
        actor: Callable[[], Actor],
        row: BillingRow,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(services, actor, "familyDialog", "Switch code family", parent)
        self._row = row
        result = row.result
        heading = plain(QLabel(f"{row.patient_name} · {month_label(result.month)}"))
        heading.setObjectName("dialogHeading")
        self.family = ValueComboBox()
        # With no choices there is no compliant family either: nothing to name.
        own = (
            next((o for o in result.choices if o.family == result.compliant[0]), None)
            if result.choices
            else None
        )
        self.family.add_value(
            "The rules' own choice"
            + (f" ({FAMILIES[own.family].label}, {dollars(own.amount_cents)})" if own else ""),
            "",
        )
        for option in result.choices:
            self.family.add_value(
                f"{FAMILIES[option.family].label}: {codes_words(option.codes)} · "
                f"{dollars(option.amount_cents)}",
                option.family,
            )
        chosen = result.inputs[2].family_override or ""
        offered = {option.family for option in result.choices}
        self.family.set_value(chosen if chosen in offered else "")
        self.reason = QLineEdit()
        self.reason.setPlaceholderText("Why (required; kept in the audit trail)")
        self.reason.setMaxLength(REASON_LIMIT)
        form = QFormLayout()
        form.addRow("Bill as", self.family)
        form.addRow("Reason", self.reason)
        self._lay_out(
            heading,
            form,
            "Only families this month's time and facts qualify for are offered. The switch "
            "stays with the month until the time no longer fits it.",
        )
        self.resize(520, self.sizeHint().height())

    def save(self) -> None:
        family = self.family.value() or None
        self._finish(
            lambda: self._services.families.choose(
                self._actor(), self._row.mrn, self._row.result.month, family, self.reason.text()
            )
        )
