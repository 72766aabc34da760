"""The stopwatch in the window: panel, shortcuts, stop, idle, recovery and switching dialogs."""

from __future__ import annotations

import dataclasses
import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from PySide6.QtCore import QDate, Qt, QTime, QTimer
from PySide6.QtWidgets import QApplication, QDialog, QMessageBox
from sqlalchemy import select

from ccmdesk.models import AuditEvent
from ccmdesk.services import Actor, ServiceError, Services
from ccmdesk.services.time.records import EntryRow
from ccmdesk.ui.background import InlineTaskRunner
from ccmdesk.ui.forms import ReasonDialog
from ccmdesk.ui.main_window import PATIENTS, MainWindow
from ccmdesk.ui.pages.patients import PatientsPage
from ccmdesk.ui.state import GuiState
from ccmdesk.ui.stopwatch import StopwatchController
from ccmdesk.ui.stopwatch_dialogs import (
    IdleDialog,
    ManualEntryDialog,
    PatientChoice,
    RecoveryDialog,
    StopDetails,
    StopDialog,
    SwitchDialog,
    TimeField,
)
from ccmdesk.ui.stopwatch_views import MiniTimer, StatusTimer, TrayTimer
from tests.helpers.common import FakeClock
from tests.helpers.ui import FakeIdle, patient_raw

SAVE = StopDetails("Education", "ccm", False, "Reviewed glucose log")


class Mono:
    """A monotonic clock that moves with the FakeClock unless told otherwise."""

    def __init__(self) -> None:
        self.value = 1000.0

    def __call__(self) -> float:
        return self.value


@pytest.fixture
def window(nurse_window: MainWindow) -> MainWindow:
    return nurse_window


def page_of(window: MainWindow) -> PatientsPage:
    page = window.pages[PATIENTS]
    assert isinstance(page, PatientsPage)
    return page


def choose(window: MainWindow, mrn: str) -> PatientsPage:
    page = page_of(window)
    assert page.show_patient(mrn)
    return page


def advance(clock: FakeClock, mono: Mono, seconds: int) -> None:
    clock.advance(seconds=seconds)
    mono.value += seconds


def run(controller: StopwatchController, clock: FakeClock, mono: Mono, seconds: int) -> None:
    """Let time pass with the once-a-second tick, as the running program does."""
    for _ in range(seconds):
        advance(clock, mono, 1)
        controller.tick()


def run_window(window: MainWindow, clock: FakeClock, seconds: int) -> None:
    """The window's stopwatch runs for `seconds`, its timer firing once a second."""
    for _ in range(seconds):
        clock.advance(seconds=1)
        window.stopwatch.ticked.emit()  # the QTimer's timeout: tick, then every view refreshes


def test_the_panel_starts_pauses_resumes_and_stops_and_saves(
    qtbot, window: MainWindow, clock: FakeClock, services: Services, nurse: Actor, monkeypatch
) -> None:
    page = choose(window, "A100")
    panel = page.panel
    assert panel is not None and panel.name.text() == "Zoë Schäfer"
    assert panel.stopwatch.state_label.text() == "Not timing this patient."
    qtbot.mouseClick(panel.stopwatch.start_button, Qt.MouseButton.LeftButton)
    assert window.stopwatch.running is not None and window.stopwatch.running.mrn == "A100"
    window.data_changed.flush()  # the views re-read once the click has been handled
    run_window(window, clock, 3 * 60 + 5)
    assert panel.stopwatch.elapsed.text() == "3:05"
    assert panel.log.item(0, 1).text() == "3:05"  # the running line counts on too
    assert "Zoë Schäfer · 3:05" in window.status_timer.text()
    qtbot.mouseClick(panel.stopwatch.pause_button, Qt.MouseButton.LeftButton)
    assert panel.stopwatch.pause_button.text() == "Resume"
    clock.advance(minutes=10)  # paused: not counted
    qtbot.mouseClick(panel.stopwatch.pause_button, Qt.MouseButton.LeftButton)
    clock.advance(minutes=17)
    asked: list[int] = []
    monkeypatch.setattr(
        window.stopwatch, "ask_stop", lambda timer, seconds, end, *_: asked.append(seconds) or SAVE
    )
    qtbot.mouseClick(panel.stopwatch.stop_button, Qt.MouseButton.LeftButton)
    assert asked == [20 * 60 + 5]
    assert window.stopwatch.timers == []
    window.data_changed.flush()
    [entry] = services.time_log.patient_log(nurse, "A100")
    assert (entry.seconds, entry.activity, entry.note) == (1205, "Education", SAVE.note)
    # The panel shows the saved time, this month's progress and what is left.
    assert panel.log.rowCount() == 1 and panel.log.item(0, 1).text() == "20:05"
    assert panel.month_label.text() == "March 2026 · CCM (99490, 99439)"
    assert panel.bar_text.text() == "20:05 of 40:00 counted · 19:55 still needed · 16 days left"
    # The worklist's meaning: the share of the next threshold from zero, 20 minutes ticked.
    assert panel.bar.fraction == pytest.approx(1205 / 2400) and panel.bar.ticks == (0.5,)
    assert not window.status_timer.isVisible()


def test_ctrl_space_starts_the_chosen_patient_and_stops_and_saves(
    qtbot, window: MainWindow, clock: FakeClock, monkeypatch
) -> None:
    page = choose(window, "A100")
    page.table.setFocus()
    qtbot.keyClick(page.table, Qt.Key.Key_Space, Qt.KeyboardModifier.ControlModifier)
    assert window.stopwatch.running is not None
    clock.advance(minutes=2)
    qtbot.keyClick(page.table, Qt.Key.Key_P, Qt.KeyboardModifier.ControlModifier)
    assert window.stopwatch.timers[0].state == "paused"
    qtbot.keyClick(page.table, Qt.Key.Key_P, Qt.KeyboardModifier.ControlModifier)
    assert window.stopwatch.timers[0].state == "running"
    clock.advance(minutes=1)
    monkeypatch.setattr(window.stopwatch, "ask_stop", lambda timer, seconds, end, *_: SAVE)
    qtbot.keyClick(page.table, Qt.Key.Key_Space, Qt.KeyboardModifier.ControlModifier)
    assert window.stopwatch.timers == []


def test_stop_and_save_keeps_what_the_stop_returned_and_reads_no_stopwatch_again(
    qtbot, services: Services, nurse: Actor, clock: FakeClock, monkeypatch
) -> None:
    idle, mono = FakeIdle(), Mono()
    controller = make_controller(qtbot, services, nurse, idle, mono)
    controller.refresh()
    controller.start("A100")
    run(controller, clock, mono, 90)
    monkeypatch.setattr(controller, "ask_stop", lambda timer, seconds, end, *_: SAVE)
    reads: list[str] = []
    real = services.stopwatch.open_timers
    monkeypatch.setattr(
        services.stopwatch, "open_timers", lambda actor: reads.append("open") or real(actor)
    )
    assert controller.stop_and_save()
    assert reads == []  # the stop said which stopwatch ended: the rest are as they were
    assert controller.timers == [] and controller.running is None
    stopped = controller.last_stop
    assert stopped is not None and (stopped.entry.seconds, stopped.entry.activity) == (
        90,
        "Education",
    )
    assert stopped.progress.progress.countable_seconds == 90


