"""The month-end rules engine: one patient-month's minutes, codes, blocks, warnings and money.

Pure: plain data in, a `MonthResult` out. Instants are whole UTC epoch seconds, so a month of
10,000 patients is integer arithmetic; only local days (consent, stays, threshold dates) go
through the practice's time zone.

The rules are those of docs/billing-rules.md: C0-C8 below are its sections of those names ("C4
Whose time counts" and so on), and the other sections are named in quotes where they apply.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from itertools import compress, islice, repeat
from operator import eq, gt, itemgetter, le, not_
from typing import Any, NamedTuple

from ccmdesk.rules.care_plan import PlanInForce, SignedPlan, in_force, plan_warnings
from ccmdesk.rules.catalog import (
    APCM_LEVELS,
    BHI_FAMILY,
    CLAIM_DIAGNOSES,
    CODES,
    DEFAULT_COINSURANCE_PERCENT,
    FAMILIES,
    MEDICARE_KINDS,
    PART_B_DEDUCTIBLE,
    PROGRAM_LABELS,
    REASONS,
    TCM_CODES,
    TIMED_FAMILIES,
    UNKNOWN_COVERAGE,
    Family,
    excluding,
)
from ccmdesk.rules.icd10 import behavioural_health
from ccmdesk.rules.intervals import date_text, minus, month_days, month_year, short_month
from ccmdesk.rules.waivers import covers as waiver_covers

# Whose time counts and what for (docs/billing-rules.md, "C4 Whose time counts", "C5 Other
# services, face to face and inpatient days").
COUNTING_ROLES = frozenset({"clinical", "practitioner"})  # C4
COUNTING_SERVICES = frozenset({"ccm", "pcm"})  # C5
COMPLEX_LEVELS = frozenset({"moderate", "high"})
# Order in which a segment excluded for several reasons is counted (docs/billing-rules.md,
# "Exclusion order").
EXCLUSION_ORDER = (
    "NON_CLINICAL_TIME_EXCLUDED",
    "OTHER_SERVICE_TIME_EXCLUDED",
    "INPATIENT_TIME_EXCLUDED",
    "PRE_CONSENT_TIME_EXCLUDED",
)
NEAR_THRESHOLD_SECONDS = 5 * 60

Span = tuple[int, int]  # [start, end) in UTC epoch seconds


def epoch(instant: dt.datetime) -> int:
    return int(instant.timestamp())


@lru_cache(maxsize=8192)
def local_midnight(day: dt.date, zone: dt.tzinfo) -> int:
    return epoch(dt.datetime.combine(day, dt.time(), zone))


_START, _END, _STAFF, _KIND = (itemgetter(n) for n in range(4))

# Why a segment's time is not care-management time, before any look at days (C4, C5).
NON_CLINICAL = 1  # recorded by someone whose time never counts (C4)
OTHER_SERVICE = 2  # tagged TCM, RPM or BHI, or face to face (C5)
# What BHI counts apart (docs/billing-rules.md, "General BHI"): time tagged `bhi`, and
# whether that time was face to face. Care management never counts it: OTHER_SERVICE is set too.
BHI_SERVICE = 4
FACE_TO_FACE = 8  # only on BHI time


def kind_of(role: str, service: str, face_to_face: bool = False) -> int:
    """0 for care-management time by someone whose time counts, else the reasons it is not
    (with the BHI bits, which only BHI reads)."""
    kind = (NON_CLINICAL if role not in COUNTING_ROLES else 0) | (
        OTHER_SERVICE if service not in COUNTING_SERVICES or face_to_face else 0
    )
    if service == "bhi":
        kind |= BHI_SERVICE | (FACE_TO_FACE if face_to_face else 0)
    return kind


class Segment(NamedTuple):
    """One uninterrupted stretch of a time entry (docs/billing-rules.md, "C0 Segments": every
    rule works on segments; a paused stopwatch leaves several). `evaluate` takes these, or the
    same data as `Columns`, the shape a whole month comes in from the database."""

    start: int  # UTC epoch seconds
    end: int
    staff_id: int
    kind: int  # kind_of(role, service, face_to_face)

    @classmethod
    def of(
        cls,
        start: int,
        end: int,
        staff_id: int,
        role: str,
        service: str = "ccm",
        face_to_face: bool = False,
    ) -> Segment:
        return cls(start, end, staff_id, kind_of(role, service, face_to_face))


class Columns(NamedTuple):
    """A patient-month's segments column by column: the shape the database hands over, and the
    one the rules work in (a month of 300,000 segments makes no object per segment)."""

    starts: list[int]
    ends: list[int]
    staff: list[int]
    kinds: list[int]

    @classmethod
    def of(cls, segments: Iterable[Sequence[Any]]) -> Columns:
        rows = list(segments)
        return cls(
            list(map(_START, rows)),
            list(map(_END, rows)),
            list(map(_STAFF, rows)),
            list(map(_KIND, rows)),
        )


@dataclass(frozen=True)
class Coverage:
    """The patient's primary payer as the rules read it (docs/billing-rules.md, "Payers")."""

    payer_id: str
    name: str
    kind: str  # catalog.PAYER_KINDS
    covers: tuple[str, ...]  # catalog.PROGRAMS, or ("unknown",)
    coinsurance_percent: int = DEFAULT_COINSURANCE_PERCENT  # 0-100
    min_diagnoses: int | None = None  # None: the payer sets no such rule

    def pays_for(self, program: str) -> bool:
        return program in self.covers

    @property
    def unknown(self) -> bool:
        return UNKNOWN_COVERAGE in self.covers


@dataclass(frozen=True)
class Waiver:
    """A financial-hardship waiver of the patient's coinsurance, from its first month to its
    last (`None`: until it is ended)."""

    first_month: str  # YYYY-MM
    last_month: str | None
    approved_by: str  # the name printed on the superbill
    approved_on: dt.date

    def covers(self, month: str) -> bool:
        return waiver_covers(self.first_month, self.last_month, month)


@dataclass(frozen=True)
class PatientFacts:
    """What the patient record says, as of the evaluation. The payer fields default to "no
    payer": such a patient is judged exactly as before payers existed."""

    conditions: tuple[str, ...]
    billing_practitioner_id: int | None
    billing_practitioner_name: str = ""
    # False when the billing practitioner is not a practitioner or has no NPI.
    billing_practitioner_ok: bool = True
    consent_date: dt.date | None = None
    consent_practitioner_id: int | None = None  # None: given for the billing practitioner
    consent_revoked_date: dt.date | None = None
    initiating_visit_date: dt.date | None = None
    # A care plan kept elsewhere, by its date (patients.csv care_plan_date); the signed versions
    # in ccmdesk win over it (docs/billing-rules.md, "Care plan").
    care_plan_date: dt.date | None = None
    care_plans: tuple[SignedPlan, ...] = ()  # the signed versions in ccmdesk
    qmb: bool = False
    coverage: Coverage | None = None  # the primary payer; None: no payer on file
    secondary_payer: str = ""  # the secondary payer's name; blank: none
    waivers: tuple[Waiver, ...] = ()  # the patient's hardship waivers (they never overlap)
    # The program in force for the month (docs/billing-rules.md, "Programs"), and its focus
    # condition for pcm_focus.
    program: str = "ccm"
    focus_condition: str | None = None
    last_visit_date: dt.date | None = None  # the last face-to-face visit (APCM)
    g0506: bool = False  # the initiating visit's extensive assessment (docs: "G0506")

    def care_plan(self, last_day: dt.date) -> PlanInForce | None:
        """The care plan in force on a month's last day (docs/billing-rules.md, "Care plan")."""
        return in_force(self.care_plans, self.care_plan_date, last_day)

    def waiver_for(self, month: str) -> Waiver | None:
        """The hardship waiver that covers the month, if any."""
        return next((w for w in self.waivers if w.covers(month)), None)


@dataclass(frozen=True)
class CostShare:
    """The patient-share estimate of one month and why it is what it is."""

    patient_cents: int  # what the patient is estimated to owe
    coinsurance_cents: int  # the coinsurance on the month's amount, whoever pays it
    percent: int
    basis: str  # "coinsurance", "qmb", "waiver" or "secondary"
    secondary_payer: str = ""  # who pays the coinsurance, for "secondary"
    waiver: Waiver | None = None  # the waiver that covers the month, whatever the basis


