"""The patient panel's Calls tab and the log-call dialog; callbacks on the worklist."""

from __future__ import annotations

import datetime as dt

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog
from sqlalchemy import select

from ccmdesk.models import Patient
from ccmdesk.services import Actor, Services
from ccmdesk.ui.calls import LogCallDialog
from ccmdesk.ui.main_window import WORKLIST, MainWindow
from ccmdesk.ui.pages.worklist import CALLBACK, OVERDUE_COLOUR, PHONE, WorklistPage
from tests.helpers.common import FakeClock
from tests.helpers.ui import NOW, panel_of, services_raw

HOUR = dt.timedelta(hours=1)
MINUTE = dt.timedelta(minutes=1)


def give_numbers(services: Services, mrn: str) -> None:
    with services._db.session() as session:
        patient = session.scalars(select(Patient).where(Patient.mrn == mrn)).one()
        patient.phone, patient.mobile_phone = "207-555-0101", "207-555-0199"
        patient.preferred_call_time = "morning"  # 11:00 in New York: the window is open


def test_a_call_is_logged_with_a_callback_and_the_callback_is_done(
    nurse_window: MainWindow, services: Services
) -> None:
    give_numbers(services, "A100")
    panel = panel_of(nurse_window, "A100")
    section = panel.calls
    assert panel.tabs.tabText(2) == "Calls"
    assert section.numbers.text() == (
        "Home 207-555-0101 · Mobile 207-555-0199 · best time: Morning (8-12) (now)"
    )
    assert section.history.rowCount() == 0
    seen: list[str] = []
    answers = [NOW - HOUR, NOW + 20 * HOUR]

    def fill(dialog: QDialog) -> bool:
        assert isinstance(dialog, LogCallDialog)
        seen.append(dialog.errors.error_text("due_at"))
        if not answers:
            return False
        assert dialog.phone.count() == 2  # the patient's numbers to choose from
        dialog.outcome.set_value("voicemail")
        dialog.phone.set_value("207-555-0199")
        dialog.note.setPlainText("Left a message about the new inhaler")
        dialog.set_call_back_at(answers.pop(0))
        return True

    section.exec_dialog = fill  # type: ignore[method-assign]
    assert section.log_call()
    assert seen[0] == "" and "in the past" in seen[1]
    assert section.history.rowCount() == 1
    cells = [section.history.item(0, c).text() for c in range(5)]
    assert cells == ["Mon 16 Mar 11:00", "Grace Lee", "Voicemail", "207-555-0199",
                     "Left a message about the new inhaler"]  # fmt: skip
    assert section.callbacks.rowCount() == 1
    assert section.callbacks.item(0, 0).text() == "Tue 17 Mar 07:00"
    assert panel.tabs.tabText(2) == "Calls · 1 callback"
    # The callback is done: the patient was reached some other way.
    section.callbacks.selectRow(0)
    assert section.finish("done")
    assert section.callbacks.rowCount() == 0
    assert panel.tabs.tabText(2) == "Calls"
    assert [
        c.status for c in services.calls.patient_log(Actor.command_line(), "A100").callbacks
    ] == ["done"]


def test_the_dialog_offers_the_callback_due_today_as_the_one_answered(
    nurse_window: MainWindow, services: Services, nurse: Actor, clock: FakeClock
) -> None:
    later = services.calls.schedule(nurse, "A100", NOW + 2 * HOUR)
    services.calls.schedule(nurse, "A100", NOW + 48 * HOUR)
    section = panel_of(nurse_window, "A100").calls
    assert section.callbacks.rowCount() == 2
    log = section.log
    assert log is not None
    dialog = LogCallDialog("Zoë Schäfer", log, NOW, services.practice_zone(), section)
    assert dialog.callback_id() == later.callback_id
    assert dialog.phone.value() == "" and dialog.phone.count() == 1  # no number on file
    dialog.deleteLater()


def test_only_callers_see_log_call(qtbot, services: Services, biller: Actor) -> None:
    from ccmdesk.ui.background import InlineTaskRunner
    from ccmdesk.ui.state import GuiState

    window = MainWindow(services, biller, runner=InlineTaskRunner(), state=GuiState(None))
    window.show()
    section = panel_of(window, "A100").calls
    assert not section.log_button.isVisibleTo(window)
    assert section.history.rowCount() == 0  # reading the log is everyone's
    window.close()
    window.deleteLater()


def worklist_of(window: MainWindow) -> WorklistPage:
    window.show_page(WORKLIST)
    page = window.pages[WORKLIST]
    assert isinstance(page, WorklistPage)
    return page


def test_the_worklist_puts_callbacks_due_today_first_and_marks_the_overdue(
    nurse_window: MainWindow, services: Services, nurse: Actor, clock: FakeClock
) -> None:
    services.patients.save_text(
        Actor.command_line(),
        {**services_raw(services, Actor.command_line(), "B200"), "care_manager": "rn-lee"},
        original_mrn="B200",
    )
    give_numbers(services, "B200")
    start = NOW - 3 * HOUR  # 25 of PCM's 30 minutes: by need alone, A100 (CCM, none) leads
    services.entries.add_manual(nurse, "B200", start, start + 25 * MINUTE, reason="call")
    clock.now = NOW - 30 * HOUR
    services.calls.schedule(nurse, "B200", NOW - 2 * HOUR)  # overdue by now
    clock.now = NOW
    page = worklist_of(nurse_window)
    mrns = [page.model.row_at(r).mrn for r in range(page.model.rowCount())]
    assert mrns == ["B200", "A100"]
    index = page.model.index(0, CALLBACK)
    assert index.data() == "Overdue 16 Mar 09:00"
    assert index.data(Qt.ItemDataRole.ForegroundRole) == OVERDUE_COLOUR
    assert page.model.index(0, PHONE).data() == "207-555-0101 (+1)"
    assert "1 callback due today first" in page.subtitle_label.text()


def test_starting_the_stopwatch_from_a_due_callback_links_the_two(
    nurse_window: MainWindow, services: Services, nurse: Actor, clock: FakeClock
) -> None:
    callback = services.calls.schedule(nurse, "A100", NOW + 3 * HOUR)
    page = worklist_of(nurse_window)
    assert page.select_mrn("A100")
    page.start_current()
    timer = nurse_window.stopwatch.timer_for("A100")
    assert timer is not None and timer.state == "running"
    [row] = services.calls.patient_log(nurse, "A100").callbacks
    assert (row.time_entry_id, row.status) == (timer.entry_id, "open")
    clock.advance(minutes=9)
    services.stopwatch.stop(nurse, timer.entry_id)
    [row] = services.calls.patient_log(nurse, "A100").callbacks
    assert (row.callback_id, row.status) == (callback.callback_id, "done")


def test_starting_without_a_callback_due_today_links_nothing(
    nurse_window: MainWindow, services: Services, nurse: Actor
) -> None:
    services.calls.schedule(nurse, "A100", NOW + 30 * HOUR)  # tomorrow
    page = worklist_of(nurse_window)
    assert page.select_mrn("A100")
    page.start_current()
    assert nurse_window.stopwatch.timer_for("A100") is not None
    [row] = services.calls.patient_log(nurse, "A100").callbacks
    assert row.time_entry_id is None
