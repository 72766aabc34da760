"""Starting the GUI: first start both ways, signing in with a password, and run_gui itself."""

from __future__ import annotations

import gc
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QDialog, QLabel, QWidget

from ccmdesk.services import Actor, Services
from ccmdesk.ui.app import run_gui, sign_in, split_user_option
from ccmdesk.ui.background import InlineTaskRunner, ThreadTaskRunner
from ccmdesk.ui.first_start import BUSY, CREATE, FirstStartDialog
from ccmdesk.ui.main_window import LAST_USER, MainWindow
from ccmdesk.ui.sign_in import SignInDialog
from ccmdesk.ui.state import GuiState
from ccmdesk.ui.stopwatch_dialogs import RecoveryDialog
from tests.helpers.ui import PASSWORD, FakeShortcutBackend


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
        "admin_password": "A password has at least 8 characters.",
    }
    assert dialog.focusWidget() is form.group_npi
    assert form.name.text() == "Lakeside Clinic"
    assert empty_services.practice.needs_setup()

    form.group_npi.setText("")
    dialog.admin_staff_id.setText("jane-jones")
    dialog.admin_name.setText("Jane Jones")
    dialog.admin_credentials.setCurrentText("RN")
    dialog.admin_password.setText("lakeside harbour")
    dialog.admin_confirm.setText("lakeside harbor")
    assert dialog.create_practice() is False
    assert dialog.admin_errors.errors_shown() == {"admin_confirm": "The two passwords differ."}
    dialog.admin_confirm.setText("lakeside harbour")
    assert dialog.create_practice() is True
    assert dialog.result() == QDialog.DialogCode.Accepted
    assert dialog.actor == Actor(key="jane-jones", name="Jane Jones", role="admin")
    practice = empty_services.practice.get()
    assert practice is not None
    assert (practice.name, practice.timezone) == ("Lakeside Clinic", "America/Chicago")
    staff = empty_services.staff.list()
    assert [(m.staff_id, m.role, m.credentials) for m in staff] == [("jane-jones", "admin", "RN")]
    assert not empty_services.practice.needs_setup()
    assert empty_services.auth.sign_in("jane-jones", "lakeside harbour") == dialog.actor


def test_creating_the_practice_signs_its_administrator_in(qtbot, empty_services: Services) -> None:
    def create(dialog: QWidget) -> None:
        assert isinstance(dialog, FirstStartDialog)
        dialog.create_button.click()
        dialog.practice_form.name.setText("Lakeside Clinic")
        dialog.admin_staff_id.setText("jane-jones")
        dialog.admin_name.setText("Jane Jones")
        dialog.admin_password.setText("lakeside harbour")
        dialog.admin_confirm.setText("lakeside harbour")
        dialog.confirm_button.click()

    def unexpected(dialog: QWidget) -> None:
        dialog.close()
        raise AssertionError("no sign-in expected: the password was just chosen")

    driver = drive_modal_dialogs({FirstStartDialog: create, SignInDialog: unexpected})
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
    patel = empty_services.auth.sign_in("admin-patel", "ccmdesk-demo")
    assert patel.role == "admin"
    assert "ccmdesk-demo" in dialog.sign_in_hint
    assert len(empty_services.patients.list_rows(patel)) >= 100
    practice = empty_services.practice.get()
    assert practice is not None and practice.name == "Riverbend Family Medicine"


@pytest.mark.slow
def test_sign_in_through_the_demo_fills_in_its_administrator_and_says_the_password(
    qtbot, empty_services: Services
) -> None:
    seen: list[tuple[str, str]] = []

    def demo(dialog: QWidget) -> None:
        assert isinstance(dialog, FirstStartDialog)
        dialog.demo_button.click()  # inline runner: done when click() returns

    def sign(dialog: QWidget) -> None:
        assert isinstance(dialog, SignInDialog)
        seen.append((dialog.staff_id.text(), dialog.hint.text()))
        dialog.password.setText("ccmdesk-demo")
        dialog.ok_button.click()

    driver = drive_modal_dialogs({FirstStartDialog: demo, SignInDialog: sign})
    actor = sign_in(empty_services, GuiState(None), InlineTaskRunner())
    driver.stop()
    assert seen[0][0] == "admin-patel" and "password is ccmdesk-demo" in seen[0][1]
    assert actor == Actor(key="admin-patel", name="Priya Patel", role="admin")


