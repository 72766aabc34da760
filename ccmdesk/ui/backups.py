"""Backups on the Practice settings page: the copies kept, one more now, or a restore."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMessageBox,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ccmdesk.services import Actor, ServiceError, Services
from ccmdesk.services.backup import KEEP_DAILY, KEEP_MONTHLY, BackupFile
from ccmdesk.ui.forms import hint_label, plain, show_failure

KIND_WORDS = {
    "daily": "Daily",
    "monthly": "Monthly",
    "manual": "By hand",
    "pre-migration": "Before an upgrade",
}
PATH_ROLE = Qt.ItemDataRole.UserRole


def size_text(size: int) -> str:
    return f"{size / 1_000_000:.1f} MB" if size >= 100_000 else f"{size / 1000:.0f} kB"


class BackupsBox(QGroupBox):
    """The data folder's backups, newest first; administrators take one or restore one."""

    restored = Signal(str)  # what was restored, and where the replaced database is kept

    def __init__(
        self, services: Services, actor: Callable[[], Actor], parent: QWidget | None = None
    ) -> None:
        super().__init__("Backups", parent)
        self.setObjectName("backupsBox")
        self._services = services
        self._actor = actor
        folder = services.backups.folder
        hint = plain(
            hint_label(
                f"ccmdesk copies the database at the first start of each day and before every "
                f"upgrade, keeping {KEEP_DAILY} daily and {KEEP_MONTHLY} monthly copies, each "
                f"checked with a SHA-256 beside it, in {folder}."
                if services.backups.available
                else "This ccmdesk uses a database server: back it up with the server's tools."
            )
        )
        self.list = QTreeWidget()
        self.list.setObjectName("backupList")
        self.list.setAccessibleName("Backups")
        self.list.setHeaderLabels(["Taken", "Kind", "Size", "File"])
        self.list.setRootIsDecorated(False)
        self.list.setUniformRowHeights(True)
        self.list.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        header = self.list.header()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        self.list.setMinimumHeight(self.list.fontMetrics().height() * 8)
        self.backup_button = QPushButton("Back up now")
        self.restore_button = QPushButton("Restore selected…")
        self.status = plain(QLabel())
        self.status.setObjectName("statusLabel")
        self.status.setWordWrap(True)
        buttons = QHBoxLayout()
        buttons.addWidget(self.status, 1)
        buttons.addWidget(self.restore_button)
        buttons.addWidget(self.backup_button)
        layout = QVBoxLayout(self)
        layout.addWidget(hint)
        layout.addWidget(self.list)
        layout.addLayout(buttons)
        for widget in (self.list, self.backup_button, self.restore_button):
            widget.setVisible(services.backups.available)
        self.backup_button.clicked.connect(self.back_up_now)
        self.restore_button.clicked.connect(self.restore_selected)
        self.list.currentItemChanged.connect(self._update_buttons)
        self.reload()

    def reload(self) -> None:
        self.list.clear()
        for backup in self._services.backups.list():
            self.list.addTopLevelItem(self._item(backup))
        self._update_buttons()

    @staticmethod
    def _item(backup: BackupFile) -> QTreeWidgetItem:
        taken = backup.taken.astimezone().strftime("%Y-%m-%d %H:%M")
        item = QTreeWidgetItem(
            [
                taken,
                KIND_WORDS.get(backup.kind, backup.kind),
                size_text(backup.size),
                backup.path.name,
            ]
        )
        item.setData(0, PATH_ROLE, str(backup.path))
        return item

    def _update_buttons(self) -> None:
        self.restore_button.setEnabled(self.list.currentItem() is not None)

    def back_up_now(self) -> bool:
        try:
            path = self._services.backups.take(self._actor())
        except ServiceError as error:
            show_failure(self, error)
            return False
        self.reload()
        self.status.setText(f"Backed up to {path.name}.")
        return True

    def restore_selected(self) -> bool:
        """After a confirmation: the selected backup in place of the database (the current one
        is kept aside), then ccmdesk closes to start afresh."""
        item = self.list.currentItem()
        if item is None:
            return False
        from pathlib import Path

        source = Path(item.data(0, PATH_ROLE))
        answer = QMessageBox.question(
            self,
            "Restore a backup",
            f"Replace the database with {source.name} (taken {item.text(0)})?\n\nEverything "
            "recorded after it was taken would need entering again. The current database is "
            "kept beside it, and ccmdesk closes afterwards: start it again.",
        )
        if answer != QMessageBox.StandardButton.Yes:
            return False
        try:
            aside = self._services.backups.restore_now(self._actor(), source)
        except ServiceError as error:
            show_failure(self, error)
            return False
        kept = f" The database it replaced is kept as {aside}." if aside is not None else ""
        self.restored.emit(f"{source.name} was restored.{kept}")
        return True