@dataclass(frozen=True)
class MonthFacts:
    """What is known about the month besides the minutes."""

    complexity: str = "none"
    other_services: tuple[str, ...] = ()
    billed_elsewhere: bool = False
    # Stays overlapping the month, whichever month's record they were entered on.
    inpatient_stays: tuple[tuple[dt.date, dt.date], ...] = ()
    family_override: str | None = None
    signed: bool = False


@dataclass(frozen=True)
class Month:
    """A service month in the practice's time zone, with its fee schedule resolved once."""

    month: str  # YYYY-MM
    zone: dt.tzinfo
    start: int
    end: int
    first_day: dt.date
    last_day: dt.date
    fees: Mapping[str, int]
    fee_year: int | None  # the schedule used; None when no schedule applies
    families: tuple[Family, ...]  # the families in force this month, in C8 order
    # The practice's APCM attestation is on file (docs/billing-rules.md, "APCM").
    apcm_attested: bool = False
    # What each (family, base units, add-on units) bills this month, made once and shared
    # (an APCM level under (code, 1, 0)).
    options: dict[tuple[str, int, int], Option] = field(
        default_factory=dict, compare=False, repr=False
    )
    open_families: dict[tuple[int, bool], tuple[Family, ...]] = field(
        default_factory=dict, compare=False, repr=False
    )

    @classmethod
    def of(
        cls,
        month: str,
        zone: dt.tzinfo,
        fee_schedules: Mapping[int, Mapping[str, int]],
        *,
        apcm_attested: bool = False,
    ) -> Month:
        first, last = month_days(month)
        following = last + dt.timedelta(days=1)
        earlier = [y for y in fee_schedules if y <= first.year]
        fee_year = max(earlier) if earlier else None
        return cls(
            month=month,
            zone=zone,
            start=local_midnight(first, zone),
            end=local_midnight(following, zone),
            first_day=first,
            last_day=last,
            fees=dict(fee_schedules[fee_year]) if fee_year is not None else {},
            fee_year=fee_year,
            families=tuple(f.on(last) for f in FAMILIES.values() if f.in_force(last)),
            apcm_attested=apcm_attested,
        )

    def candidates(self, conditions: int, complexity: str) -> tuple[Family, ...]:
        """The families in force this month that a patient's conditions (and attested
        complexity) open, in C8 order; whether the time qualifies is decided later."""
        key = (min(conditions, 2), complexity in COMPLEX_LEVELS)
        found = self.open_families.get(key)
        if found is None:
            found = self.open_families[key] = tuple(
                f
                for f in self.families
                if conditions > 0
                and f.one_condition == (conditions == 1)
                and (f.key != "complex" or complexity in COMPLEX_LEVELS)
            )
        return found

    def local_date(self, instant: int) -> dt.date:
        return dt.datetime.fromtimestamp(instant, self.zone).date()


@dataclass(frozen=True)
class CodeLine:
    code: str
    units: int
    fee_cents: int

    @property
    def charge_cents(self) -> int:
        return self.fee_cents * self.units

    @property
    def description(self) -> str:
        return CODES[self.code].description


@dataclass(frozen=True)
class Threshold:
    """A billed unit and the local date its time was reached."""

    seconds: int
    code: str
    day: dt.date


@dataclass(frozen=True)
class Option:
    """What one code family would bill for the month."""

    family: str  # a key of TIMED_FAMILIES, or "apcm"
    lines: tuple[CodeLine, ...]

    @cached_property
    def amount_cents(self) -> int:
        return sum(line.charge_cents for line in self.lines)

    @property
    def label(self) -> str:
        family = TIMED_FAMILIES.get(self.family)
        if family is not None:
            return family.label
        return CODES[self.lines[0].code].description

    @property
    def codes(self) -> str:
        return codes_text(self.lines)


@dataclass(frozen=True)
class Price:
    """What another program would bill for the month, with the general BHI it allows
    (docs/billing-rules.md, "Which program pays more")."""

    program: str  # "ccm", "pcm_focus" or "apcm"
    lines: tuple[CodeLine, ...]

    @property
    def amount_cents(self) -> int:
        return sum(line.charge_cents for line in self.lines)

    @property
    def codes(self) -> str:
        return codes_text(self.lines)

    @property
    def label(self) -> str:
        return PROGRAM_LABELS[self.program]


def better_paying(others: Sequence[Price], total_cents: int) -> Price | None:
    """The best paying of `others` (best first) when it bills more than `total_cents`: what
    OTHER_PROGRAM_PAYS_MORE names (docs/billing-rules.md, "Which program pays more")."""
    best = others[0] if others else None
    return best if best is not None and best.amount_cents > total_cents else None


@dataclass(frozen=True)
class Note:
    """One line of the plain-English explanation; `code` is the reason it stands for, if any."""

    text: str
    code: str = ""


@dataclass(frozen=True)
class MonthResult:
    """Everything the panel, the reports and the export need about one patient-month."""

    month: str
    conditions: int
    countable_seconds: int  # T
    practitioner_seconds: int  # P
    excluded: Mapping[str, int]  # reason → seconds, entry by entry (C3 overlaps not included)
    option: Option | None  # what the month bills (or would bill once mended)
    blocks: tuple[str, ...]
    warnings: tuple[str, ...]  # sorted; NOT_SIGNED included while unsigned
    alternative: Option | None  # a compliant family that pays more, if any
    compliant: tuple[str, ...]  # every family the month's time qualifies for
    override_ignored: bool  # the biller's family no longer fits the month's time
    next_threshold: tuple[int, str] | None  # (seconds, code) of the next unit to earn
    patient_share_cents: int
    cost_share: CostShare
    signed: bool
    overlap_seconds: int  # time two people worked at once, counted once (C3)
    # What the explanation is written from; kept so only the rows someone reads are explained.
    inputs: tuple[Month, PatientFacts, MonthFacts] = field(repr=False)
    # The union of the countable time the family counts (its starts and ends), for the
    # threshold dates.
    spans: tuple[Sequence[int], Sequence[int]] = field(repr=False)
    date_of_service_rule: str = "last_day"
    # "ccm", "pcm_focus" or "apcm" for the care-management result; "bhi" for a BHI result.
    program: str = "ccm"
    # The month's general BHI (99484), when it has time tagged BHI (docs: "General BHI").
    bhi: MonthResult | None = None
    # What the other programs would bill on the same facts, best paying first
    # (docs/billing-rules.md, "Which program pays more").
    others: tuple[Price, ...] = ()
    # G0506 in the month of the initiating visit, dated that day (docs: "G0506").
    g0506: CodeLine | None = None

    @cached_property
    def thresholds(self) -> tuple[Threshold, ...]:
        """Each billed unit with the local day its time was reached (none for APCM)."""
        family = TIMED_FAMILIES.get(self.option.family) if self.option is not None else None
        if self.option is None or family is None:
            return ()
        m = self.inputs[0]
        units = sum(line.units for line in self.option.lines)
        targets = family.thresholds(units)
        days = []
        for k, instant in enumerate(_reached(self.spans, targets)):
            # The unit is earned by the second that ends at `instant`: date it by that second.
            code = family.base if k == 0 else family.addon
            days.append(Threshold(targets[k], code, m.local_date(instant - 1)))
        return tuple(days)

    @property
    def program_label(self) -> str:
        return PROGRAM_LABELS[self.program]

    @property
    def payer_program(self) -> str | None:
        """The program a payer's `covers` is read for (docs/billing-rules.md, "Payers")."""
        if self.program == "pcm_focus":
            return "pcm"
        if self.program in ("apcm", "bhi"):
            return self.program
        return program_for(self.conditions)

    @property
    def all_lines(self) -> tuple[CodeLine, ...]:
        """Every code line the month bills on its claim: its program's, then its general
        BHI's (G0506 is not here: it goes on the initiating visit's claim)."""
        return self.lines + (self.bhi.lines if self.bhi is not None else ())

    @property
    def all_codes(self) -> str:
        """Every code the month bills on its claim, as codes_text writes them."""
        return codes_text(self.all_lines)

    @property
    def bills(self) -> bool:
        """The month bills something (its program, its BHI or both): it makes a claim."""
        return bool(self.all_lines)

    @property
    def total_cents(self) -> int:
        """What the month bills in all: its program and its general BHI."""
        return self.amount_cents + (self.bhi.amount_cents if self.bhi is not None else 0)

    @property
    def pays_more(self) -> Price | None:
        """The other program that would bill the month more, if any."""
        return better_paying(self.others, self.total_cents)

    @property
    def g0506_day(self) -> dt.date | None:
        """G0506's date of service: the initiating visit's day."""
        return self.inputs[1].initiating_visit_date if self.g0506 is not None else None

    @property
    def choices(self) -> list[Option]:
        """What each family the month qualifies for would bill, best paying first."""
        m = self.inputs[0]
        options = [_option(FAMILIES[key], self.countable_seconds, m) for key in self.compliant]
        return sorted(options, key=lambda o: -o.amount_cents)

    @property
    def date_of_service(self) -> dt.date:
        """The month's last day, or (a practice setting) the day the highest billed threshold
        was reached."""
        if self.date_of_service_rule == "threshold_date" and self.thresholds:
            return self.thresholds[-1].day
        return self.inputs[0].last_day

    @property
    def notes(self) -> list[Note]:
        return explain(self)

    @property
    def billable(self) -> bool:
        return not self.blocks and self.option is not None

    @property
    def status(self) -> str:
        return "billable" if self.billable else "not_billable"

    @property
    def lines(self) -> tuple[CodeLine, ...]:
        """Codes as exported: only for a billable month."""
        return self.option.lines if self.billable and self.option else ()

    @property
    def amount_cents(self) -> int:
        return sum(line.charge_cents for line in self.lines)

    @property
    def codes(self) -> str:
        return codes_text(self.lines)

    @property
    def staff_seconds(self) -> int:
        return self.countable_seconds - self.practitioner_seconds

    @property
    def excluded_seconds(self) -> int:
        return sum(self.excluded.values())

    @property
    def has_warnings(self) -> bool:
        """NOT_SIGNED is a status, not a warning to review."""
        return any(code != "NOT_SIGNED" for code in self.warnings)

    @property
    def seconds_to_next(self) -> int | None:
        if self.next_threshold is None:
            return None
        return self.next_threshold[0] - self.countable_seconds

    @property
    def near_threshold(self) -> bool:
        return self.seconds_to_next is not None and self.seconds_to_next <= NEAR_THRESHOLD_SECONDS


