"""The payer list for billing staff and administrators: the table, the add/edit dialog, the page."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from PySide6.QtCore import QObject, QSortFilterProxyModel, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QShowEvent
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from ccmdesk.rules.catalog import PAYER_KINDS, PROGRAMS, UNKNOWN_COVERAGE
from ccmdesk.rules.payers import MIN_DIAGNOSES_LIMIT, PAYER_ID_LIMIT, PAYER_TEXT_LIMITS, PayerRecord
from ccmdesk.rules.records import FieldError
from ccmdesk.services import Actor, ServiceError, Services, ValidationFailed
from ccmdesk.ui.forms import (
    FieldErrorLabel,
    FormErrors,
    ValueComboBox,
    ask,
    focus_field,
    hint_label,
    show_failure,
)
from ccmdesk.ui.pages.services_page import ServicesPage
from ccmdesk.ui.refresh import PAYERS, Changes, touches
from ccmdesk.ui.widgets.payers import PROGRAM_LABELS, covers_label, kind_label
from ccmdesk.ui.widgets.rows_model import RowsModel
from ccmdesk.ui.widgets.tables import current_source_row, prepare_table

PAYER_ID, NAME, KIND, EDI, COVERS, COINSURANCE, MIN_DIAGNOSES, RETIRED = range(8)
HEADERS = (
    "Payer id",
    "Name",
    "Kind",
    "EDI payer id",
    "Covers",
    "Coinsurance",
    "Min. diagnoses",
    "Retired",
)
LABELS = {
    "payer_id": "Payer id",
    "name": "Name",
    "kind": "Kind",
    "edi_payer_id": "EDI payer id",
    "covers": "Covers",
    "coinsurance_percent": "Coinsurance",
    "min_diagnoses": "Min. diagnoses",
    "notes": "Notes",
}
RETIRED_COLOR = QColor("#7a7f85")
# The share a new payer starts with: Medicare's 20 %, or all of it for self-pay (docs/payers.md).
SELF_PAY_COINSURANCE, USUAL_COINSURANCE = 100, 20


class PayerTableModel(RowsModel[PayerRecord]):
    """The payers, retired ones greyed."""

    def __init__(self, payers: Sequence[PayerRecord] = (), parent: QObject | None = None) -> None:
        super().__init__(HEADERS, parent, numeric=(COINSURANCE, MIN_DIAGNOSES))
        self._rows = list(payers)

    def row_of(self, payer_id: str) -> int:
        return self.position_where(lambda payer: payer.payer_id == payer_id)

    def _text(self, payer: PayerRecord, column: int) -> str:
        return (
            payer.payer_id,
            payer.name,
            kind_label(payer.kind),
            payer.edi_payer_id or "—",
            covers_label(payer.covers),
            f"{payer.coinsurance_percent} %",
            "—" if payer.min_diagnoses is None else str(payer.min_diagnoses),
            "Yes" if payer.retired else "No",
        )[column]

    def _cell(self, payer: PayerRecord, column: int, role: int) -> Any:
        if role == Qt.ItemDataRole.ForegroundRole and payer.retired:
            return QBrush(RETIRED_COLOR)
        if role == Qt.ItemDataRole.ToolTipRole:
            if column == EDI and not payer.edi_payer_id:
                return "No EDI payer id: no claim file is written for this payer."
            if column == COVERS and payer.covers == UNKNOWN_COVERAGE:
                return "Confirm with the payer before billing: its months carry a warning."
            if column == NAME and payer.notes:
                return payer.notes
        if role == Qt.ItemDataRole.UserRole:
            return payer.payer_id
        return None


class CoversEditor(QWidget):
    """Which programs a payer pays, ticked; or "not known yet" (the payer not asked)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.programs = {program: QCheckBox(PROGRAM_LABELS[program]) for program in PROGRAMS}
        self.unknown = QCheckBox("Not known yet")
        self.unknown.setToolTip("Months billed to this payer carry a warning until it is known.")
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        for program, box in self.programs.items():
            box.setObjectName(f"covers_{program}")
            row.addWidget(box)
        row.addSpacing(12)
        row.addWidget(self.unknown)
        row.addStretch(1)
        self.unknown.toggled.connect(self._unknown_toggled)

    def _unknown_toggled(self, on: bool) -> None:
        for box in self.programs.values():
            if on:
                box.setChecked(False)
            box.setEnabled(not on)

    def set_covers(self, covers: str) -> None:
        items = set(covers.split(";"))
        self.unknown.setChecked(covers == UNKNOWN_COVERAGE)
        for program, box in self.programs.items():
            box.setChecked(program in items)

    def covers(self) -> str:
        """The covers text as payers.csv writes it ('' when nothing is ticked)."""
        if self.unknown.isChecked():
            return UNKNOWN_COVERAGE
        return ";".join(program for program, box in self.programs.items() if box.isChecked())


