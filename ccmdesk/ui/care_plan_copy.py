"""The patient copy of a signed care plan: save its PDF, record it as given to the patient."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from PySide6.QtCore import QDate
from PySide6.QtWidgets import (
    QDateEdit,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from ccmdesk.rules.care_plan import COPY_METHODS, LANGUAGES, language_name
from ccmdesk.rules.intervals import date_text
from ccmdesk.rules.text import file_safe
from ccmdesk.services import Actor, Permission, ServiceError, Services, ValidationFailed, allowed
from ccmdesk.services.care_plans import CopyGiven
from ccmdesk.ui.forms import FieldErrorLabel, FormErrors, ValueComboBox, hint_label, plain


def _qdate(day: dt.date) -> QDate:
    return QDate(day.year, day.month, day.day)


def default_file_name(mrn: str, number: int, language: str) -> str:
    """ "care-plan-1001-v3-es.pdf": an MRN's characters other than letters, digits, - and _
    become _, so the name is a file name on every system."""
    return f"care-plan-{file_safe(mrn)}-v{number}-{language}.pdf"


def copies_text(copies: tuple[CopyGiven, ...]) -> str:
    """The copies already given, a line each: "Given 15 Apr 2026 in person, in Spanish;
    recorded by Grace Lee. Note: to her daughter"."""
    if not copies:
        return "No copy of this version is recorded as given yet."
    return "\n".join(
        f"Given {date_text(c.given_on)} {c.method_label.lower()}, in "
        f"{language_name(c.language)}; recorded by {c.recorded_by}."
        + (f" Note: {c.note}" if c.note else "")
        for c in copies
    )


