"""Reminders on screen: the minute check, the tray message, the Notifications panel and bell."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable

from PySide6.QtCore import QObject, Qt, QTime, QTimer, Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QApplication,
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSpinBox,
    QSystemTrayIcon,
    QTimeEdit,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from ccmdesk.rules.catalog import REMINDER_KINDS
from ccmdesk.rules.intervals import date_time_text
from ccmdesk.rules.reminders import LIMIT_RANGE, NUDGE_RANGE, ReminderSettings
from ccmdesk.services import Activity, Actor, Inbox, NotificationRow, Services
from ccmdesk.ui.background import TaskRunner
from ccmdesk.ui.forms import hint_label, show_failure
from ccmdesk.ui.idle import IdleSource

log = logging.getLogger(__name__)

CHECK_EVERY_MS = 60_000
# Input no older than this keeps a working stretch going; a longer pause ends it.
BREAK_SECONDS = 120
TRAY_MESSAGE_MS = 10_000


class ReminderController(QObject):
    """Asks the service every minute which reminders are due, on the window's TaskRunner (a
    once-a-day reminder evaluates a month), and tells the panel and the tray."""

    inbox_changed = Signal(object)  # Inbox
    raised = Signal(object)  # tuple[NotificationRow, ...]: new since the last check

    def __init__(
        self,
        services: Services,
        actor: Callable[[], Actor],
        runner: TaskRunner,
        idle: IdleSource,
        clock: Callable[[], dt.datetime],
        in_front: Callable[[], bool] | None = None,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._services = services
        self._actor = actor
        self._runner = runner
        self._idle = idle
        self._clock = clock
        self._in_front = in_front or _application_active
        self._active_since: dt.datetime | None = None
        self._busy = False
        self._generation = 0  # bumped by each switch of user (reload)
        self.inbox = Inbox((), 0)
        self.timer = QTimer(self)
        self.timer.setInterval(CHECK_EVERY_MS)
        self.timer.timeout.connect(self.check)

    def start(self) -> None:
        self.timer.start()
        self.check()

    def activity(self) -> Activity:
        """How long the person has worked in ccmdesk without a long pause, from the idle time
        sampled each minute; a pause or another window in front starts the count again."""
        now = self._clock()
        front = self._in_front()
        if not front or self._idle.locked() or self._idle.idle_seconds() > BREAK_SECONDS:
            self._active_since = None
            return Activity(0, front)
        if self._active_since is None:
            self._active_since = now
        return Activity(int((now - self._active_since).total_seconds() // 60), front)

    def check(self) -> None:
        if self._busy:  # the last check (a month's evaluation) is still on its way
            return
        actor = self._actor()
        activity = self.activity()
        self._busy = True
        # A switch of user starts a new generation: a check still on its way for the last
        # person then neither shows its answer nor frees the way for a second check beside
        # the new person's.
        generation = self._generation

        def done(inbox: object) -> None:
            if generation != self._generation:
                return
            self._busy = False
            if actor.key != self._actor().key:
                return  # someone else signed in meanwhile
            assert isinstance(inbox, Inbox)
            self._show(inbox)
            if inbox.raised:
                self.raised.emit(inbox.raised)

        def failed(error: BaseException) -> None:
            if generation != self._generation:
                return
            self._busy = False
            # A busy database: the next minute's check tries again.
            log.info("reminder check failed: %s", error)

        self._runner.run(lambda: self._services.notifications.check(actor, activity), done, failed)

    def reload(self) -> None:
        """The signed-in person's list again, and their reminders due now (after a switch of
        user: the next minute's tick is too late for someone who just sat down)."""
        self._active_since = None
        self._generation += 1
        self._busy = False  # a check still on its way was for the last person: dropped
        self._show(self._services.notifications.list(self._actor()))
        self.check()

    def mark_read(self, ids: list[int] | None = None) -> None:
        self._show(self._services.notifications.mark_read(self._actor(), ids))

    def _show(self, inbox: Inbox) -> None:
        self.inbox = inbox
        self.inbox_changed.emit(inbox)


