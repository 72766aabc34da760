"""The week view: blocks by day and time, overlaps, day totals, opening and adding time."""

from __future__ import annotations

import datetime as dt

import pytest
from PySide6.QtCore import QPoint, Qt, QTime
from PySide6.QtWidgets import QMessageBox

from ccmdesk.services import Actor, Services
from ccmdesk.ui.main_window import MY_DAY, WEEK
from ccmdesk.ui.pages.week import (
    GUTTER,
    HOUR_HEIGHT,
    WeekPage,
    lanes,
    lay_out,
    week_label,
)
from ccmdesk.ui.refresh import TIME
from ccmdesk.ui.stopwatch_dialogs import ManualEntryDialog
from tests.helpers.common import FakeClock
from tests.helpers.week import insert_entry, utc

# NOW is Monday 16 March 2026, 15:00 UTC: 11:00 in New York (daylight time since 8 March).
LAST_WEEK = dt.date(2026, 3, 10)  # Tuesday of the week 9-15 March


@pytest.fixture
def week_data(services: Services, nurse: Actor) -> dict[str, int]:
    add = services.entries.add_manual
    db = services._db
    ids = {
        # Monday 09:00-09:30 in New York.
        "monday": add(nurse, "A100", utc(9, 13), utc(9, 13, 30), reason="call").entry_id,
        # Tuesday 10:00-10:20 BHI, and an import's entry 10:10-10:40 overlapping it.
        "bhi": add(
            nurse, "B200", utc(10, 14), utc(10, 14, 20), reason="call", service="bhi"
        ).entry_id,
        "overlap": insert_entry(db, "rn-lee", "A100", [(utc(10, 14, 10), utc(10, 14, 40))]),
        # Wednesday: a stopwatch paused and resumed, 11:00-11:10 and 11:30-11:45.
        "paused": insert_entry(
            db,
            "rn-lee",
            "A101",
            [(utc(11, 15), utc(11, 15, 10)), (utc(11, 15, 30), utc(11, 15, 45))],
        ),
        # Sunday 23:40 to Monday 00:10: its first 20 minutes are this week's.
        "sunday": add(nurse, "B200", utc(16, 3, 40), utc(16, 4, 10), reason="late").entry_id,
    }
    doctor = services.staff.actor_for("dr-okafor")
    add(doctor, "A100", utc(10, 16), utc(10, 16, 30), reason="someone else's")
    return ids


@pytest.fixture
def page(qtbot, services: Services, nurse: Actor, week_data: dict[str, int]) -> WeekPage:
    page = WeekPage(services, lambda: nurse)
    qtbot.addWidget(page)
    page.resize(1100, 700)
    page.show()
    page.set_day(LAST_WEEK)
    return page


def blocks_of(page: WeekPage, entry_id: int) -> list[tuple[int, int, int]]:
    """(day, top, bottom) of each block of the entry, in wall-clock seconds."""
    return [
        (b.day, b.top, b.bottom)
        for b in page.canvas.layout_.blocks
        if b.entry.row.entry_id == entry_id
    ]


def position_of(page: WeekPage, entry_id: int) -> int:
    return next(
        n for n, b in enumerate(page.canvas.layout_.blocks) if b.entry.row.entry_id == entry_id
    )


def hours(h: int, m: int = 0) -> int:
    return h * 3600 + m * 60


