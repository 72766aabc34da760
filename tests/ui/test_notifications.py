"""Reminders on screen: the minute check with an injected clock, the panel, bell, tray, settings."""

from __future__ import annotations

import datetime as dt

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QSystemTrayIcon

from ccmdesk.rules.reminders import ReminderSettings
from ccmdesk.services import Actor, Services
from ccmdesk.ui.background import InlineTaskRunner
from ccmdesk.ui.main_window import WORKLIST, MainWindow
from ccmdesk.ui.notifications import (
    Bell,
    MyRemindersDialog,
    NotificationsPanel,
    ReminderController,
    show_in_tray,
)
from ccmdesk.ui.pages.practice import PracticePage
from ccmdesk.ui.pages.worklist import WorklistPage
from tests.helpers.common import FakeClock
from tests.helpers.ui import FakeIdle


@pytest.fixture
def idle() -> FakeIdle:
    return FakeIdle()


@pytest.fixture
def controller(
    qtbot, services: Services, nurse: Actor, clock: FakeClock, idle: FakeIdle
) -> ReminderController:
    front = {"on": True}
    made = ReminderController(
        services, lambda: nurse, InlineTaskRunner(), idle, clock, lambda: front["on"]
    )
    made.front = front  # type: ignore[attr-defined]
    return made


def raised_kinds(qtbot, controller: ReminderController) -> list[str]:
    got: list[str] = []
    controller.raised.connect(lambda rows: got.extend(r.kind for r in rows))
    controller.check()
    return got


def test_the_morning_check_raises_falling_behind_once(
    qtbot, controller: ReminderController
) -> None:
    assert raised_kinds(qtbot, controller) == ["falling_behind"]
    assert controller.inbox.unread == 1
    assert controller.inbox.rows[0].body == (
        "1 of your patients need minutes to reach their next threshold with 16 days left."
    )
    assert raised_kinds(qtbot, controller) == []


def test_timing_a_call_follows_the_minutes_of_activity_in_front(
    qtbot, controller: ReminderController, services: Services, nurse: Actor, clock: FakeClock,
    idle: FakeIdle,
) -> None:  # fmt: skip
    services.notifications.save_my_off(nurse, {"falling_behind"})
    assert raised_kinds(qtbot, controller) == []  # the working stretch begins
    clock.advance(minutes=9)
    assert raised_kinds(qtbot, controller) == []
    idle.seconds = 200  # a pause longer than BREAK_SECONDS starts the count again
    clock.advance(minutes=1)
    assert raised_kinds(qtbot, controller) == []
    idle.seconds = 0
    assert raised_kinds(qtbot, controller) == []
    clock.advance(minutes=9)
    controller.front["on"] = False  # type: ignore[attr-defined]
    assert raised_kinds(qtbot, controller) == []  # another program in front
    controller.front["on"] = True  # type: ignore[attr-defined]
    controller.check()
    clock.advance(minutes=10)
    assert raised_kinds(qtbot, controller) == ["no_stopwatch"]
    clock.advance(minutes=30)
    assert raised_kinds(qtbot, controller) == []  # at most once an hour


def test_a_long_stopwatch_is_raised_through_the_controller(
    qtbot, controller: ReminderController, services: Services, nurse: Actor, clock: FakeClock
) -> None:
    services.notifications.save_my_off(nurse, {"falling_behind"})
    services.stopwatch.start(nurse, "A100")
    clock.advance(minutes=61)
    assert raised_kinds(qtbot, controller) == ["long_stopwatch"]


def test_reminders_turned_off_for_the_practice_raise_nothing(
    qtbot, controller: ReminderController, services: Services, admin: Actor, clock: FakeClock
) -> None:
    every = frozenset({"falling_behind", "no_stopwatch", "long_stopwatch"})
    services.notifications.save_settings(admin, ReminderSettings(off=every))
    services.stopwatch.start(services.staff.actor_for("rn-lee"), "A100")
    controller.check()
    clock.advance(minutes=61)
    assert raised_kinds(qtbot, controller) == []
    assert controller.inbox.rows == ()


def test_the_panel_lists_unread_in_bold_and_a_click_opens_and_reads(
    qtbot, controller: ReminderController
) -> None:
    panel = NotificationsPanel(controller, lambda: dt.UTC)
    bell = Bell(controller)
    qtbot.addWidget(panel)
    qtbot.addWidget(bell)
    assert panel.empty.isHidden() is False and panel.list.count() == 0
    controller.check()
    assert panel.list.count() == 1 and panel.empty.isHidden()
    item = panel.list.item(0)
    assert item.text().startswith("\u25cf 1 patient falling behind  \u00b7  ")
    assert item.text().endswith(
        "\n1 of your patients need minutes to reach their next threshold with 16 days left."
    )
    assert item.font().bold()
    assert bell.text() == "Notifications (1)" and bell.font().bold()
    with qtbot.waitSignal(panel.open_requested) as opened:
        panel.list.itemClicked.emit(item)
    assert opened.args == ["worklist:falling_behind"]
    assert not panel.list.item(0).font().bold()
    assert panel.list.item(0).text().startswith("1 patient falling behind")
    assert bell.text() == "Notifications"
    assert not panel.mark_all.isEnabled()


def test_mark_all_read(qtbot, controller: ReminderController, services: Services) -> None:
    panel = NotificationsPanel(controller, lambda: dt.UTC)
    qtbot.addWidget(panel)
    controller.check()
    assert panel.mark_all.isEnabled()
    panel.mark_all.click()
    assert controller.inbox.unread == 0
    assert not any(panel.list.item(i).font().bold() for i in range(panel.list.count()))


