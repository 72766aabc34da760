"""The patient editor: every field of patients.csv, saved through the same parsing as import."""

from __future__ import annotations

import contextlib
import datetime as dt
import re
from collections.abc import Sequence

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QGuiApplication, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from ccmdesk.rules.records import PATIENT_COLUMNS, PatientRecord, StaffRecord
from ccmdesk.rules.validation import PATIENT_TEXT_LIMITS
from ccmdesk.services import Actor, ServiceError, Services, ValidationFailed
from ccmdesk.ui.conditions import ConditionsEditorWidget
from ccmdesk.ui.forms import (
    FieldErrorLabel,
    FormErrors,
    ValueComboBox,
    align_labels,
    focus_field,
    show_failure,
)
from ccmdesk.ui.widgets.roles import role_label

LABELS: dict[str, str] = {
    "mrn": "MRN",
    "last_name": "Last name",
    "first_name": "First name",
    "dob": "Date of birth",
    "sex": "Sex",
    "phone": "Phone",
    "address": "Address",
    "city": "City",
    "state": "State",
    "zip": "ZIP",
    "payer": "Payer",
    "payer_type": "Payer type",
    "member_id": "Member ID",
    "qmb": "QMB",
    "billing_practitioner": "Billing practitioner",
    "care_manager": "Care manager",
    "conditions": "Chronic conditions",
    "consent_date": "Consent date",
    "consent_method": "Consent method",
    "consent_practitioner": "Consent practitioner",
    "consent_revoked_date": "Consent revoked",
    "initiating_visit_date": "Initiating visit",
    "care_plan_date": "Care plan date",
}
SEXES = (
    ("", "—"),
    ("F", "F (female)"),
    ("M", "M (male)"),
    ("X", "X (non-binary)"),
    ("U", "U (unknown)"),
)
PAYER_TYPES = (
    ("", "—"),
    ("medicare", "Medicare (Part B)"),
    ("medicare_advantage", "Medicare Advantage"),
    ("medicaid", "Medicaid"),
    ("commercial", "Commercial"),
    ("self", "Self-pay"),
)
CONSENT_METHODS = (("", "—"), ("verbal", "Verbal"), ("written", "Written"))
TEXT_FIELDS = (
    "mrn",
    "last_name",
    "first_name",
    "phone",
    "address",
    "city",
    "state",
    "zip",
    "payer",
    "member_id",
)
DATE_FIELDS = (
    "dob",
    "consent_date",
    "consent_revoked_date",
    "initiating_visit_date",
    "care_plan_date",
)
_US_DATE = re.compile(r"\s*(\d{1,2})/(\d{1,2})/(\d{4})\s*")


def staff_label(member: StaffRecord) -> str:
    label = f"{member.name}, {member.credentials}" if member.credentials else member.name
    return label if member.active else f"{label} (inactive)"