class PayerDialog(QDialog):
    """Add a payer, or edit one (its payer id is then fixed: patients and files name it)."""

    saved = Signal(str)  # payer_id

    def __init__(
        self,
        services: Services,
        actor: Actor,
        payer: PayerRecord | None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("payerDialog")
        self._services = services
        self._actor = actor
        title = "Add a payer" if payer is None else f"Edit {payer.name}"
        self.setWindowTitle(title)
        heading = QLabel(title)
        heading.setObjectName("dialogHeading")

        self.general_error = FieldErrorLabel()
        self.errors = FormErrors(self.general_error)
        self.payer_id = QLineEdit()
        self.payer_id.setMaxLength(PAYER_ID_LIMIT)
        self.payer_id.setPlaceholderText("short and unique: a-z, 0-9 and -, e.g. aetna-ma")
        self.name = QLineEdit()
        self.name.setMaxLength(PAYER_TEXT_LIMITS["name"])
        self.name.setPlaceholderText("as printed on the superbill")
        self.kind = ValueComboBox()
        self.kind.add_value("— choose —", "")
        for kind in PAYER_KINDS:
            self.kind.add_value(kind_label(kind), kind)
        self.edi_payer_id = QLineEdit()
        self.edi_payer_id.setMaxLength(PAYER_TEXT_LIMITS["edi_payer_id"])
        self.edi_payer_id.setPlaceholderText("your clearinghouse's id; blank: no claim file")
        self.covers = CoversEditor()
        self.coinsurance_percent = QSpinBox()
        self.coinsurance_percent.setRange(0, 100)
        self.coinsurance_percent.setSuffix(" %")
        self.coinsurance_percent.setValue(USUAL_COINSURANCE)
        self.min_diagnoses = QSpinBox()
        self.min_diagnoses.setRange(0, MIN_DIAGNOSES_LIMIT)
        self.min_diagnoses.setSpecialValueText("no rule")  # 0 stands for blank
        self.notes = QPlainTextEdit()
        self.notes.setTabChangesFocus(True)
        self.notes.setPlaceholderText("prior authorisation, portal, contacts")
        self.notes.setFixedHeight(self.notes.fontMetrics().height() * 4 + 16)
        inputs: dict[str, QWidget] = {
            "payer_id": self.payer_id,
            "name": self.name,
            "kind": self.kind,
            "edi_payer_id": self.edi_payer_id,
            "covers": self.covers,
            "coinsurance_percent": self.coinsurance_percent,
            "min_diagnoses": self.min_diagnoses,
            "notes": self.notes,
        }
        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.setLabelAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        for field, widget in inputs.items():
            widget.setObjectName(field)
            widget.setAccessibleName(LABELS[field])
            caption = QLabel(LABELS[field])
            caption.setBuddy(widget)
            form.addRow(caption, self.errors.add(field, LABELS[field], widget))
        self.inputs = inputs
        self.retired_note = hint_label(
            "This payer is retired: saving it brings it back, offered for patients again."
        )
        self.retired_note.setVisible(bool(payer and payer.retired))

        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
        )
        self.save_button = buttons.button(QDialogButtonBox.StandardButton.Save)
        self.save_button.clicked.connect(self.save)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(heading)
        layout.addWidget(self.retired_note)
        layout.addWidget(self.general_error)
        layout.addLayout(form)
        layout.addStretch(1)
        layout.addWidget(buttons)
        self.setMinimumWidth(560)

        # A new payer's coinsurance follows its kind until someone sets it.
        self._coinsurance_set = payer is not None
        self._following_kind = False
        self.coinsurance_percent.valueChanged.connect(self._coinsurance_typed)
        self.kind.currentIndexChanged.connect(self._kind_changed)
        if payer is None:
            self.covers.set_covers(UNKNOWN_COVERAGE)
        else:
            self.load(payer)

    def load(self, payer: PayerRecord) -> None:
        self.payer_id.setText(payer.payer_id)
        self.payer_id.setReadOnly(True)
        self.payer_id.setToolTip("A payer id cannot change: patients and files refer to it.")
        self.name.setText(payer.name)
        self.kind.set_value(payer.kind, kind_label(payer.kind))
        self.edi_payer_id.setText(payer.edi_payer_id)
        self.covers.set_covers(payer.covers)
        self.coinsurance_percent.setValue(payer.coinsurance_percent)
        self.min_diagnoses.setValue(payer.min_diagnoses or 0)
        self.notes.setPlainText(payer.notes)
        self.name.setFocus()

    def _coinsurance_typed(self) -> None:
        if not self._following_kind:
            self._coinsurance_set = True

    def _kind_changed(self) -> None:
        if self._coinsurance_set:
            return
        share = SELF_PAY_COINSURANCE if self.kind.value() == "self" else USUAL_COINSURANCE
        self._following_kind = True
        try:
            self.coinsurance_percent.setValue(share)
        finally:
            self._following_kind = False

    def raw(self) -> dict[str, str]:
        """Every column of payers.csv as text, as the import would read it."""
        diagnoses = self.min_diagnoses.value()
        return {
            "payer_id": self.payer_id.text(),
            "name": self.name.text(),
            "kind": self.kind.value(),
            "edi_payer_id": self.edi_payer_id.text(),
            "covers": self.covers.covers(),
            "coinsurance_percent": str(self.coinsurance_percent.value()),
            "min_diagnoses": str(diagnoses) if diagnoses else "",
            "notes": self.notes.toPlainText(),
        }

    def save(self) -> bool:
        raw = self.raw()
        if not raw["covers"]:
            # Nothing ticked reads as "covers nothing", which no payer on the list means.
            return self._refused(
                [FieldError("covers", "tick the programs the payer pays, or not known yet")]
            )
        try:
            record = self._services.payers.save_text(self._actor, raw)
        except ValidationFailed as failure:
            return self._refused(failure.errors)
        except ServiceError as error:
            show_failure(self, error)
            return False
        self.saved.emit(record.payer_id)
        self.accept()
        return True

    def _refused(self, errors: Sequence[FieldError]) -> bool:
        first = self.errors.show(errors)
        if first is not None:
            focus_field(first)
        return False


