"""Who is at the keyboard: pick yourself from the active staff (passwords come later)."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QLabel,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ccmdesk.models.staff import ROLE_LABELS
from ccmdesk.rules.records import StaffRecord

STAFF_ID_ROLE = Qt.ItemDataRole.UserRole


class IdentityDialog(QDialog):
    """Lists the active staff; the chosen person becomes the acting user."""

    chosen = Signal(str)  # the staff_id, when accepted

    def __init__(
        self,
        staff: Sequence[StaffRecord],
        preselect: str | None = None,
        practice_name: str = "",
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("identityDialog")
        self.setWindowTitle("Who are you? — ccmdesk")
        heading = QLabel("Who is using ccmdesk?")
        heading.setObjectName("dialogHeading")
        where = f" at {practice_name}" if practice_name else ""
        intro = QLabel(
            f"Choose yourself from the staff{where}. Everything you record is logged in your name."
        )
        intro.setWordWrap(True)

        self.list = QTreeWidget()
        self.list.setObjectName("staffChoice")
        self.list.setAccessibleName("Staff members")
        self.list.setColumnCount(3)
        self.list.setHeaderLabels(["Name", "Role", "Credentials"])
        self.list.setRootIsDecorated(False)
        self.list.setUniformRowHeights(True)
        self.list.setAlternatingRowColors(True)
        self.list.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        for member in sorted(staff, key=lambda m: (m.name.casefold(), m.staff_id)):
            if not member.active:
                continue
            item = QTreeWidgetItem(
                [member.name, ROLE_LABELS.get(member.role, member.role), member.credentials]  # type: ignore[call-overload]
            )
            item.setData(0, STAFF_ID_ROLE, member.staff_id)
            item.setToolTip(0, member.staff_id)
            self.list.addTopLevelItem(item)
        header = self.list.header()
        header.setStretchLastSection(False)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.ResizeToContents)

        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.ok_button = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.ok_button.setText("Continue")
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        self.list.itemDoubleClicked.connect(self.accept)
        self.list.currentItemChanged.connect(self._update_ok)

        layout = QVBoxLayout(self)
        layout.addWidget(heading)
        layout.addWidget(intro)
        layout.addWidget(self.list, 1)
        layout.addWidget(self.buttons)
        self.resize(520, 420)

        self.select(preselect)
        self._update_ok()
        self.list.setFocus()

    def staff_ids(self) -> list[str]:
        """The staff ids offered, in list order."""
        return [
            self.list.topLevelItem(row).data(0, STAFF_ID_ROLE)
            for row in range(self.list.topLevelItemCount())
        ]

    def select(self, staff_id: str | None) -> bool:
        for row in range(self.list.topLevelItemCount()):
            item = self.list.topLevelItem(row)
            if item.data(0, STAFF_ID_ROLE) == staff_id:
                self.list.setCurrentItem(item)
                return True
        return False

    def selected_staff_id(self) -> str | None:
        item = self.list.currentItem()
        return item.data(0, STAFF_ID_ROLE) if item is not None else None

    def _update_ok(self) -> None:
        self.ok_button.setEnabled(self.list.currentItem() is not None)

    def accept(self) -> None:
        staff_id = self.selected_staff_id()
        if staff_id is not None:
            super().accept()
            self.chosen.emit(staff_id)
