"""A Dashboard as charts: the one shaping the dashboard page and the handoff's first page share."""

from __future__ import annotations

from ccmdesk.reports.glance import Chart, Glance, Series, Shape, Tile, Unit
from ccmdesk.rules.billing import dollars
from ccmdesk.rules.catalog import DECLINE_REASONS
from ccmdesk.rules.intervals import MONTH_NAMES, month_days, month_label
from ccmdesk.services.dashboard import Dashboard

MINUTES, AMOUNTS, BANDS, ENROLMENT = range(4)  # the charts, in Glance.charts order


def glance(board: Dashboard) -> Glance:
    """The month's tiles and its four charts, every figure taken from `board` as it is."""
    counts = board.counts
    return Glance(
        month=board.month,
        month_name=month_label(board.month),
        tiles=(
            Tile("Enrolled", f"{counts.enrolled:,}"),
            Tile("Active", f"{counts.active:,}"),
            Tile("Billable", f"{counts.billable:,}"),
            Tile("Signed", f"{counts.signed:,}"),
            Tile("Expected this month", dollars(board.amount_cents)),
        ),
        charts=(_minutes(board), _amounts(board), _bands(board), _enrolment(board)),
    )


def _short_months(months: list[str]) -> tuple[str, ...]:
    """ "Apr '25", "May", … "Jan '26", "Feb": the year only where it starts and where it turns,
    so twelve months fit under a half-page chart without running into each other."""
    out = []
    for index, month in enumerate(months):
        first, _ = month_days(month)
        name = MONTH_NAMES[first.month - 1][:3]
        # A first December gives its year to the January beside it, not a label of its own.
        dated = first.month == 1 or (index == 0 and first.month != 12)
        out.append(f"{name} '{first.year % 100:02d}" if dated else name)
    return tuple(out)


def _minutes(board: Dashboard) -> Chart:
    weeks = sorted({w.week for w in board.weeks})
    names = {w.staff_key: w.staff_name for w in board.weeks}
    seconds = {(w.staff_key, w.week): w.seconds for w in board.weeks}
    people = sorted(names, key=lambda key: (names[key].casefold(), key))
    return Chart(
        title="Minutes per staff member per week",
        shape=Shape.GROUPED,
        unit=Unit.SECONDS,
        axis="Minutes",
        category_axis="Week starting Monday",
        categories=tuple(f"{MONTH_NAMES[w.month - 1][:3]} {w.day}" for w in weeks),
        series=tuple(
            Series(names[key], tuple(seconds.get((key, w), 0) for w in weeks)) for key in people
        ),
        empty="No time recorded in the weeks of this month.",
    )


def _amounts(board: Dashboard) -> Chart:
    codes = sorted({code for m in board.months for code in m.cents_by_code})
    return Chart(
        title="Expected amount by code, last 12 months",
        shape=Shape.STACKED,
        unit=Unit.CENTS,
        axis="Dollars",
        categories=_short_months([m.month for m in board.months]),
        series=tuple(
            Series(code, tuple(m.cents_by_code.get(code, 0) for m in board.months))
            for code in codes
        ),
        empty="Nothing billed in the last 12 months.",
    )


def _bands(board: Dashboard) -> Chart:
    return Chart(
        title="Patients by minutes, and what is still reachable",
        shape=Shape.BARS,
        unit=Unit.PATIENTS,
        axis="Patients",
        categories=tuple(f"{b.label} min" for b in board.bands),
        series=(Series("Patients", tuple(b.patients for b in board.bands)),),
        notes=tuple(
            f"+{dollars(b.reachable_cents)}" if b.reachable_cents else "" for b in board.bands
        ),
        empty="No enrolled patients this month.",
        footnote=_apcm_note(board.apcm_patients),
    )


def _apcm_note(patients: int) -> str:
    """APCM patients are in no band: their program has no minutes threshold."""
    if not patients:
        return ""
    who = "1 APCM patient is" if patients == 1 else f"{patients:,} APCM patients are"
    return f"{who} in no band: APCM has no minutes threshold."


def _enrolment(board: Dashboard) -> Chart:
    counts = board.enrolment
    # The catalog's reasons in its order, then any other the data holds (an old import's).
    reasons = [r for r in DECLINE_REASONS if r in counts.declined_by_reason]
    reasons += sorted(set(counts.declined_by_reason) - set(DECLINE_REASONS))
    rows = [("Offered", counts.offered), ("Consented", counts.consented)]
    rows.append(("Declined", counts.declined))
    rows += [(f"· {reason}", counts.declined_by_reason[reason]) for reason in reasons]
    rows.append(("Revoked", counts.revoked))
    return Chart(
        title="Enrolment: offered, consented, declined, revoked",
        shape=Shape.FUNNEL,
        unit=Unit.PATIENTS,
        axis="Patients",
        categories=tuple(label for label, _ in rows),
        series=(Series("Patients", tuple(value for _, value in rows)),),
        empty="Nobody has been offered care management yet.",
    )
