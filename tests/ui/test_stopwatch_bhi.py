"""Timing BHI as quickly as CCM, the patient panel's BHI bar and the targets of each program."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from PySide6.QtCore import Qt

from ccmdesk.db import Database
from ccmdesk.rules.minutes import NO_MINUTES, progress
from ccmdesk.services import Actor, Services, WorklistRow
from ccmdesk.ui.main_window import PATIENTS, MainWindow
from ccmdesk.ui.pages.patients import PatientsPage
from ccmdesk.ui.pages.worklist import NEXT_THRESHOLD, PROGRAM, PROGRESS, WorklistTableModel
from ccmdesk.ui.stopwatch_dialogs import StopDialog
from tests.helpers.common import FakeClock
from tests.helpers.programs import set_program
from tests.helpers.ui import panel_of, patient_raw

# A patient with depression beside her diabetes: BHI is offered for her.
BH = patient_raw(
    mrn="F300",
    last_name="Moreau",
    first_name="Lina",
    dob="1951-04-09",
    billing_practitioner="dr-okafor",
    care_manager="rn-lee",
    conditions="F32.9;E11.9",
    consent_date="2026-01-10",
    consent_method="verbal",
)


def db_of(services: Services) -> Database:
    return services._db  # type: ignore[attr-defined]  # test set-up only


@pytest.fixture
def bh_patient(services: Services) -> str:
    services.patients.save_text(Actor.command_line(), BH)
    return "F300"


@pytest.fixture
def window(bh_patient: str, nurse_window: MainWindow) -> Iterator[MainWindow]:
    yield nurse_window


def run_window(window: MainWindow, clock: FakeClock, seconds: int) -> None:
    for _ in range(seconds):
        clock.advance(seconds=1)
        window.stopwatch.ticked.emit()


def stop_with_the_dialog_as_it_opens(window: MainWindow, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Stop and save answers the real Stop dialog with what it offers, Save pressed at once."""

    def ask(timer, seconds, end, *_):  # type: ignore[no-untyped-def]
        dialog = StopDialog(timer, seconds, ("Education",), dt.UTC)
        details = dialog.details()
        dialog.deleteLater()
        return details

    monkeypatch.setattr(window.stopwatch, "ask_stop", ask)


def test_start_bhi_sits_beside_start_ccm_and_times_bhi_in_one_click(
    qtbot, window: MainWindow, clock: FakeClock, services: Services, nurse: Actor, monkeypatch
) -> None:
    panel = panel_of(window, "F300")
    stopwatch = panel.stopwatch
    assert stopwatch.offers_bhi
    assert stopwatch.start_button.text() == "Start CCM" and stopwatch.bhi_button.isVisible()
    qtbot.mouseClick(stopwatch.bhi_button, Qt.MouseButton.LeftButton)
    running = window.stopwatch.running
    assert running is not None and (running.mrn, running.service) == ("F300", "bhi")
    window.data_changed.flush()
    run_window(window, clock, 5 * 60)
    # The running stopwatch says what it times, on the panel and in the status bar.
    assert stopwatch.state_label.text() == "Running · timing BHI"
    assert "Lina Moreau · BHI · 5:00" in window.status_timer.text()
    assert not stopwatch.bhi_button.isVisible()  # one stopwatch per patient
    stop_with_the_dialog_as_it_opens(window, monkeypatch)
    qtbot.mouseClick(stopwatch.stop_button, Qt.MouseButton.LeftButton)
    window.data_changed.flush()
    [entry] = services.time_log.patient_log(nurse, "F300")
    assert (entry.service, entry.seconds) == ("bhi", 300)  # saved as BHI, not CCM
    # The BHI bar, from what the stop returned; the CCM bar has none of the BHI time.
    assert panel.bhi_bar.isVisible() and panel.bhi_label.text() == "General BHI (99484)"
    assert panel.bhi_bar.fraction == pytest.approx(300 / 1200) and panel.bhi_bar.ticks == ()
    assert panel.bhi_text.text() == "5:00 of 20:00 counted · 15:00 still needed · 16 days left"
    assert panel.bar_text.text().startswith("0:00 of 20:00 counted")