def test_blocks_stand_at_their_day_and_local_time(page: WeekPage, week_data: dict) -> None:
    assert page.week_label.text() == "9\N{EN DASH}15 Mar 2026"
    assert blocks_of(page, week_data["monday"]) == [(0, hours(9), hours(9, 30))]
    assert blocks_of(page, week_data["bhi"]) == [(1, hours(10), hours(10, 20))]
    # A paused stopwatch's stretches are separate blocks of one entry.
    assert blocks_of(page, week_data["paused"]) == [
        (2, hours(11), hours(11, 10)),
        (2, hours(11, 30), hours(11, 45)),
    ]
    # Across Sunday midnight: drawn to the bottom of Sunday, the rest is next week's.
    assert blocks_of(page, week_data["sunday"]) == [(6, hours(23, 40), hours(24))]
    canvas = page.canvas
    rect = canvas.block_rect(position_of(page, week_data["monday"]))
    assert rect.top() == 9 * HOUR_HEIGHT and rect.height() == HOUR_HEIGHT / 2
    assert GUTTER <= rect.left() < GUTTER + canvas.column_width()
    block = canvas.layout_.blocks[position_of(page, week_data["bhi"])]
    assert canvas.block_text(position_of(page, week_data["bhi"])) == "Mary Smith\n20 min"
    assert canvas.block_tooltip(position_of(page, week_data["paused"])) == (
        "Harold Nguyen · MRN A101\nCCM · 25 min · Wed 11:00\N{EN DASH}11:10, Wed 11:30\N{EN DASH}11:45"
    )
    assert canvas.block_tooltip(position_of(page, week_data["bhi"])).endswith(
        "Overlaps another of your entries: correct one of them."
    )
    assert block.entry.row.service == "bhi"
    assert len(canvas.layout_.blocks) == 6  # not the doctor's entry


def test_overlaps_are_highlighted_listed_and_counted_once(page: WeekPage, week_data: dict) -> None:
    canvas = page.canvas
    [piece] = canvas.layout_.overlaps
    assert (piece.day, piece.top, piece.bottom) == (1, hours(10, 10), hours(10, 20))
    assert set(piece.entry_ids) == {week_data["bhi"], week_data["overlap"]}
    assert canvas.overlapping_ids() == {week_data["bhi"], week_data["overlap"]}
    # Side by side in the column, so both can be seen and clicked.
    first = canvas.block_rect(position_of(page, week_data["bhi"]))
    second = canvas.block_rect(position_of(page, week_data["overlap"]))
    assert first.right() <= second.left() or second.right() <= first.left()
    assert page.overlap_label.isVisible()
    assert "Tue 10:10\N{EN DASH}10:20: Mary Smith and Zoë Schäfer at once" in (
        page.overlap_label.text()
    )
    texts = page.header.day_texts()
    # Tuesday: 10:00 to 10:40 worked, the ten shared minutes counted once (not 50:00).
    assert texts[1] == ("Tue 10", "40:00")
    assert texts[0] == ("Mon 9", "30:00") and texts[2] == ("Wed 11", "25:00")
    assert texts[3] == ("Thu 12", "\N{EM DASH}") and texts[6] == ("Sun 15", "20:00")
    assert page.total_label.text() == "Week total 1:55:00 over 5 entries"


def test_moving_between_weeks(page: WeekPage, week_data: dict) -> None:
    assert page.next_button.isEnabled() and page.this_week_button.isEnabled()
    page.next_button.click()
    assert page.week_label.text() == "16\N{EN DASH}22 Mar 2026"
    assert not page.next_button.isEnabled() and not page.this_week_button.isEnabled()
    assert blocks_of(page, week_data["sunday"]) == [(0, 0, hours(0, 10))]
    assert page.header.day_texts()[0] == ("Mon 16", "10:00")
    assert not page.overlap_label.isVisible()
    page.previous_button.click()
    page.previous_button.click()
    assert page.week_label.text() == "2\N{EN DASH}8 Mar 2026"
    assert page.total_label.text() == "No time recorded in this week."
    page.this_week_button.click()
    assert page.week_label.text() == "16\N{EN DASH}22 Mar 2026"


