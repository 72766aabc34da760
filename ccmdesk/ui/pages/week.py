"""Week: the signed-in person's entries of a week as a calendar, to find gaps and overlaps."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from PySide6.QtCore import QEvent, QPoint, QRect, QRectF, Qt, QTimer, Signal
from PySide6.QtGui import (
    QBrush,
    QColor,
    QContextMenuEvent,
    QFocusEvent,
    QFont,
    QHelpEvent,
    QHideEvent,
    QKeyEvent,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QPen,
    QResizeEvent,
    QShowEvent,
)
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QMenu,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QToolTip,
    QVBoxLayout,
    QWidget,
)

from ccmdesk.rules.intervals import Interval, date_text, short_month
from ccmdesk.rules.week import (
    DAY_SECONDS,
    day_pieces,
    day_span,
    gaps,
    overlaps,
    union_seconds,
    wall_seconds,
    week_days,
)
from ccmdesk.services.time.records import Week, WeekEntry
from ccmdesk.ui.forms import show_info, step_buttons
from ccmdesk.ui.pages.services_page import ServicesPage
from ccmdesk.ui.refresh import PATIENTS, TIME, TIMERS, Changes, touches
from ccmdesk.ui.stopwatch_dialogs import (
    ManualEntryDialog,
    add_by_hand,
    clock_text,
    correct_entry,
    patient_choices,
    save_until_taken,
)
from ccmdesk.ui.widgets.tables import MessageStack

GUTTER = 52  # the hours down the left side
HOUR_HEIGHT = 56
HEADER_HEIGHT = 46
SLOT_SECONDS = 15 * 60  # an empty slot clicked gives a quarter of an hour
TICK_MS = 30_000  # a running stopwatch's block grows to now
DAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
# By service, as the Stop dialog names them; the legend under the calendar says which is which.
SERVICE_COLOURS = {
    "ccm": QColor("#2f7fa6"),
    "pcm": QColor("#2e8b6f"),
    "bhi": QColor("#8a5ab8"),
    "tcm": QColor("#c07a1e"),
    "rpm": QColor("#6b7f2a"),
}
OVERLAP = QColor("#c0392b")
OFF_HOURS = QColor("#eef1f3")
GRID = QColor("#d5dde2")
CHOSEN_DAY = QColor("#e4f0f6")
TODAY = QColor("#1f6f8b")


def week_label(days: Sequence[dt.date]) -> str:
    """ "9–15 Mar 2026", or "30 Mar – 5 Apr 2026" across a month's end."""
    first, last = days[0], days[-1]
    if first.month == last.month:
        return f"{first.day}\N{EN DASH}{last.day} {short_month(last)} {last.year}"
    if first.year == last.year:
        return f"{first.day} {short_month(first)} \N{EN DASH} {date_text(last).lstrip('0')}"
    return f"{date_text(first).lstrip('0')} \N{EN DASH} {date_text(last).lstrip('0')}"


