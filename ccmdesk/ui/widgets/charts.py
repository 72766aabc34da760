"""Bar charts drawn with pyqtgraph, each with the same figures as a table beside it."""

from __future__ import annotations

from typing import Any

import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QFont
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QLabel,
    QStackedWidget,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ccmdesk.reports.glance import Chart, Shape, Unit, colour, exact, scaled

INK = "#1f2a30"
MUTED = "#5d6971"
GRID = "#d3dadf"
BAR_SPAN = 0.8  # of each category's width; the rest is the gap between categories
LEGEND_COLUMNS = 3  # legend entries side by side, so a long legend takes rows, not width

_configured = False


def configure() -> None:
    """pyqtgraph's global options, once: they touch only pyqtgraph's own widgets. Antialiased
    lines, a white background and the app's ink; never OpenGL (it draws nothing offscreen or in
    a screenshot, and some remote desktops have none)."""
    global _configured
    if not _configured:
        pg.setConfigOptions(antialias=True, background="w", foreground=INK, useOpenGL=False)
        _configured = True


class ValueAxis(pg.AxisItem):  # type: ignore[misc]  # pyqtgraph has no type hints
    """A value axis in the chart's unit: "$1,200" for dollars, whole numbers otherwise."""

    def __init__(self, orientation: str, unit: Unit) -> None:
        super().__init__(orientation)
        self.unit = unit

    def tickStrings(self, values: list[float], scale: float, spacing: float) -> list[str]:
        prefix = "$" if self.unit is Unit.CENTS else ""
        return [f"{prefix}{v * scale:,.0f}" for v in values]


