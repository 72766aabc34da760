"""Locking the screen: covering ccmdesk's windows until their person unlocks or another signs in."""

from __future__ import annotations

import logging
from collections.abc import Callable

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QApplication, QDialog, QMainWindow, QWidget

from ccmdesk.services import Actor, ServiceError, Services
from ccmdesk.ui.forms import drop_held_messages, hold_messages
from ccmdesk.ui.idle import IdleSource
from ccmdesk.ui.lock import AutoLock, Cover, LockScreen, top_level_windows
from ccmdesk.ui.stopwatch import StopwatchController
from ccmdesk.ui.stopwatch_dialogs import clock_text
from ccmdesk.ui.stopwatch_views import TrayTimer

log = logging.getLogger(__name__)


class LockController(QObject):
    """The lock screen, the covers over the other windows, and the automatic lock."""

    def __init__(
        self,
        window: QMainWindow,
        services: Services,
        actor: Callable[[], Actor],
        stopwatch: StopwatchController,
        tray: TrayTimer,
        idle_source: IdleSource,
        *,
        mini_timer: Callable[[], QWidget | None],
        signed_out: Callable[[], None],
        switched: Callable[[Actor], None],
    ) -> None:
        super().__init__(window)
        self._window = window
        self._services = services
        self._actor = actor
        self._stopwatch = stopwatch
        self._tray = tray
        self._mini_timer = mini_timer
        self._signed_out = signed_out
        self._switched = switched
        self.lock_screen: LockScreen | None = None
        self._covers: list[Cover] = []
        self._titles: dict[QWidget, str] = {}
        self._mini_was_shown = False
        self.auto_lock = AutoLock(idle_source, services.practice.auto_lock_minutes(), self)
        self.auto_lock.due.connect(self.lock)

    @property
    def locked(self) -> bool:
        return self.lock_screen is not None

    def lock(self, automatic: bool = False) -> LockScreen:
        """Cover ccmdesk's windows (patient data hidden) until its person unlocks, or someone
        else signs in; a running stopwatch keeps running and shows its time only."""
        if self.lock_screen is not None:
            return self.lock_screen
        actor = self._actor()
        try:
            self._services.auth.screen_locked(actor, automatic=automatic)
        except ServiceError as error:  # the lock comes down whatever the trail says
            log.warning("could not record the screen lock: %s", type(error).__name__)
        self.auto_lock.stop()
        self._stopwatch.hold_questions(True)
        hold_messages(True)
        screen = LockScreen(self._services, actor, self._locked_time, self._window)
        mini = self._mini_timer()
        for window in top_level_windows(excluding=screen):
            if window is mini:
                self._mini_was_shown = True
                window.hide()
                continue
            self._titles[window] = window.windowTitle()
            window.setWindowTitle("ccmdesk — locked")
            self._covers.append(Cover(window))
        self._tray.set_private(True)
        screen.unlocked.connect(lambda _actor: self.unlocked())
        screen.switched.connect(self._switched_while_locked)
        screen.setGeometry(self._window.geometry())
        self.lock_screen = screen
        # show(), not open(): open() would make it modal to this window only, and a dialog
        # left open would then still take keys beside the lock screen.
        screen.show()
        return screen

    def _locked_time(self) -> str:
        timer = self._stopwatch.shown
        if timer is None:
            return ""
        state = "running" if timer.state == "running" else "paused"
        return f"Stopwatch {state} · {clock_text(self._stopwatch.seconds(timer))}"

    def unlocked(self) -> None:
        """Take the covers off and watch for idleness again."""
        for cover in self._covers:
            cover.remove()
        self._covers.clear()
        for window, title in self._titles.items():
            window.setWindowTitle(title)
        self._titles.clear()
        self._tray.set_private(False)
        mini = self._mini_timer()
        if self._mini_was_shown and mini is not None:
            mini.show()
        self._mini_was_shown = False
        if self.lock_screen is not None:
            self.lock_screen.dismiss()
            self.lock_screen = None
        self.auto_lock.start()
        self._stopwatch.hold_questions(False)
        hold_messages(False)

    def _switched_while_locked(self, actor: Actor) -> None:
        """Someone else signed in at the lock screen: what the first person had open closes
        unsaved (it was theirs), and their stopwatch stays theirs, running; nothing here
        watches it any more, so they are asked about its time when they next sign in."""
        screen = self.lock_screen
        self._stopwatch.forget_held()  # first: rejecting the idle question would answer it
        drop_held_messages()
        for window in QApplication.topLevelWidgets():
            if isinstance(window, QDialog) and window.isVisible() and window is not screen:
                window.reject()
        self._signed_out()
        self.unlocked()
        self._switched(actor)
        self._stopwatch.recover()

    def settings_changed(self) -> None:
        self.auto_lock.minutes = self._services.practice.auto_lock_minutes()
