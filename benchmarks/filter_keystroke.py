"""One filter keystroke over 10,000 patients on the real Patients page.

Run: python -m benchmarks.filter_keystroke (under xvfb-run -a for a real window).

Types queries a nurse would type into the search box, one key at a time, and times each key from
the key event to the end of the repaint it causes (filter, count label and table redraw).
"""

from __future__ import annotations

import os
import statistics
import sys
import time

from benchmarks.dataset import patients_database

QUERIES = ("abernathy", "rb1004", "1948-03", "03/02/19", "cohen mar", "nunez")


def main() -> int:
    if "DISPLAY" not in os.environ:
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import Qt
    from PySide6.QtTest import QTest
    from PySide6.QtWidgets import QApplication

    from ccmdesk.config import database_url
    from ccmdesk.db import open_database
    from ccmdesk.services import Services
    from ccmdesk.ui.main_window import MainWindow

    data_dir = patients_database(10_000)
    app = QApplication(["bench"])
    db = open_database(database_url(data_dir))
    services = Services(db)
    actor = services.staff.actor_for("rn-lee")
    window = MainWindow(services, actor)
    window.resize(1280, 800)
    window.show()
    QTest.qWaitForWindowExposed(window)
    page = window.pages["patients"]
    search = page.search_field
    rows = page.model.rowCount()
    # Two passes over the same queries: the first is a fresh window (fonts and glyphs for
    # names never drawn before are loaded as they first appear), the second a window in use.
    for label in ("first pass, fresh window", "second pass, window in use"):
        timings: list[float] = []
        labelled: list[tuple[float, str]] = []
        for query in QUERIES:
            search.clear()
            app.processEvents()
            for char in query:
                started = time.perf_counter()
                QTest.keyClick(search, char)
                app.processEvents()  # runs the filter slot and the repaint it schedules
                timings.append(time.perf_counter() - started)
                labelled.append((timings[-1], search.text()))
            QTest.keyClick(search, Qt.Key.Key_Escape)
        slowest = sorted(labelled, reverse=True)[:3]
        ms = sorted(t * 1000 for t in timings)
        print(
            f"{label}: {len(ms)} keystrokes over {rows:,} patients: median "
            f"{statistics.median(ms):.1f} ms, "
            f"95th percentile {ms[int(len(ms) * 0.95) - 1]:.1f} ms, "
            f"worst {ms[-1]:.1f} ms (slowest: "
            + ", ".join(f"{text!r} {t * 1000:.0f} ms" for t, text in slowest)
            + ")"
        )
    window.close()
    db.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
