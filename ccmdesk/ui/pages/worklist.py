"""The worklist: a care manager's enrolled patients, most minutes needed per day left first."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Sequence
from typing import Any

from PySide6.QtCore import (
    QEvent,
    QModelIndex,
    QObject,
    QRectF,
    QSize,
    Qt,
    Signal,
)
from PySide6.QtGui import QColor, QFont, QPainter, QPalette, QShowEvent
from PySide6.QtWidgets import (
    QApplication,
    QCheckBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from ccmdesk.rules.calls import OUTCOME_LABELS, call_time_label, call_window_open, due_today
from ccmdesk.rules.intervals import month_label, month_of
from ccmdesk.rules.minutes import (
    FAMILY_LABELS,
    NO_MINUTES,
    days_left,
    progress_share,
    threshold_ticks,
)
from ccmdesk.services import Actor, Permission, ServiceError, Services, WorklistRow, allowed
from ccmdesk.ui.background import InlineTaskRunner, LatestOnly, TaskRunner
from ccmdesk.ui.forms import hint_label, show_failure
from ccmdesk.ui.pages.services_page import ServicesPage
from ccmdesk.ui.refresh import PATIENTS, TIME, TIMERS, Changes, touches
from ccmdesk.ui.stopwatch_dialogs import clock_text
from ccmdesk.ui.widgets.rows_model import RowsModel
from ccmdesk.ui.widgets.tables import (
    MessageStack,
    ModelIndex,
    enter_pressed,
    prepare_table,
)
from ccmdesk.ui.widgets.threshold_bar import paint_threshold_bar, percent_text

# The callback beside the patient, the numbers after the minutes still needed (docs/calls.md):
# on a laptop screen the last columns scroll, and the days left are in the subtitle too.
(
    PATIENT,
    MRN,
    CALLBACK,
    PROGRAM,
    THIS_MONTH,
    PROGRESS,
    NEXT_THRESHOLD,
    STILL_NEEDED,
    PHONE,
    BEST_TIME,
    DAYS_LEFT,
    LAST_CONTACT,
    LAST_CALL,
) = range(13)
HEADERS = (
    "Patient",
    "MRN",
    "Callback",
    "Program",
    "This month",
    "Progress",
    "Next threshold",
    "Still needed",
    "Phone",
    "Best time",
    "Days left",
    "Last contact",
    "Last call",
)
NUMERIC = frozenset({THIS_MONTH, NEXT_THRESHOLD, STILL_NEEDED, DAYS_LEFT})
# The share of the way to the next threshold, 0.0-1.0, or None when there is nothing to aim at.
PROGRESS_ROLE = Qt.ItemDataRole.UserRole + 1
TICKS_ROLE = Qt.ItemDataRole.UserRole + 2
NO_PROGRAM = "No chronic condition"
EMPTY_TEXT = "No enrolled patients are assigned to you."
ORDER_TEXT = "most minutes needed per day left first"
OVERDUE_COLOUR = QColor(190, 20, 20)


def local_stamp(instant: dt.datetime, zone: dt.tzinfo) -> str:
    """An instant as the practice's wall clock shows it: "Mon 16 Mar, 14:05"."""
    return instant.astimezone(zone).strftime("%a %d %b, %H:%M")


def program_text(family: str | None) -> str:
    """The family's label without its billing codes ("Complex CCM"); the codes are in the
    tooltip, so the column leaves the patients' names room on a laptop screen."""
    if family is None:
        return NO_PROGRAM
    return FAMILY_LABELS[family].split(" (", 1)[0]


def subtitle_text(month: str, days: int, count: int, callbacks: int = 0) -> str:
    """ "March 2026 · 16 days left · 12 patients · most minutes needed per day left first";
    with callbacks due today, "· 2 callbacks due today first ·" before the order."""
    name = month_label(month)
    day_word = "day" if days == 1 else "days"
    patient_word = "patient" if count == 1 else "patients"
    due = ""
    if callbacks:
        due = f"{callbacks} callback{'' if callbacks == 1 else 's'} due today first · "
    return f"{name} · {days} {day_word} left · {count} {patient_word} · {due}{ORDER_TEXT}"


