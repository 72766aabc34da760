"""One "data changed" signal for the window: a burst of changes refreshes the screen once."""

from __future__ import annotations

from PySide6.QtCore import QObject, QTimer, Signal

# What changed; a page re-reads only for the kinds it shows.
TIME = "time"  # time entries saved, corrected or deleted
TIMERS = "timers"  # a stopwatch started, paused, resumed or stopped
PATIENTS = "patients"
STAFF = "staff"
PRACTICE = "practice"
PAYERS = "payers"  # a payer saved, retired or deleted
EVERYTHING = "everything"  # another person signed in, or an import
Changes = frozenset[str]


def touches(changes: Changes, *kinds: str) -> bool:
    """True when `changes` holds one of `kinds`, or everything changed."""
    return EVERYTHING in changes or not changes.isdisjoint(kinds)


class DataChanged(QObject):
    """Collects the changes made during one turn of the event loop and announces them once,
    so a stop-and-save (a saved entry, then the stopwatches re-read) refreshes every view once
    instead of each view re-reading on every signal."""

    changed = Signal(object)  # Changes

    def __init__(self, parent: QObject | None = None, delay_ms: int = 0) -> None:
        super().__init__(parent)
        self._pending: set[str] = set()
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(delay_ms)
        self._timer.timeout.connect(self.flush)

    def notify(self, *kinds: str) -> None:
        """Something changed; the views hear of it once the current burst is over."""
        self._pending.update(kinds or (EVERYTHING,))
        if not self._timer.isActive():
            self._timer.start()

    def flush(self) -> None:
        """Announce what is pending now (callers that must show the change at once)."""
        self._timer.stop()
        if self._pending:
            changes = frozenset(self._pending)
            self._pending.clear()
            self.changed.emit(changes)
