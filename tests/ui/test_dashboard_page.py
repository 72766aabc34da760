"""The dashboard page: each chart draws the month's figures, loaded through the task runner."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from typing import Any

import pytest
from PySide6.QtWidgets import QMessageBox
from pytestqt.qtbot import QtBot

from ccmdesk.rules.billing import dollars
from ccmdesk.rules.records import StaffRecord
from ccmdesk.services import Actor, ServiceError, Services
from ccmdesk.services.dashboard import Dashboard
from ccmdesk.ui.background import InlineTaskRunner
from ccmdesk.ui.main_window import DASHBOARD, MainWindow
from ccmdesk.ui.pages.billing import BillingPage
from ccmdesk.ui.pages.dashboard import DashboardPage
from tests.helpers.common import SCHEDULER
from tests.helpers.dashboard import BOARD, EMPTY
from tests.helpers.ui import MONTH, HeldRunner

TODAY = dt.date(2026, 3, 16)
SOMEONE = Actor("rn-lee", "Grace Lee", "clinical")


class Loads:
    """The page's loader: hands back a board per month and notes each request."""

    def __init__(self, boards: dict[str, Dashboard] | None = None) -> None:
        self.boards = {BOARD.month: BOARD, EMPTY.month: EMPTY} if boards is None else boards
        self.asked: list[str] = []

    def __call__(self, _actor: Actor, month: str) -> Dashboard:
        self.asked.append(month)
        if month not in self.boards:
            raise ServiceError("Only billing staff may see the dashboard; ask them for it.")
        return self.boards[month]


class NoServices:
    """The page asks the services only for today; the loader is given."""

    def today(self) -> dt.date:
        return TODAY


def make_page(qtbot: QtBot, loads: Loads, runner: Any = None) -> DashboardPage:
    page = DashboardPage(
        NoServices(),  # type: ignore[arg-type]
        lambda: SOMEONE,
        runner or InlineTaskRunner(),
        today=lambda: TODAY,
        load=loads,
    )
    qtbot.addWidget(page)
    page.resize(1200, 900)
    return page


@pytest.fixture
def page(qtbot: QtBot) -> DashboardPage:
    return make_page(qtbot, Loads())


def plotted(item: Any, key: str) -> list[float]:
    return [float(v) for v in item.opts[key]]


def test_the_tiles_show_the_months_counts_and_amount(page: DashboardPage) -> None:
    assert page.current_month() == "2026-03"
    shown = [(t.label.text(), t.value.text()) for t in page.tiles]
    assert shown == [("Enrolled", "42"), ("Active", "37"), ("Billable", "29"), ("Signed", "21"),
                     ("Expected this month", "$1,954.01")]  # fmt: skip
    assert page.status_label.text().startswith("March 2026")


def test_the_page_opens_on_the_month_under_way_even_early_in_it(qtbot: QtBot) -> None:
    # Billing opens on the month before until the 10th; the dashboard is about what can still
    # be reached, so it opens on this one.
    early = dt.date(2026, 4, 3)
    loads = Loads({"2026-04": replace(BOARD, month="2026-04")})
    page = DashboardPage(
        NoServices(),  # type: ignore[arg-type]
        lambda: SOMEONE,
        InlineTaskRunner(),
        today=lambda: early,
        load=loads,
    )
    qtbot.addWidget(page)
    assert loads.asked == ["2026-04"] and page.current_month() == "2026-04"


def test_minutes_per_person_per_week_are_grouped_bars_in_minutes(page: DashboardPage) -> None:
    card = page.cards[0]
    ticks = card.category_axis._tickLevels[0]
    assert [label for _, label in ticks] == ["Feb 23", "Mar 2", "Mar 9", "Mar 16"]
    # People by name: Adaeze Okafor, then Grace Lee; a week without time is a bar of nought.
    okafor, lee = card.bars
    assert plotted(okafor, "height") == [0, 20, 40.5, 0]
    assert plotted(lee, "height") == [60, 165.5, 0, 75]
    # Side by side within each week, not on top of each other.
    assert all(a < b for a, b in zip(plotted(okafor, "x"), plotted(lee, "x"), strict=True))
    assert [name for _, label in card.legend.items for name in [label.text]] == [
        "Adaeze Okafor",
        "Grace Lee",
    ]
    assert card.cell(1, 1) == "165:30"  # the table: Grace Lee in the week of 2 March


