"""The global shortcut in the window: start or stop-and-save the last patient's stopwatch."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from PySide6.QtWidgets import QApplication, QMessageBox

from ccmdesk.services import Actor, Services
from ccmdesk.ui.background import InlineTaskRunner
from ccmdesk.ui.global_shortcut import GlobalShortcut
from ccmdesk.ui.main_window import NO_LAST_PATIENT, MainWindow
from ccmdesk.ui.state import GuiState
from ccmdesk.ui.stopwatch_dialogs import StopDetails
from tests.helpers.common import FakeClock
from tests.helpers.ui import PASSWORD, FakeShortcutBackend

SAVE = StopDetails("Education", "ccm", False, "Reviewed glucose log")


@pytest.fixture
def backend() -> FakeShortcutBackend:
    return FakeShortcutBackend()


def window_for(
    services: Services, actor: Actor, clock: FakeClock, backend: FakeShortcutBackend
) -> MainWindow:
    shortcut = GlobalShortcut(backend)
    assert shortcut.set_shortcut("Ctrl+Alt+Shift+S") == ""
    main = MainWindow(
        services,
        actor,
        runner=InlineTaskRunner(),
        state=GuiState(None),
        monotonic=lambda: clock().timestamp(),
        global_shortcut=shortcut,
    )
    main.show()
    return main


@pytest.fixture
def window(
    qtbot, services: Services, nurse: Actor, clock: FakeClock, backend: FakeShortcutBackend
) -> Iterator[MainWindow]:
    main = window_for(services, nurse, clock, backend)
    yield main
    main.stopwatch.pause()
    main.settle_running_timer = lambda **_: True  # type: ignore[method-assign]
    main.close()
    main.deleteLater()


def press(qtbot, window: MainWindow, backend: FakeShortcutBackend) -> None:
    """The combination pressed in another program: the signal arrives queued, as from the
    listener's thread."""
    with qtbot.waitSignal(window.global_shortcut.activated, timeout=2000):
        backend.press()


def info_shown(window: MainWindow) -> list[str]:
    return [b.text() for b in window.findChildren(QMessageBox, "infoMessage") if b.isVisible()]


def test_it_starts_and_stops_the_last_patients_stopwatch_from_any_program(
    qtbot, window: MainWindow, backend: FakeShortcutBackend, clock: FakeClock, monkeypatch
) -> None:
    asked: list[str] = []
    monkeypatch.setattr(
        window.stopwatch, "ask_stop", lambda timer, *_: asked.append(timer.mrn) or SAVE
    )
    assert window.stopwatch.start("B200")
    clock.advance(minutes=4)
    press(qtbot, window, backend)  # running: stop and save, the Stop dialog asked
    assert asked == ["B200"] and window.stopwatch.timers == []
    clock.advance(minutes=30)
    press(qtbot, window, backend)  # nothing runs: the last patient's starts again
    [again] = window.stopwatch.timers
    assert (again.mrn, again.state) == ("B200", "running")
    assert window.statusBar().currentMessage() == "Stopwatch started for Mary Smith."
    clock.advance(minutes=6)
    press(qtbot, window, backend)
    assert asked == ["B200", "B200"] and window.stopwatch.timers == []
    assert window.isVisible()  # Quit remains the only way out


def test_a_paused_stopwatch_resumes_the_one_paused_last(
    qtbot, window: MainWindow, backend: FakeShortcutBackend, clock: FakeClock
) -> None:
    window.stopwatch.start("A100")
    clock.advance(minutes=2)
    window.stopwatch.pause()
    window.stopwatch.start("B200")
    clock.advance(minutes=3)
    window.stopwatch.pause()
    clock.advance(minutes=1)
    press(qtbot, window, backend)
    assert window.stopwatch.running is not None and window.stopwatch.running.mrn == "B200"


def test_with_no_patient_yet_the_window_says_what_to_do(
    qtbot, window: MainWindow, backend: FakeShortcutBackend
) -> None:
    press(qtbot, window, backend)
    assert info_shown(window) == [NO_LAST_PATIENT]
    assert window.stopwatch.timers == []


def test_while_locked_it_starts_nothing(
    qtbot, window: MainWindow, backend: FakeShortcutBackend, clock: FakeClock
) -> None:
    window.stopwatch.start("A100")
    clock.advance(minutes=1)
    window.stopwatch.pause()
    screen = window.lock()
    press(qtbot, window, backend)  # whoever is at the keyboard has not unlocked
    assert [t.state for t in window.stopwatch.timers] == ["paused"]
    screen.secret.setText(PASSWORD)
    screen.unlock_button.click()
    assert not window.locked
    press(qtbot, window, backend)
    assert [t.state for t in window.stopwatch.timers] == ["running"]


def test_an_open_question_is_brought_forward_instead(
    qtbot, window: MainWindow, backend: FakeShortcutBackend, clock: FakeClock
) -> None:
    window.stopwatch.start("A100")
    clock.advance(minutes=1)
    window.stopwatch.pause()
    box = QMessageBox(QMessageBox.Icon.Question, "Question", "Answer me first", parent=window)
    box.setWindowModality(box.windowModality().ApplicationModal)
    box.open()
    qtbot.waitUntil(lambda: QApplication.activeModalWidget() is box)
    press(qtbot, window, backend)
    assert [t.state for t in window.stopwatch.timers] == ["paused"]
    box.close()


def test_a_role_that_records_no_time_is_told_so(
    qtbot, services: Services, biller: Actor, clock: FakeClock, backend: FakeShortcutBackend
) -> None:
    main = window_for(services, biller, clock, backend)
    press(qtbot, main, backend)
    assert info_shown(main) == ["Your role records no time, so the global shortcut does nothing."]
    main.close()


def test_quitting_gives_the_combination_back(
    services: Services, nurse: Actor, clock: FakeClock, backend: FakeShortcutBackend
) -> None:
    main = window_for(services, nurse, clock, backend)
    assert backend.grabbed == "Ctrl+Alt+Shift+S"
    main.close()
    assert backend.grabbed is None
