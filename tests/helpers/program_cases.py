"""Worked cases of issue #18's programs (APCM, general BHI, PCM by focus, G0506, which pays
more) as data, each worked out by hand from docs/billing-rules.md, for the rules and services."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from ccmdesk.rules.billing import Month, MonthFacts, MonthResult, Segment, epoch, evaluate
from ccmdesk.rules.catalog import DEFAULT_FEES
from tests.helpers.rules import STAFF, patient
from tests.helpers.scenario_cases import NY


@dataclass(frozen=True)
class Work:
    """One entry: who (RN, SCHED, ...), when (local start), how long in seconds, what for."""

    who: str
    start: dt.datetime  # local, America/New_York
    seconds: int
    service: str = "ccm"
    face_to_face: bool = False

    @property
    def end(self) -> dt.datetime:
        return self.start + dt.timedelta(seconds=self.seconds)


@dataclass(frozen=True)
class Bhi:
    """What the month's general BHI result must read."""

    codes: str
    status: str
    countable_seconds: int
    blocks: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()  # NOT_SIGNED is added by the check
    amount_cents: int = 0


@dataclass(frozen=True)
class ProgramCase:
    number: int
    name: str
    work: tuple[Work, ...]
    program: str  # the program the month is billed under
    codes: str
    status: str
    amount_cents: int
    blocks: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()  # NOT_SIGNED is added by the check
    countable_seconds: int | None = None
    month: str = "2026-03"
    # The patient's program periods: (from_month, program, focus condition); none: ccm.
    periods: tuple[tuple[str, str, str | None], ...] = ()
    attested: bool = False  # the practice's APCM attestation
    patient: dict[str, object] = field(default_factory=dict)  # overrides of the defaults
    facts: dict[str, object] = field(default_factory=dict)  # MonthFacts fields
    would_bill: str | None = None  # codes of the option a blocked month would bill once mended
    bhi: Bhi | None = None  # None: the month has no time tagged BHI
    g0506_day: dt.date | None = None  # None: no G0506 this month
    # What the other programs would bill, best paying first: (program, codes).
    others: tuple[tuple[str, str], ...] = ()
    pays_more: tuple[str, int] | None = None  # (program, how many cents more)

    @property
    def mrn(self) -> str:
        return f"P{self.number:02d}"


def on(month: str, day: int, hour: int = 10) -> dt.datetime:
    year, number = (int(part) for part in month.split("-"))
    return dt.datetime(year, number, day, hour, tzinfo=NY)


def w(
    who: str,
    minutes: int,
    day: int,
    *,
    month: str = "2026-03",
    seconds: int = 0,
    service: str = "ccm",
    f2f: bool = False,
) -> Work:
    return Work(who, on(month, day), minutes * 60 + seconds, service, f2f)


def program_of(case: ProgramCase) -> tuple[str, str | None]:
    """The program in force in the case's month: the period with the latest start not after
    it, ccm with none (docs/billing-rules.md, "Programs")."""
    found = ("ccm", None)
    for start, program, focus in sorted(case.periods):
        if start <= case.month:
            found = (program, focus)
    return found


def segment(work: Work) -> Segment:
    staff_id, role = STAFF[work.who]
    return Segment.of(epoch(work.start), epoch(work.end), staff_id, role, work.service,
                      work.face_to_face)  # fmt: skip


def evaluate_case(case: ProgramCase, *, signed: bool = False) -> MonthResult:
    """The case's month through the rules engine alone, fees of the catalog."""
    program, focus = program_of(case)
    month = Month.of(case.month, NY, DEFAULT_FEES, apcm_attested=case.attested)
    facts = MonthFacts(signed=signed, **case.facts)  # type: ignore[arg-type]
    p = patient(**case.patient, program=program, focus_condition=focus)
    return evaluate(month, p, facts, [segment(item) for item in case.work])


