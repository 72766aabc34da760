"""The dashboard: a month at a glance, its tiles and charts computed off the GUI thread."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from PySide6.QtGui import QFont, QShowEvent
from PySide6.QtWidgets import (
    QCheckBox,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from ccmdesk.reports.glance import Glance, Shape, Unit
from ccmdesk.rules.intervals import month_label
from ccmdesk.services import Actor, Services
from ccmdesk.services.dashboard import Dashboard
from ccmdesk.services.glance import glance
from ccmdesk.ui.background import LatestOnly, TaskRunner, ThreadTaskRunner
from ccmdesk.ui.forms import show_failure
from ccmdesk.ui.refresh import Changes
from ccmdesk.ui.widgets.charts import ChartCard
from ccmdesk.ui.widgets.months import MonthBox

Loader = Callable[[Actor, str], Dashboard]
TILE_COUNT = 5


class Tile(QFrame):
    """A figure in large print over what it counts."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("dashboardTile")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.value = QLabel("—")
        self.value.setObjectName("tileValue")
        font = QFont(self.value.font())
        font.setPointSizeF(font.pointSizeF() * 1.8)
        font.setBold(True)
        self.value.setFont(font)
        self.label = QLabel()
        self.label.setObjectName("tileLabel")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 8, 12, 8)
        layout.addWidget(self.value)
        layout.addWidget(self.label)

    def set(self, label: str, value: str) -> None:
        self.label.setText(label)
        self.value.setText(value)
        self.setAccessibleName(f"{label}: {value}")


class DashboardPage(QWidget):
    """Tiles for the month's patients and amount, then four charts in a grid that scrolls on a
    small screen; "Show as table" gives every chart's exact figures to read or to a screen
    reader."""

    def __init__(
        self,
        services: Services,
        actor: Callable[[], Actor],
        runner: TaskRunner | None = None,
        today: Callable[[], dt.date] | None = None,
        load: Loader | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._services = services
        self._actor = actor
        self._today = today or services.today
        self._load = load or services.dashboard.month
        self._loads = LatestOnly(runner or ThreadTaskRunner())
        self.glance: Glance | None = None

        heading = QLabel("Dashboard")
        heading.setObjectName("pageHeading")
        day = self._today()
        self.month_box = MonthBox(day)
        self.month_box.setObjectName("dashboardMonth")
        # The month under way, unlike billing's default: what can still be reached this month.
        self.month_box.choose(f"{day.year:04d}-{day.month:02d}")
        self.table_box = QCheckBox("Show as table")
        self.table_box.setToolTip("Every chart's exact figures, as tables.")
        self.refresh_button = QPushButton("Refresh")
        self.status_label = QLabel()
        self.status_label.setObjectName("statusLabel")
        top = QHBoxLayout()
        top.addWidget(heading)
        top.addStretch(1)
        top.addWidget(self.month_box)
        top.addWidget(self.table_box)
        top.addWidget(self.refresh_button)

        self.tiles = [Tile() for _ in range(TILE_COUNT)]
        tile_row = QHBoxLayout()
        for tile in self.tiles:
            tile_row.addWidget(tile, 1)
        self.cards = [
            ChartCard(Shape.GROUPED, Unit.SECONDS),
            ChartCard(Shape.STACKED, Unit.CENTS),
            ChartCard(Shape.BARS, Unit.PATIENTS),
            ChartCard(Shape.FUNNEL, Unit.PATIENTS),
        ]
        self.body = QWidget()
        self.body.setObjectName("dashboardBody")
        grid = QGridLayout(self.body)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setHorizontalSpacing(16)
        grid.setVerticalSpacing(16)
        grid.addLayout(tile_row, 0, 0, 1, 2)
        for column in (0, 1):
            grid.setColumnStretch(column, 1)
        self._grid = grid
        self._place_cards(columns=2)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setWidget(self.body)

        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.status_label)
        layout.addWidget(scroll, 1)

        self.month_box.chosen.connect(lambda _month: self.reload())
        self.refresh_button.clicked.connect(self.reload)
        self.table_box.toggled.connect(self._show_tables)
        self._drop()
        self.reload()

    # --- the month -------------------------------------------------------------------------------

    def current_month(self) -> str:
        return self.month_box.month()

    def set_month(self, month: str) -> None:
        self.month_box.choose(month)
        self.reload()

    def showEvent(self, event: QShowEvent) -> None:
        # A window left open over a month end offers the new month too.
        self.month_box.offer_month_of(self._today())
        super().showEvent(event)

    def reload(self) -> None:
        """Compute the chosen month on a worker thread; only the newest request is shown, and
        another month's charts never stay on screen under this month's name."""
        month = self.current_month()
        if self.glance is not None and self.glance.month != month:
            self._drop()
        self.status_label.setText(f"Loading {month_label(month)}…")
        actor, load = self._actor(), self._load
        self._loads.run(lambda: glance(load(actor, month)), self._loaded, self._failed)

    def _loaded(self, shown: Glance) -> None:
        self.glance = shown
        for tile, figure in zip(self.tiles, shown.tiles, strict=True):
            tile.set(figure.label, figure.value)
        for card, chart in zip(self.cards, shown.charts, strict=True):
            card.show_chart(chart)
        self.body.setVisible(True)
        self.status_label.setText(
            f"{shown.month_name}: the same figures as the billing panel for the month."
        )

    def _failed(self, error: BaseException) -> None:
        self._drop()
        self.status_label.setText(
            f"{month_label(self.current_month())} could not be shown; nothing is shown."
        )
        show_failure(self, error)

    def _drop(self) -> None:
        self.glance = None
        for tile in self.tiles:
            tile.set("", "—")
        for card in self.cards:
            card.clear()
        self.body.setVisible(False)

    def _place_cards(self, columns: int) -> None:
        for index, card in enumerate(self.cards):
            self._grid.removeWidget(card)
            row, column = 1 + index // columns, index % columns
            self._grid.addWidget(card, row, column, 1, 3 - columns)

    def _show_tables(self, as_table: bool) -> None:
        # Tables one under another, the page's full width: a column per person or per code
        # then fits without cutting its heading short.
        self._place_cards(columns=1 if as_table else 2)
        for card in self.cards:
            card.show_table(as_table)

    # --- the page protocol -----------------------------------------------------------------------

    def refresh(self, _changes: Changes) -> None:
        self.reload()

    def clear(self) -> None:
        """Show nothing (the person signed in may not see the page); a late result is ignored."""
        self._loads.forget()
        self._drop()
        self.status_label.setText("")

    def forget_person(self) -> None:
        self.table_box.setChecked(False)
