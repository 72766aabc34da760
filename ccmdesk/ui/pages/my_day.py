"""My day: the signed-in person's time entries of one local day, with the day's total."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from typing import Any

from PySide6.QtCore import (
    QDate,
    QEvent,
    QModelIndex,
    QObject,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import QBrush, QHideEvent, QShowEvent
from PySide6.QtWidgets import (
    QDateEdit,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableView,
    QWidget,
)

from ccmdesk.services.time.records import EntryRow
from ccmdesk.ui.forms import step_buttons
from ccmdesk.ui.pages.services_page import ServicesPage
from ccmdesk.ui.refresh import PATIENTS, TIME, TIMERS, Changes, touches
from ccmdesk.ui.stopwatch_dialogs import clock_text
from ccmdesk.ui.widgets.rows_model import RowsModel
from ccmdesk.ui.widgets.tables import (
    MessageStack,
    enter_pressed,
    prepare_table,
)
from ccmdesk.ui.widgets.threshold_bar import BAR_FILL

(
    START,
    END,
    DURATION,
    PATIENT,
    MRN,
    ACTIVITY,
    SERVICE,
    FACE_TO_FACE,
    SOURCE,
    NOTE,
) = range(10)
HEADERS = (
    "Start",
    "End",
    "Duration",
    "Patient",
    "MRN",
    "Activity",
    "Service",
    "Face to face",
    "Source",
    "Note",
)
SOURCE_LABELS = {"stopwatch": "Stopwatch", "manual": "Manual", "import": "Import"}
RUNNING = "running"
PAUSED = "paused"
TICK_MS = 1000
DATE_FORMAT = "ddd d MMM yyyy"


def to_qdate(day: dt.date) -> QDate:
    return QDate(day.year, day.month, day.day)


def from_qdate(day: QDate) -> dt.date:
    return dt.date(day.year(), day.month(), day.day())


def total_text(seconds: int, count: int, running: bool) -> str:
    """ "Total 1:05:30 over 4 entries", and whether a stopwatch is still adding to it."""
    if count == 0:
        return "No time recorded on this day."
    noun = "entry" if count == 1 else "entries"
    text = f"Total {clock_text(seconds)} over {count} {noun}"
    return f"{text}, one still running" if running else text


class DayTableModel(RowsModel[EntryRow]):
    """One day's entries by start time; a running stopwatch's duration counts on to now."""

    def __init__(self, now: Callable[[], dt.datetime], parent: QObject | None = None) -> None:
        super().__init__(HEADERS, parent, numeric={DURATION})
        self._now = now
        self._zone: dt.tzinfo = dt.UTC
        self._day = dt.date.min
        self._loaded_at = dt.datetime.min.replace(tzinfo=dt.UTC)

    def set_rows(
        self,
        rows: Sequence[EntryRow],
        zone: dt.tzinfo,
        day: dt.date,
        loaded_at: dt.datetime,
    ) -> None:
        """`loaded_at` is the instant the service worked the running durations out at."""
        self.beginResetModel()
        # The service lists entries as created; a manual entry added later for the morning
        # belongs before the afternoon's stopwatch entries.
        self._rows = sorted(rows, key=lambda row: (row.started_at, row.entry_id))
        self._zone = zone
        self._day = day
        self._loaded_at = loaded_at
        self.endResetModel()

    def row_of(self, entry_id: int) -> int:
        return self.position_where(lambda row: row.entry_id == entry_id)

    def seconds_of(self, row: EntryRow) -> int:
        """The entry's duration now: a running one has gained the time since loading."""
        if row.ended_at is not None:
            return row.seconds
        gained = int((self._now() - self._loaded_at).total_seconds())
        return row.seconds + max(0, gained)

    def total_seconds(self) -> int:
        return sum(self.seconds_of(row) for row in self._rows)

    def has_running(self) -> bool:
        return any(row.ended_at is None for row in self._rows)

    def refresh_running(self) -> None:
        """Tell the view the running durations moved on."""
        for position, row in enumerate(self._rows):
            if row.ended_at is None:
                index = self.index(position, DURATION)
                self.dataChanged.emit(index, index, [Qt.ItemDataRole.DisplayRole])

    def _cell(self, row: EntryRow, column: int, role: int) -> Any:
        if role == Qt.ItemDataRole.ToolTipRole:
            if column == NOTE and row.note:
                return row.note
            if column == ACTIVITY and row.activity:
                return row.activity
            return None
        if (
            role == Qt.ItemDataRole.ForegroundRole
            and column in (END, DURATION)
            and (row.ended_at is None or row.state == PAUSED)
        ):
            return QBrush(BAR_FILL)  # still open: set apart from finished time
        if role == Qt.ItemDataRole.UserRole:
            return row.mrn
        return None

    def _text(self, row: EntryRow, column: int) -> str:
        if column == START:
            return self._clock(row.started_at)
        if column == END:
            if row.ended_at is None:
                return RUNNING
            if row.state == PAUSED:
                return PAUSED  # the time shown would be the pause, not an end
            return self._clock(row.ended_at)
        if column == DURATION:
            return clock_text(self.seconds_of(row))
        if column == PATIENT:
            return row.patient_name
        if column == MRN:
            return row.mrn
        if column == ACTIVITY:
            return row.activity
        if column == SERVICE:
            return row.service.upper()
        if column == FACE_TO_FACE:
            return "Yes" if row.face_to_face else ""
        if column == SOURCE:
            return SOURCE_LABELS.get(row.source, row.source.capitalize())
        if column == NOTE:
            return row.note.splitlines()[0] if row.note else ""
        return ""

    def _clock(self, instant: dt.datetime) -> str:
        local = instant.astimezone(self._zone)
        # An entry that ran past midnight ends on another day: name that day.
        return local.strftime("%H:%M" if local.date() == self._day else "%a %H:%M")