def assert_program_case(case: ProgramCase, r: MonthResult, *, signed: bool = False) -> None:
    """The case's program result, its BHI result, its G0506 and what the other programs
    would bill, as worked out by hand."""
    unsigned = () if signed else ("NOT_SIGNED",)
    assert (r.program, r.codes, r.status) == (case.program, case.codes, case.status)
    assert r.blocks == tuple(sorted(case.blocks))
    assert r.warnings == tuple(sorted((*case.warnings, *unsigned)))
    assert r.amount_cents == case.amount_cents
    if case.countable_seconds is not None:
        assert r.countable_seconds == case.countable_seconds
    if case.would_bill is not None:
        assert r.option is not None and r.option.codes == case.would_bill
    if case.bhi is None:
        assert r.bhi is None
    else:
        b = r.bhi
        assert b is not None and b.program == "bhi"
        assert (b.codes, b.status, b.countable_seconds) == (
            case.bhi.codes,
            case.bhi.status,
            case.bhi.countable_seconds,
        )
        assert b.blocks == tuple(sorted(case.bhi.blocks))
        assert b.warnings == tuple(sorted((*case.bhi.warnings, *unsigned)))
        assert b.amount_cents == case.bhi.amount_cents
    assert r.total_cents == case.amount_cents + (case.bhi.amount_cents if case.bhi else 0)
    if case.g0506_day is None:
        assert r.g0506 is None and r.g0506_day is None
    else:
        assert r.g0506 is not None and r.g0506_day == case.g0506_day
        assert (r.g0506.code, r.g0506.units) == ("G0506", 1)
        assert r.g0506.fee_cents == DEFAULT_FEES[int(case.month[:4])]["G0506"]
        assert "G0506" not in r.codes  # it goes on the initiating visit's claim
    assert [(p.program, p.codes) for p in r.others] == list(case.others)
    more = r.pays_more
    if case.pays_more is None:
        assert more is None and "OTHER_PROGRAM_PAYS_MORE" not in r.warnings
    else:
        assert more is not None and "OTHER_PROGRAM_PAYS_MORE" in r.warnings
        assert (more.program, more.amount_cents - r.total_cents) == case.pays_more


APCM = (("", "apcm", None),)
FOCUS = (("", "pcm_focus", "N18.30"),)
WITH_F = ("E11.9", "I10", "F32.A")
FOCUS_LIST = ("E11.9", "I10", "N18.30")
SEEN_LONG_AGO = {"initiating_visit_date": dt.date(2022, 11, 4),
                 "consent_date": dt.date(2022, 11, 4), "care_plan_date": dt.date(2022, 11, 4)}  # fmt: skip
ENROLLED_2023 = {"initiating_visit_date": dt.date(2023, 11, 4),
                 "consent_date": dt.date(2023, 11, 4), "care_plan_date": dt.date(2023, 11, 4)}  # fmt: skip
ENROLLED_2024 = {"initiating_visit_date": dt.date(2024, 11, 4),
                 "consent_date": dt.date(2024, 11, 4), "care_plan_date": dt.date(2024, 11, 4)}  # fmt: skip
VISIT_MARCH_10 = {"initiating_visit_date": dt.date(2026, 3, 10),
                  "consent_date": dt.date(2026, 3, 10), "care_plan_date": dt.date(2026, 3, 10),
                  "g0506": True}  # fmt: skip

