"""The lock screen: ccmdesk covered while its person is away, and the inactivity that locks it."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import (
    QApplication,
    QDialog,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from ccmdesk.rules.validation import STAFF_TEXT_LIMITS
from ccmdesk.services import Actor, ServiceError, Services
from ccmdesk.services.auth import PinState
from ccmdesk.ui.forms import FieldErrorLabel, plain
from ccmdesk.ui.idle import IdleSource
from ccmdesk.ui.sign_in import password_field

CHECK_MS = 5_000  # how often inactivity is looked at: a lock may come up to 5 s late
PIN_OFF = (
    "Your PIN is off: too many wrong attempts locked your account. Unlock with your password; "
    "the PIN works again after that."
)


class LockScreen(QDialog):
    """Shown over ccmdesk while it is locked. It holds no patient data: the signed-in person's
    name, and a running stopwatch's elapsed time only.

    The same person unlocks with their password or PIN (`unlocked`; only the password once a
    lock-out has turned the PIN off); someone else may sign in with theirs instead (`switched`),
    and the first person's stopwatch stays theirs.
    """

    unlocked = Signal(object)  # the same Actor
    switched = Signal(object)  # another person's Actor

    def __init__(
        self,
        services: Services,
        actor: Actor,
        elapsed: Callable[[], str],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("lockScreen")
        self.setWindowTitle("ccmdesk — locked")
        self.setWindowModality(Qt.WindowModality.ApplicationModal)
        self._services = services
        self._actor = actor
        self._elapsed = elapsed
        self._open = True  # until unlocked: Esc and the close button are refused

        heading = QLabel("ccmdesk is locked")
        heading.setObjectName("lockHeading")
        who = plain(QLabel(f"{actor.name} is signed in."))
        who.setObjectName("lockWho")
        self.timer_label = QLabel()
        self.timer_label.setObjectName("lockTimer")
        self.secret = password_field("password_or_pin")
        self.secret.setMinimumWidth(260)
        self.pin_notice = QLabel(PIN_OFF)
        self.pin_notice.setObjectName("pinNotice")
        self.pin_notice.setWordWrap(True)
        self.unlock_button = QPushButton("Unlock")
        self.unlock_button.setObjectName("primaryButton")
        self.unlock_button.setDefault(True)
        self.error = FieldErrorLabel()
        unlock_row = QHBoxLayout()
        unlock_row.addWidget(self.secret, 1)
        unlock_row.addWidget(self.unlock_button)

        self.other_button = QPushButton("Sign in as someone else…")
        self.other_button.setObjectName("linkButton")
        self.other = QFrame()
        self.other_id = QLineEdit()
        self.other_id.setObjectName("other_staff_id")
        self.other_id.setMaxLength(STAFF_TEXT_LIMITS["staff_id"])
        self.other_id.setAccessibleName("Staff id")
        self.other_password = password_field("other_password")
        self.other_sign_in = QPushButton("Sign in")
        self.other_error = FieldErrorLabel()
        other_form = QFormLayout(self.other)
        other_form.addRow("Staff id", self.other_id)
        other_form.addRow("Password", self.other_password)
        other_form.addRow("", self.other_sign_in)
        other_form.addRow(self.other_error)
        self.other.setVisible(False)

        box = QFrame()
        box.setObjectName("lockBox")
        column = QVBoxLayout(box)
        column.setContentsMargins(28, 24, 28, 24)
        column.addWidget(heading)
        column.addWidget(who)
        column.addWidget(self.timer_label)
        column.addSpacing(8)
        column.addWidget(self.pin_notice)
        column.addLayout(unlock_row)
        column.addWidget(self.error)
        column.addSpacing(8)
        column.addWidget(self.other_button, 0, Qt.AlignmentFlag.AlignLeft)
        column.addWidget(self.other)
        box.setMinimumWidth(420)
        box.setMaximumWidth(480)
        outer = QVBoxLayout(self)
        outer.addStretch(1)
        outer.addWidget(box, 0, Qt.AlignmentFlag.AlignHCenter)
        outer.addStretch(2)

        self.unlock_button.clicked.connect(self.unlock)
        self.secret.returnPressed.connect(self.unlock)
        self.other_button.clicked.connect(self._show_other)
        self.other_sign_in.clicked.connect(self.sign_in_other)
        self.other_password.returnPressed.connect(self.sign_in_other)
        self._tick = QTimer(self)
        self._tick.setInterval(1000)
        self._tick.timeout.connect(self._show_time)
        self._tick.start()
        self._show_time()
        self._show_pin_state()
        self.secret.setFocus()

    def _show_pin_state(self) -> None:
        """Offer the PIN only while it works; say plainly when a lock-out has turned it off."""
        try:
            state = self._services.auth.pin_state(self._actor)
        except ServiceError:
            state = PinState.NONE  # the password always works: offer that
        self.secret.setPlaceholderText(
            "Your password or PIN" if state == PinState.ON else "Your password"
        )
        self.secret.setAccessibleName("Password or PIN" if state == PinState.ON else "Password")
        self.pin_notice.setVisible(state == PinState.OFF)

    def _show_time(self) -> None:
        text = self._elapsed()
        self.timer_label.setText(text)
        self.timer_label.setVisible(bool(text))

    def _show_other(self) -> None:
        self.other.setVisible(True)
        self.other_button.setVisible(False)
        self.other_id.setFocus()

    def unlock(self) -> None:
        try:
            actor = self._services.auth.unlock(self._actor, self.secret.text())
        except ServiceError as error:
            self.error.set_error(str(error))
            self.secret.clear()
            self._show_pin_state()
            self.secret.setFocus()
            return
        self._leave()
        self.unlocked.emit(actor)

    def sign_in_other(self) -> None:
        try:
            actor = self._services.auth.sign_in(self.other_id.text(), self.other_password.text())
        except ServiceError as error:
            self.other_error.set_error(str(error))
            self.other_password.clear()
            self.other_password.setFocus()
            return
        self._leave()
        self.switched.emit(actor)

    def _leave(self) -> None:
        self._tick.stop()
        self._open = False
        self.secret.clear()
        self.other_password.clear()
        self.done(QDialog.DialogCode.Accepted)

    def dismiss(self) -> None:
        """Gone for good: hidden now (a modal window lingers until deleted otherwise)."""
        if self._open:
            self._leave()
        self.deleteLater()

    def reject(self) -> None:
        pass  # Esc (QDialog's reject) does not unlock

    def closeEvent(self, event: QCloseEvent) -> None:
        if self._open:
            event.ignore()  # the window's close button does not unlock either
            return
        super().closeEvent(event)


class Cover(QWidget):
    """An opaque panel over one of ccmdesk's windows while it is locked; follows its size."""

    def __init__(self, window: QWidget) -> None:
        super().__init__(window)
        self.setObjectName("lockCover")
        # Painted by the style sheet (a plain QWidget paints no background of its own) and
        # opaque: nothing of the window shows through.
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        self.setAutoFillBackground(True)
        label = QLabel("ccmdesk is locked")
        label.setObjectName("lockHeading")
        layout = QVBoxLayout(self)
        layout.addWidget(label, 0, Qt.AlignmentFlag.AlignCenter)
        self._window = window
        window.installEventFilter(self)
        self.setGeometry(window.rect())
        self.raise_()
        self.show()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self._window and event.type() == QEvent.Type.Resize:
            self.setGeometry(self._window.rect())
            self.raise_()
        return False

    def remove(self) -> None:
        self._window.removeEventFilter(self)
        self.hide()
        self.deleteLater()


class AutoLock(QObject):
    """Locks after `minutes` without keyboard or mouse (the system's idle time where it can
    be asked, else ccmdesk's own windows'), and at once when the system locks its screen."""

    due = Signal(bool)  # automatic: True

    def __init__(self, idle: IdleSource, minutes: int, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._idle = idle
        self.minutes = minutes
        self._timer = QTimer(self)
        self._timer.setInterval(CHECK_MS)
        self._timer.timeout.connect(self.check)

    def start(self) -> None:
        self._timer.start()

    def stop(self) -> None:
        self._timer.stop()

    @property
    def active(self) -> bool:
        return self._timer.isActive()

    def check(self) -> None:
        if self._idle.locked() or self._idle.idle_seconds() >= self.minutes * 60:
            self.due.emit(True)


def top_level_windows(excluding: QWidget | None = None) -> list[QWidget]:
    """ccmdesk's visible windows (the lock screen itself aside)."""
    return [
        widget
        for widget in QApplication.topLevelWidgets()
        if widget.isVisible() and widget is not excluding and widget.isWindow()
    ]
