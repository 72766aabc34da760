"""One change, one refresh: a stop-and-save through the window reads the database a few times."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication

from ccmdesk.services import Actor, Services
from ccmdesk.ui.background import InlineTaskRunner
from ccmdesk.ui.main_window import AUDIT, BILLING, MY_DAY, PATIENTS, WORKLIST, MainWindow
from ccmdesk.ui.pages.billing import BillingPage
from ccmdesk.ui.pages.patients import PatientsPage
from ccmdesk.ui.refresh import EVERYTHING, TIME, TIMERS, Changes, DataChanged
from ccmdesk.ui.refresh import PATIENTS as PATIENT_DATA
from ccmdesk.ui.refresh import STAFF as STAFF_DATA
from ccmdesk.ui.state import GuiState
from ccmdesk.ui.stopwatch_dialogs import StopDialog
from tests.helpers.common import FakeClock
from tests.helpers.database import count_sessions

# Issue #16: a Stop-and-save (the Stop dialog's settings, the stop itself, whatever the screen
# shows after it) in at most six sessions; it took 29 when every view re-read on its own.
MOST_SESSIONS = 6


@pytest.fixture
def window(nurse_window: MainWindow) -> MainWindow:
    return nurse_window


def settle() -> None:
    for _ in range(5):
        QApplication.processEvents()


def test_a_stop_and_save_through_the_window_opens_few_sessions(
    qtbot,
    window: MainWindow,
    services: Services,
    nurse: Actor,
    clock: FakeClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Every page that shows time has been opened once, as in a working day.
    for name in (WORKLIST, MY_DAY, PATIENTS):
        window.show_page(name)
        settle()
    page = window.pages[PATIENTS]
    assert isinstance(page, PatientsPage) and page.show_patient("A100")
    assert page.panel is not None
    buttons = page.panel.stopwatch
    qtbot.mouseClick(buttons.start_button, Qt.MouseButton.LeftButton)
    settle()
    clock.advance(minutes=21)
    # The first reminder check runs on a wall-clock timer 5 s after the window opens: on a
    # loaded machine it lands inside the count, and its sessions are not the stop's.
    monkeypatch.setattr(window.reminders, "check", lambda: None)
    opened = count_sessions(monkeypatch)

    def fill() -> None:
        dialog = QApplication.activeModalWidget()
        assert isinstance(dialog, StopDialog)
        dialog.activity.setCurrentText("Education")
        qtbot.keyClicks(dialog.note, "Reviewed the glucose log")
        dialog.save_button.click()

    QTimer.singleShot(0, fill)
    qtbot.mouseClick(buttons.stop_button, Qt.MouseButton.LeftButton)
    settle()
    assert window.stopwatch.timers == []
    assert len(opened) <= MOST_SESSIONS, "\n".join(opened)
    # What the panel shows from the stop's own answer is what reading afresh shows.
    monkeypatch.undo()
    shown_month, shown_bar = page.panel.month_label.text(), page.panel.bar_text.text()
    shown_log = [
        [page.panel.log.item(r, c).text() for c in range(page.panel.log.columnCount())]
        for r in range(page.panel.log.rowCount())
    ]
    page.panel.refresh()
    assert (page.panel.month_label.text(), page.panel.bar_text.text()) == (shown_month, shown_bar)
    assert [
        [page.panel.log.item(r, c).text() for c in range(page.panel.log.columnCount())]
        for r in range(page.panel.log.rowCount())
    ] == shown_log
    assert shown_bar.startswith("21:00 of 40:00 counted")
    assert shown_log == [
        [
            "Mon 16 Mar 11:00–11:21",
            "21:00",
            "CCM",
            "Grace Lee",
            "Education",
            "Reviewed the glucose log",
        ]
    ]


def test_a_burst_of_changes_is_announced_once(qtbot) -> None:
    hub = DataChanged()
    heard: list[Changes] = []
    hub.changed.connect(heard.append)
    hub.notify(TIME)
    hub.notify(TIMERS)
    hub.notify(TIMERS)
    assert heard == []  # nothing until the event loop turns
    qtbot.waitUntil(lambda: bool(heard))
    settle()
    assert heard == [frozenset({TIME, TIMERS})]
    hub.flush()  # nothing pending: nothing announced
    assert len(heard) == 1


def test_a_hidden_page_rereads_what_changed_when_it_is_next_shown(
    qtbot, services: Services, admin: Actor, monkeypatch: pytest.MonkeyPatch
) -> None:
    main = MainWindow(services, admin, runner=InlineTaskRunner(), state=GuiState(None))
    qtbot.addWidget(main)
    main.show()
    main.show_page(AUDIT)
    main.show_page(PATIENTS)
    refreshed: dict[str, list[Changes]] = {AUDIT: [], PATIENTS: []}
    for name, calls in refreshed.items():
        monkeypatch.setattr(main.pages[name], "refresh", calls.append)
    main.data_changed.notify(TIME)
    main.data_changed.notify(TIMERS)
    main.data_changed.flush()
    assert refreshed == {PATIENTS: [frozenset({TIME, TIMERS})], AUDIT: []}
    main.show_page(AUDIT)
    assert refreshed[AUDIT] == [frozenset({TIME, TIMERS})]
    main.show_page(PATIENTS)
    main.show_page(AUDIT)  # nothing changed since: no second read
    assert len(refreshed[AUDIT]) == 1


def test_a_new_person_has_hidden_pages_read_when_shown_not_at_sign_in(
    qtbot, services: Services, admin: Actor, biller: Actor, monkeypatch: pytest.MonkeyPatch
) -> None:
    main = MainWindow(services, admin, runner=InlineTaskRunner(), state=GuiState(None))
    qtbot.addWidget(main)
    main.show()
    main.show_page(BILLING)
    main.show_page(PATIENTS)
    calls: list[Changes] = []
    monkeypatch.setattr(main.pages[BILLING], "refresh", calls.append)
    main.set_actor(biller)
    main.data_changed.flush()
    assert calls == []  # no month evaluated for a page nobody looks at
    main.show_page(BILLING)
    assert len(calls) == 1 and EVERYTHING in calls[0]


def test_a_patient_changed_on_the_patients_page_reaches_the_billing_page(
    qtbot, services: Services, admin: Actor, monkeypatch: pytest.MonkeyPatch
) -> None:
    main = MainWindow(services, admin, runner=InlineTaskRunner(), state=GuiState(None))
    qtbot.addWidget(main)
    main.show()
    main.show_page(BILLING)
    main.show_page(PATIENTS)
    heard: list[Changes] = []
    monkeypatch.setattr(main.pages[BILLING], "refresh", heard.append)
    patients = main.pages[PATIENTS]
    assert isinstance(patients, PatientsPage) and patients.panel is not None
    patients.panel.enrolment.changed.emit()  # an enrolment step or a waiver recorded
    main.data_changed.flush()
    main.show_page(BILLING)
    assert len(heard) == 1 and PATIENT_DATA in heard[0]
    billing = main.pages[BILLING]
    assert isinstance(billing, BillingPage)
    billing.patients_changed.emit()  # a waiver changed in Billing's list
    main.data_changed.flush()
    assert len(heard) == 2 and PATIENT_DATA in heard[1]


def test_a_staff_member_saved_reaches_the_pages_that_name_staff(
    qtbot, services: Services, admin: Actor, monkeypatch: pytest.MonkeyPatch
) -> None:
    main = MainWindow(services, admin, runner=InlineTaskRunner(), state=GuiState(None))
    qtbot.addWidget(main)
    main.show()
    main.show_page(BILLING)
    heard: list[Changes] = []
    monkeypatch.setattr(main.pages[BILLING], "refresh", heard.append)
    main.staff_saved("rn-lee")  # what the Staff page says after a save (a renamed nurse)
    main.data_changed.flush()
    assert heard and STAFF_DATA in heard[-1]