# --- signing in -------------------------------------------------------------------------------


def test_a_wrong_password_is_refused_on_the_dialog_and_the_right_one_signs_in(
    qtbot, services: Services
) -> None:
    dialog = SignInDialog(services, "rn-lee", "Harbor Family Practice")
    qtbot.addWidget(dialog)
    dialog.show()
    assert dialog.focusWidget() is dialog.password  # the staff id is filled in already
    dialog.password.setText("not my password")
    dialog.ok_button.click()
    assert dialog.result() != QDialog.DialogCode.Accepted and dialog.actor is None
    assert dialog.error.isVisible()
    assert dialog.error.text().startswith("The staff id or the password is not right.")
    assert dialog.password.text() == ""  # typed again, never kept
    dialog.password.setText(PASSWORD)
    dialog.ok_button.click()
    assert dialog.result() == QDialog.DialogCode.Accepted
    assert dialog.actor == Actor(key="rn-lee", name="Grace Lee", role="clinical")


def test_the_fifth_wrong_password_locks_the_account_and_the_dialog_says_for_how_long(
    qtbot, services: Services
) -> None:
    dialog = SignInDialog(services, "rn-lee")
    qtbot.addWidget(dialog)
    for attempt in range(5):
        dialog.password.setText(f"guess number {attempt}")
        dialog.ok_button.click()
    assert dialog.error.text().startswith("This account is locked after 5 wrong attempts")
    dialog.password.setText(PASSWORD)
    dialog.ok_button.click()
    assert dialog.actor is None and "Try again in 5 minutes" in dialog.error.text()


def test_on_a_database_without_passwords_an_administrator_sets_up_sign_in(
    qtbot, empty_services: Services
) -> None:
    from ccmdesk.rules.records import StaffRecord

    for record in (StaffRecord("admin-ada", "Ada Byron", "admin"),
                   StaffRecord("rn-lee", "Grace Lee", "clinical")):  # fmt: skip
        empty_services.staff.save(Actor.command_line(), record, is_new=True)
    dialog = SignInDialog(empty_services, "rn-lee")
    qtbot.addWidget(dialog)
    assert dialog.setting_up and dialog.windowTitle() == "Set up sign-in — ccmdesk"
    dialog.password.setText("ada's long secret")
    dialog.confirm.setText("ada's long secret")
    dialog.ok_button.click()
    assert dialog.error.text() == "Only an active administrator sets up sign-in for the practice."
    dialog.staff_id.setText("admin-ada")
    dialog.password.setText("ada's long secret")
    dialog.confirm.setText("ada's long secrets")
    dialog.ok_button.click()
    assert dialog.error.text() == "The two passwords differ; type them again."
    dialog.password.setText("ada's long secret")
    dialog.confirm.setText("ada's long secret")
    dialog.ok_button.click()
    assert dialog.actor is not None and dialog.actor.key == "admin-ada"
    assert empty_services.auth.sign_in("admin-ada", "ada's long secret") == dialog.actor


def test_sign_in_fills_in_the_last_user(qtbot, services: Services, tmp_path) -> None:
    state = GuiState(tmp_path / "gui-state.json")
    state.set(LAST_USER, "dr-okafor")
    seen: list[str] = []

    def sign(dialog: QWidget) -> None:
        assert isinstance(dialog, SignInDialog)
        seen.append(dialog.staff_id.text())
        dialog.staff_id.setText("rn-lee")
        dialog.password.setText(PASSWORD)
        dialog.ok_button.click()

    driver = drive_modal_dialogs({SignInDialog: sign})
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
    seen_running: list[bool] = []

    def close_when_shown() -> None:
        for widget in QApplication.topLevelWidgets():
            if isinstance(widget, MainWindow) and widget.isVisible():
                seen["title"] = widget.windowTitle()
                seen["user"] = widget.user_label.text()
                seen["rows"] = widget.pages["patients"].model.rowCount()
                seen["style"] = bool(qapp.styleSheet())
                seen["icon"] = not qapp.windowIcon().isNull()
                seen["gc"] = gc.isenabled()
                seen_running.append((data_dir / "ccmdesk.running").exists())
                widget.close()

    def sign(dialog: QWidget) -> None:
        assert isinstance(dialog, SignInDialog) and dialog.staff_id.text() == "rn-lee"
        dialog.password.setText(PASSWORD)
        dialog.ok_button.click()

    driver = drive_modal_dialogs({SignInDialog: sign})
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
        driver.stop()
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
    # While it ran it said so in the data folder (a restore refuses then); not any more.
    assert seen_running == [True] and not (data_dir / "ccmdesk.running").exists()


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


