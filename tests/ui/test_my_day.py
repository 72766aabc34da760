"""My day: one local day's entries of the signed-in person, the total, and moving between days."""

from __future__ import annotations

import datetime as dt

import pytest
from PySide6.QtCore import Qt

from ccmdesk.services import Actor, PermissionDenied, Services
from ccmdesk.ui.pages.my_day import (
    DURATION,
    END,
    HEADERS,
    DayTableModel,
    MyDayPage,
    from_qdate,
    total_text,
)
from tests.helpers.common import FakeClock

# NOW is Monday 16 March 2026, 15:00 UTC: 11:00 in New York (daylight time since 8 March).
MONDAY = dt.date(2026, 3, 16)
MONDAY_ROWS = [
    ["08:00", "08:20", "20:00", "Zoë Schäfer", "A100", "Home visit", "PCM", "Yes", "Manual", ""],
    [
        "09:00",
        "09:45",
        "45:30",
        "Zoë Schäfer",
        "A100",
        "Care plan review",
        "CCM",
        "",
        "Manual",
        "Called her daughter",
    ],
]


def utc(day: int, hour: int, minute: int, second: int = 0) -> dt.datetime:
    return dt.datetime(2026, 3, day, hour, minute, second, tzinfo=dt.UTC)


@pytest.fixture
def day_data(services: Services, nurse: Actor) -> Services:
    add = services.entries.add_manual
    # Added out of order: the page lists the day by start time.
    add(
        nurse,
        "A100",
        utc(16, 13, 0),
        utc(16, 13, 45, 30),
        reason="phone call",
        activity="Care plan review",
        note="Called her daughter\nShe brings the pill box on Friday",
    )
    add(
        nurse,
        "A100",
        utc(16, 12, 0),
        utc(16, 12, 20),
        reason="visit",
        activity="Home visit",
        service="pcm",
        face_to_face=True,
    )
    # Sunday 23:40 to Monday 00:10 in New York: it belongs to the day it started on.
    add(nurse, "B200", utc(16, 3, 40), utc(16, 4, 10), reason="late call", activity="Symptom check")
    add(nurse, "A100", utc(13, 14, 0), utc(13, 14, 10), reason="call", activity="Refill")
    # Someone else's time on Monday is not Grace Lee's day.
    doctor = services.staff.actor_for("dr-okafor")
    add(doctor, "A100", utc(16, 12, 0), utc(16, 12, 30), reason="call", activity="Review")
    return services


@pytest.fixture
def page(qtbot, day_data: Services, nurse: Actor) -> MyDayPage:
    page = MyDayPage(day_data, lambda: nurse)
    qtbot.addWidget(page)
    page.resize(1200, 500)
    page.show()  # the page reads the day when shown
    return page


def shown_rows(page: MyDayPage) -> list[list[str]]:
    model = page.model
    columns = model.columnCount()
    return [[model.index(r, c).data() for c in range(columns)] for r in range(model.rowCount())]


def test_total_text() -> None:
    assert total_text(3930, 4, False) == "Total 1:05:30 over 4 entries"
    assert total_text(300, 1, True) == "Total 5:00 over 1 entry, one still running"
    assert total_text(0, 0, False) == "No time recorded on this day."


def test_day_table_model_passes_the_qt_model_tester(
    qtmodeltester, day_data: Services, nurse: Actor
) -> None:
    model = DayTableModel(day_data.now)
    rows = day_data.time_log.my_day(nurse, MONDAY)
    model.set_rows(rows, day_data.practice_zone(), MONDAY, day_data.now())
    qtmodeltester.check(model)


def test_today_shows_only_my_entries_of_the_day_by_start_time(page: MyDayPage) -> None:
    assert from_qdate(page.date_edit.date()) == MONDAY
    assert page.date_edit.calendarPopup()
    assert [page.model.headerData(c, Qt.Orientation.Horizontal) for c in range(10)] == list(HEADERS)
    assert shown_rows(page) == MONDAY_ROWS
    note = page.model.index(1, 9).data(Qt.ItemDataRole.ToolTipRole)
    assert note == "Called her daughter\nShe brings the pill box on Friday"
    assert page.total_label.text() == "Total 1:05:30 over 2 entries"
    assert not page.next_button.isEnabled()  # no entries can lie ahead of today
    assert not page.today_button.isEnabled()


