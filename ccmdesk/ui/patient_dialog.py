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

from ccmdesk.rules.care_plan import LANGUAGES
from ccmdesk.rules.catalog import DECLINE_REASONS, PREFERRED_CALL_TIMES
from ccmdesk.rules.payers import PayerRecord
from ccmdesk.rules.records import (
    CALL_COLUMNS,
    COVERAGE_COLUMNS,
    LANGUAGE_COLUMN,
    NEW_PAYER_COLUMNS,
    OLD_PAYER_COLUMNS,
    PATIENT_COLUMNS,
    VISIT_COLUMNS,
    PatientRecord,
    StaffRecord,
)
from ccmdesk.rules.validation import COVERAGE_TEXT_LIMITS, PATIENT_TEXT_LIMITS
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
from ccmdesk.ui.programs import ProgramSection
from ccmdesk.ui.widgets.payers import payer_choice
from ccmdesk.ui.widgets.roles import role_label

LABELS: dict[str, str] = {
    "mrn": "MRN",
    "last_name": "Last name",
    "first_name": "First name",
    "dob": "Date of birth",
    "sex": "Sex",
    "phone": "Phone (home)",
    "mobile_phone": "Mobile phone",
    "other_phone": "Other phone",
    "preferred_call_time": "Best time to call",
    "preferred_language": "Preferred language",
    "address": "Address",
    "city": "City",
    "state": "State",
    "zip": "ZIP",
    "primary_payer": "Primary payer",
    "primary_member_id": "Member ID",
    "relationship": "Relationship",
    "insured_last_name": "Insured's last name",
    "insured_first_name": "Insured's first name",
    "secondary_payer": "Secondary payer",
    "secondary_member_id": "Secondary member ID",
    "signature_on_file": "Signature on file",
    "qmb": "QMB",
    "billing_practitioner": "Billing practitioner",
    "care_manager": "Care manager",
    "conditions": "Chronic conditions",
    "consent_date": "Consent date",
    "consent_method": "Consent method",
    "consent_practitioner": "Consent practitioner",
    "consent_revoked_date": "Consent revoked",
    "initiating_visit_date": "Initiating visit",
    "initiating_visit_g0506": "G0506",
    "last_visit_date": "Last visit",
    "care_plan_date": "Care plan kept elsewhere (date)",
}
# The external plan's date only counts while no plan is signed in ccmdesk (docs/billing-rules.md,
# "Care plan").
CARE_PLAN_DATE_TIP = (
    "The date of a care plan the practice keeps outside ccmdesk. A care plan signed in "
    "ccmdesk wins over this date."
)
SEXES = (
    ("", "—"),
    ("F", "F (female)"),
    ("M", "M (male)"),
    ("X", "X (non-binary)"),
    ("U", "U (unknown)"),
)
# The patient's relationship to the insured (docs/payers.md); a Medicare patient is always self.
RELATIONSHIPS = (
    ("self", "Self (the patient is the insured)"),
    ("spouse", "Spouse"),
    ("child", "Child"),
    ("other", "Other"),
)
CALL_TIMES = (("", "Any time"), *((key, v[0]) for key, v in PREFERRED_CALL_TIMES.items()))
SIGNATURES = (
    ("", "As the practice collects it"),
    ("yes", "Yes, on file"),
    ("no", "No, not on file"),
)
MEMBER_ID_LABEL, MBI_LABEL = "Member ID", "MBI"
# The coverage fields' CSV names, and the names errors about the old payer columns arrive as
# (text limits and the like are checked on the record, where the primary member id is member_id).
COVERAGE_ALIASES = {"primary_payer": ("payer", "payer_type"), "primary_member_id": ("member_id",)}
# Every column of patients.csv but the old way of naming the payer, which the editor never uses.
EDITOR_FIELDS = (
    tuple(c for c in PATIENT_COLUMNS if c not in OLD_PAYER_COLUMNS)
    + NEW_PAYER_COLUMNS
    + COVERAGE_COLUMNS
    + VISIT_COLUMNS
    + CALL_COLUMNS
    + (LANGUAGE_COLUMN,)
)
CONSENT_METHODS = (("", "—"), ("verbal", "Verbal"), ("written", "Written"))
TEXT_FIELDS = (
    "mrn",
    "last_name",
    "first_name",
    "phone",
    "mobile_phone",
    "other_phone",
    "address",
    "city",
    "state",
    "zip",
)
COVERAGE_TEXT = ("primary_member_id", "insured_last_name", "insured_first_name",
                 "secondary_member_id")  # fmt: skip