def _application_active() -> bool:
    return QApplication.applicationState() == Qt.ApplicationState.ApplicationActive


class NotificationsPanel(QWidget):
    """The person's reminders, newest first, unread in bold; a click opens what it is about."""

    open_requested = Signal(str)  # the reminder's target
    my_reminders_requested = Signal()

    def __init__(
        self,
        controller: ReminderController,
        zone: Callable[[], dt.tzinfo],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("notificationsPanel")
        self._controller = controller
        self._zone = zone
        self.list = QListWidget()
        self.list.setObjectName("notificationList")
        self.list.setAccessibleName("Notifications")
        self.list.setWordWrap(True)
        self.list.setAlternatingRowColors(True)
        self.list.setSpacing(4)
        self.empty = hint_label("No reminders yet.")
        self.mark_all = QPushButton("Mark all read")
        self.mine = QPushButton("My reminders…")
        buttons = QHBoxLayout()
        buttons.addWidget(self.mark_all)
        buttons.addStretch(1)
        buttons.addWidget(self.mine)
        layout = QVBoxLayout(self)
        layout.addWidget(self.empty)
        layout.addWidget(self.list, 1)
        layout.addLayout(buttons)
        self.mark_all.clicked.connect(lambda: controller.mark_read(None))
        self.mine.clicked.connect(self.my_reminders_requested)
        self.list.itemActivated.connect(self._open)
        self.list.itemClicked.connect(self._open)
        controller.inbox_changed.connect(self.show_inbox)
        self.show_inbox(controller.inbox)

    def show_inbox(self, inbox: Inbox) -> None:
        self.list.clear()
        zone = self._zone()
        for row in inbox.rows:
            when = date_time_text(row.created_at.astimezone(zone))
            mark = "" if row.read else "\u25cf "  # unread: a dot as well as bold
            item = QListWidgetItem(f"{mark}{row.title}  \u00b7  {when}\n{row.body}")
            item.setData(Qt.ItemDataRole.UserRole, row)
            item.setToolTip(row.body)
            font = QFont(self.list.font())
            font.setBold(not row.read)
            item.setFont(font)
            self.list.addItem(item)
        self.empty.setVisible(not inbox.rows)
        self.mark_all.setEnabled(inbox.unread > 0)

    def _open(self, item: QListWidgetItem) -> None:
        row = item.data(Qt.ItemDataRole.UserRole)
        if not isinstance(row, NotificationRow):
            return
        if not row.read:
            self._controller.mark_read([row.id])
        if row.target:
            self.open_requested.emit(row.target)


class Bell(QToolButton):
    """The status bar's unread count; a click shows the Notifications panel."""

    def __init__(self, controller: ReminderController, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("notificationBell")
        self.setAutoRaise(True)
        controller.inbox_changed.connect(self.show_count)
        self.show_count(controller.inbox)

    def show_count(self, inbox: Inbox) -> None:
        self.setText(f"Notifications ({inbox.unread})" if inbox.unread else "Notifications")
        font = self.font()
        font.setBold(inbox.unread > 0)
        self.setFont(font)
        self.setToolTip(f"{inbox.unread} unread reminder(s): show the Notifications panel")
        self.setAccessibleName(self.toolTip())


def show_in_tray(tray: QSystemTrayIcon | None, rows: tuple[NotificationRow, ...]) -> bool:
    """Show the newest reminder (and how many came with it) as the tray's message, when the
    system has a tray; the panel keeps them all either way."""
    if tray is None or not rows or not tray.isVisible() or not tray.supportsMessages():
        return False
    first = rows[0]
    more = f"\n(+{len(rows) - 1} more in Notifications)" if len(rows) > 1 else ""
    tray.showMessage(
        first.title, first.body + more, QSystemTrayIcon.MessageIcon.Information, TRAY_MESSAGE_MS
    )
    return True


class MyRemindersDialog(QDialog):
    """One person turns reminders on or off for themself."""

    def __init__(self, services: Services, actor: Actor, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("My reminders — ccmdesk")
        self._services = services
        self._actor = actor
        practice_off = services.notifications.settings().off
        mine = services.notifications.my_off(actor)
        layout = QVBoxLayout(self)
        layout.addWidget(
            hint_label("The reminders you want from ccmdesk on this and every computer:")
        )
        self.boxes: dict[str, QCheckBox] = {}
        for kind, label in REMINDER_KINDS.items():
            box = QCheckBox(label)
            box.setObjectName(f"mine_{kind}")
            box.setChecked(kind not in mine)
            if kind in practice_off:
                box.setEnabled(False)
                box.setToolTip("Turned off for the whole practice (Practice settings)")
            self.boxes[kind] = box
            layout.addWidget(box)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.save)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)

    def save(self) -> None:
        off = {kind for kind, box in self.boxes.items() if not box.isChecked()}
        try:
            self._services.notifications.save_my_off(self._actor, off)
        except Exception as error:
            show_failure(self, error)
            return
        self.accept()


def _time(minute: int) -> QTime:
    return QTime(minute // 60 % 24, minute % 60) if minute < 24 * 60 else QTime(23, 59)


class RemindersBox(QGroupBox):
    """The Practice settings' "Reminders" section: each kind on or off for everyone, the
    stopwatch limit, the nudge's delay and the working day."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Reminders", parent)
        self.setObjectName("remindersBox")
        form = QFormLayout(self)
        form.addRow(
            hint_label(
                "Shown in the tray where the system has one, and always in the Notifications "
                "panel. Each person may turn off more for themself."
            )
        )
        self.kinds: dict[str, QCheckBox] = {}
        for kind, label in REMINDER_KINDS.items():
            box = QCheckBox(label)
            box.setObjectName(f"reminder_{kind}")
            self.kinds[kind] = box
            form.addRow(box)
        self.limit = QSpinBox()
        self.limit.setObjectName("stopwatch_limit_minutes")
        self.limit.setRange(*LIMIT_RANGE)
        self.limit.setSuffix(" minutes")
        self.limit.setMaximumWidth(140)
        self.nudge = QSpinBox()
        self.nudge.setObjectName("nudge_after_minutes")
        self.nudge.setRange(*NUDGE_RANGE)
        self.nudge.setSuffix(" minutes")
        self.nudge.setMaximumWidth(140)
        self.start = QTimeEdit()
        self.start.setObjectName("workday_start")
        self.start.setDisplayFormat("HH:mm")
        self.end = QTimeEdit()
        self.end.setObjectName("workday_end")
        self.end.setDisplayFormat("HH:mm")
        day = QWidget()
        day_row = QHBoxLayout(day)
        day_row.setContentsMargins(0, 0, 0, 0)
        day_row.addWidget(self.start)
        day_row.addWidget(QLabel("to"))
        day_row.addWidget(self.end)
        day_row.addStretch(1)
        for text, widget in (
            ("Stopwatch running longer than", self.limit),
            ('"Timing a call?" after', self.nudge),
            ("Working day", day),
        ):
            caption = QLabel(text)
            caption.setObjectName("formLabel")
            form.addRow(caption, widget)
        self.set_settings(ReminderSettings())

    def settings(self) -> ReminderSettings:
        def minute(edit: QTimeEdit) -> int:
            time = edit.time()
            return time.hour() * 60 + time.minute()

        return ReminderSettings(
            off=frozenset(k for k, box in self.kinds.items() if not box.isChecked()),
            stopwatch_limit_minutes=self.limit.value(),
            nudge_after_minutes=self.nudge.value(),
            workday_start_minute=minute(self.start),
            workday_end_minute=minute(self.end),
        )

    def set_settings(self, settings: ReminderSettings) -> None:
        for kind, box in self.kinds.items():
            box.setChecked(kind not in settings.off)
        self.limit.setValue(settings.stopwatch_limit_minutes)
        self.nudge.setValue(settings.nudge_after_minutes)
        self.start.setTime(_time(settings.workday_start_minute))
        self.end.setTime(_time(settings.workday_end_minute))