def codes_text(lines: Iterable[CodeLine]) -> str:
    return ";".join(f"{line.code}x{line.units}" for line in lines)


def codes_words(codes: str) -> str:
    """A code list as people read it on every screen, "99490x1, 99439x2"; stored, exported and
    hashed into closed bills with semicolons (codes_text), which stay as they are."""
    return codes.replace(";", ", ")


def clock(seconds: int) -> str:
    """Minutes and seconds as a nurse reads a stopwatch: 75:30."""
    return f"{seconds // 60}:{seconds % 60:02d}"


def dollars(cents: int) -> str:
    return f"${cents // 100:,}.{cents % 100:02d}"


def day_text(day: dt.date) -> str:
    return f"{day.day} {short_month(day)}"


# --- interval helpers on epoch seconds --------------------------------------------------------


def _union(spans: list[Span]) -> list[Span]:
    """Sorted, non-overlapping spans covering the same time; touching spans join. Sorts
    `spans` in place, and returns it as it is when nothing overlaps or touches (checked in C)."""
    if not spans:
        return []
    spans.sort()
    starts = map(_START, islice(spans, 1, None))
    if all(map(gt, starts, map(_END, spans))):
        return spans
    merged: list[Span] = []
    start, end = spans[0][0], spans[0][1]
    for span in spans:
        next_start, next_end = span[0], span[1]
        if next_start <= end:
            if next_end > end:
                end = next_end
        else:
            merged.append((start, end))
            start, end = next_start, next_end
    merged.append((start, end))
    return merged


def _union_columns(starts: list[int], ends: list[int]) -> tuple[list[int], list[int]]:
    """The union of spans given as columns sorted by start; returned as they are when no two
    overlap or touch (checked in C), which is the usual case."""
    if all(map(gt, islice(starts, 1, None), ends)):
        return starts, ends
    return _split(_union(list(zip(starts, ends, strict=True))))


def _split(spans: Sequence[Span]) -> tuple[list[int], list[int]]:
    return list(map(_START, spans)), list(map(_END, spans))


def _total(spans: Iterable[Span]) -> int:
    total = 0
    for span in spans:
        total += span[1] - span[0]
    return total


def _cut_all(spans: list[Span], cuts: Sequence[Span]) -> list[Span]:
    for cut in cuts:
        spans = minus(spans, cut)
    return spans


def _reached(merged: tuple[Sequence[int], Sequence[int]], targets: Sequence[int]) -> list[int]:
    """The instants at which the union (its starts and ends) completes each of `targets`."""
    found: list[int] = []
    done = 0
    wanted = iter(targets)
    target = next(wanted, None)
    for start, end in zip(*merged, strict=True):
        while target is not None and done + (end - start) >= target:
            found.append(start + (target - done))
            target = next(wanted, None)
        done += end - start
    if target is not None:
        raise ValueError("target beyond the time given")
    return found


@lru_cache(maxsize=8192)
def _months_before(day: dt.date, months: int) -> dt.date:
    total = day.year * 12 + day.month - 1 - months
    year, month = divmod(total, 12)
    month += 1
    following = dt.date(year + (month == 12), month % 12 + 1, 1)
    return dt.date(year, month, min(day.day, (following - dt.timedelta(days=1)).day))


# --- the engine --------------------------------------------------------------------------------


def _exclude_kind(kind: int, seconds: int, excluded: dict[str, int], warnings: set[str]) -> None:
    """Time by someone whose time never counts, or for another service (C4 before C5:
    docs/billing-rules.md, "Exclusion order")."""
    if kind & NON_CLINICAL:
        warnings.add("NON_CLINICAL_TIME_EXCLUDED")
        excluded["NON_CLINICAL_TIME_EXCLUDED"] += seconds
    if kind & OTHER_SERVICE:
        warnings.add("OTHER_SERVICE_TIME_EXCLUDED")
        if not kind & NON_CLINICAL:
            excluded["OTHER_SERVICE_TIME_EXCLUDED"] += seconds


@lru_cache(maxsize=256)
def _excluding(kind: str | None, day: dt.date) -> frozenset[str]:
    """The codes that keep a month of this kind of care from billing (docs/billing-rules.md,
    "Blocks"); with no kind (no condition), those that keep both CCM and PCM."""
    if kind is None:
        return excluding("ccm", day) & excluding("pcm", day)
    return excluding(kind, day)


def _excluded(facts: MonthFacts, kind: str | None, day: dt.date, more: Iterable[str] = ()) -> bool:
    """Whether a service billed this month (or `more`) excludes this kind of care."""
    codes = {code.upper() for code in facts.other_services} | set(more)
    return bool(codes) and not _excluding(kind, day).isdisjoint(codes)


def _enrolment_blocks(m: Month, patient: PatientFacts) -> set[str]:
    """Consent, care plan and billing practitioner: what every program needs (C6 and
    docs/billing-rules.md, "Blocks")."""
    blocks: set[str] = set()
    consent = patient.consent_date
    if consent is None or consent > m.last_day:
        blocks.add("NO_CONSENT")
    if consent is not None and (
        patient.consent_practitioner_id is not None
        and patient.consent_practitioner_id != patient.billing_practitioner_id
    ):
        blocks.add("NEW_CONSENT_REQUIRED")
    revoked = patient.consent_revoked_date
    if revoked is not None and revoked < m.first_day:
        blocks.add("CONSENT_REVOKED")
    if patient.care_plan(m.last_day) is None:
        blocks.add("NO_CARE_PLAN")
    if patient.billing_practitioner_id is None or not patient.billing_practitioner_ok:
        blocks.add("NO_BILLING_PRACTITIONER")
    return blocks


def _visit_blocks(m: Month, patient: PatientFacts, blocks: set[str]) -> set[str]:
    """`blocks` with the initiating visit of CCM, PCM and BHI: not after the month, and not
    more than 12 months before consent (docs/billing-rules.md, "Blocks")."""
    visit, consent = patient.initiating_visit_date, patient.consent_date
    if (
        visit is None
        or visit > m.last_day
        or (consent is not None and visit < _months_before(consent, 12))
    ):
        blocks.add("NO_INITIATING_VISIT")
    return blocks


