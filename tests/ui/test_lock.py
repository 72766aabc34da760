"""The lock screen: no patient data while away, the stopwatch runs on, unlock or switch user."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QDialog, QLabel
from sqlalchemy import select

from ccmdesk.models import AuditEvent
from ccmdesk.services import Actor, Services
from ccmdesk.ui.background import InlineTaskRunner
from ccmdesk.ui.lock import Cover, LockScreen
from ccmdesk.ui.main_window import MainWindow
from ccmdesk.ui.state import GuiState
from tests.helpers.common import FakeClock
from tests.helpers.ui import PASSWORD, FakeIdle

PATIENT = "Nguyen"  # A100 is Nguyen, Ann in the seeded practice


@pytest.fixture
def idle() -> FakeIdle:
    return FakeIdle()


@pytest.fixture
def window(
    qtbot, services: Services, nurse: Actor, clock: FakeClock, idle: FakeIdle
) -> Iterator[MainWindow]:
    main = MainWindow(
        services,
        nurse,
        runner=InlineTaskRunner(),
        state=GuiState(None),
        idle_source=idle,
        monotonic=lambda: clock().timestamp(),
    )
    main.show()
    yield main
    if main.lock_screen is not None:
        main.locking.unlocked()
    main.settle_running_timer = lambda **_: True  # type: ignore[method-assign]
    main.close()
    main.deleteLater()


def doctor_signs_in(screen: LockScreen, password: str = PASSWORD) -> None:
    """Someone else (Dr. Okafor) signs in at the lock screen."""
    screen.other_button.click()
    screen.other_id.setText("dr-okafor")
    screen.other_password.setText(password)
    screen.other_sign_in.click()


def texts(widget: QDialog) -> str:
    return " ".join(label.text() for label in widget.findChildren(QLabel))


def actions(services: Services, action: str) -> list[AuditEvent]:
    with services.audit._db.session() as session:  # type: ignore[attr-defined]
        return list(session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


@pytest.fixture
def styled(qapp: QApplication) -> Iterator[None]:
    """The application's own style sheet, as run_gui sets it (the cover's colour is in it)."""
    from ccmdesk.ui.theme import stylesheet

    qapp.setStyleSheet(stylesheet())
    yield
    qapp.setStyleSheet("")


def test_locking_hides_every_patient_detail_while_the_stopwatch_runs_on(
    qtbot, styled: None, window: MainWindow, services: Services, nurse: Actor, clock: FakeClock
) -> None:
    window.start_timer("A100")
    window.show_mini_timer(True)
    clock.advance(minutes=3)
    screen = window.lock()
    assert isinstance(screen, LockScreen) and screen.isVisible()
    assert screen.windowModality() == Qt.WindowModality.ApplicationModal
    shown = texts(screen)
    assert "Grace Lee is signed in." in shown and "Stopwatch running · 3:00" in shown
    assert PATIENT not in shown and "A100" not in shown
    # Every other window is covered and retitled; the mini timer and the tray say no names.
    assert window.windowTitle() == "ccmdesk — locked"
    covers = window.findChildren(Cover)
    assert len(covers) == 1 and covers[0].geometry() == window.rect() and covers[0].isVisible()
    assert window.mini_timer is not None and not window.mini_timer.isVisible()
    # Nothing of the window shows through: its picture is the cover's colour all over, but for
    # the cover's own words in the middle.
    image = window.grab().toImage()
    width, height = image.width(), image.height()
    corners = {image.pixelColor(x, y).name() for x in (5, width // 4, width - 5)
               for y in (5, height // 4, height - 5)}  # fmt: skip
    assert corners == {"#1f4e5f"}
    assert PATIENT not in window.tray.toolTip() and "locked" in window.tray.toolTip()
    assert not window.tray.open_action.isEnabled()
    [timer] = services.stopwatch.open_timers(nurse)
    assert timer.state == "running"
    clock.advance(minutes=2)
    screen._show_time()
    assert screen.timer_label.text() == "Stopwatch running · 5:00"
    assert [e.reason for e in actions(services, "auth.screen_lock")] == [""]


def test_only_the_right_password_or_pin_unlocks_and_everything_comes_back(
    qtbot, window: MainWindow, services: Services, nurse: Actor
) -> None:
    title = window.windowTitle()
    services.auth.set_pin(nurse, "4826", PASSWORD)
    screen = window.lock()
    screen.reject()  # Esc
    screen.close()  # the window's close button
    assert screen.isVisible() and window.locked
    window.close()  # nor does closing ccmdesk get past it
    assert window.isVisible()
    screen.secret.setText("wrong")
    screen.unlock_button.click()
    assert window.locked and screen.error.text().startswith("That password or PIN is not right.")
    assert screen.secret.text() == ""
    screen.secret.setText("4826")
    screen.unlock_button.click()
    assert not window.locked and window.windowTitle() == title
    assert window.findChildren(Cover) == [] or not any(
        c.isVisible() for c in window.findChildren(Cover)
    )
    assert len(actions(services, "auth.screen_unlock")) == 1
    assert len(actions(services, "auth.failure")) == 1


def test_inactivity_locks_after_the_practice_setting_and_a_locked_system_at_once(
    qtbot, window: MainWindow, services: Services, idle: FakeIdle
) -> None:
    assert window.auto_lock.active and window.auto_lock.minutes == 10
    idle.seconds = 9 * 60 + 59
    window.auto_lock.check()
    assert not window.locked
    idle.seconds = 10 * 60
    window.auto_lock.check()
    assert window.locked and not window.auto_lock.active
    assert [e.reason for e in actions(services, "auth.screen_lock")] == ["inactivity"]
    window.lock_screen.secret.setText(PASSWORD)  # type: ignore[union-attr]
    window.lock_screen.unlock()  # type: ignore[union-attr]
    assert window.auto_lock.active
    idle.seconds = 0
    idle.is_locked = True  # the system locked its screen
    window.auto_lock.check()
    assert window.locked


def test_the_auto_lock_minutes_come_from_the_practice_settings(
    qtbot, services: Services, admin: Actor, nurse: Actor, idle: FakeIdle
) -> None:
    from ccmdesk.services import ValidationFailed

    services.practice.save_auto_lock_minutes(admin, 3)
    with pytest.raises(ValidationFailed, match="1 to 120 minutes"):
        services.practice.save_auto_lock_minutes(admin, 0)
    main = MainWindow(services, nurse, runner=InlineTaskRunner(), state=GuiState(None),
                      idle_source=idle)  # fmt: skip
    qtbot.addWidget(main)
    assert main.auto_lock.minutes == 3
    idle.seconds = 3 * 60
    main.auto_lock.check()
    assert main.locked
    main.locking.unlocked()


def test_someone_else_signs_in_at_the_lock_screen_and_the_first_stopwatch_stays_theirs(
    qtbot, window: MainWindow, services: Services, nurse: Actor, clock: FakeClock
) -> None:
    window.start_timer("A100")
    left_open = QDialog(window)
    left_open.setWindowTitle("Something of Grace's")
    left_open.open()
    screen = window.lock()
    doctor_signs_in(screen, "not his")
    assert window.locked and "not right" in screen.other_error.text()
    screen.other_password.setText(PASSWORD)
    screen.other_sign_in.click()
    assert not window.locked
    assert window.actor().key == "dr-okafor"
    assert left_open.result() == QDialog.DialogCode.Rejected and not left_open.isVisible()
    [timer] = services.stopwatch.open_timers(nurse)
    assert timer.state == "running"  # Grace's, untouched; she is asked about it on return
    assert window.stopwatch.running is None  # the doctor's window does not tick it
    assert [e.actor for e in actions(services, "auth.sign_in")] == ["dr-okafor"]
    assert QApplication.activeModalWidget() is None


def test_the_idle_question_waits_while_locked_and_comes_after_the_unlock(
    qtbot, window: MainWindow, services: Services, nurse: Actor, clock: FakeClock
) -> None:
    from ccmdesk.services.activity import IdleBegan
    from ccmdesk.ui.stopwatch_dialogs import IdleDialog

    window.start_timer("A100")
    running = window.stopwatch.running
    assert running is not None
    screen = window.lock()
    clock.advance(minutes=6)
    window.stopwatch.ask_idle(running, IdleBegan(clock.now, "inactive"))
    # Nothing naming the patient comes up over the lock screen (other tests' windows aside).
    assert window.stopwatch.idle_dialog is None
    assert not any(isinstance(w, IdleDialog) and w.isVisible() and w.parent() is window
                   for w in QApplication.topLevelWidgets())  # fmt: skip
    screen.secret.setText(PASSWORD)
    screen.unlock()
    assert isinstance(window.stopwatch.idle_dialog, IdleDialog)
    assert window.stopwatch.idle_dialog.isVisible()


def test_a_held_question_is_dropped_when_someone_else_signs_in(
    qtbot, window: MainWindow, services: Services, nurse: Actor, clock: FakeClock
) -> None:
    from ccmdesk.services.activity import IdleBegan

    window.start_timer("A100")
    running = window.stopwatch.running
    assert running is not None
    screen = window.lock()
    window.stopwatch.ask_idle(running, IdleBegan(clock.now, "inactive"))
    doctor_signs_in(screen)
    assert window.actor().key == "dr-okafor" and window.stopwatch.idle_dialog is None


def test_an_idle_question_open_when_someone_else_signs_in_is_left_unanswered(
    qtbot, window: MainWindow, services: Services, nurse: Actor, clock: FakeClock
) -> None:
    from ccmdesk.services.activity import IdleBegan

    window.start_timer("A100")
    running = window.stopwatch.running
    assert running is not None
    clock.advance(minutes=6)
    window.stopwatch.ask_idle(running, IdleBegan(clock.now - dt.timedelta(minutes=5), "inactive"))
    assert window.stopwatch.idle_dialog is not None  # asked before the lock came down
    screen = window.lock()
    doctor_signs_in(screen)
    assert window.actor().key == "dr-okafor"
    answered = [e.action for e in actions(services, "time.idle_discard")] + [
        e.action for e in actions(services, "time.idle_keep")
    ]
    assert answered == []  # not discarded or kept in Grace's name by someone else
    [timer] = services.stopwatch.open_timers(nurse)
    assert timer.state == "running"
    assert [e.actor for e in actions(services, "auth.sign_out")] == ["rn-lee"]


def test_messages_wait_while_locked_and_show_after_the_unlock(
    qtbot, window: MainWindow, services: Services
) -> None:
    from ccmdesk.ui.forms import show_error

    screen = window.lock()
    box = show_error(window, "Nothing was saved for Schäfer, Zoë.")  # background work failing
    assert not box.isVisible()
    screen.secret.setText(PASSWORD)
    screen.unlock()
    assert box.isVisible()
    box.close()


def test_after_a_lock_out_the_lock_screen_offers_only_the_password_and_says_why(
    qtbot, window: MainWindow, services: Services, nurse: Actor, clock: FakeClock
) -> None:
    services.auth.set_pin(nurse, "4826", PASSWORD)
    screen = window.lock()
    assert screen.secret.placeholderText() == "Your password or PIN"
    assert not screen.pin_notice.isVisible()
    for guess in ("1357", "2468", "3579", "8642", "9753"):
        screen.secret.setText(guess)
        screen.unlock_button.click()
    assert "only your password unlocks: your PIN is off" in screen.error.text()
    assert screen.pin_notice.isVisible() and "Your PIN is off" in screen.pin_notice.text()
    assert screen.secret.placeholderText() == "Your password"
    clock.advance(minutes=5)
    screen.secret.setText("4826")  # the right PIN, once the lock-out is over
    screen.unlock_button.click()
    assert window.locked and "Your PIN is off" in screen.error.text()
    screen.secret.setText(PASSWORD)
    screen.unlock_button.click()
    assert not window.locked
    screen = window.lock()  # the password was used: the PIN works again
    assert not screen.pin_notice.isVisible()
    assert screen.secret.placeholderText() == "Your password or PIN"
    screen.secret.setText("4826")
    screen.unlock_button.click()
    assert not window.locked
