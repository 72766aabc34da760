"""The chart widget: pyqtgraph set up once, its own options only, bars as the chart says."""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from ccmdesk.reports.glance import Chart, Series, Shape, Unit
from ccmdesk.ui.widgets.charts import ChartCard, configure

CHART = Chart(
    title="Minutes",
    shape=Shape.GROUPED,
    unit=Unit.SECONDS,
    axis="Minutes",
    categories=("Mar 2", "Mar 9"),
    series=(Series("Grace Lee", (90, 0)), Series("Adaeze Okafor", (0, 30))),
)


def test_pyqtgraphs_options_are_set_and_the_apps_look_is_untouched(qtbot: QtBot) -> None:
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    sheet, palette = app.styleSheet(), app.palette().color(app.palette().ColorRole.Window)
    card = ChartCard(Shape.GROUPED, Unit.SECONDS)
    qtbot.addWidget(card)
    configure()  # again: harmless
    assert pg.getConfigOption("useOpenGL") is False  # draws offscreen and in screenshots
    assert pg.getConfigOption("antialias") is True
    assert pg.getConfigOption("background") == "w"
    assert app.styleSheet() == sheet
    assert app.palette().color(app.palette().ColorRole.Window) == palette


def test_showing_another_chart_replaces_the_bars_and_the_legend(qtbot: QtBot) -> None:
    card = ChartCard(Shape.GROUPED, Unit.SECONDS)
    qtbot.addWidget(card)
    card.show_chart(CHART)
    card.show_chart(CHART)
    assert len(card.bars) == 2  # not four: the first drawing's bars are gone
    assert card.legend is not None and len(card.legend.items) == 2
    assert [float(h) for h in card.bars[0].opts["height"]] == [1.5, 0.0]
    assert card.bars[0].toolTip() == "Grace Lee\nMar 2: 1:30"
    card.clear()
    assert card.bars == [] and card.legend is not None and card.legend.items == []
    assert card.stack.currentWidget() is card.empty_label
