"""A Dashboard shaped into tiles and charts: every figure as it is, in a fixed order."""

from __future__ import annotations

from dataclasses import replace

from ccmdesk.reports.glance import Shape, Unit
from ccmdesk.services.dashboard import EnrolmentCounts
from ccmdesk.services.glance import AMOUNTS, BANDS, ENROLMENT, MINUTES, glance
from tests.helpers.dashboard import BOARD


def test_the_tiles_are_the_counts_and_the_amount() -> None:
    shown = glance(BOARD)
    assert shown.month_name == "March 2026"
    assert [(t.label, t.value) for t in shown.tiles] == [
        ("Enrolled", "42"), ("Active", "37"), ("Billable", "29"), ("Signed", "21"),
        ("Expected this month", "$1,954.01")]  # fmt: skip


def test_minutes_are_seconds_per_person_per_week_people_by_name() -> None:
    chart = glance(BOARD).charts[MINUTES]
    assert (chart.shape, chart.unit) == (Shape.GROUPED, Unit.SECONDS)
    assert chart.categories == ("Feb 23", "Mar 2", "Mar 9", "Mar 16")
    assert [(s.name, s.values) for s in chart.series] == [
        ("Adaeze Okafor", (0, 1_200, 2_430, 0)),
        ("Grace Lee", (3_600, 9_930, 0, 4_500)),
    ]


def test_amounts_are_cents_by_code_per_month_oldest_first() -> None:
    chart = glance(BOARD).charts[AMOUNTS]
    assert (chart.shape, chart.unit) == (Shape.STACKED, Unit.CENTS)
    assert chart.categories[0] == "Apr '25" and chart.categories[9] == "Jan '26"
    assert [s.name for s in chart.series] == ["99439", "99487", "99490"]
    assert [sum(s.values[i] for s in chart.series) for i in range(12)] == [
        m.total_cents for m in BOARD.months
    ]


def test_a_first_december_leaves_the_year_to_the_january_beside_it() -> None:
    months = tuple(replace(m, month=f"{2025 + (i > 0)}-{12 if i == 0 else i:02d}")
                   for i, m in enumerate(BOARD.months))  # fmt: skip
    chart = glance(replace(BOARD, months=months)).charts[AMOUNTS]
    assert chart.categories[:3] == ("Dec", "Jan '26", "Feb")


def test_bands_carry_what_each_can_still_reach() -> None:
    chart = glance(BOARD).charts[BANDS]
    assert chart.series[0].values == (8, 5, 14, 6, 4)
    assert chart.notes == ("+$529.04", "+$330.65", "+$251.80", "+$100.72", "")
    assert chart.footnote == "2 APCM patients are in no band: APCM has no minutes threshold."
    one = glance(replace(BOARD, apcm_patients=1)).charts[BANDS]
    assert one.footnote == "1 APCM patient is in no band: APCM has no minutes threshold."
    assert glance(replace(BOARD, apcm_patients=0)).charts[BANDS].footnote == ""


def test_enrolment_lists_the_catalogs_reasons_in_order_then_any_other() -> None:
    board = replace(
        BOARD,
        enrolment=EnrolmentCounts(9, 4, 4, 1, {"old reason": 1, "other": 1, "cost share": 2}),
    )
    chart = glance(board).charts[ENROLMENT]
    assert list(zip(chart.categories, chart.series[0].values, strict=True)) == [
        ("Offered", 9), ("Consented", 4), ("Declined", 4), ("· cost share", 2),
        ("· other", 1), ("· old reason", 1), ("Revoked", 1)]  # fmt: skip
