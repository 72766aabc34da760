"""The Qt binding itself: a signal emitted from Python must not leak references."""

from __future__ import annotations

import sys

from PySide6.QtCore import QObject, Signal


class _Emitter(QObject):
    fired = Signal()


def test_emitting_from_python_leaks_no_reference_to_true(qtbot) -> None:
    # PySide6 6.12.0 dropped one reference to True per emit(); after some thousands of emits
    # (a stopwatch ticking for hours, a long filter session) the process aborted. From Python
    # 3.12 on True is immortal, so the count cannot move and the leak cannot abort either.
    emitter = _Emitter()
    before = sys.getrefcount(True)
    for _ in range(1000):
        emitter.fired.emit()
    assert abs(sys.getrefcount(True) - before) < 10