def test_moving_between_days_changes_the_rows(page: MyDayPage) -> None:
    page.previous_button.click()
    assert from_qdate(page.date_edit.date()) == dt.date(2026, 3, 15)
    assert [r[:6] for r in shown_rows(page)] == [
        ["23:40", "Mon 00:10", "30:00", "Mary Smith", "B200", "Symptom check"]
    ]
    assert page.total_label.text() == "Total 30:00 over 1 entry"
    assert page.next_button.isEnabled() and page.today_button.isEnabled()

    page.previous_button.click()
    assert page.model.rowCount() == 0
    assert page.total_label.text() == "No time recorded on this day."

    page.previous_button.click()
    assert [r[:5] for r in shown_rows(page)] == [["10:00", "10:10", "10:00", "Zoë Schäfer", "A100"]]

    page.next_button.click()
    assert from_qdate(page.date_edit.date()) == dt.date(2026, 3, 14)
    page.today_button.click()
    assert shown_rows(page) == MONDAY_ROWS
    page.date_edit.setDate(page.date_edit.date().addDays(-3))  # typed or picked in the calendar
    assert shown_rows(page)[0][4] == "A100" and page.model.rowCount() == 1


def test_a_running_stopwatch_shows_running_and_counts_on(
    qtbot, page: MyDayPage, day_data: Services, nurse: Actor, clock: FakeClock
) -> None:
    day_data.stopwatch.start(nurse, "B200")
    clock.advance(minutes=5)
    page.reload()
    running = page.model.rowCount() - 1
    assert shown_rows(page)[running][:5] == ["11:00", "running", "5:00", "Mary Smith", "B200"]
    assert shown_rows(page)[running][8] == "Stopwatch"
    assert page.total_label.text() == "Total 1:10:30 over 3 entries, one still running"

    page.table.setCurrentIndex(page.model.index(running, 0))
    # The page counts on by itself once a second while it is shown: the view is told the
    # running duration changed, and the total follows.
    with qtbot.waitSignal(page.model.dataChanged, timeout=3000) as changed:
        clock.advance(seconds=30)
    assert changed.args[0].row() == running and changed.args[0].column() == DURATION
    assert page.model.index(running, DURATION).data() == "5:30"
    assert page.total_label.text() == "Total 1:11:00 over 3 entries, one still running"
    page.hide()
    clock.advance(seconds=30)
    qtbot.wait(1200)
    assert page.total_label.text().startswith("Total 1:11:00")  # hidden pages do not tick
    page.show()

    timer = next(t for t in day_data.stopwatch.open_timers(nurse))
    day_data.stopwatch.stop(nurse, timer.entry_id, activity="Follow-up call")
    page.reload()
    assert shown_rows(page)[running][:6] == [
        "11:00",
        "11:06",
        "6:00",
        "Mary Smith",
        "B200",
        "Follow-up call",
    ]
    assert page.model.index(running, END).data(Qt.ItemDataRole.ForegroundRole) is None
    assert page.model.row_at(page.table.currentIndex().row()).mrn == "B200"  # kept chosen
    assert page.total_label.text() == "Total 1:11:30 over 3 entries"


def test_double_click_and_enter_open_the_patient(qtbot, page: MyDayPage) -> None:
    rect = page.table.visualRect(page.model.index(1, 3))
    with qtbot.waitSignal(page.open_requested) as opened:
        # QTest's double-click is only the second click; a real one presses the cell first.
        qtbot.mouseClick(page.table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
        qtbot.mouseDClick(page.table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert opened.args == ["A100"]
    page.previous_button.click()
    page.table.setFocus()
    page.table.setCurrentIndex(page.model.index(0, 0))
    with qtbot.waitSignal(page.open_requested) as opened:
        qtbot.keyClick(page.table, Qt.Key.Key_Return)
    assert opened.args == ["B200"]


def test_a_page_left_on_today_moves_on_after_midnight(page: MyDayPage, clock: FakeClock) -> None:
    page.hide()
    clock.advance(hours=14)  # 01:00 on Tuesday in New York
    page.show()
    assert from_qdate(page.date_edit.date()) == dt.date(2026, 3, 17)
    assert page.model.rowCount() == 0
    page.previous_button.click()
    assert shown_rows(page) == MONDAY_ROWS


def test_a_role_without_time_sees_the_services_refusal(
    qtbot, services: Services, biller: Actor
) -> None:
    with pytest.raises(PermissionDenied) as refused:
        services.time_log.my_day(biller, MONDAY)
    page = MyDayPage(services, lambda: biller)
    qtbot.addWidget(page)
    page.show()
    assert page.message() == str(refused.value)
    assert page.message_label.isVisible()
    assert not page.table.isVisible()
    assert not page.total_label.isVisible()
    assert not page.date_edit.isVisible()