def duration_text(seconds: int) -> str:
    """A free stretch's length: "45 min", "1 h 05 min"."""
    if seconds < 3600:
        return minutes_text(seconds)
    hours, rest = divmod(seconds // 60, 60)
    return f"{hours} h {rest:02d} min"


def slot_instant(day: dt.date, seconds: int, zone: dt.tzinfo) -> dt.datetime:
    """The UTC instant the wall clock of `day` shows `seconds` after midnight (the first such
    on the night clocks fall back)."""
    hours, rest = divmod(min(seconds, DAY_SECONDS - 60), 3600)
    local = dt.datetime.combine(day, dt.time(hours, rest // 60), zone)
    return local.astimezone(dt.UTC)


def minutes_text(seconds: int) -> str:
    """A block's label: whole minutes, "<1 min" for a few seconds."""
    return f"{seconds // 60} min" if seconds >= 60 else "<1 min"


@dataclass(frozen=True)
class Block:
    """One stretch of an entry on one day, placed by the wall clock (seconds after midnight)."""

    entry: WeekEntry
    day: int  # 0 Monday .. 6 Sunday
    span: Interval  # UTC, cut at the day's midnights
    top: int
    bottom: int
    running: bool  # the stretch is still open: drawn to now


@dataclass(frozen=True)
class OverlapPiece:
    """Time two of one's own entries share, on one day, with the entries' patients."""

    day: int
    span: Interval
    top: int
    bottom: int
    entry_ids: tuple[int, int]


@dataclass(frozen=True)
class Layout:
    """The week worked out for drawing at one instant: blocks, overlaps and each day's total."""

    blocks: tuple[Block, ...]
    overlaps: tuple[OverlapPiece, ...]
    day_seconds: tuple[int, ...]  # overlapping time counted once

    @property
    def week_seconds(self) -> int:
        return sum(self.day_seconds)


def lay_out(week: Week, now: dt.datetime) -> Layout:
    """Cut every stretch at local midnights into the week's days; a running one ends at now."""
    zone, days = week.zone, week.days
    index = {day: n for n, day in enumerate(days)}
    blocks: list[Block] = []
    stretches: list[tuple[Interval, int]] = []
    for entry in week.entries:
        for start, end in entry.segments:
            span = (start, end or max(now, start))
            stretches.append((span, entry.row.entry_id))
            for day, piece in day_pieces(span, zone):
                if day in index:
                    top = wall_seconds(piece[0], day, zone)
                    bottom = wall_seconds(piece[1], day, zone)
                    blocks.append(Block(entry, index[day], piece, top, bottom, end is None))
    pieces: list[OverlapPiece] = []
    for shared, first, second in overlaps(stretches):
        for day, piece in day_pieces(shared, zone):
            if day in index:
                top, bottom = (wall_seconds(t, day, zone) for t in piece)
                pieces.append(OverlapPiece(index[day], piece, top, bottom, (first, second)))
    totals = tuple(union_seconds(b.span for b in blocks if b.day == n) for n in range(7))
    return Layout(tuple(blocks), tuple(pieces), totals)


def lanes(blocks: Sequence[Block]) -> dict[int, tuple[int, int]]:
    """Side by side where blocks of a day overlap: each block's lane and its group's lane
    count, by the block's position in `blocks`."""
    placed: dict[int, tuple[int, int]] = {}
    order = sorted(range(len(blocks)), key=lambda n: (blocks[n].day, blocks[n].top))
    group: list[int] = []
    ends: list[int] = []  # per lane of the group, where its last block ends
    day, group_end = -1, -1
    for n in order:
        block = blocks[n]
        if block.day != day or block.top >= group_end:
            for member in group:
                placed[member] = (placed[member][0], len(ends))
            group, ends = [], []
            day, group_end = block.day, -1
        lane = next((i for i, end in enumerate(ends) if end <= block.top), len(ends))
        if lane == len(ends):
            ends.append(block.bottom)
        else:
            ends[lane] = block.bottom
        placed[n] = (lane, 0)
        group.append(n)
        group_end = max(group_end, block.bottom)
    for member in group:
        placed[member] = (placed[member][0], len(ends))
    return placed


class WeekCanvas(QWidget):
    """Seven day columns under hours of the day; each stretch of an entry a block, coloured by
    service; time two entries share hatched red. Click a block to open its entry; double-click
    an empty slot, or its context menu, to add time there; arrows move between days and
    blocks, Enter opens."""

    block_activated = Signal(object)  # WeekEntry
    slot_requested = Signal(int, int)  # day 0..6, seconds after local midnight
    day_moved = Signal(int)  # -1 or 1 past the week's first or last day
    chosen_changed = Signal()

    def __init__(self, now: Callable[[], dt.datetime], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("weekCanvas")
        self.setAccessibleName("Week calendar")
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setMinimumHeight(24 * HOUR_HEIGHT + 1)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self._now = now
        self.week: Week | None = None
        self.layout_: Layout = Layout((), (), (0,) * 7)
        self._lanes: dict[int, tuple[int, int]] = {}
        self.today = -1  # the column of today, if in the week
        self.chosen_day = 0
        self.chosen_block: int | None = None  # position in layout_.blocks

    # --- what is shown ---------------------------------------------------------------------

    def set_week(self, week: Week | None, today: int, chosen_day: int) -> None:
        self.week = week
        self.today = today
        self.chosen_day = chosen_day
        self.chosen_block = None
        self.relayout()

    def relayout(self) -> None:
        """Work the blocks out again (a running stopwatch's block has grown)."""
        chosen = self.chosen_entry()
        self.layout_ = lay_out(self.week, self._now()) if self.week else Layout((), (), (0,) * 7)
        self._lanes = lanes(self.layout_.blocks)
        self.chosen_block = None
        if chosen is not None:
            self.chosen_block = next(
                (
                    n
                    for n, b in enumerate(self.layout_.blocks)
                    if b.entry.row.entry_id == chosen.row.entry_id and b.day == self.chosen_day
                ),
                None,
            )
        self.update()
        self.chosen_changed.emit()

    def has_running(self) -> bool:
        return any(b.running for b in self.layout_.blocks)

    def chosen_entry(self) -> WeekEntry | None:
        if self.chosen_block is None or self.chosen_block >= len(self.layout_.blocks):
            return None
        return self.layout_.blocks[self.chosen_block].entry

    # --- geometry --------------------------------------------------------------------------

    def column_width(self) -> float:
        return max(1.0, (self.width() - GUTTER) / 7)

    def column_x(self, day: int) -> float:
        return GUTTER + day * self.column_width()

    def y_of(self, seconds: int) -> float:
        return seconds * HOUR_HEIGHT / 3600

    def block_rect(self, position: int) -> QRectF:
        """Where block `position` is drawn: its lane of its day's column, at least 4 px tall."""
        block = self.layout_.blocks[position]
        lane, count = self._lanes.get(position, (0, 1))
        width = (self.column_width() - 6) / max(1, count)
        top = self.y_of(block.top)
        height = max(4.0, self.y_of(block.bottom) - top)
        return QRectF(self.column_x(block.day) + 3 + lane * width, top, width - 1, height)

    def block_at(self, point: QPoint) -> int | None:
        for position in reversed(range(len(self.layout_.blocks))):
            if self.block_rect(position).contains(point):
                return position
        return None

    def slot_at(self, point: QPoint) -> tuple[int, int] | None:
        """The day and the quarter hour (seconds after midnight) under a point, if any."""
        if point.x() < GUTTER:
            return None
        day = min(6, int((point.x() - GUTTER) // self.column_width()))
        seconds = int(point.y() * 3600 / HOUR_HEIGHT)
        seconds = max(0, min(DAY_SECONDS - SLOT_SECONDS, seconds - seconds % SLOT_SECONDS))
        return day, seconds

    # --- drawing ---------------------------------------------------------------------------

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.fillRect(self.rect(), QColor("white"))
        start, end = self.week.workday if self.week else (480, 1020)
        width = self.width()
        # Outside the working day, shaded: a gap there is no gap to fill.
        painter.fillRect(QRectF(GUTTER, 0, width, self.y_of(start * 60)), OFF_HOURS)
        painter.fillRect(
            QRectF(GUTTER, self.y_of(end * 60), width, self.y_of(DAY_SECONDS - end * 60)),
            OFF_HOURS,
        )
        chosen = QColor(CHOSEN_DAY)
        chosen.setAlpha(150)
        painter.fillRect(
            QRectF(self.column_x(self.chosen_day), 0, self.column_width(), self.height()), chosen
        )
        painter.setPen(QPen(GRID, 1))
        small = QFont(self.font())
        small.setPointSizeF(max(7.0, small.pointSizeF() - 1))
        painter.setFont(small)
        for hour in range(25):
            y = round(self.y_of(hour * 3600))
            painter.setPen(QPen(GRID, 1))
            painter.drawLine(GUTTER, y, width, y)
            if 0 < hour < 24:
                painter.setPen(QColor("#5b6b75"))
                painter.drawText(
                    QRect(0, y - 8, GUTTER - 6, 16),
                    Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
                    f"{hour:02d}:00",
                )
        painter.setPen(QPen(GRID, 1))
        for day in range(8):
            x = round(self.column_x(day))
            painter.drawLine(x, 0, x, self.height())
        self._paint_overlaps(painter)
        self._paint_blocks(painter, small)
        self._paint_now(painter)
        painter.end()

    def _paint_overlaps(self, painter: QPainter) -> None:
        hatch = QColor(OVERLAP)
        hatch.setAlpha(60)
        for piece in self.layout_.overlaps:
            top = self.y_of(piece.top)
            rect = QRectF(
                self.column_x(piece.day) + 1,
                top - 2,
                self.column_width() - 2,
                max(4.0, self.y_of(piece.bottom) - top) + 4,
            )
            painter.fillRect(rect, hatch)
            painter.fillRect(rect, QBrush(OVERLAP, Qt.BrushStyle.BDiagPattern))

    def overlapping_ids(self) -> set[int]:
        return {n for piece in self.layout_.overlaps for n in piece.entry_ids}

    def _paint_blocks(self, painter: QPainter, font: QFont) -> None:
        overlapping = self.overlapping_ids()
        painter.setFont(font)
        line = painter.fontMetrics().height()
        for position, block in enumerate(self.layout_.blocks):
            rect = self.block_rect(position)
            colour = QColor(SERVICE_COLOURS.get(block.entry.row.service, TODAY))
            if block.running:
                colour.setAlpha(170)
            painter.setBrush(colour)
            chosen = position == self.chosen_block
            if block.entry.row.entry_id in overlapping:
                painter.setPen(QPen(OVERLAP, 2.5))
            elif chosen:
                painter.setPen(QPen(QColor("#0b2833"), 2.5))
            else:
                painter.setPen(QPen(colour.darker(130), 1))
            painter.drawRoundedRect(rect, 3, 3)
            if chosen:
                painter.setPen(QPen(QColor("#0b2833"), 1.5, Qt.PenStyle.DashLine))
                painter.setBrush(Qt.BrushStyle.NoBrush)
                painter.drawRoundedRect(rect.adjusted(-2, -2, 2, 2), 4, 4)
            if rect.height() < line - 2:
                continue
            painter.setPen(QColor("white"))
            inner = rect.adjusted(4, 1, -3, -1).toRect()
            name, minutes = self.block_text(position).split("\n")
            metrics = painter.fontMetrics()
            left = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter
            if rect.height() >= 2 * line + 2:
                first = QRect(inner.x(), inner.y(), inner.width(), line)
                name = metrics.elidedText(name, Qt.TextElideMode.ElideRight, inner.width())
                painter.drawText(first, left, name)
                painter.drawText(first.translated(0, line), left, minutes)
                continue
            # One line: the minutes stay whole at the right, the name gives way.
            room = inner.width() - metrics.horizontalAdvance(minutes) - 6
            right = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
            if room < metrics.horizontalAdvance("Ab…"):
                painter.drawText(inner, left, minutes)
                continue
            painter.drawText(inner, right, minutes)
            name = metrics.elidedText(name, Qt.TextElideMode.ElideRight, room)
            painter.drawText(QRect(inner.x(), inner.y(), room, inner.height()), left, name)

    def block_text(self, position: int) -> str:
        """The patient's name, then the entry's minutes (a running one's, up to now)."""
        entry = self.layout_.blocks[position].entry
        return f"{entry.row.patient_name}\n{minutes_text(self.entry_seconds(entry))}"

    def entry_seconds(self, entry: WeekEntry) -> int:
        if entry.row.ended_at is not None or self.week is None:
            return entry.row.seconds
        return entry.row.seconds + max(0, int((self._now() - self.week.now).total_seconds()))

    def _paint_now(self, painter: QPainter) -> None:
        if self.week is None or not 0 <= self.today < 7:
            return
        now = self._now()
        y = self.y_of(wall_seconds(now, self.week.days[self.today], self.week.zone))
        x = self.column_x(self.today)
        painter.setPen(QPen(OVERLAP, 2))
        painter.drawLine(round(x), round(y), round(x + self.column_width()), round(y))

    # --- the mouse and the keyboard -------------------------------------------------------

    def mousePressEvent(self, event: QMouseEvent) -> None:
        point = event.position().toPoint()
        if (slot := self.slot_at(point)) is not None:
            self._choose(slot[0], self.block_at(point))
        super().mousePressEvent(event)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            position = self.block_at(event.position().toPoint())
            if position is not None:
                self.block_activated.emit(self.layout_.blocks[position].entry)
                return
        super().mouseReleaseEvent(event)

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:
        point = event.position().toPoint()
        if self.block_at(point) is None and (slot := self.slot_at(point)) is not None:
            self.slot_requested.emit(*slot)
            return
        super().mouseDoubleClickEvent(event)

    def contextMenuEvent(self, event: QContextMenuEvent) -> None:
        point = event.pos()
        slot = self.slot_at(point)
        if slot is None:
            return
        menu = QMenu(self)
        position = self.block_at(point)
        if position is not None:
            entry = self.layout_.blocks[position].entry
            action = menu.addAction(f"Open {entry.row.patient_name}'s entry…")
            action.triggered.connect(lambda: self.block_activated.emit(entry))
        else:
            day, seconds = slot
            action = menu.addAction("Add time here…")
            action.triggered.connect(lambda: self.slot_requested.emit(day, seconds))
        menu.exec(event.globalPos())

    def event(self, event: QEvent) -> bool:
        if event.type() == QEvent.Type.ToolTip and isinstance(event, QHelpEvent):
            position = self.block_at(event.pos())
            if position is not None:
                text = self.block_tooltip(position)
            elif (slot := self.slot_at(event.pos())) is not None:
                text = self.slot_tooltip(*slot)
            else:
                text = ""
            if text:
                QToolTip.showText(event.globalPos(), text, self)
            else:
                QToolTip.hideText()
            return True
        return super().event(event)

    def free_at(self, day: int, instant: dt.datetime) -> Interval | None:
        """The free stretch of the day (no entry of one's own in it) holding `instant`."""
        if self.week is None:
            return None
        spans = [b.span for b in self.layout_.blocks if b.day == day]
        window = day_span(self.week.days[day], self.week.zone)
        return next(
            ((a, b) for a, b in gaps(spans, window, dt.timedelta(0)) if a <= instant < b), None
        )

    def slot_tooltip(self, day: int, seconds: int) -> str:
        """An empty slot: the free stretch around it, and how to fill it."""
        if self.week is None:
            return ""
        zone = self.week.zone
        free = self.free_at(day, slot_instant(self.week.days[day], seconds, zone))
        if free is None:
            return ""
        a, b = (t.astimezone(zone) for t in free)
        end = "midnight" if b.date() > self.week.days[day] else f"{b:%H:%M}"
        return (
            f"Free {a:%H:%M}\N{EN DASH}{end} ({duration_text(int((b - a).total_seconds()))}): "
            "double-click to add time here"
        )

    def block_tooltip(self, position: int) -> str:
        """The whole entry: patient, service, each stretch's times, minutes, what overlaps."""
        block = self.layout_.blocks[position]
        row = block.entry.row
        zone = self.week.zone if self.week else dt.UTC
        stretches = ", ".join(
            f"{a.astimezone(zone):%a %H:%M}\N{EN DASH}"
            + (f"{b.astimezone(zone):%H:%M}" if b else "now")
            for a, b in block.entry.segments
        )
        lines = [
            f"{row.patient_name} · MRN {row.mrn}",
            f"{row.service.upper()} · {minutes_text(self.entry_seconds(block.entry))} · "
            f"{stretches}",
        ]
        if row.activity:
            lines.append(row.activity)
        if row.entry_id in self.overlapping_ids():
            lines.append("Overlaps another of your entries: correct one of them.")
        if row.state != "stopped":
            lines.append("Still timing: click to open the patient.")
        return "\n".join(lines)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        key = event.key()
        if key in (Qt.Key.Key_Left, Qt.Key.Key_Right):
            step = -1 if key == Qt.Key.Key_Left else 1
            day = self.chosen_day + step
            if 0 <= day < 7:
                self._choose(day, None)
            else:
                self.day_moved.emit(step)
            return
        if key in (Qt.Key.Key_Up, Qt.Key.Key_Down):
            self._step_block(-1 if key == Qt.Key.Key_Up else 1)
            return
        if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            entry = self.chosen_entry()
            if entry is not None:
                self.block_activated.emit(entry)
            elif self.week is not None:
                self.slot_requested.emit(self.chosen_day, self.week.workday[0] * 60)
            return
        super().keyPressEvent(event)

    def focusInEvent(self, event: QFocusEvent) -> None:
        self.update()
        super().focusInEvent(event)

    def _choose(self, day: int, block: int | None) -> None:
        self.chosen_day = day
        self.chosen_block = block
        self.update()
        self.chosen_changed.emit()

    def day_blocks(self, day: int) -> list[int]:
        """The day's blocks, top to bottom."""
        blocks = self.layout_.blocks
        return sorted(
            (n for n, b in enumerate(blocks) if b.day == day), key=lambda n: blocks[n].top
        )

    def _step_block(self, step: int) -> None:
        order = self.day_blocks(self.chosen_day)
        if not order:
            return
        if self.chosen_block not in order:
            self._choose(self.chosen_day, order[0 if step > 0 else -1])
            return
        at = order.index(self.chosen_block) + step
        self._choose(self.chosen_day, order[max(0, min(len(order) - 1, at))])


class WeekHeader(QWidget):
    """Each day's name and total over its column, today marked; the week's total is below."""

    def __init__(self, canvas: WeekCanvas, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("weekHeader")
        self.setFixedHeight(HEADER_HEIGHT)
        self._canvas = canvas

    def day_texts(self) -> list[tuple[str, str]]:
        """Each column's heading and total, as shown ("Mon 9", "1:05:30")."""
        canvas = self._canvas
        if canvas.week is None:
            return []
        totals = canvas.layout_.day_seconds
        return [
            (f"{DAY_NAMES[n]} {day.day}", clock_text(totals[n]) if totals[n] else "—")
            for n, day in enumerate(canvas.week.days)
        ]

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        canvas = self._canvas
        bold = QFont(self.font())
        bold.setBold(True)
        for n, (name, total) in enumerate(self.day_texts()):
            x = round(canvas.column_x(n))
            width = round(canvas.column_width())
            if n == canvas.chosen_day:
                painter.fillRect(QRect(x, 0, width, HEADER_HEIGHT), CHOSEN_DAY)
            painter.setFont(bold)
            painter.setPen(TODAY if n == canvas.today else QColor("#1b2a33"))
            half = HEADER_HEIGHT // 2
            painter.drawText(QRect(x, 2, width, half), Qt.AlignmentFlag.AlignCenter, name)
            painter.setFont(self.font())
            painter.setPen(QColor("#3d4f5a"))
            painter.drawText(QRect(x, half, width, half - 2), Qt.AlignmentFlag.AlignCenter, total)
        painter.setPen(QPen(GRID, 1))
        painter.drawLine(0, HEADER_HEIGHT - 1, self.width(), HEADER_HEIGHT - 1)
        painter.end()


class _Scroll(QScrollArea):
    """Keeps the header's columns over the canvas's when the scroll bar takes room."""

    resized = Signal()

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self.resized.emit()


class WeekPage(ServicesPage):
    """One person's own time, a week at a time, Monday to Sunday in the practice's time zone."""

    open_requested = Signal(str)  # mrn: a running stopwatch's patient
    time_changed = Signal()  # time was added or corrected here

    TITLE = "Week"

    def _build(self) -> None:
        self.week_label = QLabel()
        self.week_label.setObjectName("weekLabel")
        self.week_label.setMinimumWidth(170)
        self.week_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.this_week_button = QPushButton("This week")
        self.previous_button, self.next_button = step_buttons(
            "week", self.this_week_button.sizeHint().height()
        )

        self.canvas = WeekCanvas(self._services.now)
        self.header = WeekHeader(self.canvas)
        self.scroller = _Scroll()
        self.scroller.setObjectName("weekScroll")
        self.scroller.setWidget(self.canvas)
        self.scroller.setWidgetResizable(True)
        self.scroller.setFrameShape(QScrollArea.Shape.NoFrame)
        self.scroller.resized.connect(self._align_header)
        calendar = QWidget()
        calendar_layout = QVBoxLayout(calendar)
        calendar_layout.setContentsMargins(0, 0, 0, 0)
        calendar_layout.setSpacing(0)
        header_row = QHBoxLayout()
        header_row.setContentsMargins(0, 0, 0, 0)
        header_row.addWidget(self.header)
        self._header_pad = QWidget()
        self._header_pad.setFixedWidth(0)
        header_row.addWidget(self._header_pad)
        calendar_layout.addLayout(header_row)
        calendar_layout.addWidget(self.scroller, 1)
        self.stack = MessageStack(calendar)

        self.total_label = QLabel()
        self.total_label.setObjectName("countLabel")
        self.legend = QLabel(
            "  ".join(
                f"<span style='color:{c.name()}'>&#9632;</span> {s.upper()}"
                for s, c in SERVICE_COLOURS.items()
            )
            + f"  <span style='color:{OVERLAP.name()}'>&#9636;</span> overlap"
        )
        self.legend.setObjectName("hint")
        self.overlap_label = QLabel()
        self.overlap_label.setObjectName("weekOverlaps")
        self.overlap_label.setWordWrap(True)
        self.overlap_label.setStyleSheet(f"color: {OVERLAP.name()}")
        self.overlap_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        self._navigation = QWidget()
        navigation = QHBoxLayout(self._navigation)
        navigation.setContentsMargins(0, 0, 0, 0)
        navigation.addWidget(self.previous_button)
        navigation.addWidget(self.week_label)
        navigation.addWidget(self.next_button)
        navigation.addSpacing(8)
        navigation.addWidget(self.this_week_button)
        layout = self._lay_out(self._navigation)
        hint = QLabel(
            "Click a block to open its entry; double-click an empty slot to add time there. "
            "Arrows move between days and entries, Enter opens."
        )
        hint.setObjectName("hint")
        hint.setWordWrap(True)
        layout.addWidget(hint)
        layout.addWidget(self.stack, 1)
        self._footer = QWidget()
        footer = QHBoxLayout(self._footer)
        footer.setContentsMargins(0, 0, 0, 0)
        footer.addWidget(self.total_label, 1)
        footer.addWidget(self.legend)
        layout.addWidget(self.overlap_label)
        layout.addWidget(self._footer)

        self._ticker = QTimer(self)
        self._ticker.setInterval(TICK_MS)
        self._ticker.timeout.connect(self._tick)

        self._day = self.today()
        self.previous_button.clicked.connect(lambda: self.move_weeks(-1))
        self.next_button.clicked.connect(lambda: self.move_weeks(1))
        self.this_week_button.clicked.connect(lambda: self.set_day(self.today()))
        self.canvas.block_activated.connect(self.open_entry)
        self.canvas.slot_requested.connect(self.add_at)
        self.canvas.day_moved.connect(self._cross_week)
        self.canvas.chosen_changed.connect(self.header.update)
        self._scrolled = False

    # --- the week shown ----------------------------------------------------------------------

    def today(self) -> dt.date:
        return self._services.today()

    def days(self) -> tuple[dt.date, ...]:
        return week_days(self._day)

    def set_day(self, day: dt.date) -> None:
        """Show the week holding `day`, with that day chosen."""
        self._day = min(day, self.today())
        self.reload()

    def move_weeks(self, weeks: int) -> None:
        self.set_day(self._day + dt.timedelta(weeks=weeks))

    def chosen_day(self) -> dt.date:
        return self.days()[self.canvas.chosen_day]

    def _cross_week(self, step: int) -> None:
        """An arrow past Monday or Sunday goes on into the week before or after."""
        target = self.days()[0 if step < 0 else 6] + dt.timedelta(days=step)
        if target <= self.today():
            self.set_day(target)

    def _update_navigation(self) -> None:
        this_week = self.days() == week_days(self.today())
        self.next_button.setEnabled(not this_week)  # no time can lie in a week to come
        self.this_week_button.setEnabled(not this_week)
        self.week_label.setText(week_label(self.days()))

    # --- reading -----------------------------------------------------------------------------

    def showEvent(self, event: QShowEvent) -> None:
        self.reload()
        super().showEvent(event)
        if not self._scrolled:
            self._scrolled = True
            QTimer.singleShot(0, self.scroll_to_workday)

    def hideEvent(self, event: QHideEvent) -> None:
        self._ticker.stop()
        super().hideEvent(event)

    def refresh(self, changes: Changes) -> None:
        if touches(changes, TIME, TIMERS, PATIENTS):
            self.reload()

    def clear(self) -> None:
        self._ticker.stop()
        self.canvas.set_week(None, -1, 0)
        self.total_label.clear()
        self.overlap_label.clear()

    def forget_person(self) -> None:
        self._day = self.today()
        self.canvas.chosen_block = None

    def reload(self) -> None:
        """Read the week again, keeping the chosen day."""
        day = self._day
        services = self._services
        week = self._read(lambda: services.time_log.my_week(self._actor(), day))
        if week is None:
            return
        today = self.today()
        self.canvas.set_week(
            week,
            week.days.index(today) if today in week.days else -1,
            week.days.index(day),
        )
        self.stack.setCurrentIndex(0)
        self._navigation.show()
        self._footer.show()
        self._update_navigation()
        self._update_texts()
        if self.canvas.has_running() and self.isVisible():
            self._ticker.start()
        else:
            self._ticker.stop()

    def _show_message(self, text: str) -> None:
        self.clear()
        self.stack.show_message(text)
        self._navigation.hide()
        self._footer.hide()

    def message(self) -> str:
        return self.stack.message()

    def _tick(self) -> None:
        self.canvas.relayout()
        self._update_texts()

    def _update_texts(self) -> None:
        layout = self.canvas.layout_
        week = self.canvas.week
        count = len(week.entries) if week else 0
        if count == 0:
            self.total_label.setText("No time recorded in this week.")
        else:
            noun = "entry" if count == 1 else "entries"
            self.total_label.setText(
                f"Week total {clock_text(layout.week_seconds)} over {count} {noun}"
            )
        self.overlap_label.setText(self.overlap_text())
        self.overlap_label.setVisible(bool(layout.overlaps))
        self.header.update()

    def overlap_text(self) -> str:
        """The overlaps, one line each: they must be put right (the day totals count them
        once, docs/billing-rules.md "C3 Overlap counted once")."""
        week = self.canvas.week
        if week is None or not self.canvas.layout_.overlaps:
            return ""
        names = {e.row.entry_id: e.row.patient_name for e in week.entries}
        lines = []
        for piece in self.canvas.layout_.overlaps:
            first, last = (t.astimezone(week.zone) for t in piece.span)
            a, b = piece.entry_ids
            lines.append(
                f"{DAY_NAMES[piece.day]} {first:%H:%M}\N{EN DASH}{last:%H:%M}: "
                f"{names[a]} and {names[b]} at once"
            )
        return (
            "Overlapping time (counted once in the totals; correct one of the entries): "
            + "; ".join(lines)
            + "."
        )

    def scroll_to_workday(self) -> None:
        """Show the working day: from half an hour before it starts."""
        week = self.canvas.week
        start = (week.workday[0] if week else 480) - 30
        self.scroller.verticalScrollBar().setValue(round(self.canvas.y_of(max(0, start) * 60)))

    def _align_header(self) -> None:
        bar = self.scroller.verticalScrollBar()
        self._header_pad.setFixedWidth(bar.width() if bar.isVisible() else 0)

    # --- opening and adding ------------------------------------------------------------------

    def open_entry(self, entry: WeekEntry) -> bool:
        """Correct a stopped entry in the manual-entry dialog; a stopwatch still running or
        paused opens its patient's page instead (it is corrected once stopped)."""
        row = entry.row
        if row.state != "stopped":
            self.open_requested.emit(row.mrn)
            return False
        services = self._services
        dialog = ManualEntryDialog(
            f"{row.patient_name} · MRN {row.mrn}",
            services.practice.stopwatch_settings().activities,
            services.practice_zone(),
            services.now(),
            entry=row,
            parent=self,
        )
        return self._until_saved(dialog, lambda d: correct_entry(services, self._actor(), row, d))

    def add_at(self, day: int, seconds: int) -> bool:
        """Add time by hand from an empty slot: the dialog starts at the slot, a quarter of
        an hour long or up to the next entry of the day, and asks whose time it is."""
        week = self.canvas.week
        if week is None:
            return False
        services = self._services
        start = slot_instant(week.days[day], seconds, week.zone)
        now = services.now()
        if start >= now:
            show_info(self, "Time is added once it is spent: choose a slot before now.")
            return False
        end = min(start + dt.timedelta(seconds=SLOT_SECONDS), now.replace(second=0))
        if (free := self.canvas.free_at(day, start)) is not None:
            end = min(end, free[1])  # up to the next entry, so the default can be saved
        if end <= start:
            end = start + dt.timedelta(seconds=SLOT_SECONDS)
        rows = self._read(lambda: services.patients.list_rows(self._actor()))
        if rows is None:
            return False
        dialog = ManualEntryDialog(
            "Add time by hand",
            services.practice.stopwatch_settings().activities,
            week.zone,
            now,
            span=(start, end),
            patients=patient_choices(rows),
            parent=self,
        )
        return self._until_saved(
            dialog,
            lambda d: add_by_hand(services, self._actor(), dialog.chosen_mrn() or "", d),
        )

    def _until_saved(self, dialog: ManualEntryDialog, save: Callable[..., object]) -> bool:
        if not save_until_taken(dialog, self.exec_dialog, save):
            return False
        self.reload()
        self.time_changed.emit()
        return True

    def exec_dialog(self, dialog: ManualEntryDialog) -> bool:
        """Run a dialog (a method, so tests can fill it in instead of a person)."""
        return dialog.exec() == ManualEntryDialog.DialogCode.Accepted