def _payer_blocks(patient: PatientFacts, program: str | None, n: int, blocks: set[str]) -> set[str]:
    """`blocks` with what the primary payer does not pay for (docs/billing-rules.md,
    "Payers")."""
    coverage = patient.coverage
    if coverage is not None:
        if program is not None and not coverage.unknown and not coverage.pays_for(program):
            blocks.add("PAYER_DOES_NOT_COVER")
        if coverage.min_diagnoses is not None and claim_diagnoses(n) < coverage.min_diagnoses:
            blocks.add("PAYER_NEEDS_MORE_DIAGNOSES")
    return blocks


def _blocks(m: Month, patient: PatientFacts, facts: MonthFacts) -> set[str]:
    """The blocks of a CCM/PCM month (program ccm, or pcm_focus: docs/billing-rules.md,
    "Programs")."""
    n = len(patient.conditions)
    focus = patient.program == "pcm_focus"
    blocks = _visit_blocks(m, patient, _enrolment_blocks(m, patient))
    if n == 0:
        blocks.add("NO_CONDITIONS")
    if focus and patient.focus_condition not in patient.conditions:
        blocks.add("FOCUS_CONDITION_MISSING")
    kind = "pcm" if focus else program_for(n)
    if facts.other_services and _excluded(facts, kind, m.last_day):
        blocks.add("EXCLUDED_SERVICE")
    # Another practitioner's CCM beside a specialist's PCM is allowed: a warning says to check.
    if facts.billed_elsewhere and not focus:
        blocks.add("BILLED_ELSEWHERE")
    return _payer_blocks(patient, kind, n, blocks)


def apcm_level(patient: PatientFacts) -> str:
    """G0556 with at most one chronic condition, G0557 with two or more, G0558 with two or
    more for a QMB patient (docs/billing-rules.md, "APCM")."""
    n = len(patient.conditions)
    if n <= 1:
        return APCM_LEVELS[0]
    return APCM_LEVELS[2] if patient.qmb else APCM_LEVELS[1]


def _apcm_blocks(m: Month, patient: PatientFacts, facts: MonthFacts) -> set[str]:
    """The blocks of an APCM month (docs/billing-rules.md, "APCM"): as CCM's, without
    NO_CONDITIONS or BELOW_THRESHOLD, with a face-to-face visit in the three years before the
    month's end, the practice's attestation, and the codes in force."""
    blocks = _enrolment_blocks(m, patient)
    # The latest visit by the month's end: one recorded later does not count for this month.
    visits = [
        d
        for d in (patient.initiating_visit_date, patient.last_visit_date)
        if d is not None and d <= m.last_day
    ]
    if not visits or max(visits) < _months_before(m.last_day, 36):
        blocks.add("NO_INITIATING_VISIT")
    if not m.apcm_attested:
        blocks.add("APCM_NOT_ATTESTED")
    if not CODES[apcm_level(patient)].in_force(m.last_day):
        blocks.add("PROGRAM_NOT_IN_FORCE")
    if facts.other_services and _excluded(facts, "apcm", m.last_day):
        blocks.add("EXCLUDED_SERVICE")
    if facts.billed_elsewhere:
        blocks.add("BILLED_ELSEWHERE")
    return _payer_blocks(patient, "apcm", len(patient.conditions), blocks)


def _bhi_blocks(m: Month, patient: PatientFacts, facts: MonthFacts, program: str) -> set[str]:
    """The blocks of a general BHI month beside a month of `program` (docs/billing-rules.md,
    "General BHI"): as CCM's, with NO_BH_CONDITION instead of NO_CONDITIONS; from 2026 an
    APCM month (or APCM billed this month) excludes it."""
    blocks = _visit_blocks(m, patient, _enrolment_blocks(m, patient))
    if not any(map(behavioural_health, patient.conditions)):
        blocks.add("NO_BH_CONDITION")
    if not CODES[BHI_FAMILY.base].in_force(m.last_day):
        blocks.add("PROGRAM_NOT_IN_FORCE")
    own = (apcm_level(patient),) if program == "apcm" else ()
    if (facts.other_services or own) and _excluded(facts, "bhi", m.last_day, own):
        blocks.add("EXCLUDED_SERVICE")
    return _payer_blocks(patient, "bhi", len(patient.conditions), blocks)


def program_for(conditions: int) -> str | None:
    """The program a payer's `covers` is read for: one chronic condition opens only the PCM
    families, two or more only the CCM ones (so a biller's switch never changes it); none
    opens nothing."""
    if conditions == 0:
        return None
    return "pcm" if conditions == 1 else "ccm"


def claim_diagnoses(conditions: int) -> int:
    """How many diagnoses the claim carries: the patient's conditions, up to the claim's 12."""
    return min(conditions, CLAIM_DIAGNOSES)


def cost_share(amount_cents: int, patient: PatientFacts, month: str) -> CostShare:
    """The patient-share estimate (docs/billing-rules.md, "Patient share"): the primary
    payer's coinsurance on the amount, half up to the cent (20 % with no payer); $0 for a QMB
    patient of Medicare or Medicare Advantage (or with no payer, as before payers), while a
    hardship waiver covers the month, or when a secondary payer takes the coinsurance."""
    coverage = patient.coverage
    percent = DEFAULT_COINSURANCE_PERCENT if coverage is None else coverage.coinsurance_percent
    coinsurance = (amount_cents * percent * 2 + 100) // 200  # half up to the cent
    waiver = patient.waiver_for(month)
    basis = "coinsurance"
    # The order says what the estimate names: the law first (QMB), then the practice's own
    # waiver (nothing is collected from anyone), then the secondary payer.
    if patient.qmb and (coverage is None or coverage.kind in MEDICARE_KINDS):
        basis = "qmb"
    elif waiver is not None:
        basis = "waiver"
    elif patient.secondary_payer:
        basis = "secondary"
    return CostShare(
        patient_cents=coinsurance if basis == "coinsurance" else 0,
        coinsurance_cents=coinsurance,
        percent=percent,
        basis=basis,
        secondary_payer=patient.secondary_payer if basis == "secondary" else "",
        waiver=waiver,
    )


def _option(family: Family, total: int, m: Month) -> Option:
    """What the family bills for this much time; made once per month and unit count, and
    shared between patient-months (few families, few unit counts)."""
    base, addons = family.units(total)
    key = (family.key, base, addons)
    option = m.options.get(key)
    if option is None:
        lines = [CodeLine(family.base, base, m.fees.get(family.base, 0))]
        if addons:
            lines.append(CodeLine(family.addon, addons, m.fees.get(family.addon, 0)))
        option = m.options[key] = Option(family.key, tuple(lines))
    return option


def _next_threshold(families: Sequence[Family], total: int, own: int) -> tuple[int, str] | None:
    """The nearest threshold (seconds, code) that would add a unit in a family this patient
    can use; it may be in another family than the one billed (then the biller may switch)."""
    best: tuple[int, str] | None = None
    for family in families:
        if family.practitioner_only and (own != total or total == 0):
            continue
        base, addons = family.units(total)
        if not base:
            following, code = family.base_minutes * 60, family.base
        elif not family.addon_in_force or (
            family.addon_cap is not None and addons >= family.addon_cap
        ):
            continue  # nothing more to earn in this family
        else:
            following = (family.base_minutes + (addons + 1) * family.addon_minutes) * 60
            code = family.addon
        if best is None or following < best[0]:
            best = (following, code)
    return best


class Tally(NamedTuple):
    """A patient-month's time as the rules count it (C0-C6 of docs/billing-rules.md), before
    any code is chosen."""

    countable_seconds: int  # T: the union of the countable time
    practitioner_seconds: int  # P: the billing practitioner's own part of T
    overlap_seconds: int  # countable time entry by entry, less T (C3)
    excluded: dict[str, int]  # reason → seconds, for every reason of EXCLUSION_ORDER
    warnings: set[str]
    merged: tuple[list[int], list[int]]  # T's union, as starts and ends
    own_merged: tuple[list[int], list[int]]  # P's union