class ChartCard(QWidget):
    """One chart under its title, or (`show_table`) the same figures as a table."""

    def __init__(self, shape: Shape, unit: Unit, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        configure()
        self.shape = shape
        self.unit = unit
        self.chart: Chart | None = None
        # What is drawn, for tests and tooltips: one bar item per series, the notes' texts.
        self.bars: list[pg.BarGraphItem] = []
        self.notes: list[pg.TextItem] = []
        self.setObjectName("chartCard")
        self.title = QLabel()
        self.title.setObjectName("chartTitle")
        font = QFont(self.title.font())
        font.setBold(True)
        self.title.setFont(font)
        vertical = shape is not Shape.FUNNEL
        self.value_axis = ValueAxis("left" if vertical else "bottom", unit)
        # Major ticks only: the minor ones' grid lines crowd a small chart.
        self.value_axis.setStyle(maxTickLevel=0)
        axes = {"left": self.value_axis} if vertical else {"bottom": self.value_axis}
        self.plot_widget = pg.PlotWidget(axisItems=axes)
        self.plot_widget.setMinimumHeight(260)
        self.plot = self.plot_widget.getPlotItem()
        self.plot.setMouseEnabled(x=False, y=False)
        self.plot.hideButtons()
        self.plot.setMenuEnabled(False)
        self.plot.showGrid(x=not vertical, y=vertical, alpha=0.35)
        self.category_axis = self.plot.getAxis("bottom" if vertical else "left")
        if not vertical:
            self.category_axis.setWidth(150)
        self.legend: pg.LegendItem | None = None
        if shape in (Shape.GROUPED, Shape.STACKED):
            self.legend = self.plot.addLegend(
                offset=(8, 4), labelTextColor=INK, colCount=LEGEND_COLUMNS
            )
            self.legend.setBrush(pg.mkBrush(255, 255, 255, 220))
        self.empty_label = QLabel()
        self.empty_label.setObjectName("chartEmpty")
        self.empty_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.table = QTableWidget()
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.table.setAlternatingRowColors(True)
        self.footnote = QLabel()
        self.footnote.setObjectName("hint")
        self.footnote.setWordWrap(True)
        self.footnote.hide()
        self.stack = QStackedWidget()
        for widget in (self.plot_widget, self.table, self.empty_label):
            self.stack.addWidget(widget)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.title)
        layout.addWidget(self.stack, 1)
        layout.addWidget(self.footnote)
        self._as_table = False

    # --- what the page asks ---------------------------------------------------------------------

    def show_chart(self, chart: Chart) -> None:
        self.chart = chart
        self.title.setText(chart.title)
        self.plot_widget.setAccessibleName(chart.title)
        self.table.setAccessibleName(chart.title)
        self._draw(chart)
        self._fill_table(chart)
        self.empty_label.setText(chart.empty)
        self.footnote.setText(chart.footnote)
        self.footnote.setVisible(bool(chart.footnote))
        self._show_current()

    def clear(self) -> None:
        self.chart = None
        self._remove_items()
        self.table.clear()
        self.table.setRowCount(0)
        self.table.setColumnCount(0)
        self.empty_label.setText("")
        self.footnote.hide()
        self._show_current()

    def show_table(self, as_table: bool) -> None:
        self._as_table = as_table
        self._show_current()

    def _show_current(self) -> None:
        if self._as_table:
            self.stack.setCurrentWidget(self.table)
        elif self.chart is None or self.chart.is_empty:
            self.stack.setCurrentWidget(self.empty_label)
        else:
            self.stack.setCurrentWidget(self.plot_widget)

    # --- drawing ---------------------------------------------------------------------------------

    def _remove_items(self) -> None:
        for item in [*self.bars, *self.notes]:
            self.plot.removeItem(item)
        if self.legend is not None:
            self.legend.clear()
        self.bars, self.notes = [], []

    def _draw(self, chart: Chart) -> None:
        self._remove_items()
        count = len(chart.categories)
        ticks = [(float(i), label) for i, label in enumerate(chart.categories)]
        self.category_axis.setTicks([ticks, []])
        vertical = chart.shape is not Shape.FUNNEL
        self.plot.setLabel("left" if vertical else "bottom", chart.axis, color=MUTED)
        if chart.category_axis:
            self.plot.setLabel("bottom" if vertical else "left", chart.category_axis, color=MUTED)
        if chart.shape is Shape.FUNNEL:
            self._draw_funnel(chart)
            return
        positions = list(range(count))
        tops = [0.0] * count
        shown = len(chart.series)
        for j, series in enumerate(chart.series):
            values = [scaled(v, chart.unit) for v in series.values]
            if chart.shape is Shape.GROUPED:
                width = BAR_SPAN / shown
                xs = [i - BAR_SPAN / 2 + width * (j + 0.5) for i in positions]
                item = pg.BarGraphItem(x=xs, height=values, width=width * 0.92, **self._look(j))
            else:
                item = pg.BarGraphItem(
                    x=positions, y0=list(tops), height=values, width=BAR_SPAN * 0.8, **self._look(j)
                )
                tops = [t + v for t, v in zip(tops, values, strict=True)]
            item.setToolTip(self._tip(chart, series.name, series.values))
            self.plot.addItem(item)
            self.bars.append(item)
            if self.legend is not None:
                self.legend.addItem(item, series.name)
        if chart.shape is Shape.GROUPED:
            tops = [max((scaled(s.values[i], chart.unit) for s in chart.series), default=0.0)
                    for i in positions]  # fmt: skip
        for i, note in enumerate(chart.notes):
            if note:
                text = pg.TextItem(note, color=INK, anchor=(0.5, 1.0))
                text.setPos(float(i), tops[i])
                self.plot.addItem(text)
                self.notes.append(text)
        highest = max(tops, default=0.0) or 1.0
        # Room above the bars for the notes, and for the legend (three entries a row) over the
        # tallest bars: each row of it takes about a fifth of the plot's height.
        rows = -(-len(chart.series) // LEGEND_COLUMNS)
        headroom = 1.2 + 0.22 * rows if self.legend is not None and len(chart.series) > 1 else 1.18
        self.plot.setXRange(-0.6, count - 0.4, padding=0)
        self.plot.setYRange(0, highest * headroom, padding=0)

    def _draw_funnel(self, chart: Chart) -> None:
        count = len(chart.categories)
        # Top to bottom in the chart's order: the first category sits highest.
        ys = [float(count - 1 - i) for i in range(count)]
        ticks = list(zip(ys, chart.categories, strict=True))
        self.category_axis.setTicks([ticks, []])
        series = chart.series[0]
        values = [scaled(v, chart.unit) for v in series.values]
        item = pg.BarGraphItem(x0=0, y=ys, width=values, height=0.62, **self._look(0))
        item.setToolTip(self._tip(chart, series.name, series.values))
        self.plot.addItem(item)
        self.bars.append(item)
        for y, value in zip(ys, series.values, strict=True):
            text = pg.TextItem(exact(value, chart.unit), color=INK, anchor=(0.0, 0.5))
            text.setPos(scaled(value, chart.unit), y)
            self.plot.addItem(text)
            self.notes.append(text)
        widest = max(values, default=0.0) or 1.0
        self.plot.setXRange(0, widest * 1.15, padding=0)
        self.plot.setYRange(-0.6, count - 0.4, padding=0)

    @staticmethod
    def _look(index: int) -> dict[str, Any]:
        # No outline: a bar of nought would otherwise show as a stray line on the axis.
        return {"brush": pg.mkBrush(QColor(colour(index))), "pen": pg.mkPen(None)}

    @staticmethod
    def _tip(chart: Chart, name: str, values: tuple[int, ...]) -> str:
        lines = [f"{label}: {exact(v, chart.unit)}" for label, v in
                 zip(chart.categories, values, strict=True) if v]  # fmt: skip
        return "\n".join([name, *lines])

    # --- the table -------------------------------------------------------------------------------

    def _fill_table(self, chart: Chart) -> None:
        headers = [s.name for s in chart.series]
        if chart.notes:
            headers.append("Still reachable")
        if chart.shape is Shape.STACKED:
            headers.append("Total")
        self.table.clear()
        self.table.setColumnCount(len(headers))
        self.table.setRowCount(len(chart.categories))
        self.table.setHorizontalHeaderLabels(headers)
        self.table.setVerticalHeaderLabels([c.strip() for c in chart.categories])
        right = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
        for row in range(len(chart.categories)):
            cells = [exact(s.values[row], chart.unit) for s in chart.series]
            if chart.notes:
                cells.append(chart.notes[row].lstrip("+") or "—")
            if chart.shape is Shape.STACKED:
                cells.append(exact(sum(s.values[row] for s in chart.series), chart.unit))
            for column, value in enumerate(cells):
                cell = QTableWidgetItem(value)
                cell.setTextAlignment(right)
                self.table.setItem(row, column, cell)

    def cell(self, row: int, column: int) -> str:
        item = self.table.item(row, column)
        return item.text() if item is not None else ""
