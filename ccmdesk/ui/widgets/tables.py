"""The look every read-only list shares, the colours its rows are tinted with, and its keys."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QModelIndex, QPersistentModelIndex, QSortFilterProxyModel, Qt
from PySide6.QtGui import QColor, QKeyEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QLabel,
    QStackedWidget,
    QTableView,
    QWidget,
)

ModelIndex = QModelIndex | QPersistentModelIndex

# What stops a month from billing, and what only warns about it.
BLOCK_COLOR = QColor("#b3261e")
WARNING_COLOR = QColor("#8a5a00")


LEFT = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter


def prepare_table(
    table: QTableView, *, row_padding: int = 12, headers: Qt.AlignmentFlag = LEFT
) -> None:
    """The look every read-only list of the app shares: whole rows, no grid, fixed heights
    (Qt then never measures 10,000 rows to lay them out)."""
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.setAlternatingRowColors(True)
    table.setShowGrid(False)
    table.setWordWrap(False)
    table.setTabKeyNavigation(False)
    vertical = table.verticalHeader()
    vertical.hide()
    vertical.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
    vertical.setDefaultSectionSize(table.fontMetrics().height() + row_padding)
    header = table.horizontalHeader()
    header.setHighlightSections(False)
    header.setDefaultAlignment(headers)


def current_source_row(table: QTableView, proxy: QSortFilterProxyModel) -> int | None:
    """The source model's row under the table's current cell (the table shows `proxy`)."""
    index = table.currentIndex()
    return proxy.mapToSource(index).row() if index.isValid() else None


def enter_pressed(event: QEvent) -> bool:
    """Whether the event is Enter or Return pressed: on a list it opens or starts the row."""
    return (
        event.type() == QEvent.Type.KeyPress
        and isinstance(event, QKeyEvent)
        and event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter)
    )


class MessageStack(QStackedWidget):
    """A list page's table (and any other panels), or in their place the sentence the
    service answered with (what it refused)."""

    def __init__(self, *panels: QWidget) -> None:
        super().__init__()
        for panel in panels:
            self.addWidget(panel)
        self.message_label = QLabel()
        self.message_label.setObjectName("pageMessage")
        self.message_label.setWordWrap(True)
        self.message_label.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.message_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.addWidget(self.message_label)

    def show_message(self, text: str) -> None:
        self.message_label.setText(text)
        self.setCurrentWidget(self.message_label)

    def message(self) -> str:
        """What shows in place of the panels ("" while a panel shows)."""
        return self.message_label.text() if self.currentWidget() is self.message_label else ""