class DateLineEdit(QLineEdit):
    """A date typed as text, so a blank or a wrong date stays as typed until corrected.

    MM/DD/YYYY, the way dates are written on US forms, is turned into YYYY-MM-DD when the
    field is left, so what is saved is what is shown.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setPlaceholderText("YYYY-MM-DD")
        self.setMaxLength(20)
        self.editingFinished.connect(self.normalize)

    def normalize(self) -> None:
        match = _US_DATE.fullmatch(self.text())
        if match is None:
            return
        month, day, year = (int(part) for part in match.groups())
        # An impossible date is left as typed; the save says what is wrong with it.
        with contextlib.suppress(ValueError):
            self.setText(dt.date(year, month, day).isoformat())


class PatientDialog(QDialog):
    """Add or edit one patient; errors appear in red beside their fields, typed text stays."""

    saved = Signal(str)  # the saved patient's MRN

    def __init__(
        self,
        services: Services,
        actor: Actor,
        staff: Sequence[StaffRecord],
        record: PatientRecord | None,
        *,
        read_only: bool = False,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("patientDialog")
        self._services = services
        self._actor = actor
        self._original_mrn = record.mrn if record else None
        self._read_only = read_only
        self._staff = {member.staff_id: member for member in staff}

        self.general_error = FieldErrorLabel()
        self.errors = FormErrors(self.general_error)
        self.inputs: dict[str, QWidget] = {}
        self._build(staff)
        if record is not None:
            self.load(record)
        if read_only:
            self._make_read_only()
        self._as_loaded = self.raw()
        self._discarding = False

        if record is None:
            title = "New patient"
        else:
            title = f"{record.last_name}, {record.first_name} — MRN {record.mrn}"
        self.setWindowTitle(title + (" (view only)" if read_only else ""))
        self.heading.setText(title)
        self._fit_to_screen()

    # --- building ----------------------------------------------------------------------------

    def _build(self, staff: Sequence[StaffRecord]) -> None:
        self.heading = QLabel()
        self.heading.setObjectName("dialogHeading")

        line = {name: QLineEdit() for name in TEXT_FIELDS}
        for name, limit in PATIENT_TEXT_LIMITS.items():
            line[name].setMaxLength(limit)  # the service refuses longer text too
        line["state"].setMaxLength(2)
        line["state"].setMaximumWidth(line["state"].fontMetrics().horizontalAdvance("MMMMM") + 16)
        line["zip"].setMaximumWidth(line["zip"].fontMetrics().horizontalAdvance("00000-00000") + 16)
        line["member_id"].setPlaceholderText("for Medicare: the MBI, e.g. 1EG4-TE5-MK73")
        dates = {name: DateLineEdit() for name in DATE_FIELDS}
        self.sex = self._combo(SEXES)
        self.payer_type = self._combo(PAYER_TYPES)
        self.consent_method = self._combo(CONSENT_METHODS)
        self.qmb = QCheckBox("Qualified Medicare beneficiary (no cost sharing)")

        active = [m for m in staff if m.active]
        self.billing_practitioner = ValueComboBox()
        self.billing_practitioner.add_value("— choose —", "")
        self.consent_practitioner = ValueComboBox()
        self.consent_practitioner.add_value("Same as billing practitioner", "")
        self.care_manager = ValueComboBox()
        self.care_manager.add_value("— none —", "")
        for member in active:
            if member.role == "practitioner":
                label = staff_label(member) + ("" if member.npi else " — no NPI on file")
                self.billing_practitioner.add_value(label, member.staff_id)
                self.consent_practitioner.add_value(label, member.staff_id)
            if member.role in ("clinical", "practitioner"):
                role = role_label(member.role)
                self.care_manager.add_value(f"{staff_label(member)} ({role})", member.staff_id)
        self.conditions = ConditionsEditorWidget()

        self.inputs.update(line)
        self.inputs.update(dates)
        self.inputs.update(
            sex=self.sex,
            payer_type=self.payer_type,
            consent_method=self.consent_method,
            qmb=self.qmb,
            billing_practitioner=self.billing_practitioner,
            consent_practitioner=self.consent_practitioner,
            care_manager=self.care_manager,
            conditions=self.conditions,
        )
        assert set(self.inputs) == set(PATIENT_COLUMNS)
        for name, widget in self.inputs.items():
            widget.setObjectName(name)
            widget.setAccessibleName(LABELS[name])

        groups = {
            "Identity": ("mrn", "last_name", "first_name", "dob", "sex"),
            "Contact": ("phone", "address", "city", "state", "zip"),
            "Coverage": ("payer", "payer_type", "member_id", "qmb"),
            "Care team": ("billing_practitioner", "care_manager"),
            "Enrollment": (
                "consent_date",
                "consent_method",
                "consent_practitioner",
                "consent_revoked_date",
                "initiating_visit_date",
                "care_plan_date",
            ),
            "Chronic conditions": ("conditions",),
        }
        boxes = {title: self._group(title, names) for title, names in groups.items()}
        # The patient says they cannot pay the coinsurance (docs/payers.md): a field of the
        # record outside PATIENT_COLUMNS, which a file may leave out.
        self.cannot_pay = QCheckBox("Cannot pay the coinsurance (the care team sees the options)")
        self.cannot_pay.setObjectName("cannot_pay")
        enrollment_form = boxes["Enrollment"].layout()
        assert isinstance(enrollment_form, QFormLayout)
        enrollment_form.addRow("", self.cannot_pay)
        align_labels([boxes[t] for t in ("Identity", "Contact", "Coverage")])
        align_labels([boxes[t] for t in ("Care team", "Enrollment")])
        left = QVBoxLayout()
        for title in ("Identity", "Contact", "Coverage"):
            left.addWidget(boxes[title])
        left.addStretch(1)
        right = QVBoxLayout()
        for title in ("Care team", "Enrollment", "Chronic conditions"):
            right.addWidget(boxes[title])
        right.addStretch(1)
        columns = QHBoxLayout()
        columns.addLayout(left, 1)
        columns.addLayout(right, 1)
        body = QWidget()
        body.setObjectName("dialogBody")
        body.setLayout(columns)
        self.scroll_area = QScrollArea()
        self.scroll_area.setWidgetResizable(True)
        self.scroll_area.setFrameShape(QScrollArea.Shape.NoFrame)
        self.scroll_area.setWidget(body)

        self.buttons = QDialogButtonBox()
        if self._read_only:
            self.buttons.addButton(QDialogButtonBox.StandardButton.Close)
        else:
            self.save_button = self.buttons.addButton(QDialogButtonBox.StandardButton.Save)
            self.buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
            self.save_button.clicked.connect(self.save)
            QShortcut(QKeySequence.StandardKey.Save, self).activated.connect(self.save)
        self.buttons.rejected.connect(self.reject)

        layout = QVBoxLayout(self)
        layout.addWidget(self.heading)
        layout.addWidget(self.general_error)
        layout.addWidget(self.scroll_area, 1)
        layout.addWidget(self.buttons)

    def _combo(self, items: Sequence[tuple[str, str]]) -> ValueComboBox:
        combo = ValueComboBox()
        for value, label in items:
            combo.add_value(label, value)
        combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        return combo

    def _group(self, title: str, names: Sequence[str]) -> QGroupBox:
        box = QGroupBox(title)
        form = QFormLayout(box)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.setLabelAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        for name in names:
            cell = self.errors.add(name, LABELS[name], self.inputs[name])
            if name == "conditions":
                form.addRow(cell)
            else:
                label = QLabel(LABELS[name])
                label.setObjectName("formLabel")
                label.setBuddy(self.inputs[name])
                form.addRow(label, cell)
        return box

    def _fit_to_screen(self) -> None:
        width, height = 1120, 760
        screen = self.screen() or QGuiApplication.primaryScreen()
        if screen is not None:
            available = screen.availableGeometry()
            width = min(width, available.width() - 40)
            height = min(height, available.height() - 40)
        self.resize(width, height)

    # --- values ------------------------------------------------------------------------------

    def load(self, record: PatientRecord) -> None:
        for name in TEXT_FIELDS:
            self._line(name).setText(getattr(record, name))
        for name in DATE_FIELDS:
            value = getattr(record, name)
            self._line(name).setText(value.isoformat() if value else "")
        self.sex.set_value(record.sex)
        self.payer_type.set_value(record.payer_type)
        self.consent_method.set_value(record.consent_method)
        self.qmb.setChecked(record.qmb)
        self.cannot_pay.setChecked(record.cannot_pay)
        for combo, value in (
            (self.billing_practitioner, record.billing_practitioner),
            (self.consent_practitioner, record.consent_practitioner),
            (self.care_manager, record.care_manager),
        ):
            member = self._staff.get(value)
            combo.set_value(value, staff_label(member) if member else value)
        self.conditions.set_codes(record.conditions)

    def _line(self, name: str) -> QLineEdit:
        widget = self.inputs[name]
        assert isinstance(widget, QLineEdit)
        return widget

    def raw(self) -> dict[str, str]:
        """Every column as text, exactly as the CSV import would read it."""
        raw = {
            name: widget.text()
            for name, widget in self.inputs.items()
            if isinstance(widget, QLineEdit)
        }
        raw.update(
            sex=self.sex.value(),
            payer_type=self.payer_type.value(),
            consent_method=self.consent_method.value(),
            qmb="yes" if self.qmb.isChecked() else "no",
            billing_practitioner=self.billing_practitioner.value(),
            consent_practitioner=self.consent_practitioner.value(),
            care_manager=self.care_manager.value(),
            conditions=";".join(self.conditions.codes()),
            cannot_pay="yes" if self.cannot_pay.isChecked() else "no",
        )
        return raw

    # --- saving ------------------------------------------------------------------------------

    def save(self) -> bool:
        """Save through the service; on refusal show why beside each field and keep the form."""
        if self._read_only:
            return False
        for field in DATE_FIELDS:
            widget = self.inputs[field]
            assert isinstance(widget, DateLineEdit)
            widget.normalize()
        try:
            record = self._services.patients.save_text(
                self._actor, self.raw(), original_mrn=self._original_mrn
            )
        except ValidationFailed as failure:
            first = self.errors.show(failure.errors)
            self.general_error.set_error(
                self.general_error.text() or "Not saved: please correct the fields marked in red."
            )
            if first is not None:
                focus_field(first, self.scroll_area)
            return False
        except ServiceError as error:
            show_failure(self, error)
            return False
        self.errors.clear()
        self.saved.emit(record.mrn)
        self.accept()
        return True

    def is_changed(self) -> bool:
        return self.raw() != self._as_loaded

    def reject(self) -> None:
        """Cancel, Esc or the close button: ask before throwing typed changes away."""
        if self._read_only or self._discarding or not self.is_changed():
            super().reject()
            return
        box = QMessageBox(
            QMessageBox.Icon.Question,
            "Discard changes?",
            "This patient has changes that are not saved. Discard them?",
            QMessageBox.StandardButton.Discard | QMessageBox.StandardButton.Cancel,
            self,
        )
        box.setObjectName("discardQuestion")
        box.button(QMessageBox.StandardButton.Cancel).setText("Keep editing")
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.finished.connect(self._after_discard_question)
        box.open()  # not exec(): nothing else waits on this window meanwhile

    def _after_discard_question(self, answer: int) -> None:
        if answer == QMessageBox.StandardButton.Discard.value:
            self._discarding = True
            self.reject()

    def _make_read_only(self) -> None:
        for widget in self.inputs.values():
            if isinstance(widget, QLineEdit):
                widget.setReadOnly(True)
            elif isinstance(widget, (QComboBox, QCheckBox)):
                widget.setEnabled(False)
        self.conditions.set_read_only(True)
        self.cannot_pay.setEnabled(False)
