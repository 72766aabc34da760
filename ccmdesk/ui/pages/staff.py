"""The staff list for administrators: a table model, the add/edit dialog, and the page."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import (
    QObject,
    QSortFilterProxyModel,
    Qt,
    Signal,
)
from PySide6.QtGui import QBrush, QColor, QShowEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from ccmdesk.models.staff import ROLE_LABELS
from ccmdesk.rules.records import StaffRecord
from ccmdesk.rules.validation import STAFF_TEXT_LIMITS, staff_from_text
from ccmdesk.services import Actor, ServiceError, Services, ValidationFailed
from ccmdesk.ui.forms import (
    FieldErrorLabel,
    FormErrors,
    ValueComboBox,
    focus_field,
    limit_typing,
    show_failure,
)
from ccmdesk.ui.pages.services_page import ServicesPage
from ccmdesk.ui.refresh import STAFF, Changes, touches
from ccmdesk.ui.widgets.roles import role_label
from ccmdesk.ui.widgets.rows_model import RowsModel
from ccmdesk.ui.widgets.tables import current_source_row

STAFF_ID, NAME, ROLE, CREDENTIALS, NPI, ACTIVE = range(6)
HEADERS = ("Staff id", "Name", "Role", "Credentials", "NPI", "Active")
LABELS = {
    "staff_id": "Staff id",
    "name": "Name",
    "role": "Role",
    "credentials": "Credentials",
    "npi": "NPI",
    "active": "Active",
}
CREDENTIAL_CHOICES = ("", "RN", "LPN", "MA", "MD", "DO", "NP", "PA", "CNS", "LCSW", "PharmD")
INACTIVE_COLOR = QColor("#7a7f85")


class StaffTableModel(RowsModel[StaffRecord]):
    """Every staff member, active or not."""

    def __init__(self, staff: Sequence[StaffRecord] = (), parent: QObject | None = None) -> None:
        super().__init__(HEADERS, parent)
        self._rows = list(staff)

    def row_of(self, staff_id: str) -> int:
        return self.position_where(lambda member: member.staff_id == staff_id)

    def _text(self, member: StaffRecord, column: int) -> str:
        return (
            member.staff_id,
            member.name,
            role_label(member.role),
            member.credentials,
            member.npi,
            "Yes" if member.active else "No",
        )[column]

    def _cell(self, member: StaffRecord, column: int, role: int) -> Any:
        if role == Qt.ItemDataRole.ForegroundRole and not member.active:
            return QBrush(INACTIVE_COLOR)
        if role == Qt.ItemDataRole.UserRole:
            return member.staff_id
        return None


class StaffDialog(QDialog):
    """Add a staff member, or edit one (the staff id is then fixed: imports and logs use it)."""

    saved = Signal(str)  # staff_id

    def __init__(
        self,
        services: Services,
        actor: Actor,
        member: StaffRecord | None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("staffDialog")
        self._services = services
        self._actor = actor
        self._is_new = member is None
        title = "Add a staff member" if member is None else f"Edit {member.name}"
        self.setWindowTitle(title)
        heading = QLabel(title)
        heading.setObjectName("dialogHeading")

        self.general_error = FieldErrorLabel()
        self.errors = FormErrors(self.general_error)
        self.staff_id = QLineEdit()
        self.staff_id.setPlaceholderText("short and unique, e.g. rn-lee")
        self.staff_id.setMaxLength(STAFF_TEXT_LIMITS["staff_id"])
        self.name = QLineEdit()
        self.name.setMaxLength(STAFF_TEXT_LIMITS["name"])
        self.role = ValueComboBox()
        self.role.add_value("— choose —", "")
        for role, label in ROLE_LABELS.items():
            self.role.add_value(label, str(role))
        self.credentials = QComboBox()
        self.credentials.setEditable(True)
        self.credentials.addItems(CREDENTIAL_CHOICES)
        limit_typing(self.credentials, STAFF_TEXT_LIMITS["credentials"])
        self.npi = QLineEdit()
        self.npi.setPlaceholderText("10 digits; required for practitioners")
        self.active = QCheckBox("Active (may sign in and be chosen for patients)")
        self.active.setChecked(True)
        inputs: dict[str, QWidget] = {
            "staff_id": self.staff_id,
            "name": self.name,
            "role": self.role,
            "credentials": self.credentials,
            "npi": self.npi,
            "active": self.active,
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

        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
        )
        self.save_button = buttons.button(QDialogButtonBox.StandardButton.Save)
        self.save_button.clicked.connect(self.save)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(heading)
        layout.addWidget(self.general_error)
        layout.addLayout(form)
        layout.addStretch(1)
        layout.addWidget(buttons)
        self.setMinimumWidth(520)

        if member is not None:
            self.staff_id.setText(member.staff_id)
            self.staff_id.setReadOnly(True)
            self.staff_id.setToolTip("A staff id cannot change: time entries and logs refer to it.")
            self.name.setText(member.name)
            self.role.set_value(member.role, role_label(member.role))
            self.credentials.setCurrentText(member.credentials)
            self.npi.setText(member.npi)
            self.active.setChecked(member.active)
            self.name.setFocus()

    def record(self) -> StaffRecord:
        record, _ = staff_from_text(
            {
                "staff_id": self.staff_id.text(),
                "name": self.name.text(),
                "role": self.role.value(),
                "credentials": self.credentials.currentText(),
                "npi": self.npi.text(),
            }
        )
        return dataclasses.replace(record, active=self.active.isChecked())

    def save(self) -> bool:
        try:
            record = self._services.staff.save(self._actor, self.record(), is_new=self._is_new)
        except ValidationFailed as failure:
            first = self.errors.show(failure.errors)
            if first is not None:
                focus_field(first)
            return False
        except ServiceError as error:
            show_failure(self, error)
            return False
        self.saved.emit(record.staff_id)
        self.accept()
        return True


class StaffPage(ServicesPage):
    """Administrators add people, set their role and NPI, and retire them (inactive)."""

    member_saved = Signal(str)  # staff_id: the window re-reads its own user when it changed

    TITLE = "Staff"

    def _build(self) -> None:
        self.add_button = QPushButton("Add staff member…")
        self.add_button.setObjectName("primaryButton")
        self.edit_button = QPushButton("Edit…")
        self.password_button = QPushButton("Set password…")
        self.password_button.setObjectName("setPasswordButton")
        self.model = StaffTableModel(parent=self)
        self.proxy = QSortFilterProxyModel(self)
        self.proxy.setSourceModel(self.model)
        self.proxy.setSortCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.table = QTableView()
        self.table.setObjectName("staffTable")
        self.table.setModel(self.proxy)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setAlternatingRowColors(True)
        self.table.setShowGrid(False)
        self.table.setWordWrap(False)
        vertical = self.table.verticalHeader()
        vertical.hide()
        vertical.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        vertical.setDefaultSectionSize(self.table.fontMetrics().height() + 10)
        header = self.table.horizontalHeader()
        header.setHighlightSections(False)
        # A practice has tens of staff, not thousands: measuring every cell is cheap.
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(NAME, QHeaderView.ResizeMode.Stretch)
        header.setMinimumSectionSize(self.table.fontMetrics().horizontalAdvance("Active") + 40)
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(NAME, Qt.SortOrder.AscendingOrder)

        layout = self._lay_out(self.password_button, self.edit_button, self.add_button)
        layout.addWidget(self.table, 1)

        self.add_button.clicked.connect(self.add_member)
        self.edit_button.clicked.connect(self.edit_current)
        self.password_button.clicked.connect(self.set_password)
        self.table.doubleClicked.connect(self.edit_current)
        self.table.selectionModel().currentRowChanged.connect(self._update_buttons)
        self._update_buttons()

    def showEvent(self, event: QShowEvent) -> None:
        # The list may have changed through an import since the page was last shown.
        self.reload()
        super().showEvent(event)

    def refresh(self, changes: Changes) -> None:
        if touches(changes, STAFF):
            self.reload()

    def clear(self) -> None:
        self.model.replace_rows([])

    def forget_person(self) -> None:
        self.table.clearSelection()

    def reload(self, select_staff_id: str | None = None) -> None:
        keep = select_staff_id or self.current_staff_id()
        try:
            staff = self._services.staff.list(include_inactive=True)
        except Exception as error:
            show_failure(self, error)
            return
        self.model.replace_rows(staff)
        if keep:
            row = self.model.row_of(keep)
            if row >= 0:
                self.table.setCurrentIndex(self.proxy.mapFromSource(self.model.index(row, NAME)))
        self._update_buttons()

    def current_staff_id(self) -> str | None:
        row = current_source_row(self.table, self.proxy)
        return None if row is None else self.model.row_at(row).staff_id

    def _update_buttons(self) -> None:
        chosen = self.table.currentIndex().isValid()
        self.edit_button.setEnabled(chosen)
        self.password_button.setEnabled(chosen)

    def set_password(self) -> QDialog | None:
        """A new password for the chosen person (it also lifts a lock-out)."""
        from ccmdesk.ui.passwords import PasswordDialog

        staff_id = self.current_staff_id()
        if staff_id is None:
            return None
        member = self.model.row_at(self.model.row_of(staff_id))
        dialog = PasswordDialog(self._services, self._actor(), staff_id, member.name, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open()
        return dialog

    def add_member(self) -> StaffDialog:
        dialog = StaffDialog(self._services, self._actor(), None, self)
        dialog.saved.connect(self.reload)
        dialog.saved.connect(self.member_saved)
        dialog.open()
        return dialog

    def edit_current(self) -> StaffDialog | None:
        staff_id = self.current_staff_id()
        if staff_id is None:
            return None
        member = self.model.row_at(self.model.row_of(staff_id))
        dialog = StaffDialog(self._services, self._actor(), member, self)
        dialog.saved.connect(self.reload)
        dialog.saved.connect(self.member_saved)
        dialog.open()
        return dialog