def count_time(
    m: Month,
    cut_consent: int | None,
    stays: Sequence[Span],
    practitioner_id: int | None,
    segments: Columns,
) -> Tally:
    """The one way the rules count a month's time: cut at the local month ends (C2); time by
    someone whose time never counts, or for another service, set aside whole under its first
    reason (C4, C5); inpatient days (C5), then the days before consent (C6), cut from the rest;
    and what is left counted once (C3). The order is docs/billing-rules.md, "Exclusion order".

    A step with nothing to do costs a pass or two over the columns in C, so the usual
    patient-month (nothing across a month end, no stay, consent before the month) of a month of
    300,000 segments makes no object per segment; only the segments a step changes are looked
    at one by one.
    """
    lo, hi = m.start, m.end
    excluded = dict.fromkeys(EXCLUSION_ORDER, 0)
    warnings: set[str] = set()
    starts, ends, staff, kinds = segments
    if starts and (min(starts) < lo or max(ends) > hi):
        starts, ends = _within_month(lo, hi, starts, ends, warnings)
    if not all(map(gt, ends, starts)):
        # No time in it (or none inside the month): a segment that counts for nothing.
        keep = list(map(gt, ends, starts))
        starts, ends, staff, kinds = (list(compress(c, keep)) for c in (starts, ends, staff, kinds))
    if any(kinds):
        for start, end, kind in compress(zip(starts, ends, kinds, strict=True), kinds):
            _exclude_kind(kind, end - start, excluded, warnings)
            # Its seconds went to the first reason; the later ones that apply still say so.
            if stays and any(start < b and a < end for a, b in stays):
                warnings.add("INPATIENT_TIME_EXCLUDED")
            if cut_consent is not None and start < cut_consent:
                warnings.add("PRE_CONSENT_TIME_EXCLUDED")
        keep = list(map(not_, kinds))
        starts, ends, staff = (list(compress(c, keep)) for c in (starts, ends, staff))
    if stays or cut_consent is not None:
        starts, ends, staff = _cut_days(
            lo, cut_consent, stays, starts, ends, staff, excluded, warnings
        )
    if not all(map(le, starts, islice(starts, 1, None))):
        order = sorted(range(len(starts)), key=starts.__getitem__)
        starts = list(map(starts.__getitem__, order))
        ends = list(map(ends.__getitem__, order))
        staff = list(map(staff.__getitem__, order))
    merged = _union_columns(starts, ends)
    if practitioner_id in staff:
        mine = list(map(eq, staff, repeat(practitioner_id)))
        own_merged = _union_columns(list(compress(starts, mine)), list(compress(ends, mine)))
    else:  # the usual month: the practitioner's own time is none of it
        own_merged = ([], [])
    total = sum(merged[1]) - sum(merged[0])
    overlap = sum(ends) - sum(starts) - total
    if overlap:
        warnings.add("OVERLAP_COUNTED_ONCE")
    own_total = sum(own_merged[1]) - sum(own_merged[0])
    return Tally(total, own_total, overlap, excluded, warnings, merged, own_merged)


def _within_month(
    lo: int, hi: int, starts: list[int], ends: list[int], warnings: set[str]
) -> tuple[list[int], list[int]]:
    """Segments cut at the month's ends (C2); one left with time in the month after the cut
    says so."""
    inside_starts = list(map(max, starts, repeat(lo)))
    inside_ends = list(map(min, ends, repeat(hi)))
    if any(
        a < b and (start < lo or end > hi)
        for start, end, a, b in zip(starts, ends, inside_starts, inside_ends, strict=True)
    ):
        warnings.add("SPLIT_AT_MONTH_BOUNDARY")
    return inside_starts, inside_ends


def _cut_days(
    lo: int,
    cut_consent: int | None,
    stays: Sequence[Span],
    starts: list[int],
    ends: list[int],
    staff: list[int],
    excluded: dict[str, int],
    warnings: set[str],
) -> tuple[list[int], list[int], list[int]]:
    """Countable segments less inpatient days, then less the days before consent; each reason
    is given the seconds it cut, so a minute on a stay before consent is an inpatient one."""
    kept_starts: list[int] = []
    kept_ends: list[int] = []
    kept_staff: list[int] = []
    for start, end, staff_id in zip(starts, ends, staff, strict=True):
        kept = _cut_all([(start, end)], stays)
        on_stays = end - start - _total(kept)
        if on_stays:
            warnings.add("INPATIENT_TIME_EXCLUDED")
            excluded["INPATIENT_TIME_EXCLUDED"] += on_stays
        if cut_consent is not None and start < cut_consent:
            warnings.add("PRE_CONSENT_TIME_EXCLUDED")
            left = _total(kept)
            kept = minus(kept, (lo, cut_consent))
            excluded["PRE_CONSENT_TIME_EXCLUDED"] += left - _total(kept)
        for piece_start, piece_end in kept:
            kept_starts.append(piece_start)
            kept_ends.append(piece_end)
            kept_staff.append(staff_id)
    return kept_starts, kept_ends, kept_staff


def countable_seconds(
    m: Month,
    consent_date: dt.date | None,
    inpatient_stays: Sequence[tuple[dt.date, dt.date]],
    segments: Columns | Iterable[Segment],
) -> int:
    """A patient-month's countable seconds (T) exactly as `evaluate` counts them, without the
    rest of the rules: what the worklist and the patient panel show against the thresholds."""
    tally = count_time(
        m, consent_cut(m, consent_date), stay_spans(m, inpatient_stays), None, as_columns(segments)
    )
    return tally.countable_seconds


def as_columns(segments: Columns | Iterable[Segment]) -> Columns:
    """Segments in the shape the rules work in (a month from the database comes as columns)."""
    return segments if isinstance(segments, Columns) else Columns.of(segments)


def consent_cut(m: Month, consent: dt.date | None) -> int | None:
    """Where the days before consent end, when that is inside the month (C6). A consent dated
    after the month is no consent for it: NO_CONSENT alone blocks it, and its minutes show what
    it would bill."""
    if consent is not None and m.first_day < consent <= m.last_day:
        return local_midnight(consent, m.zone)
    return None


def stay_spans(m: Month, stays: Iterable[tuple[dt.date, dt.date]]) -> list[Span]:
    """Inpatient stays as instants, from the admission day's local midnight to the end of the
    discharge day (both days are inpatient days)."""
    return [
        (local_midnight(a, m.zone), local_midnight(d + dt.timedelta(days=1), m.zone))
        for a, d in stays
    ]


class Prepared(NamedTuple):
    """What a patient-month's facts decide before any time is looked at: the cuts, the
    blocks, the families its conditions open and the warnings that need no minutes. Made
    apart so a month's patients can be prepared while the database gathers their time."""

    m: Month
    patient: PatientFacts
    facts: MonthFacts
    dos_rule: str
    cut_consent: int | None
    stays: list[Span]
    blocks: frozenset[str]
    families: tuple[Family, ...]
    warnings: frozenset[str]


def prepare(
    m: Month, patient: PatientFacts, facts: MonthFacts, *, dos_rule: str = "last_day"
) -> Prepared:
    """The part of the rules that depends on the patient's and the month's facts alone."""
    n = len(patient.conditions)
    program = patient.program
    warnings = _common_warnings(m, patient, facts)
    if program == "ccm" and n == 1:
        warnings.add("PCM_NOT_CCM")
    if program == "pcm_focus" and facts.billed_elsewhere:
        warnings.add("OTHER_PRACTITIONER_BILLS_CM")
    if program == "apcm":
        if not TCM_CODES.isdisjoint(code.upper() for code in facts.other_services):
            warnings.add("TCM_WITH_APCM")
        blocks = _apcm_blocks(m, patient, facts)
        families: tuple[Family, ...] = ()
    else:
        blocks = _blocks(m, patient, facts)
        if program == "pcm_focus":
            # The PCM families, whatever the number of conditions (docs: "Programs").
            focus_ok = "FOCUS_CONDITION_MISSING" not in blocks
            families = m.candidates(1, "none") if focus_ok else ()
        else:
            families = m.candidates(n, facts.complexity)
    return Prepared(
        m,
        patient,
        facts,
        dos_rule,
        consent_cut(m, patient.consent_date),
        stay_spans(m, facts.inpatient_stays),
        frozenset(blocks),
        families,
        frozenset(warnings),
    )


