"""Start the GUI: the application object, first start, who is at the keyboard, the main window."""

from __future__ import annotations

import gc
import logging
import sys
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import TracebackType

from PySide6.QtWidgets import QApplication, QDialog, QMessageBox, QWidget

from ccmdesk.config import ended_badly, global_shortcut, mark_running, unmark_running
from ccmdesk.services import Actor, Permission, ServiceError, Services, allowed
from ccmdesk.services.backup import StartCheck
from ccmdesk.services.staging import UNDER_WAY, Finished, sweep_noted
from ccmdesk.ui.background import TaskRunner, ThreadTaskRunner
from ccmdesk.ui.forms import show_failure
from ccmdesk.ui.global_shortcut import GlobalShortcut, system_backend
from ccmdesk.ui.idle import SystemIdle
from ccmdesk.ui.main_window import LAST_USER, MainWindow
from ccmdesk.ui.sign_in import SignInDialog
from ccmdesk.ui.state import GuiState
from ccmdesk.ui.theme import APP_ICON, icon, stylesheet

log = logging.getLogger(__name__)

USER_OPTION = "--user"

ExceptHook = Callable[[type[BaseException], BaseException, TracebackType | None], object]


def split_user_option(argv: Sequence[str]) -> tuple[list[str], str | None]:
    """Take `--user STAFF_ID` (or `--user=STAFF_ID`) out of argv; Qt gets the rest.

    It fills in the sign-in's staff id; the password is asked all the same.
    """
    rest: list[str] = []
    user: str | None = None
    items = iter(argv)
    for item in items:
        if item == USER_OPTION:
            user = next(items, None)
        elif item.startswith(f"{USER_OPTION}="):
            user = item.split("=", 1)[1]
        else:
            rest.append(item)
    return rest, user or None


def configure_application(app: QApplication) -> None:
    # No applicationDisplayName: X11 and Windows would append it to every window title.
    app.setApplicationName("ccmdesk")
    app.setWindowIcon(icon(APP_ICON))
    app.setStyleSheet(stylesheet())


def sign_in(
    services: Services,
    state: GuiState,
    runner: TaskRunner,
    user: str | None = None,
    parent: QWidget | None = None,
) -> Actor | None:
    """First start when the database is empty, then the sign-in; None if abandoned.

    `user` (the --user option) only fills in the staff id: a password is always asked."""
    staff_id = user or state.get(LAST_USER)
    hint = ""
    if services.practice.needs_setup() and not services.staff.list(include_inactive=True):
        # Imported here: needed once in the life of a database, and start-up time counts.
        from ccmdesk.ui.first_start import FirstStartDialog

        first = FirstStartDialog(services, runner, parent)
        if first.exec() != QDialog.DialogCode.Accepted:
            return None
        if first.actor is not None:
            return first.actor  # the administrator just created, with the password just chosen
        staff_id = first.suggested_staff_id
        hint = first.sign_in_hint
    if not services.staff.list(include_inactive=False):
        QMessageBox.critical(
            parent,
            "ccmdesk",
            "There is no active staff member to sign in as. Import a staff file from the "
            "command line (ccmdesk import staff.csv) and start again.",
        )
        return None
    practice = services.practice.get()
    dialog = SignInDialog(
        services, staff_id, practice.name if practice else "", hint=hint, parent=parent
    )
    if dialog.exec() != QDialog.DialogCode.Accepted:
        return None
    return dialog.actor


def startup_checked(window: MainWindow, services: Services, check: StartCheck) -> None:
    """Say what the start-up check found; on a damaged database, offer an administrator the
    latest good backup (everyone else is told who can restore it)."""
    if check.backup_failed:
        log.warning("the day's backup failed")
        QMessageBox.warning(window, "Backup failed", check.backup_failed)
    if check.problem is None:
        return
    good = services.backups.latest_good()
    actor = window.actor()
    if good is None:
        QMessageBox.critical(
            window,
            "The database is damaged",
            f"ccmdesk found that {check.problem}. There is no good backup to restore. Stop "
            "recording time here and call your IT support.",
        )
        return
    taken = good.taken.astimezone().strftime("%Y-%m-%d %H:%M")
    offer = (
        f"ccmdesk found that {check.problem}.\n\nThe latest good backup is {good.path.name}, "
        f"taken {taken}; anything recorded after that would need entering again."
    )
    if not allowed(actor, Permission.BACKUP):
        QMessageBox.critical(
            window,
            "The database is damaged",
            f"{offer}\n\nStop recording time here and ask an administrator to restore it "
            f'(or IT: ccmdesk restore "{good.path}").',
        )
        return
    answer = QMessageBox.question(
        window,
        "The database is damaged",
        f"{offer}\n\nRestore it now? The damaged database is kept beside it, and ccmdesk "
        "closes afterwards: start it again.",
    )
    if answer != QMessageBox.StandardButton.Yes:
        return
    try:
        aside = services.backups.restore_now(actor, good.path)
    except ServiceError as error:
        show_failure(window, error)
        return
    kept = f" The damaged database is kept as {aside}." if aside is not None else ""
    QMessageBox.information(
        window,
        "Backup restored",
        f"{good.path.name} was restored.{kept} ccmdesk closes now; start it again.",
    )
    window.settle_running_timer = lambda **_: True  # type: ignore[method-assign]
    window.close()