def test_a_start_after_an_unclean_exit_offers_back_a_stopwatch_however_fresh(
    qapp, services: Services, data_dir: Path, clock
) -> None:
    nurse = services.staff.actor_for("rn-lee")
    services.stopwatch.start(nurse, "A100")
    clock.advance(seconds=20)  # killed twenty seconds ago: its heartbeat is not yet stale
    ended = subprocess.Popen([sys.executable, "-c", "pass"])
    ended.wait()
    (data_dir / "ccmdesk.running").write_text(f"{ended.pid}\n", encoding="ascii")
    asked: list[str] = []

    def sign(dialog: QWidget) -> None:
        assert isinstance(dialog, SignInDialog)
        dialog.password.setText(PASSWORD)
        dialog.ok_button.click()

    def discard(dialog: QWidget) -> None:
        assert isinstance(dialog, RecoveryDialog)
        asked.append(dialog.findChild(QLabel, "dialogHeading").text())
        dialog.discard_button.click()

    quiet: list[int] = []

    def close_when_settled() -> None:
        # Closed once the window has been up with no question open for a few polls (without
        # the fix no question comes, and the test must still end).
        if QApplication.activeModalWidget() is not None:
            quiet.clear()
            return
        for widget in QApplication.topLevelWidgets():
            if isinstance(widget, MainWindow) and widget.isVisible():
                quiet.append(1)
                if len(quiet) > 10:
                    widget.settle_running_timer = lambda **_: True  # type: ignore[method-assign]
                    widget.close()

    driver = drive_modal_dialogs({SignInDialog: sign, RecoveryDialog: discard})
    closer = QTimer()
    closer.setInterval(20)
    closer.timeout.connect(close_when_settled)
    closer.start()
    try:
        status = run_gui(services, data_dir, ["ccmdesk", "--user", "rn-lee"])
    finally:
        closer.stop()
        driver.stop()
        qapp.setStyleSheet("")
        qapp.setQuitOnLastWindowClosed(True)
    assert status == 0
    assert len(asked) == 1 and "MRN A100" in asked[0]
    assert services.stopwatch.open_timers(nurse) == []


def test_run_gui_listens_for_the_saved_global_shortcut_and_says_when_it_is_taken(
    qapp, services: Services, data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (data_dir / "settings.json").write_text('{"global_shortcut": "Ctrl+Alt+Shift+K"}')
    backend = FakeShortcutBackend(taken=("Ctrl+Alt+Shift+K",))
    monkeypatch.setattr("ccmdesk.ui.app.system_backend", lambda: backend)
    said: list[str] = []

    def close_when_shown() -> None:
        for widget in QApplication.topLevelWidgets():
            if isinstance(widget, MainWindow) and widget.isVisible():
                said.append(widget.statusBar().currentMessage())
                widget.close()

    def sign(dialog: QWidget) -> None:
        assert isinstance(dialog, SignInDialog)
        dialog.password.setText(PASSWORD)
        dialog.ok_button.click()

    driver = drive_modal_dialogs({SignInDialog: sign})
    timer = QTimer()
    timer.setInterval(20)
    timer.timeout.connect(close_when_shown)
    timer.start()
    try:
        assert run_gui(services, data_dir, ["ccmdesk", "--user", "rn-lee"]) == 0
    finally:
        timer.stop()
        driver.stop()
        qapp.setStyleSheet("")
        qapp.setQuitOnLastWindowClosed(True)
    assert said[:1] == [
        "Global shortcut: Ctrl+Alt+Shift+K is used by another program; choose another. "
        "(Stopwatch ▸ Global shortcut…)"
    ]