def test_ctrl_shift_space_starts_bhi_and_ctrl_space_still_starts_ccm(
    qtbot, window: MainWindow, clock: FakeClock, monkeypatch
) -> None:
    panel_of(window, "F300")
    page = window.pages[PATIENTS]
    assert isinstance(page, PatientsPage)
    page.table.setFocus()
    modifiers = Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier
    qtbot.keyClick(page.table, Qt.Key.Key_Space, modifiers)
    running = window.stopwatch.running
    assert running is not None and running.service == "bhi"
    clock.advance(minutes=3)
    stop_with_the_dialog_as_it_opens(window, monkeypatch)
    qtbot.keyClick(page.table, Qt.Key.Key_Space, modifiers)  # stops and saves, as Ctrl+Space
    assert window.stopwatch.timers == []
    qtbot.keyClick(page.table, Qt.Key.Key_Space, Qt.KeyboardModifier.ControlModifier)
    running = window.stopwatch.running
    assert running is not None and running.service == "ccm"


def test_the_stop_dialog_offers_the_service_the_stopwatch_was_started_for(
    qtbot, services: Services, nurse: Actor, bh_patient: str
) -> None:
    timer = services.stopwatch.start(nurse, bh_patient, "bhi")
    dialog = StopDialog(timer, 125, ("Education",), dt.UTC)
    qtbot.addWidget(dialog)
    assert dialog.service.currentData() == "bhi"
    dialog.service.setCurrentIndex(dialog.service.findData("ccm"))  # a nurse may still change it
    assert dialog.details().service == "ccm"


def test_a_patient_without_a_behavioural_health_condition_has_one_start_and_no_bhi_bar(
    window: MainWindow,
) -> None:
    panel = panel_of(window, "A100")  # diabetes and hypertension
    assert not panel.stopwatch.offers_bhi
    assert panel.stopwatch.start_button.text() == "Start"
    assert not panel.stopwatch.bhi_button.isVisible()
    assert not panel.bhi_bar.isVisible() and not panel.bhi_text.isVisible()
    # Choosing the BHI patient next shows her bar; back again hides it.
    assert panel_of(window, "F300").bhi_bar.isVisible()
    assert not panel_of(window, "A100").bhi_bar.isVisible()


def test_bhi_time_on_a_patient_without_an_f_code_shows_why_it_cannot_bill(
    window: MainWindow, services: Services, nurse: Actor, clock: FakeClock
) -> None:
    start = clock() - dt.timedelta(hours=2)
    services.entries.add_manual(
        nurse, "A100", start, start + dt.timedelta(minutes=7), reason="call", service="bhi"
    )
    panel = panel_of(window, "A100")
    assert panel.bhi_bar.isVisible()
    assert panel.bhi_text.text() == (
        "7:00 of BHI time counted · no behavioural-health condition (F01-F99) is on file, "
        "so BHI cannot bill"
    )


def test_an_apcm_patient_has_no_minutes_bar_and_a_pcm_focus_patient_aims_at_30(
    window: MainWindow, services: Services
) -> None:
    set_program(db_of(services), "A100", "apcm")
    set_program(db_of(services), "F300", "pcm_focus", focus="F32.9")
    panel = panel_of(window, "A100")
    assert panel.month_label.text() == "March 2026 · APCM (G0556-G0558)"
    assert panel.bar_text.text() == "APCM: no minutes needed · 0:00 recorded this month"
    assert not panel.bar.isVisible()  # not a bar to 20:00
    panel = panel_of(window, "F300")  # two conditions, PCM by its focus condition
    assert panel.month_label.text() == "March 2026 · PCM (99426)"
    assert panel.bar.isVisible() and panel.bar_text.text().startswith("0:00 of 30:00 counted")


def test_the_worklist_says_an_apcm_patient_needs_no_minutes() -> None:
    apcm = progress(NO_MINUTES, 25 * 60, "2026-03", dt.date(2026, 3, 16))
    model = WorklistTableModel([WorklistRow("A1", "Ann Ames", "Enrolled", apcm, None)])
    text = [model.index(0, c).data() for c in (PROGRAM, PROGRESS, NEXT_THRESHOLD)]
    assert text == ["APCM", "", "No minutes needed"]
    tip = model.index(0, PROGRESS).data(Qt.ItemDataRole.ToolTipRole)
    assert tip == "APCM bills the month without minutes: there is no threshold to aim at."
