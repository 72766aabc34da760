"""The worklist page: the service's order and figures, starting and opening, empty and refused."""

from __future__ import annotations

import datetime as dt

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor

from ccmdesk.rules.minutes import Progress, progress_share
from ccmdesk.services import Actor, PermissionDenied, Services
from ccmdesk.ui.pages.worklist import (
    DAYS_LEFT,
    LAST_CONTACT,
    MRN,
    NEXT_THRESHOLD,
    PATIENT,
    PROGRAM,
    PROGRESS,
    PROGRESS_ROLE,
    STILL_NEEDED,
    THIS_MONTH,
    WorklistPage,
    WorklistTableModel,
    clock_text,
    subtitle_text,
)
from ccmdesk.ui.widgets.threshold_bar import BAR_DONE, BAR_FILL, BAR_TRACK, percent_text
from tests.helpers.care_plans import signed_plan
from tests.helpers.common import FakeClock
from tests.helpers.ui import HeldRunner, patient_raw

# Rows as the page shows them, at NOW (Monday 16 March 2026, 11:00 in New York): 16 days left.
EXPECTED = [
    # PCM aims at 30 minutes: 20:00 short is the most per day left.
    ["Pia Cole", "C301", "PCM", "10:00", "33%", "30 min", "20:00", "16"],
    ["Zoë Schäfer", "A100", "CCM", "5:00", "25%", "20 min", "15:00", "16"],
    ["Carl Adams", "C300", "CCM", "18:00", "90%", "20 min", "2:00", "16"],
    # Past 60 minutes of CCM: every threshold is reached, so the patient comes last.
    ["Dora Bell", "C302", "CCM", "1:05:00", "100%", "All reached", "", "16"],
]


def utc(hour: int, minute: int = 0, day: int = 16) -> dt.datetime:
    return dt.datetime(2026, 3, day, hour, minute, tzinfo=dt.UTC)


def add_time(services: Services, actor: Actor, mrn: str, start: dt.datetime, minutes: int) -> None:
    services.entries.add_manual(
        actor,
        mrn,
        start,
        start + dt.timedelta(minutes=minutes),
        reason="call from home",
        activity="Medication review",
    )


@pytest.fixture
def worklist_data(services: Services, nurse: Actor) -> Services:
    """Three more of Grace Lee's patients, and this month's minutes for all four."""
    setup = Actor.command_line()
    for mrn, first, last, conditions in (
        ("C300", "Carl", "Adams", "E11.9;I10"),
        ("C301", "Pia", "Cole", "I50.22"),
        ("C302", "Dora", "Bell", "E11.9;I50.22"),
    ):
        services.patients.save_text(
            setup,
            patient_raw(
                mrn=mrn,
                last_name=last,
                first_name=first,
                dob="1950-01-02",
                billing_practitioner="dr-okafor",
                care_manager="rn-lee",
                conditions=conditions,
                consent_date="2026-01-05",
                consent_method="verbal",
            ),
        )
    add_time(services, nurse, "C302", utc(12, 0, day=2), 65)
    add_time(services, nurse, "C300", utc(12, 0), 18)
    add_time(services, nurse, "C301", utc(12, 30), 10)
    add_time(services, nurse, "A100", utc(13, 0), 5)  # ends 09:05 in New York
    return services


@pytest.fixture
def page(qtbot, worklist_data: Services, nurse: Actor) -> WorklistPage:
    page = WorklistPage(worklist_data, lambda: nurse)
    qtbot.addWidget(page)
    page.resize(1100, 500)
    page.show()  # the page reads the worklist when shown
    return page


def shown_rows(page: WorklistPage) -> list[list[str]]:
    model = page.model
    columns = (PATIENT, MRN, PROGRAM, THIS_MONTH, PROGRESS, NEXT_THRESHOLD, STILL_NEEDED, DAYS_LEFT)
    return [[model.index(r, c).data() for c in columns] for r in range(model.rowCount())]


def test_formatting_helpers() -> None:
    assert [clock_text(s) for s in (0, 59, 750, 3599, 3725)] == [
        "0:00",
        "0:59",
        "12:30",
        "59:59",
        "1:02:05",
    ]
    almost = Progress("ccm", 20 * 60 - 1, 20, 0, 5)
    assert percent_text(progress_share(almost) or 0.0) == "99%"  # 19:59 is not 20 minutes
    assert progress_share(Progress(None, 600, None, 0, 5)) is None
    assert progress_share(Progress("complex", 95 * 60, None, 90, 5)) == 1.0
    assert subtitle_text("2026-11", 8, 12) == (
        "November 2026 · 8 days left · 12 patients · most minutes needed per day left first"
    )
    assert subtitle_text("2026-02", 1, 1).startswith("February 2026 · 1 day left · 1 patient ·")


def test_worklist_model_passes_the_qt_model_tester(
    qtmodeltester, worklist_data: Services, nurse: Actor
) -> None:
    rows = worklist_data.minutes.worklist(nurse)
    qtmodeltester.check(WorklistTableModel(rows, worklist_data.practice_zone()))


