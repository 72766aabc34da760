"""At start: a damaged database is said plainly, and an administrator may restore a backup."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtWidgets import QMessageBox

from ccmdesk.services import Actor, Services
from ccmdesk.services.backup import StartCheck
from ccmdesk.services.staging import Finished
from ccmdesk.ui.app import exports_finished, startup_checked
from ccmdesk.ui.background import InlineTaskRunner
from ccmdesk.ui.main_window import MainWindow
from ccmdesk.ui.state import GuiState

DAMAGED = StartCheck("the database is damaged: page 7 is never used", None, [])


@pytest.fixture
def said(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str]]:
    """What the message boxes said (kind, text), answering Yes to any question."""
    shown: list[tuple[str, str]] = []

    def box(kind: str, answer: QMessageBox.StandardButton = QMessageBox.StandardButton.Ok):
        def show(_parent: object, _title: str, text: str, *_: object) -> object:
            shown.append((kind, text))
            return answer

        return show

    monkeypatch.setattr(QMessageBox, "critical", box("critical"))
    monkeypatch.setattr(QMessageBox, "warning", box("warning"))
    monkeypatch.setattr(QMessageBox, "information", box("information"))
    monkeypatch.setattr(QMessageBox, "question", box("question", QMessageBox.StandardButton.Yes))
    return shown


def window_for(qtbot, services: Services, actor: Actor) -> MainWindow:
    window = MainWindow(services, actor, runner=InlineTaskRunner(), state=GuiState(None))
    qtbot.addWidget(window)
    window.show()
    return window


def test_a_sound_database_says_nothing(qtbot, services: Services, admin: Actor, said) -> None:
    startup_checked(window_for(qtbot, services, admin), services, StartCheck(None, None, []))
    assert said == []


def test_a_failed_backup_is_said(qtbot, services: Services, admin: Actor, said) -> None:
    check = StartCheck(None, "The backup to /x failed: disk full.", [])
    startup_checked(window_for(qtbot, services, admin), services, check)
    assert said == [("warning", "The backup to /x failed: disk full.")]


def test_without_a_good_backup_everyone_is_told_to_stop_and_call_it(
    qtbot, services: Services, nurse: Actor, said
) -> None:
    startup_checked(window_for(qtbot, services, nurse), services, DAMAGED)
    [(kind, text)] = said
    assert kind == "critical" and "There is no good backup to restore" in text


def test_a_nurse_is_told_who_restores_the_latest_good_backup(
    qtbot, services: Services, nurse: Actor, admin: Actor, said
) -> None:
    services.backups.daily()
    startup_checked(window_for(qtbot, services, nurse), services, DAMAGED)
    [(kind, text)] = said
    assert kind == "critical" and "ask an administrator to restore it" in text
    assert "ccmdesk restore" in text and "/backups/" in text


def test_an_administrator_restores_the_latest_good_backup_and_ccmdesk_closes(
    qtbot, services: Services, admin: Actor, said, monkeypatch: pytest.MonkeyPatch
) -> None:
    services.backups.daily()
    restored: list[Path] = []
    monkeypatch.setattr(
        services.backups, "restore_now", lambda actor, path: restored.append(path) or Path("kept")
    )
    window = window_for(qtbot, services, admin)
    startup_checked(window, services, DAMAGED)
    assert [kind for kind, _ in said] == ["question", "information"]
    assert "page 7 is never used" in said[0][1]
    assert restored and restored[0].name.startswith(("daily-", "monthly-"))
    assert not window.isVisible()


def test_an_export_finished_at_start_is_said(qtbot, services: Services, admin: Actor, said) -> None:
    window = window_for(qtbot, services, admin)
    exports_finished(window, [])
    assert said == []
    cut = Finished(Path("/x"), "export of March 2026", [Path("/x/a.csv"), Path("/x/h.pdf")], 1)
    exports_finished(window, [cut])
    assert said == [("information", cut.sentence())]
    assert "so all 2 of its files there are new (a.csv, h.pdf)" in said[0][1]
