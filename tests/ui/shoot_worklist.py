"""Render the worklist and My day pages on the demo practice into PNGs (not a test).

Run under a virtual screen so the real platform plugin draws the widgets:

    xvfb-run -a -s "-screen 0 1400x900x24" python tests/ui/shoot_worklist.py OUT_DIR
"""

from __future__ import annotations

import datetime as dt
import sys
import tempfile
from collections import Counter
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QEventLoop, QSize, QTimer
from PySide6.QtWidgets import (
    QApplication,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from ccmdesk.db import open_database
from ccmdesk.services import Actor, Services
from ccmdesk.ui.app import configure_application
from ccmdesk.ui.first_start import setup_actor
from ccmdesk.ui.my_day import MyDayPage
from ccmdesk.ui.theme import icon
from ccmdesk.ui.worklist import WorklistPage

# A Monday afternoon in the middle of the month (15:30 in the demo's New York time zone):
# a fixed instant keeps the pictures the same from one run to the next.
NOW = dt.datetime(2026, 3, 16, 19, 30, tzinfo=dt.UTC)
DEFAULT_OUT = Path("/tmp/shots-worklist")


class SteppingClock:
    """The services' clock, moved by hand so a stopwatch can be seen running."""

    def __init__(self, start: dt.datetime) -> None:
        self.now = start

    def __call__(self) -> dt.datetime:
        return self.now


def settle(milliseconds: int = 150) -> None:
    """Let the window system map, lay out and paint what was just shown."""
    loop = QEventLoop()
    QTimer.singleShot(milliseconds, loop.quit)
    loop.exec()
    QCoreApplication.processEvents()


def busiest_nurse(services: Services) -> Actor:
    """The clinical staff member with the most patients on their worklist."""
    counts: Counter[str] = Counter()
    for member in services.staff.list():
        if member.role == "clinical":
            actor = services.staff.actor_for(member.staff_id)
            counts[member.staff_id] = len(services.minutes.worklist(actor))
    staff_id, _ = counts.most_common(1)[0]
    return services.staff.actor_for(staff_id)


class Frame(QWidget):
    """The main window's header, navigation and margins around one page, as users see it."""

    def __init__(self, practice: str, user: str, pages: dict[str, QWidget]) -> None:
        super().__init__()
        header = QWidget()
        header.setObjectName("header")
        practice_label = QLabel(practice)
        practice_label.setObjectName("practiceLabel")
        user_label = QLabel(user)
        user_label.setObjectName("userLabel")
        header_row = QHBoxLayout(header)
        header_row.setContentsMargins(16, 8, 16, 8)
        header_row.addWidget(practice_label, 1)
        header_row.addWidget(user_label)
        self.nav = QListWidget()
        self.nav.setObjectName("navigation")
        self.nav.setIconSize(QSize(20, 20))
        self.nav.setFixedWidth(190)
        self.stack = QStackedWidget()
        for name, page in pages.items():
            self.nav.addItem(QListWidgetItem(icon(name.lower().replace(" ", "_")), name))
            self.stack.addWidget(page)
        self.nav.currentRowChanged.connect(self.stack.setCurrentIndex)
        content = QWidget()
        content_layout = QVBoxLayout(content)
        content_layout.setContentsMargins(16, 12, 16, 12)
        content_layout.addWidget(self.stack)
        body = QHBoxLayout()
        body.setContentsMargins(0, 0, 0, 0)
        body.setSpacing(0)
        body.addWidget(self.nav)
        body.addWidget(content, 1)
        column = QVBoxLayout(self)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(0)
        column.addWidget(header)
        column.addLayout(body, 1)

    def show_page(self, row: int) -> None:
        self.nav.setCurrentRow(row)


def save(widget: QWidget, out: Path, name: str) -> None:
    settle()
    path = out / name
    if not widget.grab().save(str(path)):
        raise RuntimeError(f"could not write {path}")
    print(f"wrote {path}")


def main(out: Path) -> int:
    out.mkdir(parents=True, exist_ok=True)
    app = QApplication(sys.argv[:1])
    configure_application(app)
    clock = SteppingClock(NOW)
    with tempfile.TemporaryDirectory() as temporary:
        folder = Path(temporary)
        database = open_database(f"sqlite:///{folder / 'ccmdesk.sqlite3'}", folder / "backups")
        services = Services(database, clock=clock)
        print("creating the demo practice…")
        services.demo.create(setup_actor())
        nurse = busiest_nurse(services)
        worklist = WorklistPage(services, lambda: nurse)
        my_day = MyDayPage(services, lambda: nurse)
        practice = services.practice.get()
        frame = Frame(
            practice.name if practice else "",
            f"{nurse.name} · Clinical staff",
            {"Worklist": worklist, "My day": my_day},
        )
        # A stopwatch running for the patient at the top, so My day shows one in progress.
        top = services.minutes.worklist(nurse)[0]
        services.stopwatch.start(nurse, top.mrn)
        clock.now += dt.timedelta(minutes=7, seconds=12)

        frame.resize(1280, 800)
        frame.show()
        frame.show_page(0)
        worklist.select_mrn(services.minutes.worklist(nurse)[2].mrn)
        save(frame, out, "worklist.png")
        frame.show_page(1)
        save(frame, out, "my-day.png")
        frame.close()
        database.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_OUT))
