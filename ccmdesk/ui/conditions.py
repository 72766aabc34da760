"""A patient's ordered chronic conditions, with ICD-10-CM search to add them."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QEvent, QObject, Qt, QTimer
from PySide6.QtGui import QBrush, QColor, QKeyEvent
from PySide6.QtWidgets import (
    QGridLayout,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from ccmdesk.rules import icd10
from ccmdesk.ui.forms import hint_label
from ccmdesk.ui.widgets.ordered_list import OrderedListEditor

CODE_ROLE = Qt.ItemDataRole.UserRole
TEXT_ROLE = Qt.ItemDataRole.UserRole + 1
SEARCH_DELAY_MS = 150
RESULT_LIMIT = 50
ERROR_COLOR = QColor("#b3261e")


def describe(code: str) -> tuple[str, bool]:
    """The text shown for a code and whether it is a billable ICD-10-CM code."""
    found = icd10.lookup(code)
    if found is None:
        return f"{code} — {icd10.check(code) or 'not a billable ICD-10-CM code'}", False
    return f"{found.code} — {found.description}", True


class ConditionsEditorWidget(OrderedListEditor):
    """The conditions in claim order: search ICD-10-CM to add, remove, move up and down.

    Descriptions come from the bundled code set, read on first use; the list keeps codes
    it does not know (say, from an older import) so the save shows why they are refused.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._read_only = False

        self.list.setObjectName("conditionList")
        self.list.setAccessibleName("Chronic conditions, in claim order")
        # Room for seven conditions, more than most patients have; then it scrolls.
        self.list.setFixedHeight(self.list.fontMetrics().height() * 7 + 12)

        self.search_field = QLineEdit()
        self.search_field.setObjectName("conditionSearch")
        self.search_field.setPlaceholderText(
            "Add: search ICD-10-CM by code or words (E11.9, heart failure)"
        )
        self.search_field.setClearButtonEnabled(True)
        self.search_field.setAccessibleName("Search ICD-10-CM")
        self.results = QListWidget()
        self.results.setObjectName("conditionResults")
        self.results.setAccessibleName("ICD-10-CM search results")
        self.results.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.results.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.results.setUniformItemSizes(True)
        self.results.setFixedHeight(self.results.fontMetrics().height() * 7 + 12)
        self.results.hide()
        self.add_button = QPushButton("Add")
        self.add_button.hide()
        self.note = hint_label()
        self.note.hide()
        self.hint = hint_label("The order is the claim order: the first condition is listed first.")

        grid = QGridLayout()
        grid.setContentsMargins(0, 0, 0, 0)
        grid.addWidget(self.list, 0, 0, 4, 1)
        grid.addWidget(self.up_button, 0, 1)
        grid.addWidget(self.down_button, 1, 1)
        grid.addWidget(self.remove_button, 2, 1)
        grid.setRowStretch(3, 1)
        grid.addWidget(self.search_field, 4, 0)
        grid.addWidget(self.results, 5, 0)
        grid.addWidget(self.add_button, 5, 1, Qt.AlignmentFlag.AlignTop)
        grid.setColumnStretch(0, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(grid)
        layout.addWidget(self.note)
        layout.addWidget(self.hint)

        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(SEARCH_DELAY_MS)
        self._timer.timeout.connect(self.search_now)

        self.search_field.textChanged.connect(self._on_text_changed)
        self.search_field.installEventFilter(self)
        self.results.itemActivated.connect(self._add_result_item)
        self.results.itemDoubleClicked.connect(self._add_result_item)
        self.add_button.clicked.connect(self._add_current_result)
        self._update_buttons()

    # --- the list ----------------------------------------------------------------------------

    def codes(self) -> list[str]:
        return [self.list.item(row).data(CODE_ROLE) for row in range(self.list.count())]

    def set_codes(self, codes: Sequence[str]) -> None:
        self.list.clear()
        for code in codes:
            self.list.addItem(self._item(code))
        self._list_changed()

    def add_code(self, code: str) -> bool:
        """Append a billable code; say why not when it is not one or is listed already."""
        found = icd10.lookup(code)
        if found is None:
            self._say(icd10.check(code) or f"'{code}' is not an ICD-10-CM code")
            return False
        existing = self.codes()
        if found.code in existing:
            self.list.setCurrentRow(existing.index(found.code))
            self._say(f"{found.code} is already listed.")
            return False
        self.list.addItem(self._item(found.code))
        self.list.setCurrentRow(self.list.count() - 1)
        self._say("")
        self._list_changed()
        return True

    def set_read_only(self, read_only: bool) -> None:
        self._read_only = read_only
        for widget in (self.search_field, self.up_button, self.down_button, self.remove_button):
            widget.setVisible(not read_only)
        if read_only:
            self.results.hide()
            self.add_button.hide()
        self.hint.setVisible(not read_only)

    def _item(self, code: str) -> QListWidgetItem:
        text, known = describe(code)
        item = QListWidgetItem(text)
        item.setData(CODE_ROLE, code)
        item.setData(TEXT_ROLE, text)
        item.setToolTip(text)
        if not known:
            item.setForeground(QBrush(ERROR_COLOR))
        return item

    def _renumber(self) -> None:
        # The number makes the claim order visible; the code itself stays in CODE_ROLE.
        for row in range(self.list.count()):
            item = self.list.item(row)
            item.setText(f"{row + 1}.  {item.data(TEXT_ROLE)}")

    def _say(self, text: str) -> None:
        """A line under the search box (why a code was not added); hidden when empty."""
        self.note.setText(text)
        self.note.setVisible(bool(text))

    def _list_changed(self) -> None:
        self._renumber()
        super()._list_changed()

    # --- search ------------------------------------------------------------------------------

    def _on_text_changed(self, text: str) -> None:
        self._say("")
        if text.strip():
            self._timer.start()
        else:
            self._timer.stop()
            self.results.clear()
            self.results.hide()
            self.add_button.hide()

    def search_now(self) -> None:
        """Search at once for what is typed (the field waits for a pause in typing)."""
        self._timer.stop()
        text = self.search_field.text()
        self.results.clear()
        found = icd10.search(text, limit=RESULT_LIMIT) if text.strip() else []
        for code in found:
            item = QListWidgetItem(f"{code.code} — {code.description}")
            item.setData(CODE_ROLE, code.code)
            item.setToolTip(item.text())
            self.results.addItem(item)
        if len(found) == 1:
            self.results.setCurrentRow(0)
        elif text.strip() and not found:
            self._say(f"No billable ICD-10-CM code matches '{text.strip()}'.")
        visible = bool(found) and not self._read_only
        self.results.setVisible(visible)
        self.add_button.setVisible(visible)

    def _on_return(self) -> None:
        """Enter adds the highlighted result, or a complete code typed in full; it never
        guesses among several results (typing "E11" must not add E11.00)."""
        if self._timer.isActive():
            self.search_now()
        text = self.search_field.text().strip()
        if self.results.currentItem() is not None:
            self._add_current_result()
        elif text and icd10.lookup(text) is not None:
            if self.add_code(text):
                self.search_field.clear()
        elif text and self.results.count():
            hint = "Choose one with the arrow keys and Enter, or double-click it."
            problem = icd10.check(text)
            # A category typed as a code ("E11") gets the reason, which names a billable code.
            self._say(f"{problem}. {hint}" if problem and "billable" in problem else hint)

    def _add_current_result(self) -> None:
        item = self.results.currentItem()
        if item is not None:
            self._add_result_item(item)

    def _add_result_item(self, item: QListWidgetItem) -> None:
        if self.add_code(item.data(CODE_ROLE)):
            self.search_field.clear()
            self.search_field.setFocus()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if (
            watched is self.search_field
            and event.type() == QEvent.Type.KeyPress
            and isinstance(event, QKeyEvent)
        ):
            key = event.key()
            if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
                # Consumed here: in a dialog, Enter would otherwise also press the default
                # button and save the patient half-way through adding a condition.
                self._on_return()
                return True
            if key in (Qt.Key.Key_Down, Qt.Key.Key_Up) and self.results.count():
                # Arrow keys walk the results while the cursor stays in the search box.
                step = 1 if key == Qt.Key.Key_Down else -1
                row = max(0, min(self.results.count() - 1, self.results.currentRow() + step))
                self.results.setCurrentRow(row)
                return True
        return super().eventFilter(watched, event)
