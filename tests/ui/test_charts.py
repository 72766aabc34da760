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


def test_the_legend_sits_above_the_tallest_bar(qtbot: QtBot) -> None:
    # Six people: the legend takes two rows, which once covered the tallest bars' tops.
    people = ("Grace Lee", "Adaeze Okafor", "Maja Lindqvist", "Mateo García", "Piotr Nowak",
              "Tamika Brooks")  # fmt: skip
    chart = Chart(
        title="Minutes",
        shape=Shape.GROUPED,
        unit=Unit.SECONDS,
        axis="Minutes",
        categories=("Nov 30", "Dec 7"),
        series=tuple(Series(name, (44_290 - 60 * k, 0)) for k, name in enumerate(people)),
    )
    card = ChartCard(Shape.GROUPED, Unit.SECONDS)
    qtbot.addWidget(card)
    card.resize(505, 260)  # a chart's size on the dashboard at 1366×768
    card.show()
    card.show_chart(chart)
    qtbot.waitUntil(lambda: card.legend is not None and card.legend.isVisible())
    QApplication.processEvents()
    assert card.legend is not None
    box = card.plot.getViewBox()
    legend_bottom = box.mapSceneToView(card.legend.sceneBoundingRect().bottomLeft()).y()
    assert legend_bottom > 44_290 / 60  # the tallest bar, in minutes
