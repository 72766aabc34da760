"""The handoff's first page: the month at a glance, drawn with reportlab's own charts."""

from __future__ import annotations

import io
from dataclasses import replace

from pypdf import PdfReader

from ccmdesk.reports import pdf
from ccmdesk.reports.glance import Unit, exact, scaled
from ccmdesk.services.glance import glance
from tests.helpers.dashboard import BOARD, EMPTY


def handoff(**changes: object) -> bytes:
    report = pdf.Handoff(
        practice="Harbor Family Practice",
        month="2026-03",
        month_name="March 2026",
        enrolled_or_active=42,
        billable=(pdf.HandoffRow("B001", "Able, Pat", "Dr. A", "99490x1", 6613, True),),
        not_billed=(),
        amount_by_code=(("99490", 6613),),
        staff_minutes=(("Grace Lee", "clinical", "100:00"),),
        generated="01 Apr 2026 by Bo",
    )
    return pdf.handoff_pdf(replace(report, **changes))  # type: ignore[arg-type]


def pages(document: bytes) -> list[str]:
    return [page.extract_text() for page in PdfReader(io.BytesIO(document)).pages]


def test_the_first_page_is_the_month_at_a_glance_then_the_handoff() -> None:
    first, second = pages(handoff(glance=glance(BOARD)))
    assert "The month at a glance · March 2026" in first
    for title in (
        "Minutes per staff member per week",
        "Expected amount by code, last 12 months",
        "Patients by minutes, and what is still reachable",
        "Enrolment: offered, consented, declined, revoked",
    ):
        assert title in first
    assert "Billing handoff · March 2026" in second
    assert "The month at a glance" not in second


def test_the_tiles_print_the_boards_counts_and_amount() -> None:
    first = pages(handoff(glance=glance(BOARD)))[0]
    lines = first.splitlines()
    for label, value in (("Enrolled", "42"), ("Active", "37"), ("Billable", "29"),
                         ("Signed", "21"), ("Expected this month", "$1,954.01")):  # fmt: skip
        assert label in lines
        assert value in first
    assert exact(BOARD.amount_cents, Unit.CENTS) == "$1,954.01"


def test_each_chart_names_its_categories_legend_and_notes() -> None:
    first = pages(handoff(glance=glance(BOARD)))[0]
    # Minutes: the weeks and the people.
    for text in ("Feb 23", "Mar 16", "Week starting Monday", "Adaeze Okafor", "Grace Lee"):
        assert text in first
    # Amounts: the codes in the legend, the year under the months where it starts and turns.
    for text in ("99439", "99487", "99490", "Apr", "'25", "'26", "$1,500"):
        assert text in first
    # Bands: each band and what it can still earn.
    for text in ("0-9 min", "60+ min", "+$529.04", "+$100.72", "2 APCM patients are in no band"):
        assert text in first
    # Enrolment: the steps, the reasons and their counts.
    for text in ("Offered", "Consented", "· cost share", "· not interested", "Revoked"):
        assert text in first


def test_the_bars_are_the_boards_figures() -> None:
    """The drawing's own data, not its pixels: each chart plots the glance's values."""
    shown = glance(BOARD)
    for chart in shown.charts:
        drawing = pdf._chart_drawing(chart, 250, 250)
        (plot,) = [c for c in drawing.contents if hasattr(c, "data")]
        assert plot.data == [tuple(scaled(v, chart.unit) for v in s.values) for s in chart.series]
    amounts = pdf._chart_drawing(shown.charts[1], 250, 250)
    (plot,) = [c for c in amounts.contents if hasattr(c, "data")]
    assert plot.categoryAxis.style == "stacked"
    assert round(sum(column[-1] for column in plot.data) * 100) == BOARD.amount_cents


def test_an_empty_month_says_so_in_place_of_each_chart() -> None:
    first = pages(handoff(glance=glance(EMPTY)))[0]
    assert "No time recorded in the weeks of this month." in first
    assert "Nobody has been offered care management yet." in first


def test_without_a_glance_the_handoff_starts_on_its_own_page() -> None:
    (only,) = pages(handoff())
    assert "The month at a glance" not in only
    assert "Billing handoff · March 2026" in only
