"""The main window: navigation between pages, the File menu, and who is signed in."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import cast

from PySide6.QtCore import QMargins, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence, QShowEvent
from PySide6.QtWidgets import (
    QApplication,
    QDialog,
    QDockWidget,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMainWindow,
    QMessageBox,
    QStackedWidget,
    QSystemTrayIcon,
    QVBoxLayout,
    QWidget,
)

from ccmdesk import __version__
from ccmdesk.config import GLOBAL_SHORTCUT, global_shortcut, write_setting
from ccmdesk.services import (
    Actor,
    NotificationRow,
    PatientRow,
    Permission,
    ServiceError,
    Services,
    allowed,
)
from ccmdesk.ui.background import TaskRunner, ThreadTaskRunner
from ccmdesk.ui.care_plan_templates import open_templates
from ccmdesk.ui.controllers.importing import ImportController
from ccmdesk.ui.controllers.locking import LockController
from ccmdesk.ui.forms import plain, show_info
from ccmdesk.ui.global_shortcut import GlobalShortcut
from ccmdesk.ui.idle import AppIdle, IdleSource
from ccmdesk.ui.lock import LockScreen
from ccmdesk.ui.notifications import (
    Bell,
    MyRemindersDialog,
    NotificationsPanel,
    ReminderController,
    show_in_tray,
)
from ccmdesk.ui.pages.patients import PatientsPage
from ccmdesk.ui.pages.table import (
    AUDIT,
    BILLING,
    DASHBOARD,
    MY_DAY,
    PAGES,
    PATIENTS,
    PAYERS,
    PRACTICE,
    REVIEW,
    SPECS,
    STAFF,
    WEEK,
    WORKLIST,
    Page,
)
from ccmdesk.ui.pages.worklist import WorklistPage
from ccmdesk.ui.refresh import EVERYTHING, TIME, TIMERS, Changes, DataChanged
from ccmdesk.ui.refresh import PATIENTS as PATIENT_DATA
from ccmdesk.ui.refresh import PAYERS as PAYER_DATA
from ccmdesk.ui.refresh import PRACTICE as PRACTICE_DATA
from ccmdesk.ui.refresh import STAFF as STAFF_DATA
from ccmdesk.ui.shortcut_dialog import GlobalShortcutDialog
from ccmdesk.ui.sign_in import SignInDialog
from ccmdesk.ui.state import GuiState
from ccmdesk.ui.stopwatch import StopwatchController
from ccmdesk.ui.stopwatch_views import MiniTimer, StatusTimer, TrayTimer
from ccmdesk.ui.theme import APP_ICON, icon
from ccmdesk.ui.widgets.roles import role_label

__all__ = [
    "AUDIT",
    "BILLING",
    "DASHBOARD",
    "MY_DAY",
    "PATIENTS",
    "PAYERS",
    "PRACTICE",
    "REVIEW",
    "STAFF",
    "WEEK",
    "WORKLIST",
    "MainWindow",
]
LAST_USER = "last_staff_id"
MINI_TIMER = "mini_timer"
ICD10_WARM_UP_MS = 1500
STARTED_MESSAGE_MS = 4000
NO_LAST_PATIENT = (
    "The global shortcut starts the stopwatch of the last patient you timed, and you have not "
    "timed anyone yet. Start a stopwatch from a patient's page once; after that the shortcut "
    "starts and stops it from any program."
)
FIRST_REMINDER_CHECK_MS = 5000
# The window's size at first start, and what is left for a title bar and frame above it.
DEFAULT_SIZE = QSize(1280, 800)
FRAME_ALLOWANCE = 40

log = logging.getLogger(__name__)


class MainWindow(QMainWindow):
    """Patients for everyone; Staff and Practice settings for administrators."""

    user_changed = Signal(object)  # the new Actor

    def __init__(
        self,
        services: Services,
        actor: Actor,
        *,
        runner: TaskRunner | None = None,
        state: GuiState | None = None,
        first_rows: Callable[[], Sequence[PatientRow]] | None = None,
        idle_source: IdleSource | None = None,
        monotonic: Callable[[], float] = time.monotonic,
        after_crash: bool = False,
        global_shortcut: GlobalShortcut | None = None,
        data_dir: Path | None = None,
        parent: QWidget | None = None,
    ) -> None:
        """`first_rows` supplies the first patient list (see PatientsPage); the patients page
        is built last, so a list being fetched on a thread meanwhile has the longest start.
        `after_crash`: the last ccmdesk on this data folder ended without quitting (every
        stopwatch it left running is asked about, however fresh its heartbeat).
        `global_shortcut`: the workstation's, already listening (none: the window listens for
        nothing); `data_dir`: where its choice is saved (settings.json)."""
        super().__init__(parent)
        self.setObjectName("mainWindow")
        self.services = services
        self._actor = actor
        self.runner = runner or ThreadTaskRunner()
        self.first_rows = first_rows
        self._state = state or GuiState(None)
        self._warmed_up = False
        self.stopwatch = StopwatchController(
            services, self.actor, self, idle_source, monotonic, after_crash=after_crash
        )
        self.mini_timer: MiniTimer | None = None
        self.global_shortcut = global_shortcut or GlobalShortcut()
        self.global_shortcut.setParent(self)
        self.global_shortcut.activated.connect(self.global_shortcut_pressed)
        self._data_dir = data_dir
        # One signal for "the data changed": the page on screen re-reads once per burst, the
        # others note what changed and re-read when next shown.
        self.data_changed = DataChanged(self)
        self.data_changed.changed.connect(self._refresh_pages)
        self._stale: dict[str, set[str]] = {}
        self.stopwatch.changed.connect(lambda: self.data_changed.notify(TIMERS))
        self.stopwatch.time_saved.connect(lambda _mrn: self.data_changed.notify(TIME))
        app = QApplication.instance()
        assert isinstance(app, QApplication)

        self.practice_label = QLabel()
        self.practice_label.setObjectName("practiceLabel")
        self.user_label = plain(QLabel())
        self.user_label.setObjectName("userLabel")
        header = QWidget()
        header.setObjectName("header")
        header_row = QHBoxLayout(header)
        header_row.setContentsMargins(16, 8, 16, 8)
        header_row.addWidget(self.practice_label, 1)
        header_row.addWidget(self.user_label)

        self.nav = QListWidget()
        self.nav.setObjectName("navigation")
        self.nav.setAccessibleName("Pages")
        self.nav.setIconSize(QSize(20, 20))
        self.nav.setFixedWidth(190)
        self.stack = QStackedWidget()
        # Pages built so far; all but Patients wait until first opened.
        self.pages: dict[str, QWidget] = {}
        for spec in PAGES:
            item = QListWidgetItem(icon(spec.name), spec.title)
            item.setData(Qt.ItemDataRole.UserRole, spec.name)
            self.nav.addItem(item)

        content = QWidget()
        content.setObjectName("content")
        content_layout = QVBoxLayout(content)
        content_layout.setContentsMargins(16, 12, 16, 12)
        content_layout.addWidget(self.stack)
        body = QWidget()
        body_row = QHBoxLayout(body)
        body_row.setContentsMargins(0, 0, 0, 0)
        body_row.setSpacing(0)
        body_row.addWidget(self.nav)
        body_row.addWidget(content, 1)
        central = QWidget()
        column = QVBoxLayout(central)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(0)
        column.addWidget(header)
        column.addWidget(body, 1)
        self.setCentralWidget(central)

        self.status_user = plain(QLabel())
        self.status_user.setObjectName("statusUser")
        self.status_timer = StatusTimer(self.stopwatch)
        self.status_timer.open_requested.connect(self.open_patient)
        self.statusBar().addPermanentWidget(self.status_timer)
        self.statusBar().addPermanentWidget(self.status_user)
        # The tray shows the stopwatch where the system has a tray; the status bar and the
        # mini timer show it everywhere.
        self.tray = TrayTimer(self.stopwatch, icon(APP_ICON), self)
        self.tray.open_requested.connect(self.open_patient)
        if QSystemTrayIcon.isSystemTrayAvailable():
            self.tray.show()
        idle = idle_source or AppIdle(app)
        self.locking = LockController(
            self,
            services,
            self.actor,
            self.stopwatch,
            self.tray,
            idle,
            mini_timer=lambda: self.mini_timer,
            signed_out=self._record_sign_out,
            switched=self.set_actor,
        )
        self.auto_lock = self.locking.auto_lock
        self.importer = ImportController(
            self, services, self.actor, self.runner, self._state, self._after_import
        )
        self._build_reminders(idle)
        self._build_menus()
        self._fit_default_size()

        self._warm_timer = QTimer(self)
        self._warm_timer.setSingleShot(True)
        self._warm_timer.setInterval(ICD10_WARM_UP_MS)
        self._warm_timer.timeout.connect(self._warm_up)

        patients_page = self.page(PATIENTS)
        assert isinstance(patients_page, PatientsPage)
        # Loading the table holds the interpreter for ~0.15 s even on a worker thread: wait
        # until the nurse stops typing in the search box, so no keystroke stalls behind it.
        patients_page.search_field.textChanged.connect(self._postpone_warm_up)
        self.nav.currentRowChanged.connect(self._on_nav)

        self._apply_actor()
        self.stopwatch.refresh()
        self.auto_lock.start()
        self.show_page(PATIENTS)
        # Set up from the command line without a practice yet: to the page that describes it,
        # for those who may (a practitioner sees only its APCM section there).
        if not self._update_practice() and allowed(self._actor, Permission.MANAGE_PRACTICE):
            self.show_page(PRACTICE)

    # --- reminders (docs/reminders.md) -------------------------------------------------------

    def _build_reminders(self, idle: IdleSource) -> None:
        self.reminders = ReminderController(
            self.services, self.actor, self.runner, idle, self.services.now, parent=self
        )
        self.notifications = NotificationsPanel(self.reminders, self.services.practice_zone)
        self.notifications.open_requested.connect(self.open_target)
        self.notifications.my_reminders_requested.connect(self.my_reminders)
        self.notifications_dock = QDockWidget("Notifications", self)
        self.notifications_dock.setObjectName("notificationsDock")
        self.notifications_dock.setWidget(self.notifications)
        self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, self.notifications_dock)
        self.notifications_dock.hide()
        self.bell = Bell(self.reminders)
        self.bell.clicked.connect(
            lambda: self.notifications_dock.setVisible(not self.notifications_dock.isVisible())
        )
        self.statusBar().addPermanentWidget(self.bell)
        self._tray_target = ""
        self.reminders.raised.connect(self._reminders_raised)
        self.tray.messageClicked.connect(lambda: self.open_target(self._tray_target))
        # The first check waits until the window is up; then one a minute.
        QTimer.singleShot(FIRST_REMINDER_CHECK_MS, self, self.reminders.start)

    def _reminders_raised(self, rows: tuple[NotificationRow, ...]) -> None:
        """New reminders: in the tray where there is one (never over the lock screen); the
        panel lists them all either way."""
        if not self.locked and show_in_tray(self.tray, rows):
            self._tray_target = rows[0].target

    def open_target(self, target: str) -> None:
        """Open what a reminder is about: the worklist's falling-behind patients, a patient,
        the review or billing page."""
        kind, _, rest = target.partition(":")
        if kind == "patient" and rest:
            self.open_patient(rest)
            return
        page = {"worklist": WORKLIST, "review": REVIEW, "billing": BILLING, "patients": PATIENTS}
        name = page.get(kind)
        if name is None or not self.page_allowed(name):
            return
        self.show_page(name)
        if name == WORKLIST and rest == "falling_behind":
            cast(WorklistPage, self.page(WORKLIST)).show_falling_behind()
        self.raise_()
        self.activateWindow()

    def my_reminders(self) -> QDialog:
        dialog = MyRemindersDialog(self.services, self._actor, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open()
        return dialog

    def care_plan_templates(self) -> QDialog | None:
        """The practice's care plan templates and patient-copy words."""
        return open_templates(self, self.services, self._actor)

    # --- menus -------------------------------------------------------------------------------

    def _build_menus(self) -> None:
        file_menu = self.menuBar().addMenu("&File")
        self.import_action = QAction("&Import CSV files…", self)
        self.import_action.setShortcut(QKeySequence("Ctrl+I"))
        self.import_action.triggered.connect(self.importer.choose_files)
        self.switch_action = QAction("&Switch user…", self)
        self.switch_action.setShortcut(QKeySequence("Ctrl+U"))
        self.switch_action.triggered.connect(self.switch_user)
        self.lock_action = QAction("&Lock screen", self)
        self.lock_action.setShortcut(QKeySequence("Ctrl+L"))
        self.lock_action.triggered.connect(lambda: self.lock(False))
        self.password_action = QAction("Change my &password…", self)
        self.password_action.triggered.connect(self.change_password)
        self.pin_action = QAction("My unlock P&IN…", self)
        self.pin_action.triggered.connect(self.change_pin)
        self.my_reminders_action = QAction("My &reminders…", self)
        self.my_reminders_action.triggered.connect(self.my_reminders)
        self.templates_action = QAction("Care plan &templates…", self)
        self.templates_action.triggered.connect(self.care_plan_templates)
        self.quit_action = QAction("&Quit", self)
        self.quit_action.setShortcut(QKeySequence.StandardKey.Quit)
        self.quit_action.setMenuRole(QAction.MenuRole.QuitRole)
        self.quit_action.triggered.connect(self.close)
        file_menu.addAction(self.import_action)
        file_menu.addSeparator()
        file_menu.addAction(self.switch_action)
        file_menu.addAction(self.lock_action)
        file_menu.addAction(self.password_action)
        file_menu.addAction(self.pin_action)
        file_menu.addAction(self.my_reminders_action)
        file_menu.addSeparator()
        file_menu.addAction(self.templates_action)
        file_menu.addSeparator()
        file_menu.addAction(self.quit_action)
        timer_menu = self.menuBar().addMenu("&Stopwatch")
        self.toggle_action = QAction("&Start or stop and save", self)
        self.toggle_action.setShortcut(QKeySequence("Ctrl+Space"))
        self.toggle_action.triggered.connect(lambda: self.toggle_timer())
        self.toggle_bhi_action = QAction("Start &BHI or stop and save", self)
        self.toggle_bhi_action.setShortcut(QKeySequence("Ctrl+Shift+Space"))
        self.toggle_bhi_action.triggered.connect(lambda: self.toggle_timer("bhi"))
        self.pause_action = QAction("&Pause or resume", self)
        self.pause_action.setShortcut(QKeySequence("Ctrl+P"))
        self.pause_action.triggered.connect(self.pause_timer)
        self.on_call_action = QAction("&On a call (no idle questions)", self)
        self.on_call_action.setCheckable(True)
        self.on_call_action.toggled.connect(self.stopwatch.set_on_call)
        self.stopwatch.changed.connect(self._sync_on_call)
        self.mini_action = QAction("&Mini timer, always on top", self)
        self.mini_action.setCheckable(True)
        self.mini_action.setShortcut(QKeySequence("Ctrl+M"))
        self.mini_action.toggled.connect(self.show_mini_timer)
        self.global_shortcut_action = QAction("&Global shortcut…", self)
        self.global_shortcut_action.triggered.connect(self.choose_global_shortcut)
        for action in (self.toggle_action, self.toggle_bhi_action, self.pause_action):
            timer_menu.addAction(action)
        timer_menu.addSeparator()
        timer_menu.addAction(self.on_call_action)
        timer_menu.addAction(self.mini_action)
        timer_menu.addSeparator()
        timer_menu.addAction(self.global_shortcut_action)
        self.timer_menu = timer_menu
        help_menu = self.menuBar().addMenu("&Help")
        about = QAction("&About ccmdesk", self)
        about.setMenuRole(QAction.MenuRole.AboutRole)
        about.triggered.connect(self.show_about)
        help_menu.addAction(about)

    def show_about(self) -> None:
        show_info(
            self,
            f"ccmdesk {__version__}\n\nChronic Care Management time tracking and "
            "month-end billing.",
            "About ccmdesk",
        )

    # --- the acting user ---------------------------------------------------------------------

    def actor(self) -> Actor:
        """The signed-in person; pages call this on every action, so a switch takes effect."""
        return self._actor

    def set_actor(self, actor: Actor) -> None:
        someone_else = actor.key != self._actor.key
        self._actor = actor
        if someone_else:
            # The next person starts on a clean Patients page, not on the last one's screen.
            for page in self._built_pages().values():
                page.forget_person()
            self.show_page(PATIENTS)
        self._apply_actor()
        self.stopwatch.refresh()
        self._stale.clear()
        self.reminders.reload()
        shown = self.current_page()
        for name, page in list(self._built_pages().items()):
            if not self.page_allowed(name):
                page.clear()  # the next person may not see it: their window keeps none of it
            elif name == shown:
                page.refresh(frozenset({EVERYTHING}))
            elif not SPECS[name].reads_when_shown:
                # Read when next shown, not now: a hidden month page would evaluate its
                # month for nobody, and again once shown.
                self._stale[name] = {EVERYTHING}
        self.user_changed.emit(actor)

    def _apply_actor(self) -> None:
        actor = self._actor
        self.timer_menu.menuAction().setVisible(allowed(actor, Permission.RECORD_TIME))
        label = role_label(actor.role)
        self.user_label.setText(f"{actor.name} · {label}")
        self.status_user.setText(f"Signed in as {actor.name} ({label})")
        self._state.set(LAST_USER, actor.key)
        for row, spec in enumerate(PAGES):
            self.nav.setRowHidden(row, not self.page_allowed(spec.name))
        self.import_action.setVisible(allowed(actor, Permission.IMPORT_DATA))
        self.templates_action.setVisible(allowed(actor, Permission.MANAGE_CARE_PLAN_TEMPLATES))
        self._patients_page().apply_permissions()
        if not self.page_allowed(self.current_page()):
            self.show_page(PATIENTS)

    def page_allowed(self, name: str) -> bool:
        spec = SPECS[name]
        return allowed(self._actor, spec.permission) or (
            spec.also is not None and allowed(self._actor, spec.also)
        )

    def visible_pages(self) -> list[str]:
        """The pages the navigation offers the signed-in person."""
        return [spec.name for row, spec in enumerate(PAGES) if not self.nav.isRowHidden(row)]

    def _fit_default_size(self) -> None:
        """1280×800, or less on a smaller screen: a 1366×768 laptop would otherwise lose the
        bottom of the window (the status line with the running stopwatch) below the screen."""
        screen = self.screen()
        if screen is None:
            self.resize(DEFAULT_SIZE)
            return
        room = screen.availableGeometry().size()
        # The window manager's title bar and frame come on top of the window's own size.
        room = room.shrunkBy(QMargins(0, FRAME_ALLOWANCE, 0, 0))
        self.resize(DEFAULT_SIZE.boundedTo(room).expandedTo(self.minimumSizeHint()))

    def switch_user(self) -> SignInDialog | None:
        """Another person signs in with their password; the window follows their role."""
        dialog = SignInDialog(self.services, None, self._practice_name(), parent=self)
        dialog.setWindowTitle("Switch user — ccmdesk")
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.accepted.connect(lambda: self._switch_to(dialog.actor))
        dialog.open()
        return dialog

    def _switch_to(self, actor: Actor | None) -> None:
        if actor is None:
            return
        # Once someone else signs in, nothing watches this person's stopwatch for idle time:
        # it is paused or stopped first, as when ccmdesk closes.
        # (One left running by a crash and not yet recovered is left for its owner to answer.)
        leaving = actor.key != self._actor.key and self.stopwatch.watching
        if leaving and not self.settle_running_timer(switching=True):
            return
        self._record_sign_out()
        self.set_actor(actor)
        # The new person may have left a stopwatch running when ccmdesk last ended badly.
        self.stopwatch.recover()

    def staff_saved(self, staff_id: str) -> None:
        """A staff member saved: the pages that name staff re-read; an administrator who
        changed their own role or retired themself is followed now."""
        self.data_changed.notify(STAFF_DATA)
        if staff_id != self._actor.key:
            return
        try:
            actor = self.services.staff.actor_for(staff_id)
        except ServiceError:
            # Retired themself: nobody may go on working under that name.
            self.switch_user()
            return
        if actor != self._actor:
            self.set_actor(actor)

    # --- pages -------------------------------------------------------------------------------

    def show_page(self, name: str) -> None:
        self.nav.setCurrentRow(list(SPECS).index(name))

    def current_page(self) -> str:
        row = self.nav.currentRow()
        return PAGES[row].name if row >= 0 else PATIENTS

    def page(self, name: str) -> QWidget:
        """The page, built on first use from its line of the page table."""
        page = self.pages.get(name)
        if page is None:
            page = SPECS[name].build(self)
            self.pages[name] = page
            self.stack.addWidget(page)
        return page

    def _built_pages(self) -> dict[str, Page]:
        return {name: cast(Page, page) for name, page in self.pages.items() if _is_page(page)}

    def _on_nav(self, row: int) -> None:
        if row < 0:
            return
        name = PAGES[row].name
        page = self.page(name)
        stale = self._stale.pop(name, None)
        if stale and _is_page(page):
            cast(Page, page).refresh(frozenset(stale))
        self.stack.setCurrentWidget(page)

    def _refresh_pages(self, changes: Changes) -> None:
        """The page on screen re-reads what changed; the others when they are next shown."""
        shown = self.current_page() if self.isVisible() else None
        for name, page in self._built_pages().items():
            if name == shown:
                page.refresh(changes)
            elif not SPECS[name].reads_when_shown:
                self._stale.setdefault(name, set()).update(changes)

    def practice_saved(self) -> None:
        self._update_practice()
        self.stopwatch.settings_changed()
        self.locking.settings_changed()
        self.data_changed.notify(PRACTICE_DATA)

    def patients_changed(self) -> None:
        """A patient's record, enrolment or waivers changed: the month pages bill from them."""
        self.data_changed.notify(PATIENT_DATA)

    def time_changed(self) -> None:
        """Time was added or corrected on a page: the other pages showing time re-read it."""
        self.data_changed.notify(TIME)

    def payers_changed(self) -> None:
        """The patient list shows payers, and a payer's rules change what its months bill."""
        self.data_changed.notify(PAYER_DATA)

    def _practice_name(self) -> str:
        practice = self.services.practice.get()
        return practice.name if practice else ""

    def _update_practice(self) -> bool:
        """Show the practice's name in the header and title; False while there is none."""
        name = self._practice_name()
        self.practice_label.setText(name or "Practice not set up yet")
        self.setWindowTitle(f"{name} — ccmdesk" if name else "ccmdesk")
        return bool(name)

    # --- import ------------------------------------------------------------------------------

    def import_files(self, paths: Sequence[Path]) -> None:
        """Import the files in one transaction; show the outcome or every problem."""
        self.importer.import_files(paths)

    def _after_import(self) -> None:
        self._update_practice()
        self.data_changed.notify(PATIENT_DATA, STAFF_DATA, TIME, PRACTICE_DATA, PAYER_DATA)
        self.data_changed.flush()  # before the outcome's message box: the list shows it all

    # --- events ------------------------------------------------------------------------------

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if not self._warmed_up:
            self._warmed_up = True
            self._warm_timer.start()
            # After an unclean exit, offer back the stopwatch that was left running.
            QTimer.singleShot(0, self.stopwatch.recover)
            if self._state.get(MINI_TIMER):
                self.mini_action.setChecked(True)

    def _postpone_warm_up(self) -> None:
        if self._warm_timer.isActive():
            self._warm_timer.start()  # restarts the interval

    def _warm_up(self) -> None:
        """Read the ICD-10-CM table in the background once the window is up, so the first
        patient opened does not wait for it."""
        from ccmdesk.rules import icd10

        self.runner.run(icd10.table_version, lambda _version: None, lambda _error: None)

    # --- locking ------------------------------------------------------------------------------

    def lock(self, automatic: bool = False) -> LockScreen:
        """Cover ccmdesk's windows until their person unlocks (see LockController)."""
        return self.locking.lock(automatic)

    @property
    def lock_screen(self) -> LockScreen | None:
        return self.locking.lock_screen

    @property
    def locked(self) -> bool:
        return self.locking.locked

    def restored(self, what: str) -> None:
        """A backup replaced the database: every figure on screen is from the one replaced."""
        show_info(self, f"{what} ccmdesk closes now; start it again.")
        self.settle_running_timer = lambda **_: True  # type: ignore[method-assign]
        self.close()

    def _record_sign_out(self) -> None:
        try:
            self.services.auth.signed_out(self._actor)
        except ServiceError as error:  # the trail refusing must not keep anyone signed in
            log.warning("could not record the sign-out: %s", type(error).__name__)

    def change_password(self) -> QDialog:
        from ccmdesk.ui.passwords import PasswordDialog

        dialog = PasswordDialog(self.services, self._actor, self._actor.key, self._actor.name, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open()
        return dialog

    def change_pin(self) -> QDialog:
        from ccmdesk.ui.passwords import PinDialog

        dialog = PinDialog(self.services, self._actor, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open()
        return dialog

    def closeEvent(self, event: QCloseEvent) -> None:
        if self.locked:
            event.ignore()  # closing would ask about the stopwatch, naming the patient
            return
        # Pausing a stopwatch nobody watched since a crash would keep all that time: it is
        # left running for the recovery question at the next start instead.
        if self.stopwatch.watching and not self.settle_running_timer(switching=False):
            event.ignore()
            return
        self._warm_timer.stop()
        self.auto_lock.stop()
        self.data_changed.flush()
        self._record_sign_out()
        self.tray.hide()
        self.global_shortcut.release()  # the desktop has the combination back at once
        if self.mini_timer is not None:
            self.mini_timer.close()
        super().closeEvent(event)

    def settle_running_timer(self, *, switching: bool) -> bool:
        """Closing or switching user with a stopwatch running: pause it, or stop and save it;
        False to stay as things are."""
        running = self.stopwatch.running
        assert running is not None
        why = (
            "Once someone else signs in, nothing watches it for idle time"
            if switching
            else "A closed ccmdesk cannot watch for idle time"
        )
        box = QMessageBox(
            QMessageBox.Icon.Question,
            "A stopwatch is running",
            f"Your stopwatch for {running.patient_name} is running. {why}, so it is paused "
            "or stopped first.",
            QMessageBox.StandardButton.NoButton,
            self,
        )
        pause = box.addButton(
            "Pause it and switch" if switching else "Pause it and quit",
            QMessageBox.ButtonRole.AcceptRole,
        )
        stop = box.addButton("Stop and save…", QMessageBox.ButtonRole.AcceptRole)
        box.addButton(QMessageBox.StandardButton.Cancel)
        box.setDefaultButton(pause)
        box.exec()
        if box.clickedButton() is pause:
            return self.stopwatch.pause()
        if box.clickedButton() is stop:
            return self.stopwatch.stop_and_save(running)
        return False

    # --- the stopwatch -----------------------------------------------------------------------

    def _patients_page(self) -> PatientsPage:
        page = self.pages[PATIENTS]
        assert isinstance(page, PatientsPage)
        return page

    def _chosen_mrn(self) -> str | None:
        """The patient the keyboard shortcuts act on: the one chosen on the current page."""
        if self.current_page() == PATIENTS:
            return self._patients_page().current_mrn()
        if self.current_page() == WORKLIST:
            page = self.pages.get(WORKLIST)
            return page.current_mrn() if isinstance(page, WorklistPage) else None
        return None

    def toggle_timer(self, service: str = "ccm") -> None:
        """Ctrl+Space (CCM) and Ctrl+Shift+Space (BHI): start the chosen patient's stopwatch
        timing that service, or stop and save the running one."""
        if self.stopwatch.can_record:
            self.stopwatch.toggle(self._chosen_mrn(), service)

    def pause_timer(self) -> None:
        if self.stopwatch.can_record:
            self.stopwatch.pause_or_resume(self._chosen_mrn())

    def start_timer(self, mrn: str, callback_id: int | None = None) -> None:
        """Start the patient's stopwatch (from the worklist); `callback_id`: the callback the
        call answers, linked to the stopwatch started."""
        if self.stopwatch.start(mrn, callback_id=callback_id):
            self.open_patient(mrn)

    def open_patient(self, mrn: str) -> None:
        """Show the patient's page: the list with their panel beside it."""
        self.show_page(PATIENTS)
        self._patients_page().show_patient(mrn)
        self.raise_()
        self.activateWindow()

    def global_shortcut_pressed(self) -> None:
        """The global shortcut, pressed in any program: stop and save the running stopwatch
        (ccmdesk comes forward with the Stop dialog), else start the last patient's where the
        nurse is (ccmdesk stays behind; the tray and status line say so)."""
        if self.locked:
            if self.lock_screen is not None:
                _bring_forward(self.lock_screen)  # nothing starts for whoever is at the keys
            return
        question = QApplication.activeModalWidget()
        if question is not None:
            _bring_forward(self)
            _bring_forward(question)  # a question is open: it is answered first
            return
        if not self.stopwatch.can_record:
            _bring_forward(self)
            show_info(self, "Your role records no time, so the global shortcut does nothing.")
            return
        last = self.stopwatch.last_patient()
        if last is None:
            _bring_forward(self)
            show_info(self, NO_LAST_PATIENT)
            return
        if last.state == "running":
            _bring_forward(self)
            self.stopwatch.stop_and_save(last)
            return
        if self.stopwatch.start(last.mrn, last.service):
            said = f"Stopwatch started for {last.patient_name}."
            self.statusBar().showMessage(said, STARTED_MESSAGE_MS)
            if self.tray.isVisible():
                self.tray.showMessage("ccmdesk", said, self.tray.icon(), STARTED_MESSAGE_MS)
        else:
            _bring_forward(self)  # the refusal's message is on it

    def choose_global_shortcut(self) -> GlobalShortcutDialog:
        """Stopwatch ▸ Global shortcut…: this workstation's combination, or off."""
        data_dir = self._data_dir

        def save(text: str) -> None:
            if data_dir is not None:
                write_setting(data_dir, GLOBAL_SHORTCUT, text)

        current = self.global_shortcut.combination
        saved = global_shortcut(data_dir) if data_dir is not None else ""
        dialog = GlobalShortcutDialog(
            self.global_shortcut, current.text if current else saved, save, self
        )
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open()
        return dialog

    def _sync_on_call(self) -> None:
        self.on_call_action.blockSignals(True)
        self.on_call_action.setChecked(self.stopwatch.on_call)
        self.on_call_action.blockSignals(False)

    def show_mini_timer(self, on: bool) -> None:
        if on and self.mini_timer is None:
            self.mini_timer = MiniTimer(self.stopwatch, self)
            self.mini_timer.open_requested.connect(self.open_patient)
            self.mini_timer.closed.connect(lambda: self.mini_action.setChecked(False))
        if self.mini_timer is not None:
            self.mini_timer.setVisible(on)
        self._state.set(MINI_TIMER, "1" if on else "")


def _bring_forward(widget: QWidget) -> None:
    """Up from the taskbar and in front of the program the person is in (where the window
    manager allows a program to take the focus)."""
    if widget.isMinimized():
        widget.showNormal()
    widget.raise_()
    widget.activateWindow()


def _is_page(widget: QWidget) -> bool:
    return callable(getattr(widget, "refresh", None)) and callable(getattr(widget, "clear", None))