def test_a_running_stopwatch_is_drawn_to_now(
    page: WeekPage, services: Services, nurse: Actor, clock: FakeClock
) -> None:
    timer = services.stopwatch.start(nurse, "A100")  # Monday 11:00
    clock.advance(minutes=20)
    page.this_week_button.click()
    assert blocks_of(page, timer.entry_id) == [(0, hours(11), hours(11, 20))]
    clock.advance(minutes=10)
    page._tick()  # the page's timer, without waiting for it
    assert blocks_of(page, timer.entry_id) == [(0, hours(11), hours(11, 30))]
    assert page.canvas.block_text(position_of(page, timer.entry_id)) == "Zoë Schäfer\n30 min"
    # It cannot be corrected while it runs: a click opens the patient instead.
    opened: list[str] = []
    page.open_requested.connect(opened.append)
    assert not page.open_entry(page.canvas.layout_.blocks[position_of(page, timer.entry_id)].entry)
    assert opened == ["A100"]
    services.stopwatch.pause(nurse, timer.entry_id)


def test_clicking_a_block_opens_the_entry_to_correct(
    qtbot, page: WeekPage, week_data: dict, services: Services, nurse: Actor
) -> None:
    seen: list[ManualEntryDialog] = []

    def fill(dialog: ManualEntryDialog) -> bool:
        seen.append(dialog)
        assert dialog.patient is None  # the entry's patient is known
        assert dialog.start.time() == QTime(9, 0) and dialog.end.time() == QTime(9, 30)
        dialog.end.setTime(QTime(9, 40))
        dialog.reason.setText("the call ran on")
        return True

    page.exec_dialog = fill
    changed: list[bool] = []
    page.time_changed.connect(lambda: changed.append(True))
    rect = page.canvas.block_rect(position_of(page, week_data["monday"]))
    qtbot.mouseClick(page.canvas, Qt.MouseButton.LeftButton, pos=rect.center().toPoint())
    assert len(seen) == 1 and changed == [True]
    assert blocks_of(page, week_data["monday"]) == [(0, hours(9), hours(9, 40))]
    assert page.header.day_texts()[0] == ("Mon 9", "40:00")


def test_double_clicking_an_empty_slot_adds_time_there(
    qtbot, page: WeekPage, services: Services, nurse: Actor
) -> None:
    seen: list[ManualEntryDialog] = []

    def fill(dialog: ManualEntryDialog) -> bool:
        seen.append(dialog)
        # Thursday 12 March at 14:30 (a quarter-hour slot), a quarter of an hour long.
        assert dialog.day.date().toPython() == dt.date(2026, 3, 12)
        assert dialog.start.time() == QTime(14, 30) and dialog.end.time() == QTime(14, 45)
        assert dialog.patient is not None and dialog.patient.count() == 4
        dialog.reason.setText("call from the car")
        dialog.accept()  # no patient chosen yet: the dialog says so and stays open
        assert dialog.error.text() == "Choose the patient this time was for from the list."
        assert dialog.result() != ManualEntryDialog.DialogCode.Accepted
        dialog.patient.setCurrentText(dialog.patient.itemText(dialog.patient.findData("B200")))
        assert dialog.chosen_mrn() == "B200"
        return True

    page.exec_dialog = fill
    canvas = page.canvas
    x = round(canvas.column_x(3) + canvas.column_width() / 2)
    y = round(canvas.y_of(hours(14, 37)))
    qtbot.mouseDClick(canvas, Qt.MouseButton.LeftButton, pos=QPoint(x, y))
    assert len(seen) == 1
    [row] = [b.entry.row for b in canvas.layout_.blocks if b.day == 3]
    assert (row.mrn, row.seconds, row.source) == ("B200", 900, "manual")
    assert blocks_of(page, row.entry_id) == [(3, hours(14, 30), hours(14, 45))]


def test_an_empty_slot_before_an_entry_ends_where_it_begins(
    page: WeekPage, week_data: dict
) -> None:
    spans: list[tuple[QTime, QTime]] = []

    def look(dialog: ManualEntryDialog) -> bool:
        spans.append((dialog.start.time(), dialog.end.time()))
        return False

    page.exec_dialog = look
    assert not page.add_at(0, hours(8, 45))  # Monday's call begins at 09:00
    assert spans == [(QTime(8, 45), QTime(9, 0))]


