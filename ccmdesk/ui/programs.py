"""The patient editor's Program section: the program from a month on, and its history."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGroupBox,
    QHeaderView,
    QLabel,
    QLineEdit,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ccmdesk.rules.icd10 import description
from ccmdesk.rules.intervals import date_text, month_label
from ccmdesk.rules.programs import DEFAULT_PROGRAM, in_force
from ccmdesk.services import Actor, BillingRow, Permission, ProgramPeriodRow, Services, allowed
from ccmdesk.services.errors import ServiceError
from ccmdesk.ui.forms import FieldErrorLabel, ValueComboBox, hint_label, refusal_text

# The programs as the editor offers them, in the words of docs/billing-rules.md ("Programs").
CHOICES = (
    ("ccm", "CCM / PCM by the conditions"),
    ("pcm_focus", "PCM on one focus condition"),
    ("apcm", "APCM (no minutes)"),
)
# Shorter, for the history's Program column.
HISTORY_NAMES = {"ccm": "CCM / PCM by the conditions", "pcm_focus": "PCM", "apcm": "APCM"}
LABELS = {"program": "Program", "focus_condition": "Focus condition", "program_from": "From month"}
NOT_ALLOWED = "Only practitioners, billing staff and administrators change a patient's program."


class ProgramSection(QGroupBox):
    """Program, focus condition (PCM by focus only) and "from month", with the history of
    program periods read-only; saved by the patient editor after the record itself."""

    def __init__(
        self,
        services: Services,
        actor: Actor,
        mrn: str | None,
        month: str,
        parent: QWidget | None = None,
    ) -> None:
        """`month`: this month (YYYY-MM), the default first month of a change."""
        super().__init__("Program", parent)
        self.setObjectName("programSection")
        self._services = services
        self._actor = actor
        self._month = month
        self.may_change = allowed(actor, Permission.SET_PROGRAM)

        self.program = ValueComboBox()
        self.program.setObjectName("program")
        self.program.setAccessibleName("Program")
        for value, label in CHOICES:
            self.program.add_value(label, value)
        self.focus = ValueComboBox()
        self.focus.setObjectName("focus_condition")
        self.focus.setAccessibleName("Focus condition")
        self.from_month = QLineEdit(month)
        self.from_month.setObjectName("program_from")
        self.from_month.setAccessibleName("From month")
        self.from_month.setPlaceholderText("YYYY-MM; blank: from the start")
        self.from_month.setMaxLength(7)
        self.error = FieldErrorLabel()
        self.error.setObjectName("programError")
        self.hint = hint_label(
            "A change holds from the month given on, never inside a signed or closed month."
            if self.may_change
            else NOT_ALLOWED
        )
        self.history = QTableWidget(0, 4)
        self.history.setObjectName("programHistory")
        self.history.setAccessibleName("Program history")
        self.history.setHorizontalHeaderLabels(["From", "Program", "Recorded by", "On"])
        self.history.verticalHeader().hide()
        self.history.setWordWrap(False)
        self.history.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.history.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.history.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.history.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        header = self.history.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.no_history = QLabel()
        self.no_history.setObjectName("hint")

        form = QFormLayout(self)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        for text, widget in (
            ("Program", self.program),
            ("Focus condition", self.focus),
            ("From month", self.from_month),
        ):
            form.addRow(form_label(text, widget), widget)
        form.addRow("", self.error)
        form.addRow("", self.hint)
        form.addRow(form_label("History", self.no_history), self.no_history)
        form.addRow(self.history)

        self._loaded: tuple[str, str] = (DEFAULT_PROGRAM, "")
        self._codes: list[str] = []
        if mrn is not None:
            self._load(mrn)
        else:
            self._show_history([])
        self.program.currentIndexChanged.connect(self._program_changed)
        self._program_changed()
        if not self.may_change:
            self.set_read_only(True)

    # --- values ------------------------------------------------------------------------------

    def _load(self, mrn: str) -> None:
        # The program in force this month, from the history the section shows anyway.
        periods = self._services.programs.history(self._actor, mrn)
        chosen = in_force([period.choice for period in periods], self._month)
        program, focus = chosen.program, chosen.focus_condition
        self._loaded = (program, focus or "")
        self.program.set_value(program)
        if focus:
            self.focus.set_value(focus, f"{focus} — {description(focus)}")
        self._show_history(periods)

    def _show_history(self, periods: Sequence[ProgramPeriodRow]) -> None:
        self.no_history.setText(
            "" if periods else "No change recorded: CCM (or PCM by the conditions) throughout."
        )
        self.history.setVisible(bool(periods))
        self.history.setRowCount(len(periods))
        zone = self._services.practice_zone()
        for row, period in enumerate(periods):
            program = (
                f"PCM on {period.focus_condition}"
                if period.focus_condition
                else HISTORY_NAMES[period.program]
            )
            cells = (
                period.starts.removeprefix("from ").capitalize(),
                program,
                period.recorded_by_name,
                date_text(period.recorded_at.astimezone(zone).date()),
            )
            for column, text in enumerate(cells):
                self.history.setItem(row, column, QTableWidgetItem(text))
        # Every period shown without a scroll bar: a patient has a handful at most.
        rows = self.history.verticalHeader().defaultSectionSize() * len(periods)
        header = self.history.horizontalHeader().sizeHint().height()
        self.history.setFixedHeight(rows + header + 2 * self.history.frameWidth() + 2)

    def set_conditions(self, codes: Sequence[str]) -> None:
        """The patient's conditions as the editor lists them now: the focus is one of them."""
        self._codes = list(codes)
        chosen = self.focus.value() or self._loaded[1]
        self.focus.blockSignals(True)
        self.focus.clear()
        self.focus.add_value("— choose —", "")
        for code in self._codes:
            self.focus.add_value(f"{code} — {description(code)}", code)
        if chosen in self._codes:
            self.focus.set_value(chosen)
        self.focus.blockSignals(False)

    def _program_changed(self) -> None:
        focus = self.program.value() == "pcm_focus"
        self.focus.setEnabled(focus and self.may_change and self.program.isEnabled())
        self.focus.setToolTip("" if focus else "Only for PCM on one focus condition.")

    def value(self) -> tuple[str, str]:
        """(program, focus condition) as chosen; the focus only for pcm_focus."""
        program = self.program.value()
        return program, self.focus.value() if program == "pcm_focus" else ""

    def is_changed(self) -> bool:
        return self.value() != self._loaded

    # --- saving ------------------------------------------------------------------------------

    def save(self, mrn: str) -> bool:
        """Put the chosen program in force from the month given (when it changed); a refusal
        is shown in the section and False returned."""
        self.error.set_error("")
        if not self.is_changed() or not self.may_change:
            return True
        program, focus = self.value()
        try:
            self._services.programs.set(
                self._actor, mrn, program, self.from_month.text().strip(), focus or None
            )
        except ServiceError as refusal:
            self.error.set_error(refusal_text(refusal, LABELS))
            return False
        self._loaded = (program, focus)
        self._show_history(self._services.programs.history(self._actor, mrn))
        return True

    def set_read_only(self, read_only: bool) -> None:
        for widget in (self.program, self.focus, self.from_month):
            widget.setEnabled(not read_only)
        if read_only and self.may_change:
            self.hint.setText("")
        self._program_changed()