def _common_warnings(m: Month, patient: PatientFacts, facts: MonthFacts) -> set[str]:
    """The warnings of every program's month that need no minutes: fees, signature, payer,
    care plan."""
    warnings = plan_warnings(patient.care_plan(m.last_day), m.last_day)
    if m.fee_year is None:
        warnings.add("NO_FEE_SCHEDULE")
    elif m.fee_year < m.first_day.year:
        warnings.add("FEES_FROM_EARLIER_YEAR")
    if not facts.signed:
        warnings.add("NOT_SIGNED")
    if patient.coverage is not None and patient.coverage.unknown:
        warnings.add("COVERAGE_UNKNOWN")
    if patient.waiver_for(m.month) is not None:
        warnings.add("COINSURANCE_WAIVED")
    return warnings


def evaluate(
    m: Month,
    patient: PatientFacts,
    facts: MonthFacts,
    segments: Columns | Iterable[Segment],
    *,
    dos_rule: str = "last_day",
) -> MonthResult:
    """Apply the billing rules (docs/billing-rules.md, C0-C8, "Blocks", "Warnings", "Date of
    service") to one patient-month."""
    return evaluate_prepared(prepare(m, patient, facts, dos_rule=dos_rule), segments)


def evaluate_prepared(prepared: Prepared, segments: Columns | Iterable[Segment]) -> MonthResult:
    """Apply the rules that need the month's time to a prepared patient-month: its program's
    result, with its general BHI, G0506 and what the other programs would bill."""
    m, patient, _, _, cut_consent, stays, _, _, _ = prepared
    columns = as_columns(segments)
    tally = count_time(m, cut_consent, stays, patient.billing_practitioner_id, columns)
    # The usual month (no BHI time, no G0506, a ccm patient of a practice without APCM) is
    # told by a few tests here, without a call each (docs/performance.md).
    kinds = columns.kinds
    bhi = _bhi_tally(prepared, columns) if kinds and max(kinds) >= BHI_SERVICE else None
    g0506 = _g0506(m, patient) if patient.g0506 else None
    alternatives = (
        _alternatives(patient.program, m.apcm_attested)
        if m.apcm_attested or patient.program != "ccm"
        else ()
    )
    extras = _NO_EXTRAS  # the usual month of a practice without APCM: CCM alone
    if bhi is not None or g0506 is not None or alternatives:
        # The BHI result and the other programs' prices need nothing of this program's
        # result: worked out first, the result is made once with them (a copy per
        # patient-month cost about a tenth of a month's evaluation: docs/performance.md).
        others = sorted(
            (
                price
                for program in alternatives
                if (price := _price(prepared, tally, bhi, program)) is not None
            ),
            key=lambda price: -price.amount_cents,
        )
        bhi_result = _bhi_result(prepared, bhi) if bhi is not None else None
        extras = _Extras(bhi_result, tuple(others), g0506)
    if patient.program == "apcm":
        return _apcm_result(prepared, tally, extras)
    return _timed_result(prepared, tally, extras)


class _Extras(NamedTuple):
    """What a program's result carries besides its own codes: its general BHI, the other
    programs' prices (best paying first) and G0506."""

    bhi: MonthResult | None = None
    others: tuple[Price, ...] = ()
    g0506: CodeLine | None = None

    def pays_more(self, amount_cents: int) -> bool:
        """Another program would bill more than the program's `amount_cents` and its BHI."""
        bhi = self.bhi.amount_cents if self.bhi is not None else 0
        return better_paying(self.others, amount_cents + bhi) is not None


_NO_EXTRAS = _Extras()


def _alternatives(program: str, attested: bool) -> tuple[str, ...]:
    """The programs a month is also priced under (docs/billing-rules.md, "Which program pays
    more"): APCM only once the practice has attested it."""
    if program == "apcm":
        return ("ccm",)
    if program == "pcm_focus":
        return ("ccm", "apcm") if attested else ("ccm",)
    return ("apcm",) if attested else ()


def _price(prepared: Prepared, tally: Tally, bhi: Tally | None, program: str) -> Price | None:
    """What the month would bill under another program on the same facts, with the BHI that
    program allows; None when that program's month would be blocked."""
    m, patient, facts, dos_rule = prepared[:4]
    if program == "apcm":
        # Every month of an attested practice is priced under APCM: only its blocks and
        # level are worked out, which read nothing of the patient's own program (an APCM
        # month with no block bills its level: _apcm_result).
        if _apcm_blocks(m, patient, facts):
            return None
        lines = _apcm_option(m, patient).lines
    else:
        other = prepare(m, dataclasses.replace(patient, program=program), facts, dos_rule=dos_rule)
        result = _timed_result(other, tally)
        if not result.billable:
            return None
        lines = result.lines
    # A code already billed this month (another service on file) is never offered again: a
    # switch to it would bill it twice (docs/billing-rules.md, "Which program pays more").
    if facts.other_services:
        billed = {code.upper() for code in facts.other_services}
        if any(line.code in billed for line in lines):
            return None
    if bhi is not None:
        lines += _bhi_lines(m, patient, facts, program, bhi)
    return Price(program, lines)


def _g0506(m: Month, patient: PatientFacts) -> CodeLine | None:
    """G0506 in the month of the initiating visit, once per patient, when the billing
    practitioner did the extensive assessment and consent is on file (docs: "G0506")."""
    visit = patient.initiating_visit_date
    if (
        not patient.g0506
        or visit is None
        or not m.first_day <= visit <= m.last_day
        or patient.consent_date is None
        or not CODES["G0506"].in_force(visit)
    ):
        return None
    return CodeLine("G0506", 1, m.fees.get("G0506", 0))


def bhi_columns(m: Month, columns: Columns) -> Columns | None:
    """The month's segments tagged BHI, with their kinds as BHI counts them (its own service:
    only someone whose time never counts, or face to face, sets time aside); None when the
    month has no time tagged BHI. Time wholly in another month, or of no length, is no BHI
    time of this month (C2; docs/billing-rules.md, "General BHI")."""
    kinds = columns.kinds
    # Kinds below BHI_SERVICE carry neither BHI bit (FACE_TO_FACE comes only with it): the
    # usual month, with no BHI time, is told by one pass in C.
    if not kinds or max(kinds) < BHI_SERVICE:
        return None
    mine = [
        bool(kind & BHI_SERVICE) and min(end, m.end) > max(start, m.start)
        for kind, start, end in zip(kinds, columns.starts, columns.ends, strict=True)
    ]
    if not any(mine):
        return None
    bhi_kinds = [
        (kind & NON_CLINICAL) | (OTHER_SERVICE if kind & FACE_TO_FACE else 0)
        for kind in compress(kinds, mine)
    ]
    return Columns(
        list(compress(columns.starts, mine)),
        list(compress(columns.ends, mine)),
        list(compress(columns.staff, mine)),
        bhi_kinds,
    )


def _bhi_tally(prepared: Prepared, columns: Columns) -> Tally | None:
    """The month's time tagged BHI counted as CCM's is (C1-C4, C6, C7; face to face and
    inpatient days excluded), apart from it; None when no time is tagged BHI."""
    picked = bhi_columns(prepared.m, columns)
    if picked is None:
        return None
    m, patient, _, _, cut_consent, stays, _, _, _ = prepared
    return count_time(m, cut_consent, stays, patient.billing_practitioner_id, picked)


def bhi_countable_seconds(
    m: Month,
    consent_date: dt.date | None,
    inpatient_stays: Sequence[tuple[dt.date, dt.date]],
    segments: Columns | Iterable[Segment],
) -> int:
    """A patient-month's countable BHI seconds exactly as `evaluate` counts them for 99484
    (the BHI result's countable seconds): what the patient panel's BHI bar shows."""
    picked = bhi_columns(m, as_columns(segments))
    return 0 if picked is None else countable_seconds(m, consent_date, inpatient_stays, picked)


