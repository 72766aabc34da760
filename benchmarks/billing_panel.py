"""The billing panel with a month of 10,000 patients: filter, search, sort and scroll.

Run: xvfb-run -a python -m benchmarks.billing_panel (a real window draws every repaint).

The month (300,000 entries) is evaluated once; then each action is timed from the event to
the end of the repaint it causes: choosing each filter, typing searches a biller would type,
sorting by each column, and scrolling the table page by page.
"""

from __future__ import annotations

import os
import statistics
import sys
import time

from benchmarks.dataset import BILLING_MONTH, NOW, billing_database

QUERIES = ("abernathy", "rb1004", "okafor", "99487", "cohen mar")


def summary(label: str, seconds: list[float]) -> str:
    ms = sorted(t * 1000 for t in seconds)
    return (
        f"{label}: {len(ms)} actions, median {statistics.median(ms):.1f} ms, "
        f"95th percentile {ms[max(0, int(len(ms) * 0.95) - 1)]:.1f} ms, worst {ms[-1]:.1f} ms"
    )


def main() -> int:
    if "DISPLAY" not in os.environ:
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import Qt
    from PySide6.QtTest import QTest
    from PySide6.QtWidgets import QApplication

    from ccmdesk.db import open_database
    from ccmdesk.services import Services
    from ccmdesk.ui.background import InlineTaskRunner
    from ccmdesk.ui.pages.billing import BillingPage

    folder = billing_database()
    app = QApplication(["bench"])
    db = open_database(f"sqlite:///{folder / 'ccmdesk.sqlite3'}")
    services = Services(db, clock=lambda: NOW)
    actor = services.staff.actor_for("bill-chen")
    started = time.perf_counter()
    page = BillingPage(services, lambda: actor, InlineTaskRunner())
    page.set_month(BILLING_MONTH)
    page.resize(1100, 760)
    page.show()
    QTest.qWaitForWindowExposed(page)
    app.processEvents()
    print(f"opened with {page.model.rowCount():,} rows in {time.perf_counter() - started:.2f} s")

    def timed(action: object) -> float:
        begin = time.perf_counter()
        action()  # type: ignore[operator]
        app.processEvents()  # the slot, then the repaint it scheduled
        return time.perf_counter() - begin

    for label in ("first pass", "second pass"):
        filters = [
            timed(lambda i=i: page.filter_box.setCurrentIndex(i))
            for i in (*range(1, page.filter_box.count()), 0)
        ]
        keys: list[float] = []
        for query in QUERIES:
            page.search_field.clear()
            app.processEvents()
            for char in query:
                keys.append(timed(lambda c=char: QTest.keyClick(page.search_field, c)))
        page.search_field.clear()
        app.processEvents()
        sorts = [
            timed(lambda c=c, o=o: page.table.sortByColumn(c, o))
            for c in range(page.model.columnCount())
            for o in (Qt.SortOrder.DescendingOrder, Qt.SortOrder.AscendingOrder)
        ]
        bar = page.table.verticalScrollBar()
        step = bar.SliderAction.SliderPageStepAdd
        scrolls = [timed(lambda b=bar, s=step: b.triggerAction(s)) for _ in range(60)]
        scrolls.append(timed(page.table.scrollToBottom))
        scrolls.append(timed(page.table.scrollToTop))
        print(f"-- {label} over {len(page.model.shown()):,} rows")
        print("  " + summary("filter choice", filters))
        print("  " + summary("search keystroke", keys))
        print("  " + summary("sort by a column", sorts))
        print("  " + summary("scroll a page", scrolls))
    page.close()
    db.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