def test_the_stop_dialog_saves_on_enter_and_keeps_lines_with_shift_enter(
    qtbot, services: Services, nurse: Actor, clock: FakeClock
) -> None:
    timer = services.stopwatch.start(nurse, "A100")
    dialog = StopDialog(timer, 125, ("Call with patient", "Education"), dt.UTC)
    qtbot.addWidget(dialog)
    dialog.show()
    assert dialog.service.currentData() == "ccm"
    dialog.activity.setCurrentText("Education")
    dialog.note.setFocus()
    qtbot.keyClicks(dialog.note, "first")
    qtbot.keyClick(dialog.note, Qt.Key.Key_Return, Qt.KeyboardModifier.ShiftModifier)
    qtbot.keyClicks(dialog.note, "second")
    assert dialog.isVisible()
    with qtbot.waitSignal(dialog.accepted, timeout=1000):
        qtbot.keyClick(dialog.note, Qt.Key.Key_Return)
    assert dialog.details() == StopDetails("Education", "ccm", False, "first\nsecond")


def test_the_panel_discards_a_stopwatch_started_by_mistake_with_a_reason(
    qtbot, window: MainWindow, clock: FakeClock, services: Services, nurse: Actor
) -> None:
    panel = choose(window, "A100").panel
    assert panel is not None
    stopwatch = panel.stopwatch
    assert stopwatch.discard_button.isHidden()  # nothing to discard before Start
    qtbot.mouseClick(stopwatch.start_button, Qt.MouseButton.LeftButton)
    run_window(window, clock, 40)
    assert stopwatch.discard_button.isVisible() and stopwatch.discard_button.isEnabled()
    dialog = stopwatch.ask_discard()
    assert isinstance(dialog, ReasonDialog)
    assert not dialog.ok_button.isEnabled()  # the reason is required
    dialog.reason.setPlainText("started on the wrong patient")
    qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)
    assert window.stopwatch.running is None
    assert services.stopwatch.open_timers(nurse) == []
    assert services.time_log.patient_log(nurse, "A100") == []  # none of the 40 s counts
    with services.audit._db.session() as session:  # type: ignore[attr-defined]
        event = session.scalars(select(AuditEvent).where(AuditEvent.action == "time.discard")).one()
    assert event.reason == "started on the wrong patient"
    assert stopwatch.discard_button.isHidden() and stopwatch.start_button.isVisible()


def test_cancelling_the_discard_keeps_the_stopwatch(
    qtbot, window: MainWindow, clock: FakeClock, services: Services, nurse: Actor
) -> None:
    panel = choose(window, "A100").panel
    assert panel is not None
    qtbot.mouseClick(panel.stopwatch.start_button, Qt.MouseButton.LeftButton)
    run_window(window, clock, 10)
    dialog = panel.stopwatch.ask_discard()
    assert dialog is not None
    dialog.reason.setPlainText("oops")
    dialog.reject()
    assert [t.mrn for t in services.stopwatch.open_timers(nurse)] == ["A100"]


def make_controller(
    qtbot, services: Services, nurse: Actor, idle: FakeIdle, mono: Mono
) -> StopwatchController:
    return StopwatchController(services, lambda: nurse, None, idle, mono)


def idle_question(
    qtbot,
    services: Services,
    nurse: Actor,
    clock: FakeClock,
    running_seconds: int,
    *,
    idle_seconds: int = 0,
    locked: bool = False,
) -> tuple[StopwatchController, Mono, IdleDialog]:
    """A stopwatch on A100 that ran `running_seconds`, then went idle (or the screen locked):
    the controller, its monotonic clock, and the idle question it asks."""
    idle, mono = FakeIdle(), Mono()
    controller = make_controller(qtbot, services, nurse, idle, mono)
    controller.refresh()
    assert controller.start("A100")
    run(controller, clock, mono, running_seconds)
    idle.seconds, idle.is_locked = idle_seconds, locked
    controller.tick()
    dialog = controller.idle_dialog
    assert isinstance(dialog, IdleDialog)
    qtbot.addWidget(dialog)
    return controller, mono, dialog


def test_idle_time_asks_and_discarding_removes_it(
    qtbot, services: Services, nurse: Actor, clock: FakeClock
) -> None:
    idle, mono = FakeIdle(), Mono()
    controller = make_controller(qtbot, services, nurse, idle, mono)
    controller.refresh()
    assert controller.start("A100")
    run(controller, clock, mono, 4)
    advance(clock, mono, 1)
    idle.seconds = 5 * 60  # the threshold (default 5 minutes) is reached now
    controller.tick()
    dialog = controller.idle_dialog
    assert isinstance(dialog, IdleDialog)
    qtbot.addWidget(dialog)
    assert dialog.idle.kind == "inactive"
    assert dialog.discard.isChecked()  # the gentlest answer is preselected
    advance(clock, mono, 60)  # the nurse comes back a minute later and answers
    dialog.accept()
    timer = controller.running
    assert timer is not None
    # 5 s of stopwatch happened; the 5 minutes of idleness reach back before it, so all of
    # this stretch is idle and only time from the answer on counts.
    assert controller.seconds(timer) == 0
    advance(clock, mono, 30)
    assert controller.seconds(controller.running) == 30


def test_keeping_idle_time_needs_a_reason_in_the_dialog(
    qtbot, services: Services, nurse: Actor, clock: FakeClock
) -> None:
    controller, mono, dialog = idle_question(qtbot, services, nurse, clock, 20, locked=True)
    assert dialog.heading.text().startswith("The screen was locked at")
    dialog.keep.setChecked(True)
    dialog.accept()  # refused: no reason yet
    assert controller.idle_dialog is dialog
    assert dialog.reason_error.text() == "Say why the idle time belongs to this patient."
    dialog.reason.setText("Phone call with the pharmacy")
    advance(clock, mono, 300)
    dialog.accept()
    assert controller.seconds(controller.running) == 320


def test_pause_and_stop_wait_for_the_idle_question(
    qtbot, services: Services, nurse: Actor, clock: FakeClock, monkeypatch
) -> None:
    controller, _, dialog = idle_question(qtbot, services, nurse, clock, 60, idle_seconds=5 * 60)
    asked: list[int] = []
    monkeypatch.setattr(controller, "ask_stop", lambda *args: asked.append(1) or SAVE)
    # Pausing or stopping now would settle the idle minutes with nobody saying what they were.
    assert not controller.pause()
    assert not controller.stop_and_save()
    assert asked == [] and controller.idle_dialog is dialog
    assert [t.state for t in services.stopwatch.open_timers(nurse)] == ["running"]
    dialog.accept()  # discard, the preselected answer: then pausing works
    assert controller.pause()