def _bhi_result(prepared: Prepared, tally: Tally) -> MonthResult:
    """The month's general BHI (99484): 20 full minutes of BHI time bill one unit
    (docs/billing-rules.md, "General BHI")."""
    m, patient, facts, dos_rule = prepared[:4]
    blocks = _bhi_blocks(m, patient, facts, patient.program)
    warnings = set(tally.warnings) | _common_warnings(m, patient, facts)
    total = tally.countable_seconds
    option = _option(BHI_FAMILY, total, m) if total >= BHI_FAMILY.base_minutes * 60 else None
    if option is None:
        blocks.add("BELOW_THRESHOLD")
    return _result(
        prepared,
        tally,
        option=option,
        blocks=blocks,
        warnings=warnings,
        program="bhi",
        next_threshold=None if option else (BHI_FAMILY.base_minutes * 60, BHI_FAMILY.base),
        spans=tally.merged,
        dos_rule=dos_rule,
    )


def _bhi_lines(
    m: Month, patient: PatientFacts, facts: MonthFacts, program: str, tally: Tally
) -> tuple[CodeLine, ...]:
    """The lines the month's general BHI bills under `program`: _bhi_result's, without
    the rest of a result."""
    total = tally.countable_seconds
    if total < BHI_FAMILY.base_minutes * 60 or _bhi_blocks(m, patient, facts, program):
        return ()
    return _option(BHI_FAMILY, total, m).lines


def _apcm_option(m: Month, patient: PatientFacts) -> Option:
    """What an APCM month bills: one unit of its level; made once per month and level, as
    _option's are."""
    code = apcm_level(patient)
    key = (code, 1, 0)
    option = m.options.get(key)
    if option is None:
        option = m.options[key] = Option("apcm", (CodeLine(code, 1, m.fees.get(code, 0)),))
    return option


def _apcm_result(prepared: Prepared, tally: Tally, extras: _Extras = _NO_EXTRAS) -> MonthResult:
    """An APCM month: one unit of its level, no minutes needed; the minutes show as
    documentation only (docs/billing-rules.md, "APCM")."""
    m, patient, _, _, _, _, blocks, _, fixed = prepared
    option = None
    if "PROGRAM_NOT_IN_FORCE" not in blocks:
        option = _apcm_option(m, patient)
    return _result(
        prepared,
        tally,
        option=option,
        blocks=set(blocks),
        warnings=set(fixed),
        program="apcm",
        next_threshold=None,
        spans=([], []),
        dos_rule="last_day",
        extras=extras,
    )


def _result(
    prepared: Prepared,
    tally: Tally,
    *,
    option: Option | None,
    blocks: set[str],
    warnings: set[str],
    program: str,
    next_threshold: tuple[int, str] | None,
    spans: tuple[Sequence[int], Sequence[int]],
    dos_rule: str,
    extras: _Extras = _NO_EXTRAS,
    alternative: Option | None = None,
    compliant: tuple[str, ...] = (),
    override_ignored: bool = False,
) -> MonthResult:
    """The month's result from what its program decided (its option, blocks and warnings;
    for CCM/PCM also the families it had to choose from), with its patient share, its BHI,
    the other programs' prices and G0506."""
    m, patient, facts = prepared[:3]
    billable = not blocks and option is not None
    amount = option.amount_cents if billable and option else 0
    if extras.pays_more(amount):
        warnings = warnings | {"OTHER_PROGRAM_PAYS_MORE"}
    share = cost_share(amount, patient, m.month)
    return MonthResult(
        month=m.month,
        conditions=len(patient.conditions),
        countable_seconds=tally.countable_seconds,
        practitioner_seconds=tally.practitioner_seconds,
        overlap_seconds=tally.overlap_seconds,
        excluded={code: s for code, s in tally.excluded.items() if s},
        option=option,
        blocks=tuple(sorted(blocks)),
        warnings=tuple(sorted(warnings)),
        alternative=alternative,
        compliant=compliant,
        override_ignored=override_ignored,
        next_threshold=next_threshold,
        patient_share_cents=share.patient_cents,
        cost_share=share,
        signed=facts.signed,
        inputs=(m, patient, facts),
        spans=spans,
        date_of_service_rule=dos_rule,
        program=program,
        bhi=extras.bhi,
        others=extras.others,
        g0506=extras.g0506,
    )


def _timed_result(prepared: Prepared, tally: Tally, extras: _Extras = _NO_EXTRAS) -> MonthResult:
    """A CCM or PCM month (program ccm or pcm_focus): the families its time qualifies for
    (C8), the one billed and the next threshold."""
    m, patient, facts, dos_rule, _, _, fixed_blocks, open_families, fixed = prepared
    total, own_total, _, _, tally_warnings, merged, own_merged = tally
    warnings = set(tally_warnings)

    n = len(patient.conditions)
    blocks = set(fixed_blocks)
    compliant = [
        f
        for f in open_families
        if total >= f.base_minutes * 60 and (own_total == total or not f.practitioner_only)
    ]
    chosen = compliant[0] if compliant else None
    override_ignored = False
    if facts.family_override:
        picked = next((f for f in compliant if f.key == facts.family_override), None)
        if picked is not None:
            chosen = picked
        else:
            override_ignored = True
    if chosen is None and n > 0 and "FOCUS_CONDITION_MISSING" not in blocks:
        blocks.add("BELOW_THRESHOLD")
    focus = patient.program == "pcm_focus"
    if not focus and n >= 2 and facts.complexity in COMPLEX_LEVELS and total < 3600:
        warnings.add("COMPLEX_FALLBACK")
    option = _option(chosen, total, m) if chosen is not None else None
    if chosen is not None and option is not None:
        cap = chosen.addon_cap
        if (
            chosen.addon_in_force
            and cap is not None
            and total > (chosen.base_minutes + cap * chosen.addon_minutes) * 60
        ):
            warnings.add("ADDON_CAP_REACHED")
        addon_units = option.lines[-1].units if len(option.lines) > 1 else 0
        if chosen.review_above is not None and addon_units > chosen.review_above:
            warnings.add("UNITS_REVIEW")
    alternative = None
    if option is not None:
        others = [_option(f, total, m) for f in compliant if f is not chosen]
        richer = [o for o in others if o.amount_cents > option.amount_cents]
        if richer:
            alternative = max(richer, key=lambda o: o.amount_cents)
            warnings.add("ALTERNATIVE_PAYS_MORE")
    warnings |= fixed

    # Threshold dates are worked out when first read (the panel reads a few; an export all).
    return _result(
        prepared,
        tally,
        option=option,
        blocks=blocks,
        warnings=warnings,
        program=patient.program,
        next_threshold=_next_threshold(open_families, total, own_total),
        spans=own_merged if chosen is not None and chosen.practitioner_only else merged,
        dos_rule=dos_rule,
        extras=extras,
        alternative=alternative,
        compliant=tuple(f.key for f in compliant),
        override_ignored=override_ignored,
    )


def warning_text(r: MonthResult, code: str) -> str:
    """A warning in the words of this month: which family would pay more and how much, which
    year's fees stand in. Every screen and document that lists warnings says the same."""
    m = r.inputs[0]
    if code == "ALTERNATIVE_PAYS_MORE" and r.alternative:
        alt = r.alternative
        return (
            f"{alt.label} ({_codes_words(alt)}) would pay {dollars(alt.amount_cents)}, more "
            f"than {dollars(r.option.amount_cents if r.option else 0)}; the biller may switch."
        )
    if code == "FEES_FROM_EARLIER_YEAR" and m.fee_year is not None:
        return f"There is no {m.first_day.year} fee schedule; {m.fee_year} amounts are used."
    coverage = r.inputs[1].coverage
    if code == "COVERAGE_UNKNOWN" and coverage is not None:
        return (
            f"It is not known whether {coverage.name} pays for care management: confirm with "
            "the payer before billing."
        )
    if code == "COINSURANCE_WAIVED" and r.cost_share.waiver is not None:
        return waiver_text(r.cost_share.waiver)
    better = r.pays_more
    if code == "OTHER_PROGRAM_PAYS_MORE" and better is not None:
        return (
            f"{better.label} ({codes_words(better.codes)}) would pay "
            f"{dollars(better.amount_cents)}, {dollars(better.amount_cents - r.total_cents)} "
            f"more than {r.program_label} bills ({dollars(r.total_cents)}); changing the "
            "patient's program is the practitioner's or the biller's decision."
        )
    return REASONS[code].text


