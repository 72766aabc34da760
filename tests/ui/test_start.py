"""Starting the GUI: first start both ways, choosing who you are, and run_gui itself."""

from __future__ import annotations

import gc
from collections.abc import Callable
from pathlib import Path

import pytest
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QDialog, QWidget

from ccmdesk.services import Actor, Services
from ccmdesk.ui.app import run_gui, sign_in, split_user_option
from ccmdesk.ui.background import InlineTaskRunner, ThreadTaskRunner
from ccmdesk.ui.first_start import BUSY, CREATE, FirstStartDialog
from ccmdesk.ui.identity import IdentityDialog
from ccmdesk.ui.main_window import LAST_USER, MainWindow
from ccmdesk.ui.state import GuiState


def drive_modal_dialogs(steps: dict[type[QWidget], Callable[[QWidget], None]]) -> QTimer:
    """Answer modal dialogs as they come up (exec() blocks the test otherwise)."""
    handled: set[int] = set()

    def poll() -> None:
        widget = QApplication.activeModalWidget()
        if widget is None or id(widget) in handled:
            return
        for kind, step in steps.items():
            if isinstance(widget, kind):
                handled.add(id(widget))
                step(widget)

    timer = QTimer()
    timer.setInterval(20)
    timer.timeout.connect(poll)
    timer.start()
    return timer


# --- first start: create my practice ---------------------------------------------------------


def test_first_start_creates_the_practice_and_its_administrator(
    qtbot, empty_services: Services
) -> None:
    dialog = FirstStartDialog(empty_services, InlineTaskRunner())
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.create_button.click()
    assert dialog.pages.currentIndex() == CREATE
    form = dialog.practice_form
    assert form.timezone.currentText()  # defaults to this computer's zone
    form.name.setText("Lakeside Clinic")
    form.group_npi.setText("1245319598")  # bad check digit
    form.timezone.setEditText("America/Chicago")
    dialog.admin_staff_id.setText("jane jones")  # a space is not allowed
    assert dialog.create_practice() is False
    assert form.errors.errors_shown() == {
        "group_npi": "'1245319598' is not a valid NPI: the check digit does not match."
    }
    assert dialog.admin_errors.errors_shown() == {
        "admin_staff_id": (
            "'jane jones' is not a staff id: letters, digits, '.', '_' or '-', at most 40."
        ),
        "admin_name": "Your name is required.",
    }
    assert dialog.focusWidget() is form.group_npi
    assert form.name.text() == "Lakeside Clinic"
    assert empty_services.practice.needs_setup()

    form.group_npi.setText("")
    dialog.admin_staff_id.setText("jane-jones")
    dialog.admin_name.setText("Jane Jones")
    dialog.admin_credentials.setCurrentText("RN")
    assert dialog.create_practice() is True
    assert dialog.result() == QDialog.DialogCode.Accepted
    assert dialog.actor == Actor(key="jane-jones", name="Jane Jones", role="admin")
    practice = empty_services.practice.get()
    assert practice is not None
    assert (practice.name, practice.timezone) == ("Lakeside Clinic", "America/Chicago")
    staff = empty_services.staff.list()
    assert [(m.staff_id, m.role, m.credentials) for m in staff] == [("jane-jones", "admin", "RN")]
    assert not empty_services.practice.needs_setup()


def test_sign_in_after_creating_the_practice_needs_no_identity_choice(
    qtbot, empty_services: Services
) -> None:
    def create(dialog: QWidget) -> None:
        assert isinstance(dialog, FirstStartDialog)
        dialog.create_button.click()
        dialog.practice_form.name.setText("Lakeside Clinic")
        dialog.admin_staff_id.setText("jane-jones")
        dialog.admin_name.setText("Jane Jones")
        dialog.confirm_button.click()

    def unexpected(dialog: QWidget) -> None:
        dialog.close()
        raise AssertionError("no identity dialog expected")

    driver = drive_modal_dialogs({FirstStartDialog: create, IdentityDialog: unexpected})
    actor = sign_in(empty_services, GuiState(None), InlineTaskRunner())
    driver.stop()
    assert actor == Actor(key="jane-jones", name="Jane Jones", role="admin")


# --- first start: the demo ------------------------------------------------------------------


@pytest.mark.slow
def test_first_start_demo_fills_the_database_then_offers_its_administrator(
    qtbot, empty_services: Services
) -> None:
    dialog = FirstStartDialog(empty_services, ThreadTaskRunner())
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.demo_button.click()
    assert dialog.is_busy() and dialog.pages.currentIndex() == BUSY
    assert dialog.busy_bar.maximum() == 0  # a moving, stepless bar
    dialog.reject()  # Esc while the demo is being written is ignored
    assert dialog.isVisible()
    qtbot.waitUntil(lambda: dialog.result() == QDialog.DialogCode.Accepted, timeout=60_000)
    assert dialog.demo_created and dialog.suggested_staff_id == "admin-patel"
    assert any(line.startswith("patients: ") for line in dialog.demo_summary)
    patel = empty_services.staff.actor_for("admin-patel")
    assert patel.role == "admin"
    assert len(empty_services.patients.list_rows(patel)) >= 100
    practice = empty_services.practice.get()
    assert practice is not None and practice.name == "Riverbend Family Medicine"


