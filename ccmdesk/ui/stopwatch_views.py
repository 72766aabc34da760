"""Where the stopwatch shows: the patient panel, the status bar, the tray and a mini timer."""

from __future__ import annotations

from PySide6.QtCore import QRect, Qt, Signal
from PySide6.QtGui import QAction, QCloseEvent, QColor, QFont, QIcon, QPainter, QPixmap
from PySide6.QtWidgets import (
    QCheckBox,
    QHBoxLayout,
    QLabel,
    QMenu,
    QPushButton,
    QSystemTrayIcon,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from ccmdesk.services import TimerState
from ccmdesk.ui.forms import ReasonDialog, ask_reason, plain
from ccmdesk.ui.stopwatch import StopwatchController
from ccmdesk.ui.stopwatch_dialogs import clock_text, service_tag

STATE_WORDS = {"running": "Running", "paused": "Paused"}


def elapsed_label(owner: QWidget, name: str, points: int) -> QLabel:
    """The stopwatch's running time, in `owner`'s font made large and bold."""
    label = QLabel("0:00")
    label.setObjectName(name)
    font = QFont(owner.font())
    font.setPointSize(points)
    font.setBold(True)
    label.setFont(font)
    return label


class StopwatchPanel(QWidget):
    """The patient page's stopwatch: large elapsed time and Start / Pause / Stop and save; for
    a patient with a behavioural-health condition, Start CCM and Start BHI side by side."""

    def __init__(self, controller: StopwatchController, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("stopwatchPanel")
        self._controller = controller
        self._mrn: str | None = None
        self._bhi = False  # the patient has a behavioural-health condition: BHI is offered
        self.elapsed = elapsed_label(self, "stopwatchElapsed", 30)
        self.state_label = QLabel()
        self.state_label.setObjectName("stopwatchState")
        self.state_label.setWordWrap(True)
        self.start_button = QPushButton("Start")
        self.start_button.setObjectName("primaryButton")
        self.start_button.setToolTip("Start timing this patient (Ctrl+Space)")
        # BHI is timed as quickly as CCM: one click, or Ctrl+Shift+Space (docs/billing-rules.md,
        # "General BHI"); the entry is saved with service `bhi`.
        self.bhi_button = QPushButton("Start BHI")
        self.bhi_button.setObjectName("bhiStartButton")
        self.bhi_button.setToolTip(
            "Start timing behavioural health integration (99484) for this patient "
            "(Ctrl+Shift+Space)"
        )
        self.pause_button = QPushButton("Pause")
        self.pause_button.setToolTip("Pause or resume (Ctrl+P)")
        self.stop_button = QPushButton("Stop and save…")
        self.stop_button.setToolTip("Stop and say what was done (Ctrl+Space)")
        self.discard_button = QPushButton("Discard…")
        self.discard_button.setObjectName("discardButton")
        self.discard_button.setToolTip("Throw this stopwatch away, saying why (started by mistake)")
        self.on_call = QCheckBox("On a call")
        self.on_call.setToolTip(
            "Phone calls have no keyboard activity: while this is on, no idle questions."
        )
        self.start_button.clicked.connect(self._start)
        self.bhi_button.clicked.connect(self._start_bhi)
        self.pause_button.clicked.connect(self._pause)
        self.stop_button.clicked.connect(self._stop)
        self.discard_button.clicked.connect(self.ask_discard)
        self.on_call.toggled.connect(controller.set_on_call)
        buttons = QHBoxLayout()
        for button in (self.start_button, self.bhi_button, self.pause_button, self.stop_button):
            buttons.addWidget(button)
        buttons.addSpacing(12)  # apart from Stop and save: not the button to hit by mistake
        buttons.addWidget(self.discard_button)
        buttons.addStretch(1)
        buttons.addWidget(self.on_call)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        top = QHBoxLayout()
        top.addWidget(self.elapsed)
        top.addWidget(self.state_label, 1)
        layout.addLayout(top)
        layout.addLayout(buttons)
        controller.changed.connect(self.update_view)
        controller.ticked.connect(self._update_time)
        self.update_view()

    def set_mrn(self, mrn: str | None, bhi: bool = False) -> None:
        """Show this patient's stopwatch; `bhi`: offer Start BHI beside Start CCM."""
        self._mrn = mrn
        self._bhi = bhi and mrn is not None
        self.update_view()

    @property
    def offers_bhi(self) -> bool:
        return self._bhi

    def timer(self) -> TimerState | None:
        return self._controller.timer_for(self._mrn) if self._mrn else None

    def _start(self) -> None:
        if self._mrn:
            self._controller.start(self._mrn)

    def _start_bhi(self) -> None:
        if self._mrn:
            self._controller.start(self._mrn, "bhi")

    def _pause(self) -> None:
        timer = self.timer()
        if timer is not None and timer.state == "running":
            self._controller.pause()
        elif timer is not None:
            self._controller.start(timer.mrn)

    def _stop(self) -> None:
        timer = self.timer()
        if timer is not None:
            self._controller.stop_and_save(timer)

    def ask_discard(self) -> ReasonDialog | None:
        """Ask why (required, kept in the audit trail), then throw this stopwatch away."""
        timer = self.timer()
        if timer is None:
            return None
        return ask_reason(
            self,
            "Discard a stopwatch",
            f"Discarding throws away the {clock_text(self._controller.seconds(timer))} on "
            f"{timer.patient_name}'s stopwatch: none of it counts. The stopwatch is kept, "
            "marked discarded, with your reason.",
            "Discard",
            lambda reason: self._controller.discard(timer, reason),
        )

    def _update_time(self) -> None:
        self.elapsed.setText(clock_text(self._controller.seconds(self.timer())))

    def update_view(self) -> None:
        timer = self.timer()
        can = self._controller.can_record and self._mrn is not None
        records = self._controller.can_record
        # Someone whose role records no time sees the sentence below, not a dead stopwatch.
        self.elapsed.setVisible(records)
        self.on_call.setVisible(records)
        self.start_button.setVisible(records and timer is None)
        self.start_button.setEnabled(can)
        self.start_button.setText("Start CCM" if self._bhi else "Start")
        self.bhi_button.setVisible(records and timer is None and self._bhi)
        self.bhi_button.setEnabled(can)
        self.pause_button.setVisible(timer is not None)
        self.pause_button.setText("Resume" if timer and timer.state == "paused" else "Pause")
        self.stop_button.setVisible(timer is not None)
        self.discard_button.setVisible(timer is not None)
        self.on_call.blockSignals(True)
        self.on_call.setChecked(self._controller.on_call)
        self.on_call.blockSignals(False)
        running = self._controller.running
        if not self._controller.can_record:
            text = "Your role does not record care-management time."
        elif timer is not None:
            # Which service it times, short enough to leave the panel its width.
            text = f"{STATE_WORDS[timer.state]} · timing {timer.service.upper()}"
        elif running is not None:
            text = f"Your stopwatch is running for {running.patient_name}."
        else:
            text = "Not timing this patient."
        self.state_label.setText(text)
        self.elapsed.setProperty("state", timer.state if timer else "idle")
        self.elapsed.style().unpolish(self.elapsed)
        self.elapsed.style().polish(self.elapsed)
        self._update_time()


class StatusTimer(QToolButton):
    """The status bar's view of the running stopwatch; a click opens its patient."""

    open_requested = Signal(str)

    def __init__(self, controller: StopwatchController, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("statusTimer")
        self.setAutoRaise(True)
        self._controller = controller
        controller.changed.connect(self.update_view)
        controller.ticked.connect(self.update_view)
        self.clicked.connect(self._open)
        self.update_view()

    def _open(self) -> None:
        timer = self._controller.shown
        if timer is not None:
            self.open_requested.emit(timer.mrn)

    def update_view(self) -> None:
        timer = self._controller.shown
        self.setVisible(timer is not None)
        if timer is None:
            return
        seconds = self._controller.seconds(timer)
        mark = "●" if timer.state == "running" else "❚❚"
        extra = len(self._controller.timers) - 1
        more = f"  (+{extra} paused)" if extra > 0 else ""
        tag = service_tag(timer)
        self.setText(f"{mark} {timer.patient_name}{tag} · {clock_text(seconds)}{more}")
        self.setToolTip(f"{STATE_WORDS[timer.state]}: MRN {timer.mrn}. Click to open the patient.")


def timer_icon(minutes: int | None, running: bool) -> QIcon:
    """A tray icon with the elapsed minutes on it, green while running."""
    pixmap = QPixmap(64, 64)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setBrush(QColor("#1f7a4d" if running else "#5b6b7a"))
    painter.setPen(Qt.PenStyle.NoPen)
    painter.drawEllipse(2, 2, 60, 60)
    painter.setPen(QColor("white"))
    font = QFont()
    font.setPixelSize(30 if minutes is not None and minutes < 100 else 22)
    font.setBold(True)
    painter.setFont(font)
    text = "" if minutes is None else str(minutes)
    painter.drawText(QRect(0, 0, 64, 64), Qt.AlignmentFlag.AlignCenter, text)
    painter.end()
    return QIcon(pixmap)


class TrayTimer(QSystemTrayIcon):
    """The tray icon: elapsed minutes, a tooltip with the patient, and pause / stop / open."""

    open_requested = Signal(str)

    def __init__(
        self, controller: StopwatchController, app_icon: QIcon, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self._controller = controller
        self._app_icon = app_icon
        self._minutes: int | None = -1
        self.menu = QMenu(parent)
        self.menu.setObjectName("trayMenu")
        self.title_action = self.menu.addAction("")
        self.title_action.setEnabled(False)
        self.menu.addSeparator()
        self.pause_action = QAction("Pause", self.menu)
        self.stop_action = QAction("Stop and save…", self.menu)
        self.open_action = QAction("Open patient", self.menu)
        for action in (self.pause_action, self.stop_action, self.open_action):
            self.menu.addAction(action)
        self.pause_action.triggered.connect(lambda: controller.pause_or_resume())
        self.stop_action.triggered.connect(lambda: controller.stop_and_save())
        self.open_action.triggered.connect(self._open)
        self.setContextMenu(self.menu)
        self.activated.connect(self._activated)
        controller.changed.connect(self.update_view)
        controller.ticked.connect(self.update_view)
        self.update_view()

    private = False  # while ccmdesk is locked: no patient names

    def set_private(self, private: bool) -> None:
        self.private = private
        self.update_view()

    def _open(self) -> None:
        timer = self._controller.shown
        if timer is not None and not self.private:
            self.open_requested.emit(timer.mrn)

    def _activated(self, reason: QSystemTrayIcon.ActivationReason) -> None:
        if reason == QSystemTrayIcon.ActivationReason.Trigger:
            self._open()

    def update_view(self) -> None:
        timer = self._controller.shown
        has = timer is not None
        for action in (self.pause_action, self.stop_action, self.open_action):
            action.setEnabled(has)
        if timer is None:
            self.title_action.setText("No stopwatch running")
            self.setToolTip("ccmdesk")
            if self._minutes is not None:
                self._minutes = None
                self.setIcon(self._app_icon)
            return
        seconds = self._controller.seconds(timer)
        self.pause_action.setText("Resume" if timer.state == "paused" else "Pause")
        if self.private:
            # Locked: the time only, and nothing to click through to the patient.
            for action in (self.pause_action, self.stop_action, self.open_action):
                action.setEnabled(False)
            self.title_action.setText(f"Stopwatch · {clock_text(seconds)}")
            self.setToolTip(f"ccmdesk is locked · stopwatch {clock_text(seconds)}")
        else:
            tag = service_tag(timer)
            self.title_action.setText(f"{timer.patient_name}{tag} · {clock_text(seconds)}")
            self.setToolTip(
                f"{timer.patient_name} (MRN {timer.mrn}): {clock_text(seconds)} "
                f"{STATE_WORDS[timer.state].lower()}"
            )
        minutes = seconds // 60
        if minutes != self._minutes or timer.state != "running":
            self._minutes = minutes
            self.setIcon(timer_icon(minutes, timer.state == "running"))


class MiniTimer(QWidget):
    """A small always-on-top window with the running stopwatch, for work in other programs."""

    open_requested = Signal(str)
    closed = Signal()

    def __init__(self, controller: StopwatchController, parent: QWidget | None = None) -> None:
        flags = Qt.WindowType.Tool | Qt.WindowType.WindowStaysOnTopHint
        super().__init__(parent, flags)
        self.setObjectName("miniTimer")
        self.setWindowTitle("ccmdesk stopwatch")
        self._controller = controller
        self.patient = plain(QLabel())
        self.patient.setObjectName("miniPatient")
        self.elapsed = elapsed_label(self, "miniElapsed", 18)
        self.pause_button = QPushButton("Pause")
        self.stop_button = QPushButton("Stop…")
        self.open_button = QPushButton("Open")
        self.pause_button.clicked.connect(lambda: controller.pause_or_resume())
        self.stop_button.clicked.connect(lambda: controller.stop_and_save())
        self.open_button.clicked.connect(self._open)
        row = QHBoxLayout()
        for button in (self.pause_button, self.stop_button, self.open_button):
            row.addWidget(button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(10, 8, 10, 8)
        layout.addWidget(self.patient)
        layout.addWidget(self.elapsed)
        layout.addLayout(row)
        controller.changed.connect(self.update_view)
        controller.ticked.connect(self.update_view)
        self.update_view()

    def _open(self) -> None:
        if (timer := self._controller.shown) is not None:
            self.open_requested.emit(timer.mrn)

    def update_view(self) -> None:
        timer = self._controller.shown
        for button in (self.pause_button, self.stop_button, self.open_button):
            button.setEnabled(timer is not None)
        if timer is None:
            self.patient.setText("No stopwatch running")
            self.elapsed.setText("—")
            return
        tag = service_tag(timer)
        self.patient.setText(f"{timer.patient_name}{tag} · {STATE_WORDS[timer.state]}")
        self.elapsed.setText(clock_text(self._controller.seconds(timer)))
        self.pause_button.setText("Resume" if timer.state == "paused" else "Pause")

    def closeEvent(self, event: QCloseEvent) -> None:
        self.closed.emit()
        super().closeEvent(event)
