"""Fee schedules on the Practice settings page: each code's amount, year by year."""

from __future__ import annotations

import re
from collections.abc import Callable

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ccmdesk.rules.billing import dollars
from ccmdesk.services import Actor, ServiceError, Services, ValidationFailed
from ccmdesk.ui.forms import hint_label, plain, show_failure

CODE, DESCRIPTION, AMOUNT = range(3)
# ASCII digits only: \d and int() would take full-width or Arabic-Indic digits too.
_MONEY = re.compile(r"^\$?\s*(\d{1,3}(,\d{3})*|\d+)(\.(\d{1,2}))?$", re.ASCII)


def cell_text(table: QTableWidget, row: int, column: int) -> str:
    """A cell's text; "" for a cell never filled."""
    item = table.item(row, column)
    return item.text() if item is not None else ""


def cents_of(text: str) -> int | None:
    """ "$66.13", "66.13", "66" or "1,066.10" as cents; None for anything else."""
    match = _MONEY.match(text.strip())
    if match is None:
        return None
    whole = int(match.group(1).replace(",", ""))
    fraction = (match.group(4) or "0").ljust(2, "0")
    return whole * 100 + int(fraction)


class FeesBox(QGroupBox):
    """The amounts charged per code for a chosen year; administrators change and save them."""

    def __init__(
        self, services: Services, actor: Callable[[], Actor], parent: QWidget | None = None
    ) -> None:
        super().__init__("Fee schedule", parent)
        self.setObjectName("feesBox")
        self._services = services
        self._actor = actor
        self._shown: dict[str, int] = {}
        hint = hint_label(
            "What the practice charges for each code on claims and superbills. A year without "
            "a schedule of its own uses the latest earlier one. A year with a month closed for "
            "billing keeps its fees."
        )
        self.year = QComboBox()
        self.year.setObjectName("feeYear")
        self.year.setAccessibleName("Year")
        self.table = QTableWidget(0, 3)
        self.table.setObjectName("feeTable")
        self.table.setHorizontalHeaderLabels(["Code", "Description", "Amount"])
        self.table.verticalHeader().hide()
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(CODE, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(DESCRIPTION, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(AMOUNT, QHeaderView.ResizeMode.ResizeToContents)
        # Fourteen codes: all of them in view, no scrolling inside the scrolling page.
        rows = self.table.verticalHeader().defaultSectionSize()
        self.table.setMinimumHeight(rows * 15 + header.sizeHint().height())
        self.save_button = QPushButton("Save fees")
        self.status = plain(QLabel())
        self.status.setObjectName("statusLabel")
        self.status.setWordWrap(True)
        top = QHBoxLayout()
        top.addWidget(QLabel("Year"))
        top.addWidget(self.year)
        top.addStretch(1)
        bottom = QHBoxLayout()
        bottom.addWidget(self.status, 1)
        bottom.addWidget(self.save_button)
        layout = QVBoxLayout(self)
        layout.addWidget(hint)
        layout.addLayout(top)
        layout.addWidget(self.table)
        layout.addLayout(bottom)
        self.year.currentIndexChanged.connect(self._load_year)
        self.save_button.clicked.connect(self.save)
        self.reload()

    def reload(self) -> None:
        years = self._services.fees.years()
        today = self._services.now().astimezone(self._services.practice_zone()).year
        offered = sorted({*years, today, max([*years, today]) + 1})
        self.year.blockSignals(True)
        self.year.clear()
        for year in offered:
            own = "" if year in years else " (no schedule of its own yet)"
            self.year.addItem(f"{year}{own}", year)
        self.year.setCurrentIndex(self.year.findData(today))
        self.year.blockSignals(False)
        self._load_year()

    def chosen_year(self) -> int:
        return int(self.year.currentData())

    def _load_year(self) -> None:
        try:
            lines = self._services.fees.schedule(self._actor(), self.chosen_year())
        except ServiceError as error:
            show_failure(self, error)
            return
        self._shown = {line.code: line.cents for line in lines}
        self.table.setRowCount(len(lines))
        for row, line in enumerate(lines):
            for column, value, editable in (
                (CODE, line.code, False),
                (DESCRIPTION, line.description, False),
                (AMOUNT, dollars(line.cents), True),
            ):
                item = QTableWidgetItem(value)
                if not editable:
                    item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsEditable)
                if column == AMOUNT:
                    item.setTextAlignment(
                        Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
                    )
                self.table.setItem(row, column, item)
        self.status.clear()

    def amounts(self) -> tuple[dict[str, int], list[str]]:
        """The amounts as typed (cents by code), and the codes whose amount is not money."""
        amounts: dict[str, int] = {}
        bad: list[str] = []
        for row in range(self.table.rowCount()):
            code = cell_text(self.table, row, CODE)
            cents = cents_of(cell_text(self.table, row, AMOUNT))
            if cents is None:
                bad.append(code)
            else:
                amounts[code] = cents
        return amounts, bad

    def save(self) -> bool:
        amounts, bad = self.amounts()
        if bad:
            self.status.setText(f"Not saved: {', '.join(bad)} must be an amount like 66.13.")
            return False
        changed = {code: cents for code, cents in amounts.items() if self._shown.get(code) != cents}
        if not changed:
            self.status.setText("Nothing changed.")
            return True
        year = self.chosen_year()
        try:
            self._services.fees.save(self._actor(), year, changed)
        except ValidationFailed as failure:
            self.status.setText("Not saved: " + "; ".join(str(e) for e in failure.errors))
            return False
        except ServiceError as error:
            self.status.setText(f"Not saved: {error}")
            return False
        self.reload()
        self.year.setCurrentIndex(self.year.findData(year))
        self.status.setText(f"Saved {len(changed)} amount(s) for {year}.")
        return True