def test_cancelling_the_stop_from_the_idle_question_asks_the_question_again(
    qtbot, services: Services, nurse: Actor, clock: FakeClock, monkeypatch
) -> None:
    controller, mono, dialog = idle_question(
        qtbot, services, nurse, clock, 10 * 60, idle_seconds=6 * 60
    )
    run(controller, clock, mono, 3 * 60)  # the nurse answers three minutes later
    monkeypatch.setattr(controller, "ask_stop", lambda *args: None)  # then cancels the stop
    dialog.stop.setChecked(True)
    dialog.accept()
    # Still running and still watched (not mistaken for one left by a crash), and the idle
    # minutes still wait for an answer.
    again = controller.idle_dialog
    assert isinstance(again, IdleDialog) and again is not dialog
    qtbot.addWidget(again)
    assert again.idle == dialog.idle
    assert controller.running is not None and controller._tick.isActive()
    again.accept()  # discard: the 4 minutes before idleness stay, the 9 idle ones go
    assert controller.seconds(controller.running) == 4 * 60
    run(controller, clock, mono, 30)
    assert controller.seconds(controller.running) == 4 * 60 + 30


def test_no_heartbeat_while_the_idle_question_waits(
    qtbot, services: Services, nurse: Actor, clock: FakeClock
) -> None:
    controller, mono, _ = idle_question(qtbot, services, nurse, clock, 40, idle_seconds=5 * 60)
    [before] = services.stopwatch.open_timers(nurse)
    run(controller, clock, mono, 10 * 60)  # nobody answers for ten minutes
    # A crash now stops at the last heartbeat, which must not vouch for the idle minutes.
    [after] = services.stopwatch.open_timers(nurse)
    assert after.last_heartbeat_at == before.last_heartbeat_at
    assert before.last_heartbeat_at is not None
    assert before.last_heartbeat_at <= clock.now - dt.timedelta(minutes=10)


def test_stopping_at_the_start_of_idle_time(
    qtbot, services: Services, nurse: Actor, clock: FakeClock, monkeypatch
) -> None:
    controller, mono, dialog = idle_question(
        qtbot, services, nurse, clock, 10 * 60, idle_seconds=6 * 60
    )
    ends: list[dt.datetime | None] = []
    monkeypatch.setattr(
        controller, "ask_stop", lambda timer, seconds, end, *_: ends.append(end) or SAVE
    )
    dialog.stop.setChecked(True)
    advance(clock, mono, 15 * 60)
    dialog.accept()
    [entry] = services.time_log.patient_log(nurse, "A100")
    assert entry.seconds == 4 * 60
    assert ends == [dialog.idle.since]


def test_idle_from_the_start_offers_throwing_the_stopwatch_away_not_an_empty_stop(
    qtbot, services: Services, nurse: Actor, clock: FakeClock, monkeypatch
) -> None:
    # Started, then nobody touched the computer: idleness began before the stopwatch did.
    controller, _, dialog = idle_question(
        qtbot, services, nurse, clock, 5 * 60, idle_seconds=5 * 60
    )
    assert dialog.nothing_before_idle()
    assert dialog.stop.text() == "Throw this stopwatch away: no time was recorded before then"
    asked: list[object] = []
    monkeypatch.setattr(controller, "ask_stop", lambda *args: asked.append(args))
    dialog.stop.setChecked(True)
    assert dialog.chosen() == IdleDialog.DISCARD_ENTRY
    dialog.accept()
    # No Stop dialog showing 0:00 to be refused: the stopwatch is gone, with a reason.
    assert asked == [] and controller.idle_dialog is None
    assert controller.running is None and services.stopwatch.open_timers(nurse) == []
    assert services.time_log.patient_log(nurse, "A100") == []
    with services.audit._db.session() as session:  # type: ignore[attr-defined]
        event = session.scalars(select(AuditEvent).where(AuditEvent.action == "time.discard")).one()
    assert event.reason == "idle from its start: no time recorded before idleness began"


def test_idle_after_some_time_still_offers_stopping_where_it_began(
    qtbot, services: Services, nurse: Actor, clock: FakeClock
) -> None:
    _, _, dialog = idle_question(qtbot, services, nurse, clock, 5 * 60 + 2, idle_seconds=5 * 60)
    assert not dialog.nothing_before_idle()  # two seconds before idleness: a stop can save
    assert dialog.stop.text().startswith("Stop the stopwatch at ")
    dialog.stop.setChecked(True)
    assert dialog.chosen() == IdleDialog.STOP
    # Back to the gentlest answer: closing the window at teardown answers the question, and a
    # stop would open the Stop dialog over nobody.
    dialog.discard.setChecked(True)


def test_a_clock_set_back_keeps_the_true_time(
    qtbot, services: Services, nurse: Actor, clock: FakeClock
) -> None:
    idle, mono = FakeIdle(), Mono()
    controller = make_controller(qtbot, services, nurse, idle, mono)
    controller.refresh()
    controller.start("A100")
    run(controller, clock, mono, 120)
    clock.advance(hours=-1)  # the wall clock goes back an hour
    mono.value += 1
    controller.tick()
    assert controller.seconds(controller.running) == 121
    for widget in QApplication.topLevelWidgets():
        if widget.objectName() == "errorMessage":
            assert "went back 60 min" in widget.text()  # type: ignore[attr-defined]
            widget.close()


def test_a_clock_set_back_while_the_idle_question_waits_moves_its_start_too(
    qtbot, services: Services, nurse: Actor, clock: FakeClock, monkeypatch
) -> None:
    controller, mono, dialog = idle_question(
        qtbot, services, nurse, clock, 10 * 60, idle_seconds=5 * 60
    )
    old_since = dialog.idle.since
    # A second later by the tick, the wall clock has gone back an hour; nobody has answered.
    clock.advance(seconds=1 - 3600)
    mono.value += 1
    controller.tick()
    assert dialog.idle.since == old_since - dt.timedelta(hours=1)
    local = dialog.idle.since.astimezone(services.practice_zone())
    assert dialog.stop.text() == f"Stop the stopwatch at {local:%H:%M} and save"
    assert f"{local:%H:%M}" in dialog.heading.text()
    monkeypatch.setattr(controller, "ask_stop", lambda *args: SAVE)
    dialog.stop.setChecked(True)
    dialog.accept()
    # Stopped where the idle time began, on the new clock: the five minutes before it.
    [entry] = services.time_log.patient_log(nurse, "A100")
    assert entry.seconds == 5 * 60 and entry.ended_at == dialog.idle.since
    for widget in QApplication.topLevelWidgets():
        if widget.objectName() == "errorMessage":
            widget.close()


def test_idle_start_never_lies_after_now_when_the_entry_cannot_move_back(
    qtbot, services: Services, nurse: Actor, clock: FakeClock, monkeypatch
) -> None:
    # A call typed in that ends 50 minutes before the stopwatch starts: after the clock goes
    # back an hour, the entry can move back only those 50 minutes.
    services.entries.add_manual(
        nurse, "A101", clock.now - dt.timedelta(hours=3), clock.now - dt.timedelta(minutes=50),
        reason="call typed in",
    )  # fmt: skip
    controller, mono, dialog = idle_question(
        qtbot, services, nurse, clock, 10 * 60, idle_seconds=5 * 60
    )
    clock.advance(seconds=1 - 3600)
    mono.value += 1
    controller.tick()
    assert controller.pending_idle is not None
    assert controller.pending_idle.since == services.now() == dialog.idle.since
    dialog.accept()  # discard: the stopwatch goes on from here
    run(controller, clock, mono, 30)
    # The entry moved back 50 minutes to start right after the typed-in call, one second
    # before the corrected now; the rest of the ten minutes could not follow (and is reported).
    assert controller.seconds(controller.running) == 1 + 30
    for widget in QApplication.topLevelWidgets():
        if widget.objectName() == "errorMessage":
            widget.close()