DATE_FIELDS = (
    "dob",
    "consent_date",
    "consent_revoked_date",
    "initiating_visit_date",
    "last_visit_date",
    "care_plan_date",
)
G0506_TEXT = (
    "Billing practitioner did the extensive assessment and\ncare planning at the initiating "
    "visit (G0506)"
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
        payers: Sequence[PayerRecord] | None = None,
        parent: QWidget | None = None,
    ) -> None:
        """`payers`: the payer list, retired ones too (read from the services if not given)."""
        super().__init__(parent)
        self.setObjectName("patientDialog")
        self._services = services
        self._actor = actor
        self._original_mrn = record.mrn if record else None
        self._read_only = read_only
        self._staff = {member.staff_id: member for member in staff}
        if payers is None:
            payers = services.payers.list(actor, include_retired=True)
        self._payers = {payer.payer_id: payer for payer in payers}

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

        line = {name: QLineEdit() for name in TEXT_FIELDS + COVERAGE_TEXT}
        limits = PATIENT_TEXT_LIMITS | COVERAGE_TEXT_LIMITS
        limits["primary_member_id"] = limits.pop("member_id")
        for name, limit in limits.items():
            if name in line:  # the payer's name is chosen, not typed
                line[name].setMaxLength(limit)  # the service refuses longer text too
        line["state"].setMaxLength(2)
        line["state"].setMaximumWidth(line["state"].fontMetrics().horizontalAdvance("MMMMM") + 16)
        line["zip"].setMaximumWidth(line["zip"].fontMetrics().horizontalAdvance("00000-00000") + 16)
        line["primary_member_id"].setPlaceholderText("as on the insurance card")
        dates = {name: DateLineEdit() for name in DATE_FIELDS}
        self.sex = self._combo(SEXES)
        self.primary_payer = self._payer_combo()
        self.relationship = self._combo(RELATIONSHIPS)
        self.secondary_payer = self._payer_combo()
        self.signature_on_file = self._combo(SIGNATURES)
        self.preferred_call_time = self._combo(CALL_TIMES)
        self.preferred_language = self._combo(tuple(LANGUAGES.items()))
        self.consent_method = self._combo(CONSENT_METHODS)
        self.qmb = QCheckBox("Qualified Medicare beneficiary (no cost sharing)")
        self.g0506 = QCheckBox(G0506_TEXT)

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
            primary_payer=self.primary_payer,
            relationship=self.relationship,
            secondary_payer=self.secondary_payer,
            signature_on_file=self.signature_on_file,
            preferred_call_time=self.preferred_call_time,
            preferred_language=self.preferred_language,
            consent_method=self.consent_method,
            qmb=self.qmb,
            initiating_visit_g0506=self.g0506,
            billing_practitioner=self.billing_practitioner,
            consent_practitioner=self.consent_practitioner,
            care_manager=self.care_manager,
            conditions=self.conditions,
        )
        assert set(self.inputs) == set(EDITOR_FIELDS)
        for name, widget in self.inputs.items():
            widget.setObjectName(name)
            widget.setAccessibleName(LABELS[name])

        groups = {
            "Identity": ("mrn", "last_name", "first_name", "dob", "sex"),
            "Contact": (
                "phone",
                "mobile_phone",
                "other_phone",
                "preferred_call_time",
                "preferred_language",
                "address",
                "city",
                "state",
                "zip",
            ),
            "Coverage": (
                "primary_payer",
                "primary_member_id",
                "relationship",
                "insured_last_name",
                "insured_first_name",
                "secondary_payer",
                "secondary_member_id",
                "signature_on_file",
                "qmb",
            ),
            "Care team": ("billing_practitioner", "care_manager"),
            "Enrollment": (
                "consent_date",
                "consent_method",
                "consent_practitioner",
                "consent_revoked_date",
                "initiating_visit_date",
                "initiating_visit_g0506",
                "last_visit_date",
                "care_plan_date",
            ),
            "Chronic conditions": ("conditions",),
        }
        self.form_labels: dict[str, QLabel] = {}
        boxes = {title: self._group(title, names) for title, names in groups.items()}
        self.inputs["care_plan_date"].setToolTip(CARE_PLAN_DATE_TIP)
        self.form_labels["care_plan_date"].setToolTip(CARE_PLAN_DATE_TIP)
        self.primary_payer.currentIndexChanged.connect(self._coverage_changed)
        self.relationship.currentIndexChanged.connect(self._coverage_changed)
        self.secondary_payer.currentIndexChanged.connect(self._coverage_changed)
        self._coverage_changed()
        # The patient says they cannot pay the coinsurance (docs/payers.md): a field of the
        # record outside PATIENT_COLUMNS, which a file may leave out.
        self.cannot_pay = QCheckBox("Cannot pay the coinsurance (the care team sees the options)")
        self.cannot_pay.setObjectName("cannot_pay")
        enrollment_form = boxes["Enrollment"].layout()
        assert isinstance(enrollment_form, QFormLayout)
        enrollment_form.addRow("", self.cannot_pay)
        # Why the patient stopped, kept with the revocation in the enrolment history
        # (docs/payers.md): asked beside the revocation day, never a column of the record.
        self.stop_reason = ValueComboBox()
        self.stop_reason.add_value("", "")
        for reason in DECLINE_REASONS:
            self.stop_reason.add_value(reason.capitalize(), reason)
        self.stop_note = QLineEdit()
        self.stop_note.setPlaceholderText("Needed when the reason is Other")
        revoked_row = 1 + list(groups["Enrollment"]).index("consent_revoked_date")
        for offset, (name, label, widget) in enumerate(
            (("stop_reason", "Why stopped", self.stop_reason),
             ("stop_note", "Stop note", self.stop_note))
        ):  # fmt: skip
            widget.setObjectName(name)
            widget.setAccessibleName(label)
            enrollment_form.insertRow(
                revoked_row + offset, label, self.errors.add(name, label, widget)
            )
        self._line("consent_revoked_date").textChanged.connect(self._revocation_changed)
        self._revocation_changed()
        align_labels([boxes[t] for t in ("Identity", "Contact", "Coverage")])
        # The program is the practitioner's or biller's choice, saved after the record (its
        # focus condition must be on the saved list); read from the services, as this month's.
        self.program = ProgramSection(
            self._services, self._actor, self._original_mrn,
            self._services.today().strftime("%Y-%m"),
        )  # fmt: skip
        self.conditions.changed.connect(self._conditions_changed)
        self._conditions_changed()
        align_labels([*(boxes[t] for t in ("Care team", "Enrollment")), self.program])
        left = QVBoxLayout()
        for title in ("Identity", "Contact", "Coverage"):
            left.addWidget(boxes[title])
        left.addStretch(1)
        right = QVBoxLayout()
        for title in ("Care team", "Enrollment", "Chronic conditions"):
            right.addWidget(boxes[title])
        right.addWidget(self.program)
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
            if self.program.may_change and self._original_mrn is not None:
                # Billing staff choose a patient's program without editing the record.
                self.save_program_button = self.buttons.addButton(
                    "Save program", QDialogButtonBox.ButtonRole.ActionRole
                )
                self.save_program_button.setObjectName("saveProgram")
                self.save_program_button.clicked.connect(self.save_program)
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

    def _payer_combo(self) -> ValueComboBox:
        """The payers a patient may be given: the list without the retired ones (a retired
        payer the patient has is added by `load`), and a blank for none."""
        combo = ValueComboBox()
        combo.add_value("— none —", "")
        for payer in self._payers.values():
            if not payer.retired:
                combo.add_value(payer_choice(payer), payer.payer_id)
        return combo

    def _group(self, title: str, names: Sequence[str]) -> QGroupBox:
        box = QGroupBox(title)
        form = QFormLayout(box)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.setLabelAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        for name in names:
            aliases = COVERAGE_ALIASES.get(name, ())
            cell = self.errors.add(name, LABELS[name], self.inputs[name], *aliases)
            if name == "conditions":
                form.addRow(cell)
            else:
                label = QLabel(LABELS[name])
                label.setObjectName("formLabel")
                label.setBuddy(self.inputs[name])
                self.form_labels[name] = label
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
        self.preferred_call_time.set_value(record.preferred_call_time)
        self.preferred_language.set_value(record.preferred_language)
        self._load_coverage(record)
        self.consent_method.set_value(record.consent_method)
        self.qmb.setChecked(record.qmb)
        self.g0506.setChecked(record.initiating_visit_g0506)
        self.cannot_pay.setChecked(record.cannot_pay)
        for combo, value in (
            (self.billing_practitioner, record.billing_practitioner),
            (self.consent_practitioner, record.consent_practitioner),
            (self.care_manager, record.care_manager),
        ):
            member = self._staff.get(value)
            combo.set_value(value, staff_label(member) if member else value)
        self.conditions.set_codes(record.conditions)

    def _load_coverage(self, record: PatientRecord) -> None:
        # The relationship first: while it says self, the insured's name is cleared.
        self.relationship.set_value(record.relationship)
        for combo, payer_id in (
            (self.primary_payer, record.primary_payer),
            (self.secondary_payer, record.secondary_payer),
        ):
            payer = self._payers.get(payer_id)
            combo.set_value(payer_id, payer_choice(payer) if payer else payer_id)
        self.signature_on_file.set_value(record.signature_on_file)
        for name, value in (
            ("primary_member_id", record.member_id),
            ("insured_last_name", record.insured_last_name),
            ("insured_first_name", record.insured_first_name),
            ("secondary_member_id", record.secondary_member_id),
        ):
            self._line(name).setText(value)
        self._coverage_changed()

    def _primary_kind(self) -> str:
        payer = self._payers.get(self.primary_payer.value())
        return payer.kind if payer else ""

    def _revocation_changed(self) -> None:
        """Why the patient stopped is asked only beside a revocation day."""
        revoked = bool(self._line("consent_revoked_date").text().strip()) and not self._read_only
        self.stop_reason.setEnabled(revoked)
        self.stop_note.setEnabled(revoked)

    def _coverage_changed(self) -> None:
        """A Medicare patient is the insured, with an MBI; the insured's name is asked for
        only when the patient is not the insured; a secondary member id needs its payer."""
        medicare = self._primary_kind() == "medicare"
        if medicare:
            self.relationship.set_value("self")
        self.relationship.setEnabled(not medicare and not self._read_only)
        self.relationship.setToolTip(
            "A Medicare patient is always the insured." if medicare else ""
        )
        member = self.form_labels.get("primary_member_id")
        if member is not None:
            member.setText(MBI_LABEL if medicare else MEMBER_ID_LABEL)
        self._line("primary_member_id").setPlaceholderText(
            "the MBI, e.g. 1EG4-TE5-MK73" if medicare else "as on the insurance card"
        )
        insured = self.relationship.value() != "self"
        for name in ("insured_last_name", "insured_first_name"):
            field = self._line(name)
            if not insured:
                field.clear()  # the patient is the insured: no other name is kept
            field.setEnabled(insured)
        secondary = bool(self.secondary_payer.value())
        self._line("secondary_member_id").setEnabled(secondary)

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
        if not self.secondary_payer.value():
            raw["secondary_member_id"] = ""  # no secondary payer, no member id for it
        raw.update(
            sex=self.sex.value(),
            primary_payer=self.primary_payer.value(),
            relationship=self.relationship.value(),
            secondary_payer=self.secondary_payer.value(),
            signature_on_file=self.signature_on_file.value(),
            preferred_call_time=self.preferred_call_time.value(),
            preferred_language=self.preferred_language.value(),
            consent_method=self.consent_method.value(),
            qmb="yes" if self.qmb.isChecked() else "no",
            billing_practitioner=self.billing_practitioner.value(),
            consent_practitioner=self.consent_practitioner.value(),
            care_manager=self.care_manager.value(),
            conditions=";".join(self.conditions.codes()),
            cannot_pay="yes" if self.cannot_pay.isChecked() else "no",
            initiating_visit_g0506="yes" if self.g0506.isChecked() else "no",
        )
        return raw

    def _conditions_changed(self, *_: object) -> None:
        self.program.set_conditions(self.conditions.codes())

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
                self._actor, self.raw(), original_mrn=self._original_mrn,
                stop=(self.stop_reason.value(), self.stop_note.text()),
            )  # fmt: skip
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
        if not self.program.save(record.mrn):
            # The record is saved; saving again changes only the program.
            self._original_mrn = record.mrn
            self._as_loaded = self.raw()
            self.general_error.set_error(
                "The patient's record was saved, but not the program change: see Program."
            )
            focus_field(self.program.program, self.scroll_area)
            self.saved.emit(record.mrn)
            return False
        self.saved.emit(record.mrn)
        self.accept()
        return True

    def save_program(self) -> bool:
        """Only the program (a view-only record): through the program service."""
        assert self._original_mrn is not None
        if not self.program.save(self._original_mrn):
            focus_field(self.program.program, self.scroll_area)
            return False
        self.saved.emit(self._original_mrn)
        return True

    def is_changed(self) -> bool:
        stop_given = bool(self.stop_reason.value() or self.stop_note.text().strip())
        return self.raw() != self._as_loaded or stop_given or self.program.is_changed()

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
        # A method of this dialog, not forms.ask's closure: the answer closes (and deletes)
        # this dialog and so the box inside its own signal, which a closure does not survive.
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
        if not self.program.may_change or self._original_mrn is None:
            self.program.set_read_only(True)
        self._revocation_changed()