def test_amounts_by_code_are_stacked_in_dollars_over_twelve_months(page: DashboardPage) -> None:
    card = page.cards[1]
    labels = [label for _, label in card.category_axis._tickLevels[0]]
    assert labels == ["Apr '25", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
                      "Jan '26", "Feb", "Mar"]  # fmt: skip
    by_code = {name: item for item, name in zip(card.bars, ["99439", "99487", "99490"],
                                                strict=True)}  # fmt: skip
    for month in BOARD.months:
        index = BOARD.months.index(month)
        top = 0.0
        for code in ("99439", "99487", "99490"):
            item = by_code[code]
            assert plotted(item, "y0")[index] == pytest.approx(top)
            height = plotted(item, "height")[index]
            assert height == pytest.approx(month.cents_by_code.get(code, 0) / 100)
            top += height
        assert top == pytest.approx(month.total_cents / 100)
    assert card.value_axis.tickStrings([1200.0], 1.0, 200.0) == ["$1,200"]
    assert card.cell(11, 3) == "$1,954.01"  # March's total, the tile's amount


def test_bands_show_patients_and_what_is_still_reachable(page: DashboardPage) -> None:
    card = page.cards[2]
    (bars,) = card.bars
    assert plotted(bars, "height") == [b.patients for b in BOARD.bands]
    assert [label for _, label in card.category_axis._tickLevels[0]] == [
        "0-9 min", "10-19 min", "20-39 min", "40-59 min", "60+ min"]  # fmt: skip
    # Written over each bar that can still earn something; 60+ has nothing left to reach.
    assert [(n.toPlainText(), n.pos().x(), n.pos().y()) for n in card.notes] == [
        ("+$529.04", 0, 8), ("+$330.65", 1, 5), ("+$251.80", 2, 14), ("+$100.72", 3, 6)]  # fmt: skip
    assert [card.cell(4, c) for c in (0, 1)] == ["4", "—"]
    assert card.footnote.isVisibleTo(page)
    assert card.footnote.text() == "2 APCM patients are in no band: APCM has no minutes threshold."


def test_enrolment_is_horizontal_bars_from_offered_to_revoked(page: DashboardPage) -> None:
    card = page.cards[3]
    (bars,) = card.bars
    assert plotted(bars, "width") == [60, 42, 11, 6, 4, 1, 3]
    ys = plotted(bars, "y")
    assert ys == sorted(ys, reverse=True)  # the first row on top
    labels = dict(card.category_axis._tickLevels[0])
    assert [labels[y] for y in ys] == ["Offered", "Consented", "Declined", "· cost share",
                                       "· not interested", "· other", "Revoked"]  # fmt: skip


def test_show_as_table_swaps_every_chart_for_its_figures(page: DashboardPage) -> None:
    def places() -> list[tuple[int, int]]:
        grid = page._grid
        return [grid.getItemPosition(grid.indexOf(card))[:2] for card in page.cards]

    assert places() == [(1, 0), (1, 1), (2, 0), (2, 1)]  # two charts a row
    page.table_box.setChecked(True)
    assert all(card.stack.currentWidget() is card.table for card in page.cards)
    assert places() == [(1, 0), (2, 0), (3, 0), (4, 0)]  # a table a row, the page's width
    page.table_box.setChecked(False)
    assert all(card.stack.currentWidget() is card.plot_widget for card in page.cards)


def test_an_empty_month_says_so_instead_of_drawing_nothing(qtbot: QtBot) -> None:
    page = make_page(qtbot, Loads())
    page.set_month(EMPTY.month)
    assert page.tiles[0].value.text() == "0"
    for card in page.cards:
        assert card.stack.currentWidget() is card.empty_label
    assert page.cards[0].empty_label.text() == "No time recorded in the weeks of this month."


def test_the_load_runs_through_the_runner_and_says_it_is_loading(qtbot: QtBot) -> None:
    runner, loads = HeldRunner(), Loads()
    page = make_page(qtbot, loads, runner)
    assert len(runner.tasks) == 1 and loads.asked == []  # nothing computed on the GUI thread
    assert page.status_label.text() == "Loading March 2026…"
    assert not page.body.isVisibleTo(page)
    runner.finish()
    assert loads.asked == ["2026-03"]
    assert page.tiles[0].value.text() == "42"
    assert page.body.isVisibleTo(page)