def callback_due_today(row: WorklistRow, now: dt.datetime, zone: dt.tzinfo) -> bool:
    """The row's callback is due today, or overdue."""
    return due_today(row.callback_due, now, zone)


def callback_text(due: dt.datetime, now: dt.datetime, zone: dt.tzinfo) -> str:
    """ "Overdue 13 Mar 10:00", "Today 14:00", or "Tue 17 Mar 10:00"."""
    local = due.astimezone(zone)
    if due <= now:
        return f"Overdue {local:%d %b %H:%M}"
    if local.date() == now.astimezone(zone).date():
        return f"Today {local:%H:%M}"
    return f"{local:%a %d %b %H:%M}"


class WorklistTableModel(RowsModel[WorklistRow]):
    """The worklist rows in the order the service chose; the model never re-sorts them."""

    def __init__(
        self,
        rows: Sequence[WorklistRow] = (),
        zone: dt.tzinfo = dt.UTC,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(HEADERS, parent, numeric=NUMERIC)
        self._rows = list(rows)
        self._zone = zone
        self._now: dt.datetime | None = None  # what "overdue" and "now" are judged by

    def set_rows(
        self, rows: Sequence[WorklistRow], zone: dt.tzinfo, now: dt.datetime | None = None
    ) -> None:
        self.beginResetModel()
        self._rows = list(rows)
        self._zone = zone
        self._now = now
        self.endResetModel()

    def row_of(self, mrn: str) -> int:
        """The row showing a patient, or -1."""
        return self.position_where(lambda row: row.mrn == mrn)

    def _cell(self, row: WorklistRow, column: int, role: int) -> Any:
        if role == Qt.ItemDataRole.ToolTipRole:
            return self._tooltip(row, column)
        if role == PROGRESS_ROLE and column == PROGRESS:
            return progress_share(row.progress)
        if role == TICKS_ROLE and column == PROGRESS:
            return threshold_ticks(row.progress)
        if role == Qt.ItemDataRole.UserRole:
            return row.mrn
        now = self._now
        if column == CALLBACK and row.callback_due is not None and now is not None:
            overdue = row.callback_due <= now
            if role == Qt.ItemDataRole.ForegroundRole and overdue:
                return OVERDUE_COLOUR
            if role == Qt.ItemDataRole.FontRole and callback_due_today(row, now, self._zone):
                font = QFont()
                font.setBold(True)
                return font
        if column == BEST_TIME and role == Qt.ItemDataRole.FontRole and self._window_open(row):
            font = QFont()
            font.setBold(True)
            return font
        return None

    def _window_open(self, row: WorklistRow) -> bool:
        if self._now is None:
            return False
        return call_window_open(row.preferred_call_time, self._now.astimezone(self._zone))

    def _text(self, row: WorklistRow, column: int) -> str:
        progress = row.progress
        aiming = progress.aims
        following = progress.next_threshold_minutes
        if column == PATIENT:
            return row.patient_name
        if column == MRN:
            return row.mrn
        if column == PROGRAM:
            return program_text(progress.family)
        if column == THIS_MONTH:
            return clock_text(progress.countable_seconds)
        if column == PROGRESS:
            fraction = progress_share(progress)
            return "" if fraction is None else percent_text(fraction)
        if column == NEXT_THRESHOLD:
            if progress.family == NO_MINUTES:
                return "No minutes needed"  # APCM bills without minutes
            if not aiming:
                return ""
            return "All reached" if following is None else f"{following} min"
        if column == STILL_NEEDED:
            return clock_text(progress.seconds_short) if following is not None else ""
        if column == DAYS_LEFT:
            return str(progress.days_left)
        if column == LAST_CONTACT:
            return "" if row.last_contact is None else local_stamp(row.last_contact, self._zone)
        return self._call_text(row, column)

    def _call_text(self, row: WorklistRow, column: int) -> str:
        if column == CALLBACK:
            if row.callback_due is None:
                return ""
            if self._now is None:
                return local_stamp(row.callback_due, self._zone)
            return callback_text(row.callback_due, self._now, self._zone)
        if column == PHONE:
            if not row.phones:
                return ""
            more = f" (+{len(row.phones) - 1})" if len(row.phones) > 1 else ""
            return row.phones[0][1] + more
        if column == BEST_TIME:
            # "Morning"; its hours are in the tooltip.
            label = call_time_label(row.preferred_call_time).split(" (", 1)[0]
            return f"{label} · now" if label and self._window_open(row) else label
        if column == LAST_CALL:
            return OUTCOME_LABELS.get(row.last_outcome, "")
        return ""

    def _tooltip(self, row: WorklistRow, column: int) -> str | None:
        progress = row.progress
        if column == PROGRESS and progress.family == NO_MINUTES:
            return "APCM bills the month without minutes: there is no threshold to aim at."
        if column == PROGRESS and progress.aims:
            done = clock_text(progress.countable_seconds)
            if progress.next_threshold_minutes is None:
                return f"{done} this month: every threshold is reached."
            per_day = clock_text(math.ceil(progress.need))
            return (
                f"{done} of {progress.next_threshold_minutes} min; "
                f"{clock_text(progress.seconds_short)} still needed, "
                f"about {per_day} a day over {progress.days_left} days left."
            )
        if column == PROGRAM:
            if progress.family is None:
                return "No chronic condition on file: there is no threshold to aim at."
            return FAMILY_LABELS[progress.family]
        if column == LAST_CONTACT and row.last_contact is not None:
            return row.last_contact.astimezone(self._zone).strftime("%A %d %B %Y, %H:%M")
        if column == PHONE and (row.phones or row.last_outcome):
            lines = [f"{label}: {number}" for label, number in row.phones]
            if row.last_outcome:
                lines.append(f"Last call: {OUTCOME_LABELS[row.last_outcome].lower()}")
            return "\n".join(lines)
        if column == CALLBACK and row.callback_due is not None:
            return (
                "Starting the stopwatch from this row answers the callback due "
                + row.callback_due.astimezone(self._zone).strftime("%A %d %B, %H:%M")
            )
        if column == BEST_TIME and row.preferred_call_time:
            label = call_time_label(row.preferred_call_time)
            now = " It is now." if self._window_open(row) else ""
            return f"The patient prefers to be called: {label}, practice time.{now}"
        return None


class ProgressBarDelegate(QStyledItemDelegate):
    """A slim bar toward the next threshold with its percentage beside it, never over it:
    text drawn across a half-filled bar is hard to read on either colour."""

    BAR_WIDTH = 96

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: ModelIndex) -> None:
        cell = QStyleOptionViewItem(option)
        self.initStyleOption(cell, index)
        text = cell.text
        cell.text = ""  # the row's background and selection only; the bar comes on top
        widget = cell.widget
        style = widget.style() if widget is not None else QApplication.style()
        style.drawControl(QStyle.ControlElement.CE_ItemViewItem, cell, painter, widget)
        fraction = index.data(PROGRESS_ROLE)
        if not isinstance(fraction, float):
            return
        metrics = cell.fontMetrics
        area = cell.rect.adjusted(8, 0, -8, 0)
        text_width = metrics.horizontalAdvance("100%") + 8
        height = max(8, metrics.height() // 2)
        bar = QRectF(
            area.left(),
            area.top() + (area.height() - height) / 2,
            max(0, area.width() - text_width),
            height,
        )
        ticks = index.data(TICKS_ROLE) or ()
        painter.save()
        paint_threshold_bar(painter, bar, fraction, tuple(ticks))
        selected = bool(cell.state & QStyle.StateFlag.State_Selected)
        role = QPalette.ColorRole.HighlightedText if selected else QPalette.ColorRole.Text
        painter.setPen(cell.palette.color(role))
        painter.setFont(cell.font)
        text_area = area.adjusted(area.width() - text_width, 0, 0, 0)
        right = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
        painter.drawText(text_area, right, text)
        painter.restore()

    def sizeHint(self, option: QStyleOptionViewItem, index: ModelIndex) -> QSize:
        size = super().sizeHint(option, index)
        text_width = option.fontMetrics.horizontalAdvance("100%") + 8
        return QSize(self.BAR_WIDTH + text_width + 16, size.height())


class WorklistPage(ServicesPage):
    """The signed-in person's enrolled patients and how much time each still needs this month."""

    start_requested = Signal(str)  # mrn: start a stopwatch for this patient
    # mrn, callback id: start a stopwatch for this patient to make this callback
    start_callback_requested = Signal(str, int)
    open_requested = Signal(str)  # mrn: open this patient

    TITLE = "Worklist"

    def __init__(
        self,
        services: Services,
        actor: Callable[[], Actor],
        runner: TaskRunner | None = None,
        parent: QWidget | None = None,
    ) -> None:
        # The window passes its thread runner; alone (tests), the page reads in place.
        self._loads = LatestOnly(runner or InlineTaskRunner())
        super().__init__(services, actor, parent)

    def _build(self) -> None:
        self._zone: dt.tzinfo = dt.UTC  # the practice's, read with the rows
        self.subtitle_label = QLabel()
        self.subtitle_label.setObjectName("hint")
        self.start_button = QPushButton("Start stopwatch")
        self.start_button.setObjectName("primaryButton")
        self.start_button.setToolTip("Start a stopwatch for the chosen patient (Enter)")

        self.model = WorklistTableModel(parent=self)
        self.table = QTableView()
        self.table.setObjectName("worklistTable")
        self.table.setAccessibleName("Worklist")
        self.table.setModel(self.model)
        prepare_table(self.table)
        self.progress_delegate = ProgressBarDelegate(self.table)
        self.table.setItemDelegateForColumn(PROGRESS, self.progress_delegate)
        header = self.table.horizontalHeader()
        # A worklist holds tens of patients, not thousands: measuring every cell is cheap.
        # Every column fits what it holds (a stretched name column would be cut short first);
        # what is left goes to the last one.
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)

        self.empty_label = QLabel(EMPTY_TEXT)
        self.empty_label.setObjectName("statusLabel")
        self.empty_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        empty_hint = hint_label(
            "Patients appear here once you are their care manager or billing practitioner "
            "and their consent is on file."
        )
        empty_hint.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty_panel = QWidget()
        empty_layout = QVBoxLayout(self.empty_panel)
        empty_layout.addStretch(1)
        empty_layout.addWidget(self.empty_label)
        empty_layout.addWidget(empty_hint)
        empty_layout.addStretch(2)

        # What the service refused, in place of the table (a role without time to record).
        self.stack = MessageStack(self.table, self.empty_panel)
        self.message_label = self.stack.message_label

        # What the "falling behind" reminder opens (docs/reminders.md).
        self.behind_box = QCheckBox("Falling behind")
        self.behind_box.setObjectName("fallingBehind")
        self.behind_box.setToolTip(
            "Only the patients short of their next threshold this month (not APCM)"
        )
        # The patients whose care plan is past its review date (docs/billing-rules.md,
        # "Care plan": the month warns CARE_PLAN_REVIEW_DUE).
        self.review_box = QCheckBox("Plan review due")
        self.review_box.setObjectName("planReviewDue")
        self.review_box.setToolTip(
            "Only the patients whose care plan's review date has passed by the month's end"
        )
        self._rows: Sequence[WorklistRow] = ()
        self._now: dt.datetime | None = None  # when the rows were read
        self.behind_box.toggled.connect(lambda _on: self._show_rows())
        self.review_box.toggled.connect(lambda _on: self._show_rows())
        layout = self._lay_out(self.start_button)
        subtitle_row = QHBoxLayout()
        subtitle_row.addWidget(self.subtitle_label, 1)
        subtitle_row.addWidget(self.behind_box)
        subtitle_row.addWidget(self.review_box)
        layout.addLayout(subtitle_row)
        layout.addWidget(self.stack, 1)

        self.start_button.clicked.connect(self.start_current)
        self.table.doubleClicked.connect(self._open_index)
        self.table.installEventFilter(self)
        self.table.selectionModel().selectionChanged.connect(self._update_buttons)
        self.model.modelReset.connect(self._update_buttons)
        self._update_buttons()

    def showEvent(self, event: QShowEvent) -> None:
        # Minutes change with every stopwatch stopped elsewhere: read them again when shown.
        self.reload()
        super().showEvent(event)

    def refresh(self, changes: Changes) -> None:
        if touches(changes, TIME, TIMERS, PATIENTS):
            self.reload()

    def clear(self) -> None:
        self._loads.forget()  # a load on its way was for the person who signed out
        self._rows = ()
        self.model.set_rows([], dt.UTC)

    def forget_person(self) -> None:
        self.table.clearSelection()
        self.behind_box.setChecked(False)
        self.review_box.setChecked(False)

    def show_falling_behind(self) -> None:
        """Only the patients short of their next threshold: what the reminder opens (the
        review filter off, or the list the reminder counted comes up short)."""
        self.review_box.setChecked(False)
        self.behind_box.setChecked(True)

    def _show_rows(self) -> None:
        rows = self._rows
        if self.behind_box.isChecked():
            rows = [r for r in rows if r.progress.falling_behind]
        if self.review_box.isChecked():
            rows = [r for r in rows if r.plan_review_due]
        self.model.set_rows(rows, self._zone, self._now)

    def reload(self) -> None:
        """Read this month's worklist again, off the GUI thread (10,000 patients take a few
        tenths of a second even from the cache), keeping the chosen patient chosen."""
        actor = self._actor()

        def read() -> tuple[dt.datetime, dt.tzinfo, str, Sequence[WorklistRow]]:
            now = self._services.now()
            zone = self._services.practice_zone()
            # The month is fixed here, not by the service, so the heading and the rows agree
            # even when the call runs across midnight at the end of a month.
            month = month_of(now, zone)
            return now, zone, month, self._services.minutes.worklist(actor, month)

        self._loads.run(read, self._loaded, self._load_failed)

    def _load_failed(self, error: BaseException) -> None:
        if isinstance(error, ServiceError):
            self._show_message(str(error))
        else:
            show_failure(self, error)

    def _loaded(self, got: tuple[dt.datetime, dt.tzinfo, str, Sequence[WorklistRow]]) -> None:
        keep = self.current_mrn()
        now, zone, month, rows = got
        today = now.astimezone(zone).date()
        self._rows, self._zone, self._now = rows, zone, now
        self._show_rows()
        calls = sum(callback_due_today(row, now, zone) for row in rows)
        self.subtitle_label.setText(subtitle_text(month, days_left(month, today), len(rows), calls))
        self.subtitle_label.show()
        self.behind_box.show()
        self.review_box.show()
        # Schedulers see the list but keep no stopwatch.
        self.start_button.setVisible(allowed(self._actor(), Permission.RECORD_TIME))
        self.stack.setCurrentWidget(self.table if rows else self.empty_panel)
        if keep:
            self.select_mrn(keep)
        self._update_buttons()

    def _show_message(self, text: str) -> None:
        self.model.set_rows([], dt.UTC)
        self.stack.show_message(text)
        self.subtitle_label.hide()
        self.start_button.hide()
        self.behind_box.hide()
        self.review_box.hide()

    def message(self) -> str:
        """What the page says instead of a table ("" while it shows the table or is empty)."""
        return self.stack.message()

    def select_mrn(self, mrn: str) -> bool:
        row = self.model.row_of(mrn)
        if row < 0:
            return False
        index = self.model.index(row, PATIENT)
        self.table.setCurrentIndex(index)
        self.table.scrollTo(index)
        return True

    def current_mrn(self) -> str | None:
        """The chosen (highlighted) patient. Qt gives the table a current cell as soon as it
        takes the focus, unhighlighted: that is not a choice to start a stopwatch on."""
        rows = self.table.selectionModel().selectedRows()
        return self.model.row_at(rows[0].row()).mrn if rows else None

    def start_current(self) -> None:
        """Start the chosen patient's stopwatch; a callback due today on the row is the call
        being made, and the two are linked (docs/calls.md)."""
        mrn = self.current_mrn()
        if mrn is None or not allowed(self._actor(), Permission.RECORD_TIME):
            return
        row = self.model.row_at(self.model.row_of(mrn))
        if row.callback_id is not None and callback_due_today(
            row, self._services.now(), self._zone
        ):
            self.start_callback_requested.emit(mrn, row.callback_id)
        else:
            self.start_requested.emit(mrn)

    def _open_index(self, index: QModelIndex) -> None:
        if index.isValid():
            self.open_requested.emit(self.model.row_at(index.row()).mrn)

    def _update_buttons(self) -> None:
        self.start_button.setEnabled(self.current_mrn() is not None)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.table and enter_pressed(event) and self.current_mrn() is not None:
            self.start_current()
            return True
        return super().eventFilter(watched, event)
