"""A hand-built month at a glance: figures the dashboard's and the handoff's charts must show."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

from ccmdesk.services.dashboard import (
    MINUTES_BANDS,
    Dashboard,
    EnrolmentCounts,
    MinutesBand,
    MonthAmounts,
    PatientCounts,
    StaffWeek,
    previous_months,
)


def _months() -> tuple[MonthAmounts, ...]:
    """April 2025 to March 2026: 99490 every month, 99439 from October, 99487 in March."""
    out = []
    for number, month in enumerate(previous_months("2026-03")):
        cents = {"99490": 6613 * (10 + number)}
        if number >= 6:
            cents["99439"] = 5036 * (number - 5)
        if number == 11:
            cents["99487"] = 13156 * 2
        out.append(MonthAmounts(month, cents))
    return tuple(out)


MONTHS = _months()
BOARD = Dashboard(
    month="2026-03",
    counts=PatientCounts(enrolled=42, active=37, billable=29, signed=21),
    amount_cents=MONTHS[-1].total_cents,  # $1,954.01, as the billing panel would say
    weeks=(
        StaffWeek("rn-lee", "Grace Lee", dt.date(2026, 2, 23), 3_600),
        StaffWeek("rn-lee", "Grace Lee", dt.date(2026, 3, 2), 9_930),
        StaffWeek("rn-lee", "Grace Lee", dt.date(2026, 3, 16), 4_500),
        StaffWeek("dr-okafor", "Adaeze Okafor", dt.date(2026, 3, 2), 1_200),
        StaffWeek("dr-okafor", "Adaeze Okafor", dt.date(2026, 3, 9), 2_430),
    ),
    months=MONTHS,
    bands=tuple(
        MinutesBand(low, high, patients, cents)
        for (low, high), patients, cents in zip(
            MINUTES_BANDS, (8, 5, 14, 6, 4), (52_904, 33_065, 25_180, 10_072, 0), strict=True
        )
    ),
    enrolment=EnrolmentCounts(
        offered=60,
        consented=42,
        declined=11,
        revoked=3,
        declined_by_reason={"cost share": 6, "not interested": 4, "other": 1},
    ),
    apcm_patients=2,
)

# A month before anything happened: every chart is empty.
EMPTY = replace(
    BOARD,
    month="2026-02",
    counts=PatientCounts(0, 0, 0, 0),
    amount_cents=0,
    weeks=(),
    months=tuple(MonthAmounts(m.month, {}) for m in BOARD.months),
    bands=tuple(MinutesBand(low, high, 0, 0) for low, high in MINUTES_BANDS),
    enrolment=EnrolmentCounts(0, 0, 0, 0, {}),
    apcm_patients=0,
)