class PayersPage(ServicesPage):
    """Billing staff and administrators keep the practice's payers: add, edit, retire."""

    changed = Signal()  # a payer was saved, retired or deleted: patients and months re-read

    TITLE = "Payers"

    def _build(self) -> None:
        self.show_retired = QCheckBox("Show retired")
        self.show_retired.setObjectName("showRetired")
        self.delete_button = QPushButton("Delete…")
        self.retire_button = QPushButton("Retire…")
        self.edit_button = QPushButton("Edit…")
        self.add_button = QPushButton("Add payer…")
        self.add_button.setObjectName("primaryButton")
        self.model = PayerTableModel(parent=self)
        self.proxy = QSortFilterProxyModel(self)
        self.proxy.setSourceModel(self.model)
        self.proxy.setSortCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.table = QTableView()
        self.table.setObjectName("payerTable")
        self.table.setModel(self.proxy)
        prepare_table(self.table, row_padding=10)
        header = self.table.horizontalHeader()
        # A practice has a handful of payers: measuring every cell is cheap.
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(NAME, QHeaderView.ResizeMode.Stretch)
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(NAME, Qt.SortOrder.AscendingOrder)
        self.hint = hint_label(
            "Retire a payer that patients still have: it stays on their records and months, "
            "and is offered no more. Only a payer no patient has can be deleted."
        )

        layout = self._lay_out(
            self.show_retired, self.delete_button, self.retire_button, self.edit_button,
            self.add_button,
        )  # fmt: skip
        layout.addWidget(self.hint)
        layout.addWidget(self.table, 1)

        self.show_retired.toggled.connect(lambda _on: self.reload())
        self.add_button.clicked.connect(self.add_payer)
        self.edit_button.clicked.connect(self.edit_current)
        self.retire_button.clicked.connect(self.retire_current)
        self.delete_button.clicked.connect(self.delete_current)
        self.table.doubleClicked.connect(self.edit_current)
        self.table.selectionModel().currentRowChanged.connect(self._update_buttons)
        self._update_buttons()

    def showEvent(self, event: QShowEvent) -> None:
        # The list may have changed through an import, or from another window, meanwhile.
        self.reload()
        super().showEvent(event)

    def refresh(self, changes: Changes) -> None:
        if touches(changes, PAYERS):
            self.reload()

    def clear(self) -> None:
        self.model.replace_rows([])

    def forget_person(self) -> None:
        self.table.clearSelection()
        self.show_retired.setChecked(False)

    def reload(self, select_payer_id: str | None = None) -> None:
        keep = select_payer_id or self.current_payer_id()
        include = self.show_retired.isChecked()
        payers = self._read(lambda: self._services.payers.list(self._actor(), include))
        if payers is None:
            return
        self.model.replace_rows(payers)
        if keep:
            row = self.model.row_of(keep)
            if row >= 0:
                self.table.setCurrentIndex(self.proxy.mapFromSource(self.model.index(row, NAME)))
        self._update_buttons()

    def current_payer(self) -> PayerRecord | None:
        row = current_source_row(self.table, self.proxy)
        return None if row is None else self.model.row_at(row)

    def current_payer_id(self) -> str | None:
        payer = self.current_payer()
        return None if payer is None else payer.payer_id

    def _update_buttons(self) -> None:
        payer = self.current_payer()
        self.edit_button.setEnabled(payer is not None)
        self.retire_button.setEnabled(payer is not None and not payer.retired)
        self.delete_button.setEnabled(payer is not None)

    def _saved(self, payer_id: str) -> None:
        self.reload(payer_id)
        self.changed.emit()

    def add_payer(self) -> PayerDialog:
        dialog = PayerDialog(self._services, self._actor(), None, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.saved.connect(self._saved)
        dialog.open()
        return dialog

    def edit_current(self) -> PayerDialog | None:
        payer = self.current_payer()
        if payer is None:
            return None
        dialog = PayerDialog(self._services, self._actor(), payer, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.saved.connect(self._saved)
        dialog.open()
        return dialog

    def retire_current(self) -> QMessageBox | None:
        payer = self.current_payer()
        if payer is None or payer.retired:
            return None
        return self._ask(
            f"Retire {payer.name}?",
            f"{payer.name} stays on the records and months of the patients who have it, and is "
            "no longer offered for other patients. Saving it again brings it back.",
            "Retire",
            lambda: self._services.payers.retire(self._actor(), payer.payer_id),
        )

    def delete_current(self) -> QMessageBox | None:
        payer = self.current_payer()
        if payer is None:
            return None
        return self._ask(
            f"Delete {payer.name}?",
            f"{payer.name} ({payer.payer_id}) is removed from the payer list. Only a payer "
            "entered by mistake, that no patient has, can be deleted.",
            "Delete",
            lambda: self._services.payers.delete(self._actor(), payer.payer_id),
        )

    def _ask(self, title: str, text: str, action: str, change: Callable[[], object]) -> QMessageBox:
        """Ask before a change (non-blocking); once confirmed, make it and show any refusal."""

        def confirmed() -> None:
            try:
                change()
            except ServiceError as error:
                self._show_message(str(error))
                return
            except Exception as error:
                show_failure(self, error)
                return
            self.reload()
            self.changed.emit()

        return ask(self, "payerQuestion", title, text, action, confirmed)