def test_system_sleep_asks_about_the_time_asleep(
    qtbot, services: Services, nurse: Actor, clock: FakeClock
) -> None:
    idle, mono = FakeIdle(), Mono()
    controller = make_controller(qtbot, services, nurse, idle, mono)
    controller.refresh()
    controller.set_on_call(True)  # a sleeping computer vouches for nothing, even on a call
    controller.start("A100")
    run(controller, clock, mono, 60)
    clock.advance(hours=2)  # asleep: the monotonic clock stood still
    mono.value += 1
    controller.tick()
    dialog = controller.idle_dialog
    assert isinstance(dialog, IdleDialog) and dialog.idle.kind == "sleep"
    qtbot.addWidget(dialog)
    dialog.accept()  # discard
    assert controller.seconds(controller.running) == 60


def test_on_a_call_inactivity_does_not_ask(
    qtbot, services: Services, nurse: Actor, clock: FakeClock
) -> None:
    idle, mono = FakeIdle(), Mono()
    controller = make_controller(qtbot, services, nurse, idle, mono)
    controller.refresh()
    controller.set_on_call(True)
    controller.start("A100")
    advance(clock, mono, 1)
    idle.seconds = 3600
    controller.tick()
    assert controller.idle_dialog is None


def test_heartbeats_are_written_while_running(
    qtbot, services: Services, nurse: Actor, clock: FakeClock
) -> None:
    idle, mono = FakeIdle(), Mono()
    controller = make_controller(qtbot, services, nurse, idle, mono)
    controller.refresh()
    controller.start("A100")
    run(controller, clock, mono, 31)
    [timer] = services.stopwatch.open_timers(nurse)
    assert timer.last_heartbeat_at == clock.now - dt.timedelta(seconds=1)


def test_starting_another_patient_asks_and_pausing_the_first_works(
    qtbot, services: Services, nurse: Actor, clock: FakeClock, monkeypatch
) -> None:
    services.patients.save_text(
        Actor.command_line(),
        patient_raw(
            mrn="A102",
            last_name="Ito",
            first_name="Ken",
            dob="1951-01-01",
            billing_practitioner="dr-okafor",
        ),
    )
    controller = make_controller(qtbot, services, nurse, FakeIdle(), Mono())
    controller.refresh()
    controller.start("A100")
    clock.advance(minutes=1)
    monkeypatch.setattr(controller, "ask_switch", lambda running, mrn: "")
    assert not controller.start("A102")  # cancelled: nothing changes
    assert [t.mrn for t in controller.timers] == ["A100"]
    monkeypatch.setattr(controller, "ask_switch", lambda running, mrn: SwitchDialog.PAUSE)
    assert controller.start("A102")
    assert {t.mrn: t.state for t in controller.timers} == {"A100": "paused", "A102": "running"}


def test_the_switch_dialog_offers_pause_stop_and_cancel(qtbot, services, nurse, clock) -> None:
    timer = services.stopwatch.start(nurse, "A100")
    dialog = SwitchDialog(timer, 65, "Harold Nguyen")
    qtbot.addWidget(dialog)
    assert dialog.pause_button.text() == "Pause Zoë Schäfer"
    qtbot.mouseClick(dialog.stop_button, Qt.MouseButton.LeftButton)
    assert dialog.choice == SwitchDialog.STOP


def test_recovery_offers_a_stopwatch_left_running(
    qtbot, services: Services, nurse: Actor, clock: FakeClock, monkeypatch
) -> None:
    services.stopwatch.start(nurse, "A100")
    clock.advance(minutes=4)
    services.stopwatch.heartbeat(nurse, services.stopwatch.open_timers(nurse)[0].entry_id)
    clock.advance(hours=3)  # ccmdesk was killed; now it starts again
    controller = make_controller(qtbot, services, nurse, FakeIdle(), Mono())
    seen: list[RecoveryDialog] = []

    def answer(timer):
        dialog = RecoveryDialog(timer, services.now(), services.practice_zone())
        qtbot.addWidget(dialog)
        seen.append(dialog)
        qtbot.mouseClick(dialog.stop_button, Qt.MouseButton.LeftButton)
        return dialog.choice

    monkeypatch.setattr(controller, "ask_recovery", answer)
    monkeypatch.setattr(controller, "ask_stop", lambda *args, **kwargs: SAVE)
    controller.recover()
    assert "Stop it at" in seen[0].stop_button.text() and "(4:00)" in seen[0].stop_button.text()
    assert "3:04:00" in seen[0].keep_button.text()
    assert controller.timers == []
    [entry] = services.time_log.patient_log(nurse, "A100")
    assert entry.seconds == 240


def test_stopping_a_recovered_stopwatch_asks_what_was_done_as_a_stop_does(
    qtbot, services: Services, nurse: Actor, clock: FakeClock, monkeypatch
) -> None:
    services.stopwatch.start(nurse, "A100")
    clock.advance(minutes=4)
    services.stopwatch.heartbeat(nurse, services.stopwatch.open_timers(nurse)[0].entry_id)
    beat = clock()
    clock.advance(hours=1)
    controller = make_controller(qtbot, services, nurse, FakeIdle(), Mono())
    monkeypatch.setattr(controller, "ask_recovery", lambda timer: "stop_at_heartbeat")
    asked: list[tuple[int, dt.datetime | None]] = []

    def answer(timer, seconds, end, typed=None, refusal=""):
        asked.append((seconds, end))
        return SAVE

    monkeypatch.setattr(controller, "ask_stop", answer)
    saved: list[str] = []
    controller.time_saved.connect(saved.append)
    controller.recover()
    # The Stop dialog, ended at the last heartbeat, and what was typed in it saved.
    assert asked == [(240, beat)]
    [entry] = services.time_log.patient_log(nurse, "A100")
    assert (entry.seconds, entry.activity, entry.note) == (240, "Education", "Reviewed glucose log")
    assert saved == ["A100"] and controller.timers == []


def test_cancelling_the_stop_of_a_recovered_stopwatch_asks_the_recovery_question_again(
    qtbot, services: Services, nurse: Actor, clock: FakeClock, monkeypatch
) -> None:
    timer = services.stopwatch.start(nurse, "A100")
    clock.advance(hours=1)
    controller = make_controller(qtbot, services, nurse, FakeIdle(), Mono())
    answers = ["stop_at_heartbeat", "keep"]
    asked: list[str] = []

    def answer(left):
        asked.append(left.mrn)
        # Until answered again the stopwatch is as it was: running, nothing saved.
        [still] = services.stopwatch.open_timers(nurse)
        assert (still.entry_id, still.state) == (timer.entry_id, "running")
        return answers.pop(0)

    monkeypatch.setattr(controller, "ask_recovery", answer)
    monkeypatch.setattr(controller, "ask_stop", lambda *args, **kwargs: None)  # Cancel
    controller.recover()
    assert asked == ["A100", "A100"]
    # Kept at the second answer: counting through now.
    assert controller.watching and controller.seconds(controller.running) == 3600