def test_the_keyboard_moves_between_days_and_entries(
    qtbot, page: WeekPage, week_data: dict
) -> None:
    opened: list[int] = []
    added: list[tuple[int, int]] = []
    page.canvas.slot_requested.connect(lambda day, s: added.append((day, s)))

    def look(dialog: ManualEntryDialog) -> bool:
        if dialog.patient is None:
            opened.append(1)
        return False

    page.exec_dialog = look
    canvas = page.canvas
    canvas.setFocus()
    assert canvas.chosen_day == 1  # the day asked for: Tuesday
    qtbot.keyClick(canvas, Qt.Key.Key_Right)
    assert canvas.chosen_day == 2 and page.chosen_day() == dt.date(2026, 3, 11)
    qtbot.keyClick(canvas, Qt.Key.Key_Down)
    qtbot.keyClick(canvas, Qt.Key.Key_Down)
    chosen = canvas.chosen_entry()
    assert chosen is not None and chosen.row.entry_id == week_data["paused"]
    assert canvas.layout_.blocks[canvas.chosen_block].top == hours(11, 30)
    qtbot.keyClick(canvas, Qt.Key.Key_Return)
    assert opened == [1]
    qtbot.keyClick(canvas, Qt.Key.Key_Right)
    assert canvas.chosen_entry() is None
    qtbot.keyClick(canvas, Qt.Key.Key_Return)  # an empty day: add time at the working day's start
    assert added == [(3, hours(8))]
    for _ in range(3):
        qtbot.keyClick(canvas, Qt.Key.Key_Left)
    assert canvas.chosen_day == 0
    qtbot.keyClick(canvas, Qt.Key.Key_Left)  # past Monday: the Sunday before
    assert page.week_label.text() == "2\N{EN DASH}8 Mar 2026" and canvas.chosen_day == 6


def test_the_page_reads_time_saved_elsewhere(
    page: WeekPage, services: Services, nurse: Actor
) -> None:
    services.entries.add_manual(nurse, "A101", utc(13, 18), utc(13, 18, 5), reason="call")
    page.refresh(frozenset({"staff"}))
    assert not any(b.day == 4 for b in page.canvas.layout_.blocks)
    page.refresh(frozenset({TIME}))
    [block] = [b for b in page.canvas.layout_.blocks if b.day == 4]
    assert (block.top, block.bottom) == (hours(14), hours(14, 5))


def test_week_labels_across_month_and_year_ends() -> None:
    march = [dt.date(2026, 3, 30) + dt.timedelta(days=n) for n in range(7)]
    assert week_label(march) == "30 Mar \N{EN DASH} 5 Apr 2026"
    new_year = [dt.date(2026, 12, 28) + dt.timedelta(days=n) for n in range(7)]
    assert week_label(new_year) == "28 Dec 2026 \N{EN DASH} 3 Jan 2027"


def test_lanes_put_overlapping_blocks_side_by_side(services: Services, nurse: Actor) -> None:
    insert_entry(services._db, "rn-lee", "A100", [(utc(10, 14), utc(10, 15))])
    insert_entry(services._db, "rn-lee", "A101", [(utc(10, 14, 30), utc(10, 15, 30))])
    insert_entry(services._db, "rn-lee", "B200", [(utc(10, 15, 10), utc(10, 15, 20))])
    insert_entry(services._db, "rn-lee", "B201", [(utc(10, 17), utc(10, 17, 20))])
    # The next day at the same hour: a column of its own, whatever stands on Tuesday.
    insert_entry(services._db, "rn-lee", "B201", [(utc(11, 14, 40), utc(11, 14, 50))])
    week = services.time_log.my_week(nurse, LAST_WEEK)
    layout = lay_out(week, week.now)
    placed = lanes(layout.blocks)
    by_block = {(b.day, b.entry.row.mrn): placed[n] for n, b in enumerate(layout.blocks)}
    # A100 and A101 share time, and A101 and B200: one group of two lanes; B201 alone.
    assert by_block == {
        (1, "A100"): (0, 2),
        (1, "A101"): (1, 2),
        (1, "B200"): (0, 2),
        (1, "B201"): (0, 1),
        (2, "B201"): (0, 1),
    }