def test_without_a_tray_reminders_go_only_to_the_panel(qtbot, nurse_window: MainWindow) -> None:
    assert not QSystemTrayIcon.isSystemTrayAvailable()  # offscreen: no tray
    assert show_in_tray(nurse_window.tray, ()) is False
    nurse_window.reminders.check()
    rows = nurse_window.reminders.inbox.rows
    assert show_in_tray(nurse_window.tray, rows) is False
    assert nurse_window.notifications.list.count() == 1
    assert nurse_window.bell.text() == "Notifications (1)"
    nurse_window.bell.click()
    assert nurse_window.notifications_dock.isVisible()


def test_the_falling_behind_reminder_opens_the_filtered_worklist(
    qtbot, nurse_window: MainWindow
) -> None:
    nurse_window.reminders.check()
    item = nurse_window.notifications.list.item(0)
    nurse_window.notifications.list.itemClicked.emit(item)
    assert nurse_window.current_page() == WORKLIST
    page = nurse_window.page(WORKLIST)
    assert isinstance(page, WorklistPage) and page.behind_box.isChecked()
    nurse_window.open_target("patient:A100")
    assert nurse_window.current_page() != WORKLIST
    nurse_window.open_target("billing")  # not the nurse's page: nothing happens
    assert nurse_window.current_page() != "billing"


def test_my_reminders_turns_kinds_off_for_oneself(
    qtbot, services: Services, nurse: Actor, admin: Actor
) -> None:
    services.notifications.save_settings(admin, ReminderSettings(off=frozenset({"month_close"})))
    dialog = MyRemindersDialog(services, nurse)
    qtbot.addWidget(dialog)
    assert not dialog.boxes["month_close"].isEnabled()  # off for everyone
    assert dialog.boxes["callbacks_due"].isChecked()
    dialog.boxes["callbacks_due"].setChecked(False)
    dialog.save()
    assert services.notifications.my_off(nurse) == {"callbacks_due"}
    again = MyRemindersDialog(services, nurse)
    qtbot.addWidget(again)
    assert not again.boxes["callbacks_due"].isChecked()


def test_the_practice_page_saves_the_reminders_section(
    qtbot, services: Services, admin: Actor
) -> None:
    page = PracticePage(services, lambda: admin)
    qtbot.addWidget(page)
    page.show()
    box = page.reminders_box
    assert box.isVisible() and box.limit.value() == 60
    box.kinds["no_stopwatch"].setChecked(False)
    box.limit.setValue(90)
    assert page.save(), page.status.text()
    saved = services.notifications.settings()
    assert (saved.off, saved.stopwatch_limit_minutes) == ({"no_stopwatch"}, 90)
    box.start.setTime(box.end.time())  # a working day that ends as it begins
    assert not page.save()
    assert "the working day's end must be after the working day's start" in page.status.text()
    assert services.notifications.settings() == saved


def test_the_bell_is_in_the_status_bar_and_the_file_menu_has_my_reminders(
    qtbot, nurse_window: MainWindow
) -> None:
    assert nurse_window.statusBar().isAncestorOf(nurse_window.bell)
    (file_menu,) = (
        action.menu() for action in nurse_window.menuBar().actions() if action.text() == "&File"
    )
    assert nurse_window.my_reminders_action in file_menu.actions()
    assert nurse_window.my_reminders_action.text() == "My &reminders…"
    dialog = nurse_window.my_reminders()
    assert isinstance(dialog, MyRemindersDialog) and dialog.isVisible()
    dialog.close()
    assert nurse_window.notifications_dock.widget() is nurse_window.notifications
    assert nurse_window.notifications.list.accessibleName() == "Notifications"
    assert Qt.DockWidgetArea.RightDockWidgetArea == nurse_window.dockWidgetArea(
        nurse_window.notifications_dock
    )


def test_a_switch_of_user_checks_the_new_persons_reminders_at_once(
    qtbot, services: Services, nurse: Actor, clock: FakeClock, idle: FakeIdle
) -> None:
    # Walking the demo, the biller signed in after the nurse saw nothing for up to a minute:
    # the switch showed the stored list and waited for the next tick to raise anything.
    who = {"actor": Actor(key="cli:someone", name="Someone", role="admin")}
    controller = ReminderController(
        services, lambda: who["actor"], InlineTaskRunner(), idle, clock, lambda: True
    )
    got: list[str] = []
    controller.raised.connect(lambda rows: got.extend(r.kind for r in rows))
    controller.check()
    assert got == []
    who["actor"] = nurse
    controller.reload()
    assert got == ["falling_behind"]
    assert controller.inbox.unread == 1


def test_a_check_for_the_last_person_does_not_let_a_second_check_run_beside_the_new_one(
    qtbot, services: Services, nurse: Actor, clock: FakeClock, idle: FakeIdle
) -> None:
    from tests.helpers.ui import HeldRunner

    runner = HeldRunner()
    who = {"actor": Actor(key="cli:someone", name="Someone", role="admin")}
    controller = ReminderController(
        services, lambda: who["actor"], runner, idle, clock, lambda: True
    )
    controller.check()  # the last person's, still on its way
    who["actor"] = nurse
    controller.reload()  # the switch checks the nurse's at once
    assert len(runner.tasks) == 2
    runner.finish()  # the last person's answer comes back: dropped
    controller.check()  # the next minute's tick, while the nurse's check still runs
    assert len(runner.tasks) == 1
    runner.finish()
    assert controller.inbox.unread == 1