def test_after_an_unclean_exit_a_fresh_heartbeat_is_still_asked_about(
    qtbot, services: Services, nurse: Actor, clock: FakeClock, monkeypatch
) -> None:
    services.stopwatch.start(nurse, "A100")
    clock.advance(seconds=20)  # killed, and started again at once: the heartbeat is fresh
    idle, mono = FakeIdle(), Mono()
    controller = StopwatchController(services, lambda: nurse, None, idle, mono, after_crash=True)
    controller.refresh()
    # Not counting on unasked.
    assert controller.running is not None and not controller.watching
    asked: list[str] = []
    monkeypatch.setattr(controller, "ask_recovery", lambda timer: asked.append(timer.mrn) or "keep")
    controller.recover()
    assert asked == ["A100"] and controller.watching
    # Kept: asked once only, and not again at a later sign-in (its heartbeat is this run's).
    run(controller, clock, mono, 40)
    controller.recover()
    assert asked == ["A100"]


def test_without_an_unclean_exit_a_fresh_heartbeat_is_another_workstation_s(
    qtbot, services: Services, nurse: Actor, clock: FakeClock, monkeypatch
) -> None:
    services.stopwatch.start(nurse, "A100")
    clock.advance(seconds=20)  # running on another computer, its heartbeat fresh
    controller = make_controller(qtbot, services, nurse, FakeIdle(), Mono())
    monkeypatch.setattr(
        controller, "ask_recovery", lambda timer: pytest.fail("asked about a watched stopwatch")
    )
    controller.recover()
    assert controller.watching


def recovery_dialog(
    qtbot, services: Services, nurse: Actor, clock: FakeClock, beat_after: int | None
) -> RecoveryDialog:
    """The recovery question about a stopwatch started 14 minutes ago whose last heartbeat
    came `beat_after` seconds after its start (None: ccmdesk died before the first one)."""
    timer = services.stopwatch.start(nurse, "A100")
    if beat_after is not None:
        clock.advance(seconds=beat_after)
        services.stopwatch.heartbeat(nurse, timer.entry_id)
    clock.advance(seconds=14 * 60 - (beat_after or 0))
    [timer] = services.stopwatch.open_timers(nurse)
    dialog = RecoveryDialog(timer, clock.now, dt.UTC)
    qtbot.addWidget(dialog)
    dialog.show()
    return dialog


def test_escape_in_the_recovery_dialog_stops_at_the_heartbeat(
    qtbot, services, nurse, clock
) -> None:
    dialog = recovery_dialog(qtbot, services, nurse, clock, beat_after=4 * 60)
    assert dialog.stop_button.isVisible() and dialog.stop_button.text().endswith("(4:00)")
    qtbot.keyClick(dialog, Qt.Key.Key_Escape)
    assert dialog.choice == "stop_at_heartbeat"


def test_a_stopwatch_that_ended_before_its_first_heartbeat_is_not_offered_a_stop(
    qtbot, services, nurse, clock
) -> None:
    # ccmdesk was killed seconds after the start: stopping at the last sign of life would save
    # 0:00 and be refused in the Stop dialog, so only keeping and discarding are offered.
    dialog = recovery_dialog(qtbot, services, nurse, clock, beat_after=None)
    assert not dialog.stop_button.isVisible()
    assert dialog.discard_button.isDefault()
    assert dialog.discard_button.text() == "Discard it: no time was recorded before then"
    qtbot.keyClick(dialog, Qt.Key.Key_Escape)
    assert dialog.choice == "discard"


def test_a_stop_at_a_given_end_goes_back_rather_than_keep_timing(
    qtbot, services, nurse, clock
) -> None:
    timer = services.stopwatch.start(nurse, "A100")
    clock.advance(minutes=3)
    asked = StopDialog(timer, 180, ("Education",), dt.UTC, end=clock.now)
    plain_stop = StopDialog(timer, 180, ("Education",), dt.UTC)
    for dialog in (asked, plain_stop):
        qtbot.addWidget(dialog)
    assert asked.cancel_button.text() == "Back"
    assert plain_stop.cancel_button.text() == "Keep timing"


def test_status_bar_tray_and_mini_timer_follow_the_stopwatch(
    qtbot, window: MainWindow, clock: FakeClock, monkeypatch
) -> None:
    window.stopwatch.start("A100")
    run_window(window, clock, 12 * 60 + 3)
    assert isinstance(window.status_timer, StatusTimer)
    assert window.status_timer.isVisible()
    tray = window.tray
    assert isinstance(tray, TrayTimer)
    assert tray.title_action.text() == "Zoë Schäfer · 12:03"
    assert "12:03 running" in tray.toolTip()
    window.mini_action.setChecked(True)
    mini = window.mini_timer
    assert isinstance(mini, MiniTimer) and mini.isVisible()
    assert mini.windowFlags() & Qt.WindowType.WindowStaysOnTopHint
    assert mini.elapsed.text() == "12:03"
    tray.pause_action.trigger()
    assert window.stopwatch.timers[0].state == "paused"
    assert mini.pause_button.text() == "Resume" and tray.pause_action.text() == "Resume"
    qtbot.mouseClick(mini.pause_button, Qt.MouseButton.LeftButton)
    assert window.stopwatch.running is not None
    window.show_page("my_day")
    tray.open_action.trigger()
    assert window.current_page() == PATIENTS
    assert page_of(window).current_mrn() == "A100"


def test_manual_time_is_added_with_a_reason_and_a_refusal_keeps_the_dialog(
    qtbot, window: MainWindow, clock: FakeClock, services: Services, nurse: Actor, monkeypatch
) -> None:
    panel = choose(window, "A100").panel
    assert panel is not None
    attempts: list[ManualEntryDialog] = []

    def fill(dialog: ManualEntryDialog) -> bool:
        attempts.append(dialog)
        if len(attempts) > 2:
            return False
        # 2026-03-16 15:00 UTC is 11:00 in New York; the first try ends in the future.
        dialog.start.setTime(dialog.start.time().fromString("09:30:00", "HH:mm:ss"))
        end = "12:00:00" if len(attempts) == 1 else "09:55:00"
        dialog.end.setTime(dialog.end.time().fromString(end, "HH:mm:ss"))
        dialog.reason.setText("Call taken on the ward phone")
        dialog.activity.setCurrentText("Medication reconciliation")
        return True

    monkeypatch.setattr(panel, "exec_dialog", fill)
    assert panel.add_time()
    assert len(attempts) == 2 and attempts[0] is attempts[1]  # the same dialog, text kept
    assert "future" in attempts[0].error.text()
    [entry] = services.time_log.patient_log(nurse, "A100")
    assert (entry.seconds, entry.source, entry.activity) == (
        25 * 60,
        "manual",
        "Medication reconciliation",
    )
    assert panel.log.rowCount() == 1


def test_closing_with_a_running_stopwatch_asks_first(
    qtbot, window: MainWindow, clock: FakeClock, monkeypatch
) -> None:
    window.stopwatch.start("A100")
    clock.advance(minutes=1)
    monkeypatch.setattr(window, "settle_running_timer", lambda **_: False)
    window.close()
    assert window.isVisible()
    monkeypatch.setattr(window, "settle_running_timer", lambda **_: window.stopwatch.pause())
    window.close()
    assert not window.isVisible()
    assert window.stopwatch.timers[0].state == "paused"


