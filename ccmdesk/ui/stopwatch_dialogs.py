"""The stopwatch's questions: stop and save, idle time, recovery after a crash, switching."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from PySide6.QtCore import (
    QDate,
    QEvent,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
    QTime,
    QTimer,
)
from PySide6.QtGui import QFocusEvent, QKeyEvent, QMouseEvent
from PySide6.QtWidgets import (
    QApplication,
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QCompleter,
    QDateEdit,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QRadioButton,
    QTimeEdit,
    QVBoxLayout,
    QWidget,
)

from ccmdesk.rules.text import fold
from ccmdesk.rules.validation import REASON_LIMIT, SERVICES
from ccmdesk.services import Actor, PatientRow, ServiceError, Services, TimerState
from ccmdesk.services.activity import IdleBegan
from ccmdesk.services.time.records import EntryRow
from ccmdesk.ui.forms import FieldErrorLabel, plain, refusal_text

SERVICE_LABELS = {
    "ccm": "CCM — chronic care management",
    "pcm": "PCM — principal care management",
    "tcm": "TCM — transitional care management",
    "rpm": "RPM — remote physiologic monitoring",
    "bhi": "BHI — behavioral health integration",
}


def service_tag(timer: TimerState) -> str:
    """What a compact view adds after the patient's name: nothing for CCM, the common case,
    else the service the stopwatch times (" · BHI")."""
    return "" if timer.service == "ccm" else f" · {timer.service.upper()}"


def clock_text(seconds: int) -> str:
    """Elapsed time as m:ss, or h:mm:ss from an hour on."""
    hours, rest = divmod(max(0, seconds), 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def local_time(instant: dt.datetime, zone: dt.tzinfo) -> str:
    return instant.astimezone(zone).strftime("%H:%M")


def local_stamp(instant: dt.datetime, zone: dt.tzinfo) -> str:
    return instant.astimezone(zone).strftime("%a %d %b %Y, %H:%M")


@dataclass(frozen=True)
class StopDetails:
    """What the nurse says about the time just recorded."""

    activity: str
    service: str
    face_to_face: bool
    note: str


class _EnterSaves(QObject):
    """In the note box, Enter saves the dialog and Shift+Enter starts a new line."""

    def __init__(self, dialog: QDialog) -> None:
        super().__init__(dialog)
        self._dialog = dialog

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.KeyPress:
            assert isinstance(event, QKeyEvent)
            enter = event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter)
            if enter and not event.modifiers() & Qt.KeyboardModifier.ShiftModifier:
                self._dialog.accept()
                return True
        return False


class StopDialog(QDialog):
    """Stop and save: activity, service, face to face and a note; Enter saves."""

    def __init__(
        self,
        timer: TimerState,
        seconds: int,
        activities: Sequence[str],
        zone: dt.tzinfo,
        *,
        activity: str = "",
        end: dt.datetime | None = None,
        typed: StopDetails | None = None,
        refusal: str = "",
        live: Callable[[], int] | None = None,
        parent: QWidget | None = None,
    ) -> None:
        """`typed` and `refusal`: what was entered before a refused save, and why it was.
        `live`: the stopwatch's elapsed seconds now, for a stop at the moment Save is pressed;
        the recorded time shown then follows the stopwatch, so what is saved is what was seen."""
        super().__init__(parent)
        self.setObjectName("stopDialog")
        self.setWindowTitle("Stop and save")
        self.setMinimumWidth(460)
        heading = plain(QLabel(f"{timer.patient_name} · MRN {timer.mrn}"))
        heading.setObjectName("dialogHeading")
        ending = f" (ending at {local_time(end, zone)})" if end is not None else ""
        self._since = f" recorded since {local_time(timer.started_at, zone)}{ending}"
        self.summary = summary = QLabel()
        summary.setObjectName("stopSummary")
        self._seconds = live or (lambda: seconds)
        self.show_time()
        # A stop "now" ends when Save is pressed: the time shown runs on until then.
        self.live_timer = QTimer(self)
        self.live_timer.setInterval(1000)
        self.live_timer.timeout.connect(self.show_time)
        if live is not None:
            self.live_timer.start()
        self.activity = QComboBox()
        self.activity.addItems(list(activities))
        if activity in activities:
            self.activity.setCurrentText(activity)
        self.service = QComboBox()
        for value in SERVICES:
            self.service.addItem(SERVICE_LABELS[value], value)
        # What the stopwatch was started for (Start BHI, say): saved as that unless changed.
        self.service.setCurrentIndex(self.service.findData(timer.service))
        self.face_to_face = QCheckBox("Face to face with the patient (not counted as CCM time)")
        self.note = QPlainTextEdit()
        self.note.setPlaceholderText("What was done (Shift+Enter for a new line)")
        self.note.setFixedHeight(84)
        self.note.installEventFilter(_EnterSaves(self))
        self.refusal = FieldErrorLabel()
        self.refusal.set_error(refusal)
        if typed is not None:
            if self.activity.findText(typed.activity) < 0:
                self.activity.addItem(typed.activity)
            self.activity.setCurrentText(typed.activity)
            self.service.setCurrentIndex(self.service.findData(typed.service))
            self.face_to_face.setChecked(typed.face_to_face)
            self.note.setPlainText(typed.note)
        form = QFormLayout()
        form.addRow("Activity", self.activity)
        form.addRow("Service", self.service)
        form.addRow("", self.face_to_face)
        form.addRow("Note", self.note)
        buttons = QDialogButtonBox()
        self.save_button = buttons.addButton("Save", QDialogButtonBox.ButtonRole.AcceptRole)
        self.save_button.setDefault(True)
        self.save_button.setObjectName("primaryButton")
        # A stop at a given end answers a question (idle time, a stopwatch left running): not
        # saving goes back to that question, not on with the timing.
        self.cancel_button = buttons.addButton(
            "Keep timing" if end is None else "Back", QDialogButtonBox.ButtonRole.RejectRole
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(heading)
        layout.addWidget(summary)
        layout.addLayout(form)
        layout.addWidget(self.refusal)
        layout.addWidget(buttons)
        self.activity.setFocus()

    def show_time(self) -> None:
        self.summary.setText(f"<b>{clock_text(self._seconds())}</b>{self._since}")

    def done(self, result: int) -> None:
        self.live_timer.stop()
        self.show_time()  # the time as it stood when the answer was given
        super().done(result)

    def details(self) -> StopDetails:
        return StopDetails(
            activity=self.activity.currentText(),
            service=str(self.service.currentData()),
            face_to_face=self.face_to_face.isChecked(),
            note=self.note.toPlainText().strip(),
        )


IDLE_HEADINGS = {
    "inactive": "No keyboard or mouse activity since {since}",
    "locked": "The screen was locked at {since}",
    "sleep": "The computer was asleep (or its clock jumped) from {since}",
}


class IdleDialog(QDialog):
    """On return from idle time: keep it (with a reason), discard it, or stop where it began.

    When idleness began before any time was recorded, stopping there would save nothing (the
    save is refused), so the last choice throws the stopwatch away instead."""

    KEEP, DISCARD, STOP, DISCARD_ENTRY = "keep", "discard", "stop", "discard_entry"

    def __init__(
        self,
        timer: TimerState,
        idle: IdleBegan,
        zone: dt.tzinfo,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("idleDialog")
        self.setWindowTitle("Idle time on the stopwatch")
        self.setMinimumWidth(480)
        self.idle = idle
        self.entry_id = timer.entry_id
        self._timer = timer
        self._zone = zone
        self.heading = plain(QLabel())
        self.heading.setObjectName("dialogHeading")
        self.heading.setWordWrap(True)
        about = QLabel(
            f"The stopwatch for {timer.patient_name} (MRN {timer.mrn}) kept running. "
            "What should happen to the time since then?"
        )
        about.setWordWrap(True)
        self.keep = QRadioButton("Keep it: I was working for this patient")
        self.reason = QLineEdit()
        self.reason.setPlaceholderText("Why (required), e.g. on the phone with the pharmacy")
        self.reason.setMaxLength(REASON_LIMIT)
        self.reason_error = FieldErrorLabel()
        self.discard = QRadioButton("Discard it: the stopwatch goes on from now without it")
        self.stop = QRadioButton()
        self._show_since()
        self.choice = QButtonGroup(self)
        for button in (self.keep, self.discard, self.stop):
            self.choice.addButton(button)
        self.discard.setChecked(True)
        self.reason.textEdited.connect(lambda _: self.keep.setChecked(True))
        self.keep.toggled.connect(self._keep_toggled)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok)
        buttons.accepted.connect(self.accept)
        layout = QVBoxLayout(self)
        layout.addWidget(self.heading)
        layout.addWidget(about)
        layout.addWidget(self.discard)
        layout.addWidget(self.keep)
        indent = QVBoxLayout()
        indent.setContentsMargins(24, 0, 0, 0)
        indent.addWidget(self.reason)
        indent.addWidget(self.reason_error)
        layout.addLayout(indent)
        layout.addWidget(self.stop)
        layout.addWidget(buttons)

    def _keep_toggled(self, on: bool) -> None:
        if not on:
            self.reason_error.set_error("")  # the reason is asked only when keeping

    def _show_since(self) -> None:
        since = local_time(self.idle.since, self._zone)
        self.heading.setText(IDLE_HEADINGS[self.idle.kind].format(since=since))
        if self.nothing_before_idle():
            self.stop.setText("Throw this stopwatch away: no time was recorded before then")
        else:
            self.stop.setText(f"Stop the stopwatch at {since} and save")

    def nothing_before_idle(self) -> bool:
        """True when the stopwatch holds no whole second from before the idle time began."""
        since = self.idle.since.replace(microsecond=0)  # as the service stores it
        last = len(self._timer.segments) - 1
        before = 0
        for index, (start, end) in enumerate(self._timer.segments):
            if index == last and self._timer.state == "running":
                end = since  # a running stretch was read at its start; it ran on past `since`
            before += max(0, int((min(end, since) - start).total_seconds()))
        return before < 1

    def set_idle(self, idle: IdleBegan, timer: TimerState | None = None) -> None:
        """The computer's clock went back while the question waited: the idle time now
        begins at another reading of the clock, and the stopwatch's stretches moved with it
        (`timer`, read again), so what lies before the idle time is judged on one clock."""
        self.idle = idle
        if timer is not None:
            self._timer = timer
        self._show_since()

    def chosen(self) -> str:
        if self.keep.isChecked():
            return self.KEEP
        if not self.stop.isChecked():
            return self.DISCARD
        return self.DISCARD_ENTRY if self.nothing_before_idle() else self.STOP

    def accept(self) -> None:
        if self.chosen() == self.KEEP and not self.reason.text().strip():
            self.reason_error.set_error("Say why the idle time belongs to this patient.")
            self.reason.setFocus()
            return
        super().accept()

    def reject(self) -> None:
        # Escape or the close button would leave the question hanging over a running timer:
        # an answer is needed, and the choice already selected is the gentlest one.
        self.accept()


class RecoveryDialog(QDialog):
    """After an unclean exit: keep the stopwatch (through now), stop at the last heartbeat, or
    discard it."""

    def __init__(
        self,
        timer: TimerState,
        now: dt.datetime,
        zone: dt.tzinfo,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("recoveryDialog")
        self.setWindowTitle("A stopwatch was left running")
        self.setMinimumWidth(500)
        beat = timer.last_heartbeat_at or timer.started_at
        closed = sum(int((b - a).total_seconds()) for a, b in timer.segments[:-1])
        open_start = timer.segments[-1][0]
        to_beat = closed + max(0, int((beat - open_start).total_seconds()))
        to_now = closed + max(0, int((now - open_start).total_seconds()))
        self.choice = ""
        heading = plain(
            QLabel(f"ccmdesk ended while timing {timer.patient_name} (MRN {timer.mrn})")
        )
        heading.setObjectName("dialogHeading")
        heading.setWordWrap(True)
        about = QLabel(
            f"The stopwatch started {local_stamp(timer.started_at, zone)}; it was last seen "
            f"running at {local_stamp(beat, zone)}."
        )
        about.setWordWrap(True)
        self.keep_button = QPushButton(f"Keep it running ({clock_text(to_now)} through now)")
        self.stop_button = QPushButton(
            f"Stop it at {local_time(beat, zone)} ({clock_text(to_beat)})"
        )
        self.discard_button = QPushButton("Discard it")
        # Nothing recorded before it was last seen running (ccmdesk ended within its first
        # heartbeat): a stop there would save no time and be refused, so it is not offered.
        self.nothing_to_stop = to_beat == 0
        self.stop_button.setVisible(not self.nothing_to_stop)
        if self.nothing_to_stop:
            self.discard_button.setText("Discard it: no time was recorded before then")
        gentlest = self.discard_button if self.nothing_to_stop else self.stop_button
        gentlest.setDefault(True)
        gentlest.setObjectName("primaryButton")
        for button, choice in (
            (self.keep_button, "keep"),
            (self.stop_button, "stop_at_heartbeat"),
            (self.discard_button, "discard"),
        ):
            button.clicked.connect(lambda _=False, c=choice: self._choose(c))
        layout = QVBoxLayout(self)
        layout.addWidget(heading)
        layout.addWidget(about)
        hint = QLabel("Whatever you choose is recorded in the audit trail.")
        hint.setObjectName("hint")
        layout.addWidget(hint)
        for button in (self.stop_button, self.keep_button, self.discard_button):
            layout.addWidget(button)

    def _choose(self, choice: str) -> None:
        self.choice = choice
        self.accept()

    def reject(self) -> None:
        # Escape stops at the last heartbeat, the choice that never counts unseen time; with
        # nothing before it, discarding is that choice.
        self._choose("discard" if self.nothing_to_stop else "stop_at_heartbeat")


class SwitchDialog(QDialog):
    """Another patient's stopwatch is running: pause it, stop and save it, or cancel."""

    PAUSE, STOP = "pause", "stop"

    def __init__(
        self, running: TimerState, seconds: int, patient_name: str, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setObjectName("switchDialog")
        self.setWindowTitle("A stopwatch is running")
        self.choice = ""
        text = QLabel(
            f"Your stopwatch for {running.patient_name} (MRN {running.mrn}) is running "
            f"({clock_text(seconds)}). One stopwatch runs at a time; what should happen to it "
            f"before {patient_name}'s starts?"
        )
        text.setWordWrap(True)
        self.pause_button = QPushButton(f"Pause {running.patient_name}")
        self.stop_button = QPushButton(f"Stop and save {running.patient_name}…")
        self.cancel_button = QPushButton("Cancel")
        self.pause_button.setDefault(True)
        self.pause_button.clicked.connect(lambda: self._choose(self.PAUSE))
        self.stop_button.clicked.connect(lambda: self._choose(self.STOP))
        self.cancel_button.clicked.connect(self.reject)
        buttons = QDialogButtonBox()
        buttons.addButton(self.pause_button, QDialogButtonBox.ButtonRole.AcceptRole)
        buttons.addButton(self.stop_button, QDialogButtonBox.ButtonRole.AcceptRole)
        buttons.addButton(self.cancel_button, QDialogButtonBox.ButtonRole.RejectRole)
        layout = QVBoxLayout(self)
        layout.addWidget(text)
        layout.addWidget(buttons)
        self.setMinimumWidth(460)

    def _choose(self, choice: str) -> None:
        self.choice = choice
        self.accept()


@dataclass(frozen=True)
class ManualDetails:
    """A span of time typed by hand, as UTC instants, with what was done and why."""

    start: dt.datetime
    end: dt.datetime
    activity: str
    service: str
    face_to_face: bool
    note: str
    reason: str


class TimeField(QTimeEdit):
    """HH:MM:SS where typing over the whole selected time replaces it, as in a text field.

    QTimeEdit alone puts typed digits into the section under the cursor, so typing 02:50:00
    over a selected 03:03:00 gave 03:50:00. Here digits typed over the whole time start a new
    entry, read left to right (02, then 50, then 00); any other key ends it."""

    def __init__(self, time: QTime, parent: QWidget | None = None) -> None:
        super().__init__(time, parent)
        self.setDisplayFormat("HH:mm:ss")
        self._typed: str | None = None  # digits of a new entry, while one is being typed

    def keyPressEvent(self, event: QKeyEvent) -> None:
        text = event.text()
        line = self.lineEdit()
        whole = line.hasSelectedText() and line.selectedText() == line.text()
        if text.isdigit() and len(text) == 1 and (whole or self._typed is not None):
            self._type(("" if whole else self._typed or "") + text)
            return
        if self._typed is not None and text == ":":
            return  # the separators are there already
        if self._typed and event.key() == Qt.Key.Key_Backspace:
            self._type(self._typed[:-1])
            return
        self._typed = None
        super().keyPressEvent(event)

    def focusOutEvent(self, event: QFocusEvent) -> None:
        self._typed = None
        super().focusOutEvent(event)

    def mousePressEvent(self, event: QMouseEvent) -> None:
        self._typed = None
        super().mousePressEvent(event)

    def _type(self, digits: str) -> None:
        padded = digits.ljust(6, "0")
        hours, minutes, seconds = int(padded[0:2]), int(padded[2:4]), int(padded[4:6])
        if len(digits) > 6 or hours > 23 or minutes > 59 or seconds > 59:
            QApplication.beep()  # not a time of day: the keystroke is refused
            return
        self._typed = digits
        self.setTime(QTime(hours, minutes, seconds))
        # The cursor follows the typing, past the separators it has reached.
        self.lineEdit().setCursorPosition(len(digits) + min(2, len(digits) // 2))


@dataclass(frozen=True)
class PatientChoice:
    """A patient the manual-entry dialog's chooser offers: what it shows, and the MRN."""

    text: str
    mrn: str


def patient_choices(rows: Iterable[PatientRow]) -> list[PatientChoice]:
    """ "Schäfer, Zoë · MRN A100 · born 1948-03-02", in the list's name order."""
    return [
        PatientChoice(f"{r.last_name}, {r.first_name} · MRN {r.mrn} · born {r.dob}", r.mrn)
        for r in rows
    ]


# Where the chooser keeps each patient's text without accents, for the completer to match on.
FOLDED_ROLE = Qt.ItemDataRole.UserRole + 1


class FoldingCompleter(QCompleter):
    """Matches what is typed against the patients' folded text (the Patients page's search:
    "nunez" finds Núñez) and puts the patient's own text in the box when one is chosen."""

    def splitPath(self, path: str) -> list[str]:
        return [fold(path)]

    def pathFromIndex(self, index: QModelIndex | QPersistentModelIndex) -> str:
        return str(index.data(Qt.ItemDataRole.DisplayRole))


class ManualEntryDialog(QDialog):
    """Add time after the fact, or correct an entry: local date and times, and a reason."""

    def __init__(
        self,
        patient: str,
        activities: Sequence[str],
        zone: dt.tzinfo,
        now: dt.datetime,
        *,
        entry: EntryRow | None = None,
        span: tuple[dt.datetime, dt.datetime] | None = None,
        patients: Sequence[PatientChoice] | None = None,
        parent: QWidget | None = None,
    ) -> None:
        """`span`: where a new entry starts and ends (the service's free span of the person's
        time); without it, the ten minutes just past. `patients`: a new entry made away from
        any patient's page (the week view) asks whose time it was, found by typing part of
        the name, MRN or birth date."""
        super().__init__(parent)
        self.setObjectName("manualEntryDialog")
        self.setWindowTitle("Correct time" if entry else "Add time by hand")
        self.setMinimumWidth(480)
        self._zone = zone
        self._now = now
        heading = plain(QLabel(patient))
        heading.setObjectName("dialogHeading")
        self.patient: QComboBox | None = None
        if patients is not None:
            self.patient = QComboBox()
            self.patient.setObjectName("patientChooser")
            self.patient.setAccessibleName("Patient")
            self.patient.setEditable(True)
            self.patient.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
            for k, choice in enumerate(patients):
                self.patient.addItem(choice.text, choice.mrn)
                self.patient.setItemData(k, fold(choice.text), FOLDED_ROLE)
            self.patient.setCurrentIndex(-1)
            completer = FoldingCompleter(self.patient.model(), self.patient)
            completer.setCompletionRole(FOLDED_ROLE)
            self.patient.setCompleter(completer)
            line = self.patient.lineEdit()
            assert line is not None  # an editable box has one
            line.setPlaceholderText("Type part of a name, MRN or birth date")
            completer.setFilterMode(Qt.MatchFlag.MatchContains)
            completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
            completer.setCompletionMode(QCompleter.CompletionMode.PopupCompletion)
        local_now = now.astimezone(zone)
        # A new entry starts as the ten minutes just past, to the minute: a typical call.
        recent = local_now.replace(second=0, microsecond=0)
        first = recent - dt.timedelta(minutes=10)
        last = recent
        if entry is not None:
            first = entry.started_at.astimezone(zone)
            last = (entry.ended_at or now).astimezone(zone)
        elif span is not None:
            first, last = (instant.astimezone(zone) for instant in span)
        self.day = QDateEdit(QDate(first.year, first.month, first.day))
        self.day.setCalendarPopup(True)
        self.day.setDisplayFormat("yyyy-MM-dd")
        self.day.setMaximumDate(QDate(local_now.year, local_now.month, local_now.day))
        self.start = TimeField(QTime(first.hour, first.minute, first.second))
        self.end = TimeField(QTime(last.hour, last.minute, last.second))
        self._entry = entry
        self._shown = (self.day.date(), self.start.time(), self.end.time())
        self.activity = QComboBox()
        self.activity.addItems(list(activities))
        self.service = QComboBox()
        for value in SERVICES:
            self.service.addItem(SERVICE_LABELS[value], value)
        self.face_to_face = QCheckBox("Face to face with the patient (not counted as CCM time)")
        self.note = QPlainTextEdit()
        self.note.setFixedHeight(70)
        self.reason = QLineEdit()
        self.reason.setPlaceholderText("Required: why this time is added or changed by hand")
        self.reason.setMaxLength(REASON_LIMIT)
        self.error = FieldErrorLabel()
        if entry is not None:
            if entry.activity and self.activity.findText(entry.activity) < 0:
                self.activity.addItem(entry.activity)  # an activity since removed from the list
            self.activity.setCurrentText(entry.activity)
            self.service.setCurrentIndex(self.service.findData(entry.service))
            self.face_to_face.setChecked(entry.face_to_face)
            self.note.setPlainText(entry.note)
        else:
            self.service.setCurrentIndex(self.service.findData("ccm"))
        form = QFormLayout()
        if self.patient is not None:
            form.addRow("Patient", self.patient)
        form.addRow("Date", self.day)
        form.addRow("From", self.start)
        form.addRow("To", self.end)
        form.addRow("Activity", self.activity)
        form.addRow("Service", self.service)
        form.addRow("", self.face_to_face)
        form.addRow("Note", self.note)
        form.addRow("Reason", self.reason)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(heading)
        layout.addLayout(form)
        layout.addWidget(self.error)
        layout.addWidget(buttons)

    def details(self) -> ManualDetails:
        day = self.day.date().toPython()
        start_time = self.start.time().toPython()
        end_time = self.end.time().toPython()
        assert isinstance(day, dt.date)
        assert isinstance(start_time, dt.time) and isinstance(end_time, dt.time)
        shown_day, shown_start, shown_end = self._shown
        same_day = self.day.date() == shown_day
        entry = self._entry
        if entry is not None and same_day and self.start.time() == shown_start:
            # Untouched fields give back the stored instant: a local time shown on the night
            # the clocks fall back is ambiguous, and the fields hold no fraction of a second.
            start = entry.started_at
        else:
            start = dt.datetime.combine(day, start_time.replace(microsecond=0), self._zone)
        if entry is not None and entry.ended_at and same_day and self.end.time() == shown_end:
            end = entry.ended_at
        else:
            end = self._end_after(start, day, end_time.replace(microsecond=0))
        return ManualDetails(
            start=start.astimezone(dt.UTC),
            end=end.astimezone(dt.UTC),
            activity=self.activity.currentText(),
            service=str(self.service.currentData()),
            face_to_face=self.face_to_face.isChecked(),
            note=self.note.toPlainText().strip(),
            reason=self.reason.text().strip(),
        )

    def _end_after(self, start: dt.datetime, day: dt.date, end_time: dt.time) -> dt.datetime:
        """The typed end time: the first reading after the start, on the night the clocks
        fall back the repeated hour's second pass, else the next day (across midnight)."""
        for which in (0, 1):
            end = dt.datetime.combine(day, end_time.replace(fold=which), self._zone)
            if end.astimezone(dt.UTC) > start.astimezone(dt.UTC):
                return end
        next_day = day + dt.timedelta(days=1)
        return dt.datetime.combine(next_day, end_time, self._zone)

    def show_error(self, text: str) -> None:
        self.error.set_error(text)

    def chosen_mrn(self) -> str | None:
        """The MRN of the patient chosen in the chooser (None: no chooser, or none chosen:
        typed text that names no one on the list)."""
        if self.patient is None:
            return None
        index = self.patient.findText(self.patient.currentText())
        return str(self.patient.itemData(index)) if index >= 0 else None

    def accept(self) -> None:
        if self.patient is not None and self.chosen_mrn() is None:
            self.error.set_error("Choose the patient this time was for from the list.")
            self.patient.setFocus()
            return
        if not self.reason.text().strip():
            self.error.set_error("Say why this time is added or changed by hand.")
            self.reason.setFocus()
            return
        super().accept()


# The manual-entry dialog's labels for the service's field names, to word its refusals.
MANUAL_LABELS = {
    "start": "From",
    "end": "To",
    "activity": "Activity",
    "service": "Service",
    "note": "Note",
    "reason": "Reason",
}
# The Stop dialog asks for no times: its end is the moment of the stop.
STOP_LABELS = {
    "start": "The start",
    "end": "The end",
    "activity": "Activity",
    "service": "Service",
    "note": "Note",
    "reason": "The reason",
}


def save_until_taken(
    dialog: ManualEntryDialog,
    run: Callable[[ManualEntryDialog], bool],
    save: Callable[[ManualDetails], object],
) -> bool:
    """Show the dialog (through `run`) until the service takes what was typed or the person
    cancels; a refusal is shown in the dialog, keeping everything typed."""
    while run(dialog):
        try:
            save(dialog.details())
        except ServiceError as error:
            dialog.show_error(refusal_text(error, MANUAL_LABELS))
            continue
        return True
    return False


def free_span(services: Services, actor: Actor) -> tuple[dt.datetime, dt.datetime] | None:
    """Ten minutes of the person's time that the new entry would not overlap (None when the
    service will not say: the dialog then offers the ten minutes just past)."""
    try:
        return services.entries.free_span(actor, 10)
    except ServiceError:
        return None


def correct_entry(services: Services, actor: Actor, entry: EntryRow, d: ManualDetails) -> object:
    """Save the manual-entry dialog's changes to an entry; times left as they were are not
    sent (an entry paused and resumed keeps its stretches)."""
    return services.entries.edit(
        actor,
        entry.entry_id,
        reason=d.reason,
        start=d.start if d.start != entry.started_at else None,
        end=d.end if d.end != entry.ended_at else None,
        activity=d.activity,
        service=d.service,
        face_to_face=d.face_to_face,
        note=d.note,
    )


def add_by_hand(services: Services, actor: Actor, mrn: str, d: ManualDetails) -> object:
    """Save time typed into the manual-entry dialog for a patient."""
    return services.entries.add_manual(
        actor,
        mrn,
        d.start,
        d.end,
        reason=d.reason,
        activity=d.activity,
        service=d.service,
        face_to_face=d.face_to_face,
        note=d.note,
    )