def test_rows_follow_the_service_order_with_the_months_figures(
    page: WorklistPage, worklist_data: Services, nurse: Actor
) -> None:
    titles = [
        "Patient",
        "MRN",
        "Callback",
        "Program",
        "This month",
        "Progress",
        "Next threshold",
        "Still needed",
        "Phone",
        "Best time",
        "Days left",
        "Last contact",
        "Last call",
    ]
    columns = range(page.model.columnCount())
    assert [page.model.headerData(c, Qt.Orientation.Horizontal) for c in columns] == titles
    assert shown_rows(page) == EXPECTED
    assert [row.mrn for row in worklist_data.minutes.worklist(nurse)] == [
        row[1] for row in EXPECTED
    ]
    # Last contact in New York time; March 2 was still on standard time (UTC-5).
    assert page.model.index(1, LAST_CONTACT).data() == "Mon 16 Mar, 09:05"
    assert page.model.index(3, LAST_CONTACT).data() == "Mon 02 Mar, 08:05"
    # The program's billing codes are in its tooltip.
    assert page.model.index(0, PROGRAM).data(Qt.ItemDataRole.ToolTipRole) == "PCM (99426)"
    assert page.subtitle_label.text() == (
        "March 2026 · 16 days left · 4 patients · most minutes needed per day left first"
    )
    assert page.table.isVisible() and not page.empty_label.isVisible()


def test_progress_column_holds_the_share_and_draws_a_bar(page: WorklistPage) -> None:
    fractions = [page.model.index(r, PROGRESS).data(PROGRESS_ROLE) for r in range(4)]
    assert fractions == pytest.approx([1 / 3, 0.25, 0.9, 1.0])
    assert "15:00 still needed" in page.model.index(1, PROGRESS).data(Qt.ItemDataRole.ToolTipRole)
    image = page.table.viewport().grab().toImage()
    ratio = page.table.viewport().devicePixelRatioF()

    def colour(row: int, x_offset: int) -> QColor:
        rect = page.table.visualRect(page.model.index(row, PROGRESS))
        return image.pixelColor(
            int((rect.left() + x_offset) * ratio), int(rect.center().y() * ratio)
        )

    # A100 (25%): filled at the start of the bar, empty track near its end.
    assert colour(1, 14) == BAR_FILL
    assert colour(1, page.progress_delegate.BAR_WIDTH - 6) == BAR_TRACK
    # The bar's ticks are the thresholds below its end, as every progress bar draws them.
    from ccmdesk.rules.minutes import threshold_ticks
    from ccmdesk.ui.pages.worklist import TICKS_ROLE

    ticks = [page.model.index(r, PROGRESS).data(TICKS_ROLE) for r in range(4)]
    assert ticks == [threshold_ticks(page.model.row_at(r).progress) for r in range(4)]
    assert any(ticks)
    # C302 has reached every threshold: the whole bar is the "done" colour.
    assert colour(3, 14) == BAR_DONE
    assert colour(3, page.progress_delegate.BAR_WIDTH - 6) == BAR_DONE


def test_enter_and_the_button_start_the_chosen_patient(qtbot, page: WorklistPage) -> None:
    assert not page.start_button.isEnabled()  # nobody chosen yet
    page.table.setFocus()
    page.table.setCurrentIndex(page.model.index(2, 0))
    assert page.start_button.isEnabled()
    with qtbot.waitSignal(page.start_requested) as started:
        qtbot.keyClick(page.table, Qt.Key.Key_Return)
    assert started.args == ["C300"]
    page.table.setCurrentIndex(page.model.index(0, 0))
    with qtbot.waitSignal(page.start_requested) as started:
        qtbot.mouseClick(page.start_button, Qt.MouseButton.LeftButton)
    assert started.args == ["C301"]