def answer_message_box(qtbot, button_text: str) -> list[str]:
    """Click `button_text` in the next modal message box, once it is up; returns its text."""
    seen: list[str] = []

    def click() -> None:
        box = QApplication.activeModalWidget()
        assert isinstance(box, QMessageBox)
        seen.append(box.text())
        [button] = [b for b in box.buttons() if b.text() == button_text]
        button.click()

    QTimer.singleShot(0, click)
    return seen


def test_switching_user_settles_the_running_stopwatch_first(
    qtbot, window: MainWindow, services: Services, nurse: Actor, clock: FakeClock
) -> None:
    window.stopwatch.start("A100")
    run_window(window, clock, 90)
    # Cancel: Grace stays signed in and her stopwatch runs on.
    seen = answer_message_box(qtbot, "Cancel")
    window._switch_to(services.staff.actor_for("dr-okafor"))
    assert "Once someone else signs in, nothing watches it for idle time" in seen[0]
    assert window.actor() == nurse and window.stopwatch.running is not None
    # Pause: her stopwatch is paused before the doctor signs in.
    answer_message_box(qtbot, "Pause it and switch")
    window._switch_to(services.staff.actor_for("dr-okafor"))
    assert window.actor().key == "dr-okafor"
    assert window.stopwatch.timers == []  # the doctor's own stopwatches, none
    [left] = services.stopwatch.open_timers(nurse)
    assert left.state == "paused" and left.elapsed_seconds == 90


def test_signing_in_by_switching_offers_back_a_stopwatch_left_running(
    qtbot, window: MainWindow, services: Services, clock: FakeClock, monkeypatch
) -> None:
    doctor = services.staff.actor_for("dr-okafor")
    services.stopwatch.start(doctor, "A101")
    clock.advance(minutes=20)  # the doctor's ccmdesk ended badly twenty minutes ago
    asked: list[str] = []
    monkeypatch.setattr(
        window.stopwatch, "ask_recovery", lambda timer: asked.append(timer.mrn) or "discard"
    )
    window._switch_to(services.staff.actor_for("dr-okafor"))
    assert asked == ["A101"]
    assert services.stopwatch.open_timers(doctor) == []


def test_a_recovery_that_fails_reports_no_saved_time(
    qtbot, services: Services, nurse: Actor, clock: FakeClock, monkeypatch
) -> None:
    services.stopwatch.start(nurse, "A100")
    clock.advance(hours=1)
    controller = make_controller(qtbot, services, nurse, FakeIdle(), Mono())
    answers = ["stop_at_heartbeat", "keep"]
    monkeypatch.setattr(controller, "ask_recovery", lambda timer: answers.pop(0))
    refusals: list[str] = []

    def answer(timer, seconds, end, typed=None, refusal=""):
        refusals.append(refusal)
        return SAVE if len(refusals) == 1 else None  # refused, then cancelled

    monkeypatch.setattr(controller, "ask_stop", answer)

    def refuse(*args, **kwargs):
        raise ServiceError("March 2026 is signed for this patient.")

    monkeypatch.setattr(services.stopwatch, "stop", refuse)
    saved: list[str] = []
    controller.time_saved.connect(saved.append)
    controller.recover()
    assert saved == [] and refusals[1] and answers == []


def test_closing_or_switching_leaves_an_unrecovered_stopwatch_for_its_recovery_question(
    qtbot, window: MainWindow, services: Services, nurse: Actor, clock: FakeClock, monkeypatch
) -> None:
    qtbot.wait(10)  # the window's first look for stopwatches left running: none yet
    timer = services.stopwatch.start(nurse, "A100")
    clock.advance(minutes=30)  # left by a crash (another window's), never recovered here
    window.stopwatch.refresh()
    assert window.stopwatch.running is not None and not window.stopwatch.watching
    asked: list[bool] = []
    monkeypatch.setattr(window, "settle_running_timer", lambda **kw: asked.append(True) or True)
    # The doctor signs in; Grace's stopwatch waits for her.
    window._switch_to(services.staff.actor_for("dr-okafor"))
    assert window.actor().key == "dr-okafor"
    window.close()
    # Not paused at "now", which would have kept the half hour nobody watched, unasked.
    assert asked == []
    [left] = services.stopwatch.open_timers(nurse)
    assert (left.entry_id, left.state) == (timer.entry_id, "running")


def test_a_role_that_records_no_time_sees_the_month_but_no_stopwatch(
    qtbot, services: Services, biller: Actor
) -> None:
    main = MainWindow(services, biller, runner=InlineTaskRunner(), state=GuiState(None))
    qtbot.addWidget(main)
    main.show()
    panel = choose(main, "A100").panel
    assert panel is not None
    assert panel.stopwatch.state_label.text() == "Your role does not record care-management time."
    assert not panel.stopwatch.start_button.isVisible()
    assert not panel.stopwatch.elapsed.isVisible()
    assert not panel.add_button.isVisible()
    assert panel.month_label.text() == "March 2026 · CCM (99490, 99439)"
    main.toggle_timer()  # Ctrl+Space does nothing for this role
    assert services.time_log.patient_log(biller, "A100") == []


def test_own_entries_are_corrected_and_deleted_with_a_reason(
    qtbot, window: MainWindow, clock: FakeClock, services: Services, nurse: Actor, monkeypatch
) -> None:
    start = clock.now - dt.timedelta(hours=2)
    services.entries.add_manual(
        nurse, "A100", start, start + dt.timedelta(minutes=10), reason="r", activity="Education"
    )
    services.entries.add_manual(
        services.staff.actor_for("dr-okafor"),
        "A100",
        start + dt.timedelta(minutes=30),
        start + dt.timedelta(minutes=35),
        reason="r",
    )
    panel = choose(window, "A100").panel
    assert panel is not None and panel.log.rowCount() == 2
    panel.log.selectRow(0)  # newest first: the practitioner's entry is not mine
    assert not panel.edit_button.isEnabled() and not panel.delete_button.isEnabled()
    panel.log.selectRow(1)
    assert panel.edit_button.isEnabled()

    def correct(dialog: ManualEntryDialog) -> bool:
        assert dialog.activity.currentText() == "Education"  # the entry's values come in
        dialog.end.setTime(dialog.end.time().addSecs(5 * 60))
        dialog.reason.setText("Call ran on; stopped late")
        return True

    monkeypatch.setattr(panel, "exec_dialog", correct)
    assert panel.edit_time()
    mine = [r for r in services.time_log.patient_log(nurse, "A100") if r.staff_id == "rn-lee"]
    assert [r.seconds for r in mine] == [15 * 60]
    panel.log.selectRow(1)
    monkeypatch.setattr(panel, "ask_reason", lambda entry: None)  # cancelled
    assert not panel.delete_time()
    monkeypatch.setattr(panel, "ask_reason", lambda entry: "Entered on the wrong patient")
    assert panel.delete_time()
    assert [r.staff_id for r in services.time_log.patient_log(nurse, "A100")] == ["dr-okafor"]
    assert panel.log.rowCount() == 1


