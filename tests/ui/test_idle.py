"""Where idle time comes from: the system where it can say, else ccmdesk's own windows."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QLineEdit

from ccmdesk.ui.idle import AppIdle, SystemIdle


def test_input_to_ccmdesk_resets_the_fallback_idle_time(qtbot) -> None:
    now = [100.0]
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    idle = AppIdle(app, monotonic=lambda: now[0])
    field = QLineEdit()
    qtbot.addWidget(field)
    field.show()
    now[0] = 400.0
    assert idle.idle_seconds() == 300.0
    qtbot.keyClick(field, Qt.Key.Key_A)
    assert idle.idle_seconds() == 0.0
    now[0] = 430.0
    assert idle.idle_seconds() == 30.0 and not idle.locked()
    app.removeEventFilter(idle)


def test_without_a_system_source_the_fallback_answers(qtbot) -> None:
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    source = SystemIdle(app)  # the offscreen platform has no X server to ask
    assert source.source == "AppIdle"
    assert source.idle_seconds() >= 0.0 and source.locked() is False


class _FailingSystem:
    """A system source whose calls fail, as an X server gone away does."""

    def __init__(self) -> None:
        self.asked = 0

    def idle_seconds(self) -> float:
        self.asked += 1
        raise OSError("the X server went away")

    def locked(self) -> bool:
        self.asked += 1
        raise OSError("the X server went away")


def test_a_system_source_that_fails_gives_way_to_the_fallback_for_good(qtbot) -> None:
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    source = SystemIdle(app)
    failing = _FailingSystem()
    source._system = failing  # type: ignore[assignment]  # stands in for the platform's own
    assert source.locked() is False
    assert source.source == "AppIdle"
    assert source.idle_seconds() >= 0.0 and source.locked() is False
    assert failing.asked == 1
    app.removeEventFilter(source._fallback)