class RecordCopyDialog(QDialog):
    """The day a copy reached the patient or caregiver, how, and a note."""

    def __init__(
        self, signed_on: dt.date, today: dt.date, language: str, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setObjectName("recordCopyDialog")
        self.setWindowTitle("Record as given")
        self.setMinimumWidth(420)
        explanation = hint_label(
            f"The copy printed in {language_name(language)} reached the patient or caregiver."
        )
        self.given_on = QDateEdit(_qdate(today))
        self.given_on.setCalendarPopup(True)
        self.given_on.setDisplayFormat("yyyy-MM-dd")
        # Not before the version was signed, never in the future (the service says so too).
        self.given_on.setDateRange(_qdate(min(signed_on, today)), _qdate(today))
        self.method = ValueComboBox()
        for key, label in COPY_METHODS.items():
            self.method.add_value(label, key)
        self.note = QPlainTextEdit()
        self.note.setTabChangesFocus(True)
        self.note.setPlaceholderText("Optional: given to whom, e.g. to her daughter")
        self.note.setFixedHeight(self.note.fontMetrics().height() * 3 + 16)
        self.general_error = FieldErrorLabel()
        self.errors = FormErrors(self.general_error)
        form = QFormLayout()
        for name, label, widget in (
            ("given_on", "Given on", self.given_on),
            ("method", "How", self.method),
            ("note", "Note", self.note),
        ):
            widget.setObjectName(name)
            widget.setAccessibleName(label)
            form.addRow(label, self.errors.add(name, label, widget))
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        buttons.addButton("Record", QDialogButtonBox.ButtonRole.AcceptRole)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(explanation)
        layout.addLayout(form)
        layout.addWidget(self.general_error)
        layout.addWidget(buttons)

    def day(self) -> dt.date:
        day = self.given_on.date()
        return dt.date(day.year(), day.month(), day.day())


class PatientCopyDialog(QDialog):
    """Which signed version and language the copy prints, Save PDF… and Record as given…."""

    def __init__(
        self, parent: QWidget | None, services: Services, actor: Actor, mrn: str, number: int
    ) -> None:
        super().__init__(parent)
        self.setObjectName("patientCopyDialog")
        self.setWindowTitle("Patient copy of the care plan")
        self.setMinimumWidth(520)
        self._services, self._actor, self._mrn, self._number = services, actor, mrn, number
        self.recorded = False  # a copy was recorded as given while the dialog was open
        self._signed_on: dt.date | None = None
        self.heading = QLabel(f"Care plan version {number}")
        self.heading.setObjectName("dialogHeading")
        self.about = plain(QLabel())
        self.about.setObjectName("copyAbout")
        self.about.setWordWrap(True)
        self.language = ValueComboBox()
        self.language.setObjectName("copyLanguage")
        self.language.setAccessibleName("Language")
        self.save_button = QPushButton("Save PDF…")
        self.save_button.setObjectName("primaryButton")
        self.give_button = QPushButton("Record as given…")
        self.give_button.setObjectName("recordGiven")
        self.give_button.setVisible(allowed(actor, Permission.GIVE_CARE_PLAN))
        self.copies = plain(QLabel())
        self.copies.setObjectName("copiesGiven")
        self.copies.setWordWrap(True)
        self.status = plain(QLabel())
        self.status.setObjectName("statusLabel")
        self.status.setWordWrap(True)
        self.error = FieldErrorLabel()
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        form = QFormLayout()
        form.addRow("Language", self.language)
        actions = QHBoxLayout()
        actions.addWidget(self.save_button)
        actions.addWidget(self.give_button)
        actions.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addWidget(self.heading)
        layout.addWidget(self.about)
        layout.addLayout(form)
        layout.addLayout(actions)
        layout.addWidget(self.status)
        layout.addWidget(self.error)
        layout.addWidget(self.copies)
        layout.addWidget(buttons)
        self.save_button.clicked.connect(self.save_pdf)
        self.give_button.clicked.connect(self.record_given)
        self._load()

    def _load(self) -> None:
        """Read the version and the patient's preferred language; a version that cannot be
        printed (not signed) is said, and nothing can be done with it."""
        try:
            plan = self._services.care_plans.plan(self._actor, self._mrn)
            version = plan.version(self._number)
            copy = self._services.care_plans.patient_copy(self._actor, self._mrn, self._number)
        except ServiceError as error:
            self.about.setText(str(error))
            for widget in (self.language, self.save_button, self.give_button):
                widget.setEnabled(False)
            return
        self._signed_on = copy.signed_on
        self.heading.setText(f"Care plan version {version.number} for {plan.patient_name}")
        self.about.setText(
            f"Signed {date_text(copy.signed_on)} by {copy.signed_by or 'the practitioner'}. "
            "The copy is printed in large type, in plain words, in the language chosen below."
        )
        self.language.clear()
        for key, label in LANGUAGES.items():
            preferred = ", the patient's preferred language" if key == copy.language else ""
            self.language.add_value(label + preferred, key)
        self.language.set_value(copy.language)
        self.copies.setText(copies_text(version.copies))

    def chosen_language(self) -> str:
        return self.language.value()

    def save_pdf(self) -> Path | None:
        """Ask where, then write the copy in the chosen language; a failure is said below."""
        language = self.chosen_language()
        suggested = Path.home() / default_file_name(self._mrn, self._number, language)
        chosen, _ = QFileDialog.getSaveFileName(
            self, "Save patient copy", str(suggested), "PDF files (*.pdf)"
        )
        if not chosen:
            return None
        path = Path(chosen)
        if path.suffix.lower() != ".pdf":
            path = path.with_name(path.name + ".pdf")
        self.error.set_error("")
        try:
            written = self._services.care_plans.write_patient_copy(
                self._actor, self._mrn, path, self._number, language
            )
        except ServiceError as error:
            self.status.setText("")
            self.error.set_error(str(error))
            return None
        self.status.setText(f"Saved: {written}")
        self._fit()
        return written

    def record_given(self) -> bool:
        """Ask the day, how and a note; record the copy. The small dialog stays open until
        the service takes it."""
        if self._signed_on is None:
            return False
        zone = self._services.practice_zone()
        today = self._services.now().astimezone(zone).date()
        dialog = RecordCopyDialog(self._signed_on, today, self.chosen_language(), self)
        while self.exec_dialog(dialog):
            try:
                given = self._services.care_plans.record_copy(
                    self._actor, self._mrn, self._number, dialog.day(),
                    dialog.method.value(), self.chosen_language(), dialog.note.toPlainText(),
                )  # fmt: skip
            except ValidationFailed as failure:
                dialog.errors.show(failure.errors)
                continue
            except ServiceError as error:
                dialog.errors.show_refusal(error)
                continue
            self.recorded = True
            self.status.setText(
                f"Recorded: given {date_text(given.given_on)} {given.method_label.lower()}."
            )
            chosen = self.chosen_language()
            self._load()  # the copies line; the language chosen stays for the next PDF
            self.language.set_value(chosen)
            self._fit()
            return True
        return False

    def _fit(self) -> None:
        # New lines under the buttons must not squeeze the wrapped text above them (seen on
        # the walk: the dialog kept its height and the description was clipped).
        self.adjustSize()

    def exec_dialog(self, dialog: QDialog) -> bool:
        """Run a dialog (a method, so tests can fill it in instead of a person)."""
        return dialog.exec() == QDialog.DialogCode.Accepted


def open_patient_copy(
    parent: QWidget | None, services: Services, actor: Actor, mrn: str, number: int
) -> bool:
    """Show the patient copy dialog for a version; True when a copy was recorded as given (the
    caller re-reads the plan: its status becomes "Signed, given")."""
    dialog = PatientCopyDialog(parent, services, actor, mrn, number)
    dialog.exec()
    return dialog.recorded