NEW_YORK = ZoneInfo("America/New_York")
# 2025-11-02: clocks in New York fall back from 02:00 EDT to 01:00 EST, so 01:xx happens twice.
SECOND_PASS = dt.datetime(2025, 11, 2, 6, 20, tzinfo=dt.UTC)  # 01:20 EST, the second 01:20


def fold_night_entry(**changes: object) -> EntryRow:
    row = EntryRow(
        entry_id=7, mrn="A100", patient_name="Zoë Schäfer", staff_id="rn-lee",
        staff_name="Grace Lee", started_at=SECOND_PASS,
        ended_at=SECOND_PASS + dt.timedelta(minutes=20), seconds=1200, service="ccm",
        face_to_face=False, activity="Education", note="", state="stopped", source="manual",
    )  # fmt: skip
    return dataclasses.replace(row, **changes)


def test_a_correction_that_leaves_the_times_alone_keeps_the_stored_instants(qtbot) -> None:
    now = dt.datetime(2026, 3, 16, 15, 0, tzinfo=dt.UTC)
    for entry in (
        fold_night_entry(),  # 01:20 shown, but which 01:20 only the stored instant says
        fold_night_entry(started_at=SECOND_PASS.replace(microsecond=250000)),  # a real clock
    ):
        dialog = ManualEntryDialog("Zoë Schäfer", ("Education",), NEW_YORK, now, entry=entry)
        qtbot.addWidget(dialog)
        dialog.note.setPlainText("Refills discussed")
        details = dialog.details()
        assert (details.start, details.end) == (entry.started_at, entry.ended_at)
        assert details.note == "Refills discussed"


def test_typing_over_a_selected_time_replaces_all_of_it(qtbot) -> None:
    field = TimeField(QTime(3, 3, 0))
    qtbot.addWidget(field)
    field.show()
    field.setFocus()
    field.selectAll()
    qtbot.keyClicks(field, "02:50:00")
    assert field.time() == QTime(2, 50, 0)  # QTimeEdit alone made this 03:50:00
    field.selectAll()
    qtbot.keyClicks(field, "1415")  # the separators and seconds may be left out
    assert field.time() == QTime(14, 15, 0)
    qtbot.keyClick(field, Qt.Key.Key_Backspace)
    assert field.time() == QTime(14, 10, 0)
    field.selectAll()
    qtbot.keyClicks(field, "25")  # no hour 25: the 5 is refused, the 2 reads 20
    assert field.time() == QTime(20, 0, 0)


def test_the_manual_entry_times_take_typing_over_them(qtbot) -> None:
    now = dt.datetime(2026, 3, 16, 15, 0, tzinfo=dt.UTC)
    dialog = ManualEntryDialog("Zoë Schäfer", ("Education",), NEW_YORK, now)
    qtbot.addWidget(dialog)
    dialog.show()
    for edit, typed, wanted in (
        (dialog.start, "09:05:30", QTime(9, 5, 30)),
        (dialog.end, "09:20:00", QTime(9, 20, 0)),
    ):
        edit.setFocus()
        edit.selectAll()
        qtbot.keyClicks(edit, typed)
        assert edit.time() == wanted
    assert dialog.details().end - dialog.details().start == dt.timedelta(minutes=14, seconds=30)


def test_an_end_typed_in_the_repeated_hour_is_the_one_after_the_start(qtbot) -> None:
    now = dt.datetime(2026, 3, 16, 15, 0, tzinfo=dt.UTC)
    dialog = ManualEntryDialog("Zoë Schäfer", ("Education",), NEW_YORK, now)
    qtbot.addWidget(dialog)
    dialog.day.setDate(QDate(2025, 11, 2))
    dialog.start.setTime(QTime(1, 50, 0))  # the first 01:50 (EDT)
    dialog.end.setTime(QTime(1, 10, 0))  # twenty minutes later: the second 01:10 (EST)
    details = dialog.details()
    assert details.end - details.start == dt.timedelta(minutes=20)
    # A time before the start with no second pass is still read as the next day.
    dialog.start.setTime(QTime(23, 50, 0))
    dialog.end.setTime(QTime(0, 20, 0))
    details = dialog.details()
    assert details.end - details.start == dt.timedelta(minutes=30)


def test_a_note_only_correction_on_the_fall_back_night_does_not_move_the_entry(
    qtbot, window: MainWindow, services: Services, nurse: Actor, clock: FakeClock, monkeypatch
) -> None:
    clock.now = SECOND_PASS + dt.timedelta(hours=3)  # the morning after
    services.entries.add_manual(
        nurse, "A100", SECOND_PASS, SECOND_PASS + dt.timedelta(minutes=20), reason="typed in"
    )
    panel = choose(window, "A100").panel
    assert panel is not None and panel.log.rowCount() == 1
    panel.log.selectRow(0)

    def correct(dialog: ManualEntryDialog) -> bool:
        dialog.note.setPlainText("Refills discussed")
        dialog.reason.setText("note added")
        return True

    monkeypatch.setattr(panel, "exec_dialog", correct)
    assert panel.edit_time()
    [row] = services.time_log.patient_log(nurse, "A100")
    assert (row.started_at, row.note) == (SECOND_PASS, "Refills discussed")


def test_a_refused_save_asks_again_keeping_what_was_typed(
    qtbot, services: Services, nurse: Actor, clock: FakeClock, monkeypatch
) -> None:
    controller = make_controller(qtbot, services, nurse, FakeIdle(), Mono())
    controller.refresh()
    controller.start("A100")
    clock.advance(minutes=10)
    # A note pasted from another program carried a control character the record refuses.
    pasted = StopDetails("Education", "ccm", False, "Reviewed\x07 glucose log")
    calls: list[tuple[StopDetails | None, str]] = []

    def answer(timer, seconds, end, typed=None, refusal=""):
        calls.append((typed, refusal))
        return pasted if len(calls) == 1 else None

    monkeypatch.setattr(controller, "ask_stop", answer)
    assert not controller.stop_and_save()
    # The refusal names the field by its label, in a sentence, not as "note: ...".
    assert calls[1][0] == pasted and calls[1][1] == "Note contains control characters."
    assert controller.running is not None  # nothing lost: still timing
    dialog = StopDialog(
        controller.running, 600, ("Call",), dt.UTC, typed=pasted, refusal=calls[1][1]
    )
    qtbot.addWidget(dialog)
    assert dialog.details() == pasted and "Note" in dialog.refusal.text()


def test_a_stopwatch_left_running_waits_for_the_recovery_answer(
    qtbot, services: Services, nurse: Actor, clock: FakeClock, monkeypatch
) -> None:
    services.stopwatch.start(nurse, "A100")
    clock.advance(minutes=30)  # ccmdesk was killed half an hour ago
    idle, mono = FakeIdle(), Mono()
    idle.seconds = 3600  # nobody has touched the keyboard since
    controller = make_controller(qtbot, services, nurse, idle, mono)
    controller.refresh()
    controller.tick()
    # Neither counting on nor an idle question before the person has said what happened.
    assert controller.idle_dialog is None
    monkeypatch.setattr(controller, "ask_recovery", lambda timer: "keep")
    controller.recover()
    assert controller.running is not None and controller.seconds(controller.running) == 1800
    idle.seconds = 0
    run(controller, clock, mono, 5)
    assert controller.seconds(controller.running) == 1805 and controller.idle_dialog is None