def test_choosing_another_month_reloads_and_drops_the_last_ones_charts(qtbot: QtBot) -> None:
    runner, loads = HeldRunner(), Loads()
    page = make_page(qtbot, loads, runner)
    runner.finish()
    with qtbot.waitSignal(page.month_box.chosen, timeout=2000):
        page.month_box.setCurrentIndex(page.month_box.findData("2026-02"))
    # March's figures are gone at once; April's come when its load finishes.
    assert page.glance is None and page.tiles[0].value.text() == "—"
    assert page.status_label.text() == "Loading February 2026…"
    runner.finish()
    assert loads.asked == ["2026-03", "2026-02"]
    assert page.glance is not None and page.glance.month == "2026-02"


def test_a_late_answer_for_an_earlier_month_is_not_shown(qtbot: QtBot) -> None:
    runner, loads = HeldRunner(), Loads()
    page = make_page(qtbot, loads, runner)
    page.set_month("2026-02")
    runner.finish()  # March's, asked first: no longer wanted
    assert page.glance is None
    runner.finish()
    assert page.glance is not None and page.glance.month == "2026-02"


def test_a_refusal_is_a_sentence_and_nothing_is_shown(qtbot: QtBot) -> None:
    page = make_page(qtbot, Loads({}))
    page.show()
    boxes = page.findChildren(QMessageBox, "errorMessage")
    assert [box.text() for box in boxes] == [
        "Only billing staff may see the dashboard; ask them for it."
    ]
    assert page.status_label.text() == "March 2026 could not be shown; nothing is shown."
    assert page.glance is None and not page.body.isVisibleTo(page)


def test_clear_shows_nothing_and_ignores_a_late_answer(qtbot: QtBot) -> None:
    runner, loads = HeldRunner(), Loads()
    page = make_page(qtbot, loads, runner)
    runner.finish()
    page.reload()
    page.clear()
    assert page.glance is None and page.status_label.text() == ""
    assert all(card.chart is None and not card.bars for card in page.cards)
    runner.finish()  # arrives after the person who asked has gone
    assert page.glance is None


# --- on the real service ------------------------------------------------------------------------


def test_the_tiles_are_the_billing_panels_figures_for_the_same_month(
    qtbot: QtBot, month_data: Services, biller: Actor
) -> None:
    page = DashboardPage(month_data, lambda: biller, InlineTaskRunner())
    qtbot.addWidget(page)
    page.set_month(MONTH)
    billing = BillingPage(month_data, lambda: biller, InlineTaskRunner())
    qtbot.addWidget(billing)
    billing.set_month(MONTH)
    rows = billing.model.shown()
    figures = {t.label.text(): t.value.text() for t in page.tiles}
    assert figures["Billable"] == str(sum(1 for r in rows if r.result.bills))
    assert figures["Expected this month"] == dollars(
        month_data.billing.month(biller, MONTH).amount_cents
    )
    assert f"{figures['Billable']} billable · {figures['Expected this month']}" in (
        billing.status_label.text()
    )
    # The last month of the 12 is this month, its codes adding up to the same amount.
    chart = page.cards[1].chart
    assert chart is not None
    assert page.cards[1].cell(11, len(chart.series)) == figures["Expected this month"]


def test_the_nurse_sees_the_dashboard_and_a_scheduler_does_not(
    qtbot: QtBot, services: Services, nurse_window: MainWindow
) -> None:
    assert DASHBOARD in nurse_window.visible_pages()
    nurse_window.show_page(DASHBOARD)
    page = nurse_window.pages[DASHBOARD]
    assert isinstance(page, DashboardPage)
    assert page.glance is not None  # loaded through the window's runner
    services.staff.save(
        Actor.command_line(), StaffRecord("sched-s", "Sam Scheduler", "non_clinical"), is_new=True
    )
    nurse_window.set_actor(SCHEDULER)
    assert DASHBOARD not in nurse_window.visible_pages()
    # The page the nurse had open keeps nothing of hers for the scheduler.
    assert page.glance is None and all(card.chart is None for card in page.cards)
    assert [t.value.text() for t in page.tiles] == ["—"] * 5


def test_the_service_refuses_someone_without_the_permission(
    qtbot: QtBot, services: Services
) -> None:
    services.staff.save(
        Actor.command_line(), StaffRecord("sched-s", "Sam Scheduler", "non_clinical"), is_new=True
    )
    page = DashboardPage(services, lambda: SCHEDULER, InlineTaskRunner())
    qtbot.addWidget(page)
    page.show()
    (box,) = page.findChildren(QMessageBox, "errorMessage")
    assert "view the dashboard" in box.text()
    assert page.glance is None and not page.body.isVisibleTo(page)
