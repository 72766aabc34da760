"""The one progress bar toward the next minutes threshold, painted alike on every screen."""

from __future__ import annotations

import math

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QPainter, QPaintEvent
from PySide6.QtWidgets import QSizePolicy, QWidget

BAR_TRACK = QColor("#d5dde2")
BAR_FILL = QColor("#1f6f8b")
BAR_DONE = QColor("#2e7d5b")
BAR_TICK = QColor("#ffffff")  # a gap in the bar where a threshold lies


def paint_threshold_bar(
    painter: QPainter, bar: QRectF, fraction: float, ticks: tuple[float, ...]
) -> None:
    """The one progress bar of every screen: a rounded track filled to `fraction` of the next
    threshold, with a tick where each threshold below it lies."""
    height = bar.height()
    radius = height / 2
    painter.save()
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(BAR_TRACK)
    painter.drawRoundedRect(bar, radius, radius)
    if fraction > 0:
        filled = QRectF(bar)
        # At least a round dot, so a little time already shows as a start.
        filled.setWidth(min(bar.width(), max(height, bar.width() * fraction)))
        painter.setBrush(BAR_DONE if fraction >= 1.0 else BAR_FILL)
        painter.drawRoundedRect(filled, radius, radius)
    painter.setBrush(BAR_TICK)
    for share in ticks:
        x = bar.left() + bar.width() * share
        painter.drawRect(QRectF(x - 1, bar.top(), 2, height))
    painter.restore()


def percent_text(fraction: float) -> str:
    # Rounded down: 19:59 of 20 minutes is not there yet, so it must never read 100% (C1,
    # docs/billing-rules.md, "C1 Whole seconds").
    return f"{math.floor(fraction * 100)}%"


class ThresholdBar(QWidget):
    """The worklist's progress bar as a widget of its own (paint_threshold_bar)."""

    def __init__(self) -> None:
        super().__init__()
        self.fraction = 0.0
        self.ticks: tuple[float, ...] = ()
        self.setFixedHeight(14)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)

    def set_progress(self, fraction: float, ticks: tuple[float, ...]) -> None:
        self.fraction, self.ticks = fraction, ticks
        self.setToolTip(f"{percent_text(fraction)} of the next threshold")
        self.update()

    def paintEvent(self, _event: QPaintEvent) -> None:
        painter = QPainter(self)
        paint_threshold_bar(painter, QRectF(self.rect()), self.fraction, self.ticks)
        painter.end()