def test_a_heartbeat_behind_a_long_import_is_skipped_without_a_message(
    qtbot, services: Services, nurse: Actor, clock: FakeClock, monkeypatch
) -> None:
    from PySide6.QtWidgets import QMessageBox

    from ccmdesk.errors import BUSY_MESSAGE, DatabaseBusy

    idle, mono = FakeIdle(), Mono()
    controller = make_controller(qtbot, services, nurse, idle, mono)
    controller.refresh()
    controller.start("A100")
    beats: list[int] = []

    def busy(*_args: object) -> None:
        beats.append(1)
        raise DatabaseBusy(BUSY_MESSAGE)

    monkeypatch.setattr(services.stopwatch, "heartbeat", busy)
    run(controller, clock, mono, 31)
    assert len(beats) >= 1
    assert controller.running is not None  # still timing
    assert not [w for w in QApplication.topLevelWidgets() if isinstance(w, QMessageBox)]


def test_on_a_call_ends_with_its_stopwatch(
    qtbot, window: MainWindow, services: Services, nurse: Actor, clock: FakeClock, monkeypatch
) -> None:
    panel = choose(window, "A100").panel
    assert panel is not None
    controller = window.stopwatch
    monkeypatch.setattr(controller, "ask_stop", lambda *args: SAVE)
    controller.start("A100")
    panel.stopwatch.on_call.setChecked(True)  # the nurse picks up the phone
    assert controller.on_call and window.on_call_action.isChecked()
    controller.pause()
    controller.start("A100")
    assert controller.on_call  # the same stopwatch, the same call
    clock.advance(minutes=3)
    assert controller.stop_and_save()
    # The call ended with its stopwatch: the box and the menu say so, and the next stopwatch
    # asks about idle time again.
    assert not controller.on_call
    assert not panel.stopwatch.on_call.isChecked() and not window.on_call_action.isChecked()
    # Ticked for one stopwatch, it does not follow a switch to another patient's.
    controller.start("A100")
    window.on_call_action.setChecked(True)
    monkeypatch.setattr(controller, "ask_switch", lambda *args: SwitchDialog.PAUSE)
    controller.start("A101")
    assert controller.running is not None and controller.running.mrn != "A100"
    assert not controller.on_call and not window.on_call_action.isChecked()


def test_the_stop_dialog_shows_the_time_running_on_until_save(
    qtbot, services: Services, nurse: Actor, clock: FakeClock, monkeypatch
) -> None:
    controller = make_controller(qtbot, services, nurse, FakeIdle(), Mono())
    controller.refresh()
    controller.start("A100")
    clock.advance(minutes=10)
    shown: list[str] = []

    def read_then_save(dialog: StopDialog) -> QDialog.DialogCode:
        qtbot.addWidget(dialog)
        shown.append(dialog.summary.text())
        assert dialog.live_timer.isActive()  # each second, while the question is open
        clock.advance(seconds=45)  # the nurse types a note meanwhile
        dialog.show_time()  # what the dialog's timer does each second
        shown.append(dialog.summary.text())
        dialog.activity.setCurrentText("Education")
        dialog.done(QDialog.DialogCode.Accepted)
        assert not dialog.live_timer.isActive()  # answered: nothing ticks on unseen
        return QDialog.DialogCode.Accepted

    monkeypatch.setattr(StopDialog, "exec", read_then_save)
    assert controller.stop_and_save()
    assert [text.split("</b>")[0] for text in shown] == ["<b>10:00", "<b>10:45"]
    # What was saved is the time the dialog showed when Save was pressed.
    [entry] = services.time_log.patient_log(nurse, "A100")
    assert entry.seconds == 645


def test_the_manual_entry_default_does_not_overlap_the_entry_just_saved(
    qtbot, window: MainWindow, clock: FakeClock, services: Services, nurse: Actor, monkeypatch
) -> None:
    panel = choose(window, "A100").panel
    assert panel is not None
    monkeypatch.setattr(window.stopwatch, "ask_stop", lambda *args: SAVE)
    window.stopwatch.start("A100")
    clock.advance(minutes=8, seconds=20)
    window.stopwatch.stop_and_save()
    clock.advance(seconds=40)
    attempts: list[ManualEntryDialog] = []

    def take_the_default(dialog: ManualEntryDialog) -> bool:
        attempts.append(dialog)
        dialog.reason.setText("Call taken on the ward phone")
        return len(attempts) == 1

    monkeypatch.setattr(panel, "exec_dialog", take_the_default)
    assert panel.add_time()
    assert len(attempts) == 1  # saved as offered: no overlap to correct
    added, stopped = sorted(
        services.time_log.patient_log(nurse, "A100"), key=lambda row: row.source
    )
    assert added.source == "manual" and added.seconds == 600
    assert stopped.ended_at is not None and added.ended_at is not None
    assert added.ended_at <= stopped.started_at


def test_a_manual_overlap_reads_as_a_sentence_in_practice_time(
    qtbot, window: MainWindow, clock: FakeClock, services: Services, nurse: Actor, monkeypatch
) -> None:
    panel = choose(window, "A100").panel
    assert panel is not None
    # 14:31:20-14:41:20 UTC: 10:31:20-10:41:20 in New York.
    start = clock.now - dt.timedelta(minutes=28, seconds=40)
    services.entries.add_manual(
        nurse, "A100", start, start + dt.timedelta(minutes=10), reason="call from home"
    )
    attempts: list[ManualEntryDialog] = []

    def overlap_it(dialog: ManualEntryDialog) -> bool:
        attempts.append(dialog)
        dialog.start.setTime(QTime(10, 35, 0))
        dialog.end.setTime(QTime(10, 45, 0))
        dialog.reason.setText("Call taken on the ward phone")
        return len(attempts) == 1

    monkeypatch.setattr(panel, "exec_dialog", overlap_it)
    assert not panel.add_time()
    assert attempts[0].error.text() == (
        "This overlaps your 10:31:20–10:41:20 entry for MRN A100 on 16 Mar 2026; "
        "change the start or end."
    )


def test_the_patient_chooser_finds_a_name_typed_without_its_accents(qtbot) -> None:
    now = dt.datetime(2026, 3, 16, 15, 0, tzinfo=dt.UTC)
    choices = [
        PatientChoice("Núñez, Vernon · MRN A1 · born 1955-03-27", "A1"),
        PatientChoice("Nunn, Ada · MRN A2 · born 1950-01-01", "A2"),
    ]
    dialog = ManualEntryDialog("Add time", ("Education",), NEW_YORK, now, patients=choices)
    qtbot.addWidget(dialog)
    dialog.show()
    assert dialog.patient is not None
    completer = dialog.patient.completer()
    assert completer is not None
    completer.setCompletionPrefix("nunez")  # as a keyboard without accents types it
    found = [completer.completionModel().index(k, 0).data() for k in range(2)]
    assert found[0] == choices[0].text and completer.completionCount() == 1
    # Choosing it puts the patient's own text in the box, so the dialog knows whom.
    dialog.patient.setCurrentText(completer.pathFromIndex(completer.completionModel().index(0, 0)))
    assert dialog.chosen_mrn() == "A1"