# March 2026 unless said; two conditions (E11.9, I10), consent, visit and care plan on
# 4 Nov 2025 unless said. Fees of docs/billing-rules.md, "Codes and families".
CASES = (
    # --- APCM ("APCM"): one unit of its level, no threshold; attested practice.
    # No condition: G0556 $16.37. The ccm alternative is blocked (NO_CONDITIONS): none.
    ProgramCase(1, "APCM G0556, no condition", (w("RN", 10, 4),), "apcm", "G0556x1",
                "billable", 1637, countable_seconds=600, periods=APCM, attested=True,
                patient={"conditions": ()}),
    # One condition: G0556 $16.37. ccm would be PCM 99426, needing 30:00 > 10:00: blocked.
    ProgramCase(2, "APCM G0556, one condition", (w("RN", 10, 4),), "apcm", "G0556x1",
                "billable", 1637, periods=APCM, attested=True,
                patient={"conditions": ("I50.22",)}),
    # Two conditions: G0557 $53.78; ccm would need 20:00 (10:00 here): not offered.
    ProgramCase(3, "APCM G0557", (w("RN", 10, 4),), "apcm", "G0557x1", "billable", 5378,
                countable_seconds=600, periods=APCM, attested=True),
    # Two conditions, QMB: G0558 $117.24 (the patient owes nothing, QMB).
    ProgramCase(4, "APCM G0558, QMB", (), "apcm", "G0558x1", "billable", 11724,
                periods=APCM, attested=True, patient={"qmb": True}),
    # QMB with one condition is still the lowest level: G0556 $16.37.
    ProgramCase(5, "APCM QMB, one condition", (), "apcm", "G0556x1", "billable", 1637,
                periods=APCM, attested=True, patient={"qmb": True, "conditions": ("I50.22",)}),
    # No attestation: blocked, $0; it would bill G0557 once attested. Without the attestation
    # APCM is offered to nobody; the ccm alternative has no time: none.
    ProgramCase(6, "APCM without the attestation", (), "apcm", "", "not_billable", 0,
                ("APCM_NOT_ATTESTED",), periods=APCM, would_bill="G0557x1"),
    # Three-year window of March 2026: 31 Mar 2023 to 31 Mar 2026. Latest visit 12 Jun 2025
    # (last visit) is inside: G0557 $53.78.
    ProgramCase(7, "APCM seen within three years", (), "apcm", "G0557x1", "billable", 5378,
                periods=APCM, attested=True,
                patient={**SEEN_LONG_AGO, "last_visit_date": dt.date(2025, 6, 12)}),
    # Initiating visit 4 Nov 2022 alone: before 31 Mar 2023: NO_INITIATING_VISIT.
    ProgramCase(8, "APCM not seen within three years", (), "apcm", "", "not_billable", 0,
                ("NO_INITIATING_VISIT",), periods=APCM, attested=True, patient=SEEN_LONG_AGO,
                would_bill="G0557x1"),
    # Last visit on the window's first day, 31 Mar 2023: inside.
    ProgramCase(9, "APCM seen three years ago to the day", (), "apcm", "G0557x1", "billable",
                5378, periods=APCM, attested=True,
                patient={**SEEN_LONG_AGO, "last_visit_date": dt.date(2023, 3, 31)}),
    # 30 Mar 2023: one day before the window: blocked.
    ProgramCase(10, "APCM seen three years and a day ago", (), "apcm", "", "not_billable", 0,
                ("NO_INITIATING_VISIT",), periods=APCM, attested=True,
                patient={**SEEN_LONG_AGO, "last_visit_date": dt.date(2023, 3, 30)}),
    # Last visit 2 Apr 2026 is after the month: only 4 Nov 2022 counts for March: blocked.
    ProgramCase(11, "APCM visit after the month", (), "apcm", "", "not_billable", 0,
                ("NO_INITIATING_VISIT",), periods=APCM, attested=True,
                patient={**SEEN_LONG_AGO, "last_visit_date": dt.date(2026, 4, 2)}),
    # APCM bundles CCM: 99490 in the other services blocks it.
    ProgramCase(12, "APCM with 99490 billed", (), "apcm", "", "not_billable", 0,
                ("EXCLUDED_SERVICE",), periods=APCM, attested=True,
                facts={"other_services": ("99490",)}),
    # TCM beside APCM: a warning, the month bills G0557 $53.78.
    ProgramCase(13, "APCM with TCM", (), "apcm", "G0557x1", "billable", 5378,
                warnings=("TCM_WITH_APCM",), periods=APCM, attested=True,
                facts={"other_services": ("99495",)}),
    # Home-health supervision bars APCM as it bars CCM.
    ProgramCase(14, "APCM with G0181", (), "apcm", "", "not_billable", 0,
                ("EXCLUDED_SERVICE",), periods=APCM, attested=True,
                facts={"other_services": ("G0181",)}),
    # March 2024: G0556-G0558 start 1 Jan 2025: PROGRAM_NOT_IN_FORCE, no code at all; no fee
    # schedule for 2024 or before. ccm: 10:00 < 20:00, not offered.
    ProgramCase(15, "APCM in 2024", (w("RN", 10, 4, month="2024-03"),), "apcm", "",
                "not_billable", 0, ("PROGRAM_NOT_IN_FORCE",), ("NO_FEE_SCHEDULE",),
                month="2024-03", periods=APCM, attested=True, patient=ENROLLED_2023),
    # --- General BHI ("General BHI"): F32.A on the list unless said.
    # CCM 25:00: 99490 $66.13, the 22 BHI minutes reported excluded; BHI 22:00 >= 20:00:
    # 99484 $57.45. Total $123.58.
    ProgramCase(16, "BHI beside CCM", (w("RN", 25, 4), w("RN", 22, 12, service="bhi")), "ccm",
                "99490x1", "billable", 6613, warnings=("OTHER_SERVICE_TIME_EXCLUDED",),
                countable_seconds=1500, patient={"conditions": WITH_F},
                bhi=Bhi("99484x1", "billable", 1320, amount_cents=5745)),
    # BHI exactly 20:00 and no CCM time: CCM is below its threshold (0:00), BHI bills $57.45.
    ProgramCase(17, "BHI exactly 20:00", (w("RN", 20, 12, service="bhi"),), "ccm", "",
                "not_billable", 0, ("BELOW_THRESHOLD",), ("OTHER_SERVICE_TIME_EXCLUDED",),
                countable_seconds=0, patient={"conditions": WITH_F},
                bhi=Bhi("99484x1", "billable", 1200, amount_cents=5745)),
    # BHI 19:59 = 1,199 s < 1,200: BELOW_THRESHOLD for BHI; CCM still bills 99490.
    ProgramCase(18, "BHI 19:59", (w("RN", 25, 4), w("RN", 19, 12, seconds=59, service="bhi")),
                "ccm", "99490x1", "billable", 6613, warnings=("OTHER_SERVICE_TIME_EXCLUDED",),
                countable_seconds=1500, patient={"conditions": WITH_F},
                bhi=Bhi("", "not_billable", 1199, ("BELOW_THRESHOLD",))),
    # No F code (E11.9, I10): BHI blocked by NO_BH_CONDITION, its 22:00 still counted.
    ProgramCase(19, "BHI without an F code", (w("RN", 25, 4), w("RN", 22, 12, service="bhi")),
                "ccm", "99490x1", "billable", 6613, warnings=("OTHER_SERVICE_TIME_EXCLUDED",),
                bhi=Bhi("", "not_billable", 1320, ("NO_BH_CONDITION",))),
    # 22:00 of BHI face to face is excluded: 10:00 left < 20:00.
    ProgramCase(20, "BHI face to face excluded",
                (w("RN", 25, 4), w("RN", 22, 12, service="bhi", f2f=True),
                 w("RN", 10, 18, service="bhi")),
                "ccm", "99490x1", "billable", 6613, warnings=("OTHER_SERVICE_TIME_EXCLUDED",),
                countable_seconds=1500, patient={"conditions": WITH_F},
                bhi=Bhi("", "not_billable", 600, ("BELOW_THRESHOLD",),
                        ("OTHER_SERVICE_TIME_EXCLUDED",))),
    # The scheduler's 22:00 of BHI does not count (C4): 10:00 left. CCM warns of both
    # reasons for the scheduler's minutes (Exclusion order).
    ProgramCase(21, "BHI by non-clinical staff excluded",
                (w("RN", 25, 4), w("SCHED", 22, 12, service="bhi"),
                 w("RN", 10, 18, service="bhi")),
                "ccm", "99490x1", "billable", 6613,
                warnings=("NON_CLINICAL_TIME_EXCLUDED", "OTHER_SERVICE_TIME_EXCLUDED"),
                countable_seconds=1500, patient={"conditions": WITH_F},
                bhi=Bhi("", "not_billable", 600, ("BELOW_THRESHOLD",),
                        ("NON_CLINICAL_TIME_EXCLUDED",))),
    # March 2025, APCM, three conditions: G0557 $48.84; BHI beside APCM is allowed in 2025:
    # 99484 $53.05. Total $101.89. ccm has no CCM time: not offered.
    ProgramCase(22, "BHI in a 2025 APCM month", (w("RN", 22, 12, month="2025-03", service="bhi"),),
                "apcm", "G0557x1", "billable", 4884, month="2025-03", periods=APCM, attested=True,
                patient={**ENROLLED_2024, "conditions": WITH_F},
                bhi=Bhi("99484x1", "billable", 1320, amount_cents=5305)),
    # March 2026: G0557 $53.78; from 2026 an APCM month excludes 99484.
    ProgramCase(23, "BHI in a 2026 APCM month", (w("RN", 22, 12, service="bhi"),), "apcm",
                "G0557x1", "billable", 5378, periods=APCM, attested=True, patient={"conditions": WITH_F},
                bhi=Bhi("", "not_billable", 1320, ("EXCLUDED_SERVICE",))),
    # --- PCM by focus condition ("Programs"): E11.9, I10, N18.30, focus N18.30.
    # 30:00: 99426 $67.80, no PCM_NOT_CCM. ccm would bill 99490 $66.13: less.
    ProgramCase(24, "PCM focus, 30:00", (w("RN", 30, 4),), "pcm_focus", "99426x1", "billable",
                6780, periods=FOCUS, patient={"conditions": FOCUS_LIST},
                others=(("ccm", "99490x1"),)),
    # 45:00: 99426 $67.80 (99427 needs 60:00); ccm: 99490 + 99439 = $116.57, $48.77 more.
    ProgramCase(25, "PCM focus, 45:00", (w("RN", 25, 4), w("RN", 20, 12)), "pcm_focus",
                "99426x1", "billable", 6780, warnings=("OTHER_PROGRAM_PAYS_MORE",),
                periods=FOCUS, patient={"conditions": FOCUS_LIST},
                others=(("ccm", "99490x1;99439x1"),), pays_more=("ccm", 4877)),
    # A CCM code in the other services excludes PCM: blocked, $0. The ccm program would bill
    # 99490, but 99490 is billed already this month: a switch would bill it twice, so it is
    # not offered (docs: "Which program pays more").
    ProgramCase(26, "PCM focus with 99490 billed", (w("RN", 30, 4),), "pcm_focus", "",
                "not_billable", 0, ("EXCLUDED_SERVICE",), (),
                periods=FOCUS, patient={"conditions": FOCUS_LIST},
                facts={"other_services": ("99490",)}, would_bill="99426x1"),
    # Another practitioner bills care management: a warning, 99426 bills. ccm would be
    # blocked by BILLED_ELSEWHERE: not offered.
    ProgramCase(27, "PCM focus, billed elsewhere", (w("RN", 30, 4),), "pcm_focus", "99426x1",
                "billable", 6780, warnings=("OTHER_PRACTITIONER_BILLS_CM",), periods=FOCUS,
                patient={"conditions": FOCUS_LIST}, facts={"billed_elsewhere": True}),
    # Focus J44.9 is not on the list: FOCUS_CONDITION_MISSING alone (no BELOW_THRESHOLD, no
    # code); ccm bills 99490 $66.13 on the same 30:00.
    ProgramCase(28, "PCM focus, focus missing", (w("RN", 30, 4),), "pcm_focus", "",
                "not_billable", 0, ("FOCUS_CONDITION_MISSING",), ("OTHER_PROGRAM_PAYS_MORE",),
                periods=(("", "pcm_focus", "J44.9"),), patient={"conditions": FOCUS_LIST},
                others=(("ccm", "99490x1"),), pays_more=("ccm", 6613)),
    # --- A program change from March 2026 (apcm), attested practice.
    # February keeps ccm: 25:00, 99490 $66.13; APCM G0557 $53.78 pays less.
    ProgramCase(29, "program change: the month before keeps ccm",
                (w("RN", 25, 4, month="2026-02"),), "ccm", "99490x1", "billable", 6613,
                month="2026-02", periods=(("2026-03", "apcm", None),), attested=True,
                others=(("apcm", "G0557x1"),)),
    # March is APCM: G0557 $53.78; ccm would bill 99490 $66.13: $12.35 more.
    ProgramCase(30, "program change: the month it starts", (w("RN", 25, 4),), "apcm",
                "G0557x1", "billable", 5378, warnings=("OTHER_PROGRAM_PAYS_MORE",),
                periods=(("2026-03", "apcm", None),), attested=True,
                others=(("ccm", "99490x1"),), pays_more=("ccm", 1235)),
    # --- G0506 ("G0506"): initiating visit 10 Mar 2026 with the flag, consent that day.
    # March: 99490 $66.13 and G0506 $66.47 dated 10 Mar, outside the month's codes.
    ProgramCase(31, "G0506 in the visit's month", (w("RN", 25, 12),), "ccm", "99490x1",
                "billable", 6613, patient=VISIT_MARCH_10, g0506_day=dt.date(2026, 3, 10)),
    # April: the same patient, no G0506 (once per patient, in the visit's month).
    ProgramCase(32, "G0506 not in the next month", (w("RN", 25, 7, month="2026-04"),), "ccm",
                "99490x1", "billable", 6613, month="2026-04", patient=VISIT_MARCH_10),
    # No consent on file: no G0506 (and the month is blocked).
    ProgramCase(33, "G0506 not without consent", (w("RN", 25, 12),), "ccm", "", "not_billable",
                0, ("NO_CONSENT",), patient={**VISIT_MARCH_10, "consent_date": None}),
    # The flag is not set: no G0506.
    ProgramCase(34, "G0506 not without the flag", (w("RN", 25, 12),), "ccm", "99490x1",
                "billable", 6613, patient={**VISIT_MARCH_10, "g0506": False}),
    # --- Which program pays more ("Which program pays more"), attested practice.
    # 12:00: CCM blocked, $0; APCM G0557 $53.78: $53.78 more.
    ProgramCase(35, "CCM below threshold, APCM attested", (w("RN", 12, 4),), "ccm", "",
                "not_billable", 0, ("BELOW_THRESHOLD",), ("OTHER_PROGRAM_PAYS_MORE",),
                attested=True, others=(("apcm", "G0557x1"),), pays_more=("apcm", 5378)),
    # 25:00: 99490 $66.13 > G0557 $53.78: no warning.
    ProgramCase(36, "CCM above APCM", (w("RN", 25, 4),), "ccm", "99490x1", "billable", 6613,
                attested=True, others=(("apcm", "G0557x1"),)),
    # QMB, 25:00: G0558 $117.24 - $66.13 = $51.11 more.
    ProgramCase(37, "QMB: G0558 pays more than 99490", (w("RN", 25, 4),), "ccm", "99490x1",
                "billable", 6613, warnings=("OTHER_PROGRAM_PAYS_MORE",), attested=True,
                patient={"qmb": True}, others=(("apcm", "G0558x1"),), pays_more=("apcm", 5111)),
    # APCM G0557 $53.78 with 45:00 documented: ccm $116.57, $62.79 more.
    ProgramCase(38, "APCM patient whose minutes pay more under CCM",
                (w("RN", 25, 4), w("RN", 20, 12)), "apcm", "G0557x1", "billable", 5378,
                warnings=("OTHER_PROGRAM_PAYS_MORE",), periods=APCM, attested=True,
                others=(("ccm", "99490x1;99439x1"),), pays_more=("ccm", 6279)),
    # Not attested: APCM is not offered; nothing compared.
    ProgramCase(39, "no comparison without the attestation", (w("RN", 12, 4),), "ccm", "",
                "not_billable", 0, ("BELOW_THRESHOLD",)),
    # QMB, 2026, CCM 25:00 + BHI 22:00: $66.13 + $57.45 = $123.58 against G0558 $117.24 with
    # no BHI beside APCM in 2026: no warning.
    ProgramCase(40, "2026: CCM and BHI against G0558",
                (w("RN", 25, 4), w("RN", 22, 12, service="bhi")), "ccm", "99490x1", "billable",
                6613, warnings=("OTHER_SERVICE_TIME_EXCLUDED",), attested=True,
                patient={"qmb": True, "conditions": WITH_F},
                bhi=Bhi("99484x1", "billable", 1320, amount_cents=5745),
                others=(("apcm", "G0558x1"),)),
    # The same in March 2025: $60.49 + $53.05 = $113.54 against G0558 $107.07 + 99484 $53.05
    # = $160.12: $46.58 more.
    ProgramCase(41, "2025: G0558 and BHI pay more",
                (w("RN", 25, 4, month="2025-03"), w("RN", 22, 12, month="2025-03", service="bhi")),
                "ccm", "99490x1", "billable", 6049,
                warnings=("OTHER_SERVICE_TIME_EXCLUDED", "OTHER_PROGRAM_PAYS_MORE"),
                month="2025-03", attested=True,
                patient={**ENROLLED_2024, "qmb": True, "conditions": WITH_F},
                bhi=Bhi("99484x1", "billable", 1320, amount_cents=5305),
                others=(("apcm", "G0558x1;99484x1"),), pays_more=("apcm", 4658)),
)  # fmt: skip
