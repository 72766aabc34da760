"""The worked cases of shared/domain/scenarios.md as data, for the engine and the service tests."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from ccmdesk.rules.billing import MonthResult

NY = ZoneInfo("America/New_York")
MONTH = "2026-03"


@dataclass(frozen=True)
class Work:
    """One entry: who (RN, LPN, MA, MD, SCHED), when (local start), how long, what for."""

    who: str
    start: dt.datetime  # local, America/New_York
    minutes: int
    service: str = "ccm"
    face_to_face: bool = False

    @property
    def end(self) -> dt.datetime:
        return self.start + dt.timedelta(minutes=self.minutes)


@dataclass(frozen=True)
class Case:
    number: int
    name: str
    work: tuple[Work, ...]
    codes: str
    status: str
    blocks: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()
    countable_minutes: int | None = None
    amount_cents: int | None = None
    patient: dict[str, object] = field(default_factory=dict)  # overrides of the defaults
    month: dict[str, object] = field(default_factory=dict)
    patient_share_cents: int | None = None


def assert_case(case: Case, result: MonthResult) -> None:
    """The worked case's codes, status, reasons and figures, as the scenarios file gives them
    (every row carries NOT_SIGNED until Dr. A signs)."""
    assert (result.codes, result.status) == (case.codes, case.status)
    assert result.blocks == tuple(sorted(case.blocks))
    assert result.warnings == tuple(sorted((*case.warnings, "NOT_SIGNED")))
    if case.countable_minutes is not None:
        assert result.countable_seconds == case.countable_minutes * 60
    if case.amount_cents is not None:
        assert result.amount_cents == case.amount_cents
    if case.patient_share_cents is not None:
        assert result.patient_share_cents == case.patient_share_cents


def at(day: int, hour: int = 10, minute: int = 0, month: int = 3) -> dt.datetime:
    return dt.datetime(2026, month, day, hour, minute, tzinfo=NY)


def w(who: str, minutes: int, day: int, hour: int = 10, **kind: object) -> Work:
    return Work(who, at(day, hour), minutes, **kind)  # type: ignore[arg-type]


CASES = (
    Case(1, "just short", (w("RN", 8, 4), w("RN", 6, 12), w("RN", 5, 25)), "", "not_billable",
         ("BELOW_THRESHOLD",), countable_minutes=19),
    Case(2, "exactly 20", (w("RN", 8, 4), w("RN", 6, 12), w("RN", 6, 25)), "99490x1",
         "billable", amount_cents=6613),
    Case(3, "39", (w("RN", 20, 4), w("MA", 19, 12)), "99490x1", "billable"),
    Case(4, "40", (w("RN", 20, 4), w("MA", 20, 12)), "99490x1;99439x1", "billable",
         amount_cents=6613 + 5044),
    Case(5, "60", (w("RN", 30, 4), w("LPN", 30, 12)), "99490x1;99439x2", "billable",
         amount_cents=16701),
    Case(6, "80: add-on cap", (w("RN", 40, 4), w("LPN", 40, 12)), "99490x1;99439x2", "billable",
         warnings=("ADDON_CAP_REACHED",), amount_cents=16701),
    Case(7, "complex, 59", (w("RN", 30, 4), w("RN", 29, 12)), "99490x1;99439x1", "billable",
         warnings=("COMPLEX_FALLBACK",), month={"complexity": "moderate"}),
    Case(8, "complex, 60", (w("RN", 30, 4), w("RN", 30, 12)), "99487x1", "billable",
         warnings=("ALTERNATIVE_PAYS_MORE",), month={"complexity": "moderate"},
         amount_cents=14429),
    Case(9, "complex, 90", (w("RN", 45, 4), w("RN", 45, 12)), "99487x1;99489x1", "billable",
         month={"complexity": "high"}, amount_cents=14429 + 7816),
    Case(10, "practitioner 29", (w("MD", 14, 4), w("MD", 15, 12)), "99490x1", "billable"),
    Case(11, "practitioner 30", (w("MD", 15, 4), w("MD", 15, 12)), "99491x1", "billable",
         amount_cents=8918),
    Case(12, "practitioner 60", (w("MD", 30, 4), w("MD", 30, 12)), "99491x1;99437x1",
         "billable", warnings=("ALTERNATIVE_PAYS_MORE",), amount_cents=8918 + 6313),
    Case(13, "mixed, small", (w("MD", 10, 4), w("RN", 15, 12)), "99490x1", "billable"),
    Case(14, "same call, two staff", (w("RN", 20, 10), w("MA", 20, 10), w("RN", 15, 18)),
         "99490x1", "billable", warnings=("OVERLAP_COUNTED_ONCE",), countable_minutes=35),
    Case(15, "call across month end",
         (w("RN", 5, 12), Work("RN", at(31, 23, 50), 20)), "", "not_billable",
         ("BELOW_THRESHOLD",), ("SPLIT_AT_MONTH_BOUNDARY",), countable_minutes=15),
    Case(16, "consent mid-month", (w("RN", 15, 3), w("RN", 12, 20), w("RN", 10, 27)),
         "99490x1", "billable", warnings=("PRE_CONSENT_TIME_EXCLUDED",), countable_minutes=22,
         patient={"consent_date": dt.date(2026, 3, 15),
                  "initiating_visit_date": dt.date(2026, 3, 15)}),
    Case(17, "no consent", (w("RN", 25, 4), w("RN", 20, 12)), "", "not_billable",
         ("NO_CONSENT",), patient={"consent_date": None}),
    Case(18, "one condition: PCM", (w("RN", 20, 4), w("RN", 15, 12)), "99426x1", "billable",
         warnings=("PCM_NOT_CCM",), patient={"conditions": ("I50.22",)}, amount_cents=6780),
    Case(19, "new patient, no visit", (w("RN", 30, 4),), "", "not_billable",
         ("NO_INITIATING_VISIT",),
         patient={"initiating_visit_date": None, "consent_date": dt.date(2026, 3, 2)}),
    Case(20, "home-health supervision", (w("RN", 30, 4),), "", "not_billable",
         ("EXCLUDED_SERVICE",), month={"other_services": ("G0181",)}),
    Case(21, "TCM the same month", (w("RN", 10, 4, service="tcm"), w("RN", 12, 12),
                                    w("RN", 13, 20)),
         "99490x1", "billable", warnings=("OTHER_SERVICE_TIME_EXCLUDED",)),
    Case(22, "minutes inside a visit", (w("RN", 15, 10, face_to_face=True), w("RN", 12, 22)),
         "", "not_billable", ("BELOW_THRESHOLD",), ("OTHER_SERVICE_TIME_EXCLUDED",)),
    Case(23, "non-clinical staff", (w("SCHED", 15, 4), w("RN", 12, 12)), "", "not_billable",
         ("BELOW_THRESHOLD",), ("NON_CLINICAL_TIME_EXCLUDED",)),
    Case(24, "QMB patient", (w("RN", 20, 4), w("RN", 20, 12)), "99490x1;99439x1", "billable",
         patient={"qmb": True}, patient_share_cents=0),
)  # fmt: skip
