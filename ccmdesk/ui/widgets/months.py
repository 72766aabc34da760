"""The month picker the billing and review pages share: two years back, newest first."""

from __future__ import annotations

import datetime as dt

from PySide6.QtCore import QTimer, Signal
from PySide6.QtWidgets import QComboBox, QWidget

from ccmdesk.rules.intervals import month_label

MONTHS_BACK = 24
# Scrolling through the months evaluates only the one the person stops at.
MONTH_DELAY_MS = 300


def month_choices(today: dt.date, back: int = MONTHS_BACK) -> list[str]:
    """This month and the `back` before it, newest first."""
    months = []
    year, number = today.year, today.month
    for _ in range(back + 1):
        months.append(f"{year:04d}-{number:02d}")
        year, number = (year - 1, 12) if number == 1 else (year, number - 1)
    return months


def default_month(today: dt.date) -> str:
    """Early in a month billing staff close the one before; later they watch the current one."""
    if today.day <= 10:
        first = today.replace(day=1) - dt.timedelta(days=1)
        return f"{first.year:04d}-{first.month:02d}"
    return f"{today.year:04d}-{today.month:02d}"


class MonthBox(QComboBox):
    """Months as people say them ("March 2026"), each carrying its YYYY-MM. `chosen` is
    emitted once the person stops at a month, not for every month scrolled past."""

    chosen = Signal(str)

    def __init__(self, today: dt.date, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAccessibleName("Service month")
        for month in month_choices(today):
            self.addItem(month_label(month), month)
        self.setCurrentIndex(max(0, self.findData(default_month(today))))
        self._pause = QTimer(self)
        self._pause.setSingleShot(True)
        self._pause.setInterval(MONTH_DELAY_MS)
        self._pause.timeout.connect(lambda: self.chosen.emit(self.month()))
        self.currentIndexChanged.connect(lambda _i: self._pause.start())

    def month(self) -> str:
        return str(self.currentData())

    def offer(self, month: str) -> int:
        """The index of a month, adding it in its place (newest first) if missing; a window
        left open over a month end offers the new month too."""
        index = self.findData(month)
        if index >= 0:
            return index
        position = next(
            (i for i in range(self.count()) if str(self.itemData(i)) < month), self.count()
        )
        self.blockSignals(True)
        self.insertItem(position, month_label(month), month)
        self.blockSignals(False)
        return position

    def offer_month_of(self, day: dt.date) -> None:
        """Offer the month of a day (a window left open over a month end offers the new one)."""
        self.offer(f"{day.year:04d}-{day.month:02d}")

    def choose(self, month: str) -> None:
        """Show a month without announcing a change (the caller reloads itself)."""
        index = self.offer(month)
        self.blockSignals(True)
        self.setCurrentIndex(index)
        self.blockSignals(False)
        self._pause.stop()