def test_the_window_shows_the_week_after_my_day_and_hears_its_changes(
    nurse_window, week_data: dict
) -> None:
    window = nurse_window
    names = window.visible_pages()
    assert names[names.index(MY_DAY) + 1] == WEEK
    window.show_page(WEEK)
    page = window.pages[WEEK]
    assert isinstance(page, WeekPage)
    heard: list[frozenset[str]] = []
    window.data_changed.changed.connect(heard.append)

    def fill(dialog: ManualEntryDialog) -> bool:
        assert dialog.patient is not None
        dialog.patient.setCurrentText(dialog.patient.itemText(dialog.patient.findData("A100")))
        dialog.reason.setText("call")
        return True

    page.exec_dialog = fill
    assert page.add_at(0, hours(8))  # this week's Monday, 08:00-08:15
    window.data_changed.flush()
    assert heard == [frozenset({TIME})]
    monday = [(b.entry.row.mrn, b.top) for b in page.canvas.layout_.blocks if b.day == 0]
    assert monday == [("B200", 0), ("A100", hours(8))]  # after Sunday night's call


def test_an_empty_slot_tells_the_free_stretch_around_it(page: WeekPage) -> None:
    canvas = page.canvas
    assert canvas.slot_tooltip(1, hours(9)) == (
        "Free 00:00\N{EN DASH}10:00 (10 h 00 min): double-click to add time here"
    )
    # After Tuesday's overlapping calls, free to midnight.
    assert canvas.slot_tooltip(1, hours(10, 45)) == (
        "Free 10:40\N{EN DASH}midnight (13 h 20 min): double-click to add time here"
    )
    assert canvas.slot_tooltip(2, hours(11, 15)) == (
        "Free 11:10\N{EN DASH}11:30 (20 min): double-click to add time here"
    )
    assert canvas.slot_tooltip(1, hours(10, 15)) == ""  # taken: no free stretch there


def test_time_yet_to_come_cannot_be_added(page: WeekPage, clock: FakeClock) -> None:
    asked: list[tuple[QTime, QTime]] = []

    def look(dialog: ManualEntryDialog) -> bool:
        asked.append((dialog.start.time(), dialog.end.time()))
        return False

    page.exec_dialog = look
    page.this_week_button.click()  # Monday 16 March, 11:00 now
    assert not page.add_at(2, hours(9))  # Wednesday
    box = page.findChild(QMessageBox)
    assert box is not None
    assert box.text() == "Time is added once it is spent: choose a slot before now."
    assert asked == []
    # A slot ending after now ends at now.
    assert not page.add_at(0, hours(10, 45))
    assert asked == [(QTime(10, 45), QTime(11, 0))]


def test_the_spring_night_is_drawn_by_the_wall_clock(
    page: WeekPage, services: Services, nurse: Actor
) -> None:
    # Sunday 8 March 2026, 01:30 EST to 03:30 EDT: one hour, drawn from 01:30 to 03:30.
    start = dt.datetime(2026, 3, 8, 6, 30, tzinfo=dt.UTC)
    call = services.entries.add_manual(
        nurse, "A100", start, start + dt.timedelta(hours=1), reason="night call"
    )
    page.set_day(dt.date(2026, 3, 8))
    assert blocks_of(page, call.entry_id) == [(6, hours(1, 30), hours(3, 30))]
    assert page.header.day_texts()[6] == ("Sun 8", "1:00:00")