@pytest.mark.slow
def test_sign_in_through_the_demo_preselects_its_administrator(
    qtbot, empty_services: Services
) -> None:
    chosen: list[str | None] = []

    def demo(dialog: QWidget) -> None:
        assert isinstance(dialog, FirstStartDialog)
        dialog.demo_button.click()  # inline runner: done when click() returns

    def choose(identity: QWidget) -> None:
        assert isinstance(identity, IdentityDialog)
        chosen.append(identity.selected_staff_id())
        identity.accept()

    driver = drive_modal_dialogs({FirstStartDialog: demo, IdentityDialog: choose})
    actor = sign_in(empty_services, GuiState(None), InlineTaskRunner())
    driver.stop()
    assert chosen == ["admin-patel"]
    assert actor == Actor(key="admin-patel", name="Priya Patel", role="admin")


# --- identity ---------------------------------------------------------------------------------


def test_identity_dialog_lists_only_active_staff(qtbot, services: Services) -> None:
    dialog = IdentityDialog(services.staff.list(), "rn-lee", "Harbor Family Practice")
    qtbot.addWidget(dialog)
    assert dialog.staff_ids() == [
        "admin-ada",
        "dr-okafor",
        "rn-lee",
        "np-lind",
        "bill-chen",
    ]  # by name; Olive Retired is inactive
    assert dialog.selected_staff_id() == "rn-lee"
    first = dialog.list.topLevelItem(0)
    assert [first.text(c) for c in range(3)] == ["Ada Byron", "Administrator", ""]
    okafor = dialog.list.topLevelItem(1)
    assert [okafor.text(c) for c in range(3)] == ["Adaeze Okafor", "Practitioner", "MD"]


def test_identity_dialog_needs_a_choice(qtbot, services: Services) -> None:
    dialog = IdentityDialog(services.staff.list())
    qtbot.addWidget(dialog)
    assert dialog.selected_staff_id() is None
    assert not dialog.ok_button.isEnabled()
    dialog.accept()
    assert dialog.result() != QDialog.DialogCode.Accepted
    dialog.select("bill-chen")
    assert dialog.ok_button.isEnabled()


def test_sign_in_remembers_and_preselects_the_last_user(
    qtbot, services: Services, tmp_path
) -> None:
    state = GuiState(tmp_path / "gui-state.json")
    state.set(LAST_USER, "dr-okafor")
    seen: list[str | None] = []

    def choose(identity: QWidget) -> None:
        assert isinstance(identity, IdentityDialog)
        seen.append(identity.selected_staff_id())
        identity.select("rn-lee")
        identity.accept()

    driver = drive_modal_dialogs({IdentityDialog: choose})
    actor = sign_in(services, GuiState(tmp_path / "gui-state.json"), InlineTaskRunner())
    driver.stop()
    assert seen == ["dr-okafor"]
    assert actor == Actor(key="rn-lee", name="Grace Lee", role="clinical")


def test_the_user_option_is_taken_out_of_qt_arguments() -> None:
    assert split_user_option(["ccmdesk", "--user", "rn-lee", "-style", "fusion"]) == (
        ["ccmdesk", "-style", "fusion"],
        "rn-lee",
    )
    assert split_user_option(["ccmdesk", "--user=dr-okafor"]) == (["ccmdesk"], "dr-okafor")
    assert split_user_option(["ccmdesk"]) == (["ccmdesk"], None)


# --- run_gui ----------------------------------------------------------------------------------


def test_run_gui_shows_the_main_window_for_the_chosen_user(
    qapp, services: Services, data_dir: Path
) -> None:
    seen: dict[str, object] = {}

    def close_when_shown() -> None:
        for widget in QApplication.topLevelWidgets():
            if isinstance(widget, MainWindow) and widget.isVisible():
                seen["title"] = widget.windowTitle()
                seen["user"] = widget.user_label.text()
                seen["rows"] = widget.pages["patients"].model.rowCount()
                seen["style"] = bool(qapp.styleSheet())
                seen["icon"] = not qapp.windowIcon().isNull()
                seen["gc"] = gc.isenabled()
                widget.close()

    timer = QTimer()
    timer.setInterval(20)
    timer.timeout.connect(close_when_shown)
    timer.start()
    gc.disable()  # as the command line leaves it for start-up
    try:
        status = run_gui(services, data_dir, ["ccmdesk", "--user", "rn-lee"])
    finally:
        gc.enable()
        timer.stop()
        qapp.setStyleSheet("")
        qapp.setQuitOnLastWindowClosed(True)
    assert status == 0
    assert seen == {
        "title": "Harbor Family Practice — ccmdesk",
        "user": "Grace Lee · Clinical staff",
        "rows": 4,
        "style": True,
        "icon": True,
        "gc": True,  # collection resumes once the window is shown
    }
    assert GuiState.in_folder(data_dir).get(LAST_USER) == "rn-lee"


def test_a_startup_error_is_shown_in_a_critical_message_box(
    qapp: QApplication, monkeypatch: pytest.MonkeyPatch
) -> None:
    from PySide6.QtWidgets import QMessageBox

    import ccmdesk.ui.app

    shown: list[tuple[object, str, str]] = []
    monkeypatch.setattr(
        QMessageBox, "critical", lambda parent, title, text: shown.append((parent, title, text))
    )
    ccmdesk.ui.app.show_startup_error("This database was written by a newer version of ccmdesk.")
    assert shown == [
        (None, "ccmdesk cannot start", "This database was written by a newer version of ccmdesk.")
    ]
