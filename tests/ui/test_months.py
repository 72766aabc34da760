"""The shared month picker: months as words, and one `chosen` after scrolling stops."""

from __future__ import annotations

import datetime as dt

from pytestqt.qtbot import QtBot

from ccmdesk.ui.widgets.months import MonthBox


def test_scrolling_through_months_announces_only_the_one_stopped_at(qtbot: QtBot) -> None:
    box = MonthBox(dt.date(2026, 3, 16))
    qtbot.addWidget(box)
    assert box.currentText() == "March 2026" and box.month() == "2026-03"
    announced: list[str] = []
    box.chosen.connect(announced.append)
    with qtbot.waitSignal(box.chosen, timeout=2000):
        for index in (1, 2, 3):  # February, January, December
            box.setCurrentIndex(index)
    assert announced == ["2025-12"]
    box.choose("2026-02")  # set by the page itself: no announcement
    qtbot.wait(400)
    assert announced == ["2025-12"] and box.month() == "2026-02"
    box.offer_month_of(dt.date(2026, 4, 1))  # a window left open over the month end
    assert box.itemData(0) == "2026-04" and box.month() == "2026-02"