def exports_finished(window: QWidget, finished: list[Finished]) -> None:
    """Say which exports cut off while moving their files into place were finished at start."""
    if finished:
        QMessageBox.information(
            window, "Export finished", "\n\n".join(f.sentence() for f in finished)
        )


def _report_unexpected(previous: ExceptHook) -> ExceptHook:
    """A slot that raises must not pass silently: log it and tell the person at the keyboard."""

    def hook(kind: type[BaseException], error: BaseException, trace: TracebackType | None) -> None:
        previous(kind, error, trace)
        window = QApplication.activeWindow()
        if window is not None and isinstance(error, Exception):
            show_failure(window, error)

    return hook


def _startup_application() -> QApplication:
    """The application object for a message before the window (made if there is none)."""
    existing = QApplication.instance()
    app = existing if isinstance(existing, QApplication) else QApplication(["ccmdesk"])
    configure_application(app)
    return app


def ask_to_restore(message: str, backup: str) -> bool:
    """The database cannot be opened: offer the latest good backup (nobody can sign in to a
    database that does not open, so whoever is at the computer decides, as at its terminal)."""
    _startup_application()
    answer = QMessageBox.question(
        None,
        "ccmdesk cannot start",
        f"{message}\n\nRestore {backup} now? The damaged database is kept beside it, and "
        "ccmdesk starts on the restored one; anything recorded after that backup would need "
        "entering again.",
    )
    return answer == QMessageBox.StandardButton.Yes


def show_restored(message: str) -> None:
    """Say, before ccmdesk starts on it, which backup was restored and where the replaced
    database is kept."""
    _startup_application()
    QMessageBox.information(None, "Backup restored", message)


def show_startup_error(message: str) -> None:
    """Tell a person who started ccmdesk from a desktop icon why it cannot open (no terminal)."""
    _startup_application()
    QMessageBox.critical(None, "ccmdesk cannot start", message)


QUIT_WAIT_SECONDS = 30
REFUSED_SHORTCUT_MS = 30_000


def run_gui(services: Services, data_dir: Path, argv: list[str]) -> int:
    """Run the desktop application until its window closes; return the exit status."""
    qt_argv, user = split_user_option(argv)
    existing = QApplication.instance()
    app = existing if isinstance(existing, QApplication) else QApplication(qt_argv)
    configure_application(app)
    # While sign-in dialogs come and go there is a moment with no window at all.
    app.setQuitOnLastWindowClosed(False)
    state = GuiState.in_folder(data_dir)
    runner = ThreadTaskRunner()
    # Read before this run's own marker replaces it: a marker left by a dead process is an
    # unclean exit, whatever the age of the heartbeats it left.
    after_crash = ended_badly(data_dir)
    mark_running(data_dir)
    try:
        return _run(services, data_dir, app, state, runner, user, after_crash)
    finally:
        unmark_running(data_dir)


def _run(
    services: Services,
    data_dir: Path,
    app: QApplication,
    state: GuiState,
    runner: ThreadTaskRunner,
    user: str | None,
    after_crash: bool = False,
) -> int:
    try:
        actor = sign_in(services, state, runner, user)
    except ServiceError as error:
        QMessageBox.critical(None, "ccmdesk", str(error))
        return 1
    if actor is None:
        return 0
    # The patient list is the slowest part of start-up: fetch it while the shortcut is
    # grabbed and the window is built.
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="ccmdesk-start") as pool:
        rows = pool.submit(services.patients.list_rows, actor)
        # This workstation's global shortcut, listening before the window shows (a taken one
        # is said on the status line: it must not stop anyone from working).
        shortcut = GlobalShortcut(system_backend())
        refused = shortcut.set_shortcut(global_shortcut(data_dir))
        window = MainWindow(
            services,
            actor,
            runner=runner,
            state=state,
            first_rows=rows.result,
            idle_source=SystemIdle(app),
            after_crash=after_crash,
            global_shortcut=shortcut,
            data_dir=data_dir,
        )
    window.show()
    if refused and shortcut.available():
        window.statusBar().showMessage(
            f"Global shortcut: {refused} (Stopwatch ▸ Global shortcut…)", REFUSED_SHORTCUT_MS
        )
    # The integrity check and the day's backups read the whole file: after the window is up.
    runner.run(
        services.backups.start_of_day,
        lambda check: startup_checked(window, services, check),
        lambda error: log.warning("start-up check failed: %s", type(error).__name__),
    )
    # Exports cut off last time (the process killed, the computer off) left files in hidden
    # folders of their own: finished or removed now, off the GUI thread (a network folder).
    runner.run(
        lambda: sweep_noted(data_dir / UNDER_WAY),
        lambda finished: exports_finished(window, finished),
        lambda error: log.warning("sweeping export folders failed: %s", type(error).__name__),
    )
    # The command line may have paused cyclic garbage collection for start-up: what exists now
    # lives as long as the window, so freeze it out of the collector's sight and resume.
    gc.freeze()
    gc.enable()
    app.setQuitOnLastWindowClosed(True)
    previous_hook = sys.excepthook
    sys.excepthook = _report_unexpected(previous_hook)
    try:
        return app.exec()
    finally:
        sys.excepthook = previous_hook
        # Work still running (an export told to stop as the app quit) unwinds before the
        # process ends, so nothing is left half-written.
        runner.wait(timeout=QUIT_WAIT_SECONDS)