def test_double_click_opens_the_patient(qtbot, page: WorklistPage) -> None:
    rect = page.table.visualRect(page.model.index(1, 0))
    with qtbot.waitSignal(page.open_requested) as opened:
        # A real double-click is a click, then the double-click event: QTest sends only the
        # second, which an item view ignores unless the same cell was pressed first.
        qtbot.mouseClick(page.table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
        qtbot.mouseDClick(page.table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert opened.args == ["A100"]


def test_reload_keeps_the_chosen_patient_as_the_order_changes(
    page: WorklistPage, worklist_data: Services, nurse: Actor, clock: FakeClock
) -> None:
    page.select_mrn("C300")
    add_time(worklist_data, nurse, "C301", utc(14, 0), 25)  # C301 passes its 30 minutes
    page.reload()
    assert [page.model.index(r, MRN).data() for r in range(4)] == ["A100", "C300", "C302", "C301"]
    assert page.current_mrn() == "C300"
    assert page.table.selectionModel().isRowSelected(1)
    assert page.model.index(3, NEXT_THRESHOLD).data() == "All reached"


def test_a_running_stopwatch_counts_and_the_day_count_follows_the_clock(
    page: WorklistPage, worklist_data: Services, nurse: Actor, clock: FakeClock
) -> None:
    timer = worklist_data.stopwatch.start(nurse, "A100")
    clock.advance(minutes=12)
    # The stopwatch panel's heartbeat: one nobody watches counts only to its last one, as billed.
    worklist_data.stopwatch.heartbeat(nurse, timer.entry_id)
    page.reload()
    assert page.model.index(1, THIS_MONTH).data() == "17:00"
    assert page.model.index(1, STILL_NEEDED).data() == "3:00"
    clock.advance(days=3)
    page.reload()
    assert page.subtitle_label.text().startswith("March 2026 · 13 days left · 4 patients")


def test_no_enrolled_patients_shows_a_sentence_instead_of_a_grid(qtbot, services: Services) -> None:
    # Maja Lindqvist bills only for patients who have not consented.
    practitioner = services.staff.actor_for("np-lind")
    page = WorklistPage(services, lambda: practitioner)
    qtbot.addWidget(page)
    page.show()
    assert page.model.rowCount() == 0
    assert page.empty_label.isVisible()
    assert page.empty_label.text() == "No enrolled patients are assigned to you."
    assert not page.table.isVisible()
    assert not page.start_button.isEnabled()
    assert page.subtitle_label.text().startswith("March 2026 · 16 days left · 0 patients")


def test_a_role_without_time_sees_the_services_refusal(
    qtbot, services: Services, biller: Actor, nurse: Actor
) -> None:
    with pytest.raises(PermissionDenied) as refused:
        services.minutes.worklist(biller)
    acting = [biller]
    page = WorklistPage(services, lambda: acting[0])
    qtbot.addWidget(page)
    page.show()
    assert page.message() == str(refused.value)
    assert "may not view the worklist" in page.message()
    assert not page.table.isVisible()
    assert not page.start_button.isVisible()
    # Switching to someone who records time brings the list back.
    acting[0] = nurse
    page.reload()
    assert page.message() == ""
    assert page.table.isVisible()
    assert [page.model.index(r, MRN).data() for r in range(page.model.rowCount())] == ["A100"]
    assert page.subtitle_label.text().startswith("March 2026 · 16 days left · 1 patient ·")


def test_the_bars_tooltip_never_reads_100_percent_before_the_threshold(qtbot) -> None:
    from ccmdesk.ui.widgets.threshold_bar import ThresholdBar

    bar = ThresholdBar()
    qtbot.addWidget(bar)
    bar.set_progress(1199 / 1200, ())  # 19:59 of 20 minutes
    assert bar.toolTip() == "99% of the next threshold"


def test_falling_behind_shows_only_the_patients_short_of_a_threshold(page: WorklistPage) -> None:
    assert not page.behind_box.isChecked()
    page.show_falling_behind()
    assert [row[0] for row in shown_rows(page)] == ["Pia Cole", "Zoë Schäfer", "Carl Adams"]
    page.reload()  # the filter stays while the minutes are read again
    assert len(shown_rows(page)) == 3
    page.behind_box.setChecked(False)
    assert shown_rows(page) == EXPECTED
    page.show_falling_behind()
    page.forget_person()  # the next person starts on the whole list
    assert shown_rows(page) == EXPECTED


def test_the_worklist_is_read_off_the_gui_thread_and_a_late_answer_is_dropped(
    qtbot, worklist_data: Services, nurse: Actor
) -> None:
    runner = HeldRunner()
    page = WorklistPage(worklist_data, lambda: nurse, runner)
    qtbot.addWidget(page)
    page.show()  # asks for the rows, through the runner
    assert len(runner.tasks) == 1 and page.model.rowCount() == 0
    runner.finish()
    assert page.model.rowCount() > 0
    page.reload()
    page.clear()  # someone else signs in before the rows come back
    runner.finish()
    assert page.model.rowCount() == 0


def test_plan_review_due_shows_only_the_patients_whose_plan_review_has_passed(
    page: WorklistPage, worklist_data: Services, nurse: Actor, doctor: Actor
) -> None:
    before_march_ends = dt.date(2026, 3, 20)
    signed_plan(worklist_data, "C300", author=nurse, signer=doctor, review_on=before_march_ends)
    page.reload()
    assert shown_rows(page) == EXPECTED  # no filter: everyone
    page.review_box.setChecked(True)
    assert [row[0] for row in shown_rows(page)] == ["Carl Adams"]
    page.forget_person()  # the next person starts on the whole list
    assert not page.review_box.isChecked() and shown_rows(page) == EXPECTED


def test_the_two_filters_hide_with_the_table_and_the_reminder_clears_the_other(
    qtbot, services: Services, biller: Actor, nurse: Actor, page: WorklistPage
) -> None:
    page.review_box.setChecked(True)
    page.show_falling_behind()  # the reminder's list is every patient falling behind
    assert page.behind_box.isChecked() and not page.review_box.isChecked()
    refused = WorklistPage(services, lambda: biller)
    qtbot.addWidget(refused)
    refused.show()
    assert refused.message() and refused.behind_box.isHidden()
    assert refused.review_box.isHidden()
