"""Stopwatch ▸ Global shortcut…: choosing, turning off, a taken combination, where it cannot."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtGui import QKeySequence

from ccmdesk.config import ConfigError, global_shortcut
from ccmdesk.services import Actor, Services
from ccmdesk.ui.background import InlineTaskRunner
from ccmdesk.ui.global_shortcut import GlobalShortcut
from ccmdesk.ui.main_window import MainWindow
from ccmdesk.ui.shortcut_dialog import WHAT_IT_DOES, GlobalShortcutDialog
from ccmdesk.ui.state import GuiState
from tests.helpers.ui import FakeShortcutBackend


def dialog_on(backend: FakeShortcutBackend, current: str = "Ctrl+Alt+Shift+S"):
    shortcut = GlobalShortcut(backend)
    shortcut.set_shortcut(current)
    saved: list[str] = []
    return shortcut, saved, GlobalShortcutDialog(shortcut, current, saved.append)


def test_a_new_combination_is_listened_for_and_kept(qtbot) -> None:
    backend = FakeShortcutBackend()
    _, saved, dialog = dialog_on(backend)
    qtbot.addWidget(dialog)
    assert dialog.keys.keySequence().toString() == "Ctrl+Alt+Shift+S"
    assert dialog.where.text() == WHAT_IT_DOES
    dialog.keys.setKeySequence(QKeySequence("Ctrl+Alt+Shift+D"))
    dialog.save_button.click()
    assert backend.grabbed == "Ctrl+Alt+Shift+D" and saved == ["Ctrl+Alt+Shift+D"]
    assert dialog.result() == GlobalShortcutDialog.DialogCode.Accepted


def test_a_combination_another_program_holds_is_refused_and_the_old_one_stays(qtbot) -> None:
    backend = FakeShortcutBackend(taken=("Ctrl+Alt+Shift+K",))
    _, saved, dialog = dialog_on(backend)
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.keys.setKeySequence(QKeySequence("Ctrl+Alt+Shift+K"))
    dialog.save_button.click()
    assert dialog.problem.text() == "Ctrl+Alt+Shift+K is used by another program; choose another."
    assert dialog.isVisible() and saved == []
    assert backend.grabbed == "Ctrl+Alt+Shift+S"  # the old one still works
    dialog.keys.setKeySequence(QKeySequence("Shift+K"))
    dialog.save_button.click()
    assert "add Ctrl, Alt or Meta" in dialog.problem.text()


def test_off_gives_the_combination_back(qtbot) -> None:
    backend = FakeShortcutBackend()
    shortcut, saved, dialog = dialog_on(backend)
    qtbot.addWidget(dialog)
    dialog.off.setChecked(True)
    assert not dialog.keys.isEnabled()
    dialog.save_button.click()
    assert backend.grabbed is None and saved == [""]
    assert shortcut.combination is None


def test_a_settings_file_that_cannot_be_written_is_said(qtbot) -> None:
    backend = FakeShortcutBackend()
    shortcut = GlobalShortcut(backend)

    def refuse(_text: str) -> None:
        raise ConfigError("settings.json: cannot save settings: Permission denied")

    dialog = GlobalShortcutDialog(shortcut, "", refuse)
    qtbot.addWidget(dialog)
    dialog.off.setChecked(False)
    dialog.save_button.click()
    assert dialog.problem.text() == "Press a key combination, or tick Off."
    dialog.keys.setKeySequence(QKeySequence("Ctrl+Alt+Shift+S"))
    dialog.save_button.click()
    assert dialog.problem.text() == (
        "settings.json: cannot save settings: Permission denied The shortcut works until "
        "ccmdesk closes."
    )
    assert backend.grabbed == "Ctrl+Alt+Shift+S"


def test_where_the_desktop_does_not_allow_it_the_dialog_says_why(qtbot) -> None:
    reason = "Wayland does not let programs grab keys for the whole desktop; use Ctrl+Space."
    _, _, dialog = dialog_on(FakeShortcutBackend(reason=reason))
    qtbot.addWidget(dialog)
    assert dialog.where.text() == reason
    assert not dialog.keys.isEnabled() and not dialog.save_button.isEnabled()
    assert not dialog.off.isEnabled()


def test_the_stopwatch_menu_saves_the_choice_for_this_workstation(
    qtbot, services: Services, nurse: Actor, tmp_path: Path
) -> None:
    backend = FakeShortcutBackend()
    shortcut = GlobalShortcut(backend)
    shortcut.set_shortcut(global_shortcut(tmp_path))
    window = MainWindow(
        services,
        nurse,
        runner=InlineTaskRunner(),
        state=GuiState(None),
        global_shortcut=shortcut,
        data_dir=tmp_path,
    )
    qtbot.addWidget(window)
    assert window.global_shortcut_action in window.timer_menu.actions()
    dialog = window.choose_global_shortcut()
    assert dialog.keys.keySequence().toString() == "Ctrl+Alt+Shift+S"  # the default
    dialog.keys.setKeySequence(QKeySequence("Meta+Ctrl+F9"))
    dialog.save_button.click()
    assert global_shortcut(tmp_path) == "Meta+Ctrl+F9"
    assert backend.grabbed == "Meta+Ctrl+F9"