def block_text(r: MonthResult, code: str) -> str:
    """A payer's block in the words of this month: which payer, which program, how many
    diagnoses; other blocks as the catalog says them."""
    n = r.conditions
    coverage = r.inputs[1].coverage
    if code == "PAYER_DOES_NOT_COVER" and coverage is not None:
        program = (r.payer_program or "").upper()
        covers = ", ".join(p.upper() for p in coverage.covers) or "no care management"
        return f"{coverage.name} does not pay for {program} (it covers {covers})."
    if code == "PAYER_NEEDS_MORE_DIAGNOSES" and coverage is not None:
        carried = claim_diagnoses(n)
        return (
            f"{coverage.name} pays care management only with at least "
            f"{coverage.min_diagnoses} diagnoses on the claim; this claim carries {carried}."
        )
    if code == "NO_INITIATING_VISIT" and r.program == "apcm":
        return (
            "No face-to-face visit with the practice (the initiating visit or the last visit "
            "on file) in the three years before the end of the month."
        )
    if code == "EXCLUDED_SERVICE" and r.program == "bhi":
        return (
            "From 2026 APCM's own behavioural-health add-ons replace 99484: general BHI is not "
            "billed in a month the practice bills APCM."
        )
    return REASONS[code].text


def waiver_text(waiver: Waiver) -> str:
    """The sentence the superbill, the handoff and the billing panel print for a waiver."""
    return (
        "Coinsurance waived for documented financial hardship, approved "
        f"{date_text(waiver.approved_on)} by {waiver.approved_by}."
    )


def deductible_text(year: int, coverage: Coverage | None) -> str:
    """What the estimate assumes about the deductible: the Part B amount of the year when
    Medicare Part B is (or, with no payer, is taken to be) the payer; the plan's own else."""
    if coverage is not None and coverage.kind != "medicare":
        return "assumes the plan's deductible has been met"
    amount = PART_B_DEDUCTIBLE.get(year)
    if amount is None:
        return f"assumes the {year} Part B deductible has been met"
    return f"assumes the Part B deductible ({dollars(amount)} in {year}) has been met"


def estimate_text(r: MonthResult) -> str:
    """The patient-share estimate in one sentence, with why it is $0 when it is."""
    share = r.cost_share
    if share.basis == "qmb":
        return "Patient share: $0.00; a QMB patient owes no Medicare cost sharing."
    if share.basis == "waiver" and share.waiver is not None:
        return f"Patient share: $0.00. {waiver_text(share.waiver)}"
    if share.basis == "secondary":
        return (
            f"Patient share: $0.00; the coinsurance ({dollars(share.coinsurance_cents)}) to "
            f"the secondary payer: {share.secondary_payer}."
        )
    m, patient, _ = r.inputs
    return (
        f"Patient share (estimate): {dollars(share.patient_cents)}, {share.percent} % "
        f"coinsurance; {deductible_text(m.first_day.year, patient.coverage)}."
    )


def explain(r: MonthResult) -> list[Note]:
    """The result line by line, in sentences a nurse, a physician or a biller reads."""
    m, patient, facts = r.inputs
    overlap = r.overlap_seconds
    notes: list[Note] = []
    if r.billable and r.option:
        notes.append(Note(f"Bills {_codes_words(r.option)}: {dollars(r.amount_cents)}."))
    elif r.option:
        notes.append(
            Note(
                f"Not billable. Once mended it would bill {_codes_words(r.option)}: "
                f"{dollars(r.option.amount_cents)}."
            )
        )
    else:
        notes.append(Note("Not billable."))
    if r.program == "apcm":
        notes.append(
            Note(
                "APCM bills the month, not minutes: the time below is documentation, and "
                "CCM and PCM are not billed beside it."
            )
        )
    elif r.program == "pcm_focus" and "FOCUS_CONDITION_MISSING" not in r.blocks:
        focus = patient.focus_condition or ""
        notes.append(Note(f"PCM on the focus condition {focus}, listed first on the claim."))
    who = "countable time"
    if r.practitioner_seconds == 0:
        who = "clinical staff time"
    chosen = TIMED_FAMILIES.get(r.option.family) if r.option else None
    if chosen is not None and chosen.practitioner_only:
        name = patient.billing_practitioner_name or "the billing practitioner"
        who = f"{name}'s own time"
    for t in r.thresholds:
        notes.append(Note(f"{clock(t.seconds)} of {who} reached on {day_text(t.day)} → {t.code}"))
    notes.append(
        Note(
            f"Countable this month: {clock(r.countable_seconds)} "
            f"(clinical staff {clock(r.staff_seconds)}, billing practitioner "
            f"{clock(r.practitioner_seconds)})."
        )
    )
    if r.g0506 is not None and r.g0506_day is not None:
        notes.append(
            Note(
                f"G0506 ({dollars(r.g0506.charge_cents)}): add to the initiating visit's claim "
                f"of {day_text(r.g0506_day)}."
            )
        )
    if r.next_threshold is not None and r.seconds_to_next is not None:
        target, code = r.next_threshold
        notes.append(Note(f"{clock(r.seconds_to_next)} more reaches {code} at {clock(target)}."))
    for code, seconds in r.excluded.items():
        notes.append(Note(_excluded_text(code, seconds, patient, facts), code))
    if overlap:
        notes.append(
            Note(
                f"{clock(overlap)} when two people worked at once was counted once.",
                "OVERLAP_COUNTED_ONCE",
            )
        )
    for code in r.blocks:
        reason = REASONS[code]
        text = f"Blocked: {block_text(r, code)} {reason.mend}"
        if code == "BELOW_THRESHOLD" and r.program == "bhi":
            text = (
                f"Blocked: {clock(r.countable_seconds)} of countable BHI time is below the "
                f"{BHI_FAMILY.base_minutes}:00 {BHI_FAMILY.base} needs."
            )
        elif code == "BELOW_THRESHOLD":
            one = r.conditions == 1 or r.program == "pcm_focus"
            firsts = [f for f in m.families if f.one_condition == one]
            if firsts:
                need = min(f.base_minutes for f in firsts)
                text = (
                    f"Blocked: {clock(r.countable_seconds)} of countable time is below the "
                    f"{need}:00 the first code needs."
                )
            else:
                text = (
                    "Blocked: no care-management code for this patient's conditions was in "
                    f"force in {month_year(m.first_day)}."
                )
        notes.append(Note(text, code))
    for code in r.warnings:
        if code in r.excluded or code == "OVERLAP_COUNTED_ONCE":
            continue  # already said with its minutes
        text = warning_text(r, code)
        if code in EXCLUSION_ORDER:
            # It applied, but its time was already excluded for an earlier reason.
            text = f"{text.removesuffix('.')} (that time was already excluded for another reason)."
        notes.append(Note(text, code))
    if r.override_ignored and facts.family_override in FAMILIES:
        notes.append(
            Note(
                f"The biller chose {FAMILIES[facts.family_override].label}, which this month's "
                "time no longer qualifies for; the rules' own choice is shown."
            )
        )
    elif facts.family_override and r.option and r.option.family == facts.family_override:
        notes.append(Note(f"Family chosen by the biller: {r.option.label}."))
    # A patient with no payer facts keeps the explanation it had before payers existed.
    if r.billable and (
        patient.coverage is not None or patient.secondary_payer or r.cost_share.waiver
    ):
        notes.append(Note(estimate_text(r)))
    return notes


def _codes_words(option: Option) -> str:
    """The option's codes as every screen writes them (codes_words)."""
    return codes_words(option.codes)


def _excluded_text(code: str, seconds: int, patient: PatientFacts, facts: MonthFacts) -> str:
    amount = clock(seconds)
    if code == "PRE_CONSENT_TIME_EXCLUDED" and patient.consent_date is not None:
        return f"{amount} before consent on {day_text(patient.consent_date)} not counted."
    if code == "INPATIENT_TIME_EXCLUDED":
        days = ", ".join(
            f"{day_text(a)}–{day_text(d)}" if a != d else day_text(a)
            for a, d in facts.inpatient_stays
        )
        return f"{amount} on inpatient days ({days}) not counted."
    if code == "NON_CLINICAL_TIME_EXCLUDED":
        return f"{amount} by non-clinical, billing or admin staff not counted."
    return f"{amount} of other services or face-to-face time not counted."