def form_label(text: str, buddy: QWidget) -> QLabel:
    """A form label the editor lines up with its other groups' labels (forms.align_labels)."""
    label = QLabel(text)
    label.setObjectName("formLabel")
    label.setBuddy(buddy)
    return label


class ProgramDialog(QDialog):
    """The billing panel's "Change program…": the patient's program from the month on screen
    (or another month given), through the program service; the month's row re-read after."""

    saved = Signal(object)  # BillingRow

    def __init__(
        self,
        services: Services,
        actor: Callable[[], Actor],
        row: BillingRow,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("programDialog")
        self.setWindowTitle("Change program")
        self._services = services
        self._actor = actor
        self._row = row
        month = row.result.month
        heading = QLabel(f"{row.patient_name} · MRN {row.mrn} · {month_label(month)}")
        heading.setObjectName("dialogHeading")
        self.section = ProgramSection(services, actor(), row.mrn, month, self)
        self.section.set_conditions(row.result.inputs[1].conditions)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.accepted.connect(self.save)
        self.buttons.rejected.connect(self.reject)
        self.buttons.button(QDialogButtonBox.StandardButton.Save).setEnabled(
            self.section.may_change
        )
        layout = QVBoxLayout(self)
        layout.addWidget(heading)
        layout.addWidget(self.section)
        layout.addWidget(
            hint_label(
                "The billing panel shows, month by month, when another program would pay more; "
                "the choice stays the practitioner's or the biller's."
            )
        )
        layout.addWidget(self.buttons)
        self.resize(560, self.sizeHint().height())

    def save(self) -> None:
        if not self.section.save(self._row.mrn):
            return  # the section shows why
        try:
            row = self._services.billing.patient_month(
                self._actor(), self._row.mrn, self._row.result.month
            )
        except ServiceError as error:
            self.section.error.set_error(str(error))
            return
        self.saved.emit(row)
        self.accept()