class MyDayPage(ServicesPage):
    """What the signed-in person recorded on one day of the practice's calendar."""

    open_requested = Signal(str)  # mrn: open this patient

    TITLE = "My day"

    def _build(self) -> None:
        self.date_edit = QDateEdit()
        self.date_edit.setObjectName("dayDate")
        self.date_edit.setAccessibleName("Day")
        self.date_edit.setCalendarPopup(True)
        self.date_edit.setDisplayFormat(DATE_FORMAT)
        self.today_button = QPushButton("Today")
        # As tall as the date beside them.
        self.previous_button, self.next_button = step_buttons(
            "day", self.date_edit.sizeHint().height()
        )

        self.model = DayTableModel(self._services.now, parent=self)
        self.table = QTableView()
        self.table.setObjectName("dayTable")
        self.table.setAccessibleName("Time entries of the day")
        self.table.setModel(self.model)
        prepare_table(self.table)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        # The note takes what is left; its whole text is in the tooltip.
        header.setSectionResizeMode(NOTE, QHeaderView.ResizeMode.Stretch)

        self.stack = MessageStack(self.table)
        self.message_label = self.stack.message_label
        self.total_label = QLabel()
        self.total_label.setObjectName("countLabel")

        self._navigation = QWidget()
        navigation = QHBoxLayout(self._navigation)
        navigation.setContentsMargins(0, 0, 0, 0)
        navigation.addWidget(self.previous_button)
        navigation.addWidget(self.date_edit)
        navigation.addWidget(self.next_button)
        navigation.addSpacing(8)
        navigation.addWidget(self.today_button)
        layout = self._lay_out(self._navigation)
        layout.addWidget(self.stack, 1)
        layout.addWidget(self.total_label)

        # While a stopwatch of the day runs, its duration and the total count on each second.
        self._ticker = QTimer(self)
        self._ticker.setInterval(TICK_MS)
        self._ticker.timeout.connect(self._tick)

        self._today = self.today()
        self.date_edit.setMaximumDate(to_qdate(self._today))
        self.date_edit.setDate(to_qdate(self._today))
        self.date_edit.dateChanged.connect(self._on_date_changed)
        self.previous_button.clicked.connect(lambda: self.move_days(-1))
        self.next_button.clicked.connect(lambda: self.move_days(1))
        self.today_button.clicked.connect(lambda: self.set_day(self.today()))
        self.table.doubleClicked.connect(self._open_index)
        self.table.installEventFilter(self)
        self._update_navigation()

    # --- the day shown -------------------------------------------------------------------------

    def today(self) -> dt.date:
        """Today on the practice's calendar, by the services' clock."""
        return self._services.today()

    def day(self) -> dt.date:
        return from_qdate(self.date_edit.date())

    def set_day(self, day: dt.date) -> None:
        """Show another day (the rows follow through dateChanged)."""
        self.date_edit.setDate(to_qdate(day))

    def move_days(self, days: int) -> None:
        self.set_day(self.day() + dt.timedelta(days=days))

    def _follow_today(self) -> None:
        """After midnight the newest day is a new one; a page left on "today" moves along."""
        today = self.today()
        if today == self._today:
            return
        was_today = self.day() == self._today
        self.date_edit.blockSignals(True)  # one reload follows, not one per change
        self.date_edit.setMaximumDate(to_qdate(today))
        if was_today:
            self.date_edit.setDate(to_qdate(today))
        self.date_edit.blockSignals(False)
        self._today = today

    def _on_date_changed(self, _date: QDate) -> None:
        self.reload()

    def _update_navigation(self) -> None:
        day = self.date_edit.date()
        self.next_button.setEnabled(day < self.date_edit.maximumDate())
        self.previous_button.setEnabled(day > self.date_edit.minimumDate())
        self.today_button.setEnabled(self.day() != self._today)

    # --- reading -----------------------------------------------------------------------------

    def showEvent(self, event: QShowEvent) -> None:
        # Entries change whenever a stopwatch stops: read them again when the page is shown.
        self._follow_today()
        self.reload()
        super().showEvent(event)

    def hideEvent(self, event: QHideEvent) -> None:
        self._ticker.stop()
        super().hideEvent(event)

    def refresh(self, changes: Changes) -> None:
        if touches(changes, TIME, TIMERS, PATIENTS):
            self.reload()

    def clear(self) -> None:
        self.model.set_rows([], dt.UTC, self.day(), self._services.now())

    def forget_person(self) -> None:
        self.table.clearSelection()

    def reload(self) -> None:
        """Read the chosen day's entries again, keeping the chosen entry chosen."""
        keep = self.current_entry_id()
        day = self.day()
        services = self._services
        read = self._read(
            lambda: (
                services.practice_zone(),
                services.now(),
                services.time_log.my_day(self._actor(), day),
            )
        )
        if read is None:
            return
        zone, loaded_at, rows = read
        self.model.set_rows(rows, zone, day, loaded_at)
        self.stack.setCurrentWidget(self.table)
        self._navigation.show()
        self.total_label.show()
        if keep is not None and (row := self.model.row_of(keep)) >= 0:
            self.table.setCurrentIndex(self.model.index(row, PATIENT))
        self._update_total()
        self._update_navigation()
        if self.model.has_running() and self.isVisible():
            self._ticker.start()
        else:
            self._ticker.stop()

    def _show_message(self, text: str) -> None:
        self._ticker.stop()
        self.model.set_rows([], dt.UTC, self.day(), self._services.now())
        self.stack.show_message(text)
        self._navigation.hide()
        self.total_label.hide()

    def message(self) -> str:
        """What the page says instead of a table ("" while it shows the table)."""
        return self.stack.message()

    def _update_total(self) -> None:
        self.total_label.setText(
            total_text(self.model.total_seconds(), self.model.rowCount(), self.model.has_running())
        )

    def _tick(self) -> None:
        self.model.refresh_running()
        self._update_total()

    # --- choosing and opening ------------------------------------------------------------------

    def current_entry_id(self) -> int | None:
        index = self.table.currentIndex()
        if not index.isValid():
            return None
        return self.model.row_at(index.row()).entry_id

    def _open_index(self, index: QModelIndex) -> None:
        if index.isValid():
            self.open_requested.emit(self.model.row_at(index.row()).mrn)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        # Enter opens the patient, as a double-click does (the patient list works the same).
        if watched is self.table and enter_pressed(event) and self.table.currentIndex().isValid():
            self._open_index(self.table.currentIndex())
            return True
        return super().eventFilter(watched, event)
