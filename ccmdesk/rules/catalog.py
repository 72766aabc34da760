"""The dated code catalog, the code families, the reason codes and the default fee schedules."""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass
from enum import StrEnum


@dataclass(frozen=True)
class Code:
    """One billing code as ccmdesk knows it; in force from `start` until `end` (inclusive)."""

    code: str
    description: str  # short, in our own words (not the CPT descriptor)
    start: dt.date
    end: dt.date | None = None

    def in_force(self, day: dt.date) -> bool:
        return self.start <= day and (self.end is None or day <= self.end)


_D = dt.date
CODES: dict[str, Code] = {
    c.code: c
    for c in (
        Code("99490", "CCM, first 20 min clinical staff time", _D(2015, 1, 1)),
        Code("99439", "CCM, each additional 20 min staff time", _D(2021, 1, 1)),
        Code("99491", "CCM, first 30 min practitioner's own time", _D(2019, 1, 1)),
        Code("99437", "CCM, each additional 30 min practitioner time", _D(2022, 1, 1)),
        Code("99487", "Complex CCM, first 60 min", _D(2015, 1, 1)),
        Code("99489", "Complex CCM, each additional 30 min", _D(2015, 1, 1)),
        Code("99424", "PCM, first 30 min practitioner's own time", _D(2022, 1, 1)),
        Code("99425", "PCM, each additional 30 min practitioner time", _D(2022, 1, 1)),
        Code("99426", "PCM, first 30 min clinical staff time", _D(2022, 1, 1)),
        Code("99427", "PCM, each additional 30 min staff time", _D(2022, 1, 1)),
        # Produced once per patient from the initiating visit's flag, or once a month for an
        # APCM patient, never from minutes (docs/billing-rules.md, "G0506", "APCM").
        Code("G0506", "CCM initiation: extended assessment and care planning", _D(2017, 1, 1)),
        Code("G0556", "Advanced primary care management, level 1", _D(2025, 1, 1)),
        Code("G0557", "Advanced primary care management, level 2", _D(2025, 1, 1)),
        Code("G0558", "Advanced primary care management, level 3 (QMB)", _D(2025, 1, 1)),
        Code("99484", "General BHI, 20 min or more clinical staff time", _D(2017, 1, 1)),
        # APCM's behavioural-health add-ons: known, not produced yet (docs/billing-rules.md).
        Code("G0568", "APCM behavioural-health add-on (CoCM, first month)", _D(2026, 1, 1)),
        Code("G0569", "APCM behavioural-health add-on (CoCM, later months)", _D(2026, 1, 1)),
        Code("G0570", "APCM behavioural-health add-on (general BHI)", _D(2026, 1, 1)),
    )
}


@dataclass(frozen=True)
class Family:
    """A base code and its add-on, with the minutes each needs (docs/billing-rules.md, "Codes
    and families")."""

    key: str
    label: str
    base: str
    addon: str
    base_minutes: int
    addon_minutes: int
    addon_cap: int | None  # a hard unit limit (Medicare's, for 99439)
    review_above: int | None  # add-on units above this raise UNITS_REVIEW
    one_condition: bool  # PCM (exactly one chronic condition) or CCM (two or more)
    practitioner_only: bool  # only the billing practitioner's own time counts
    addon_in_force: bool = True  # False in a month before the add-on code existed

    def in_force(self, day: dt.date) -> bool:
        """The family bills while its base code is in force; its add-on only while that is."""
        return CODES[self.base].in_force(day)

    def on(self, day: dt.date) -> Family:
        """The family as it stands on that day (without its add-on before the add-on began)."""
        if CODES[self.addon].in_force(day):
            return self
        return dataclasses.replace(self, addon_in_force=False)

    def units(self, seconds: int) -> tuple[int, int]:
        """(base units, add-on units) for this much time (docs/billing-rules.md, "C1 Whole
        seconds": no rounding)."""
        base = self.base_minutes * 60
        if seconds < base:
            return 0, 0
        addons = (seconds - base) // (self.addon_minutes * 60)
        if not self.addon_in_force:
            return 1, 0
        if self.addon_cap is not None:
            addons = min(addons, self.addon_cap)
        return 1, addons

    def thresholds(self, units: int) -> list[int]:
        """Seconds at which each billed unit was earned: the base, then each add-on step."""
        if units <= 0:
            return []
        first = self.base_minutes * 60
        return [first + n * self.addon_minutes * 60 for n in range(units)]


FAMILIES: dict[str, Family] = {
    f.key: f
    for f in (
        Family("complex", "Complex CCM", "99487", "99489", 60, 30, None, 2, False, False),
        Family(
            "ccm_practitioner",
            "CCM, practitioner's own time",
            "99491",
            "99437",
            30,
            30,
            None,
            2,
            False,
            True,
        ),
        Family("ccm", "CCM, clinical staff", "99490", "99439", 20, 20, 2, None, False, False),
        Family(
            "pcm_practitioner",
            "PCM, practitioner's own time",
            "99424",
            "99425",
            30,
            30,
            None,
            2,
            True,
            True,
        ),
        Family("pcm_staff", "PCM, clinical staff", "99426", "99427", 30, 30, None, 2, True, False),
    )
}

# The general BHI family: 20 full minutes, one unit, no add-on (docs/billing-rules.md,
# "General BHI"). Its add-on is its own code with a cap of 0 units: nothing past the base.
BHI_FAMILY = Family("bhi", "General BHI", "99484", "99484", 20, 20, 0, None, False, False)
# Every family that bills from minutes, for looking one up by key.
TIMED_FAMILIES: dict[str, Family] = {**FAMILIES, BHI_FAMILY.key: BHI_FAMILY}
APCM_LEVELS = ("G0556", "G0557", "G0558")  # at most 1 condition; 2 or more; 2 or more and QMB
TCM_CODES = frozenset({"99495", "99496"})

HOME_HEALTH_HOSPICE_ESRD = frozenset({"G0181", "G0182"} | {str(c) for c in range(90951, 90971)})
CCM_CODES = frozenset({"99487", "99489", "99490", "99491", "99437", "99439"})
PCM_CODES = frozenset({"99424", "99425", "99426", "99427"})
APCM_CODES = frozenset(APCM_LEVELS)


@dataclass(frozen=True)
class Bundle:
    """Codes that, billed in the same month by the same practitioner, keep the month of the
    `billed` kinds of care from billing (EXCLUDED_SERVICE), from `start` until `end`
    (docs/billing-rules.md, "Blocks" and "Dated rules"). A kind is "ccm" (the CCM families),
    "pcm" (the PCM families), "apcm" or "bhi"."""

    billed: frozenset[str]
    codes: frozenset[str]
    start: dt.date
    end: dt.date | None = None

    def in_force(self, day: dt.date) -> bool:
        return self.start <= day and (self.end is None or day <= self.end)


BUNDLES = (
    Bundle(frozenset({"ccm", "pcm", "apcm"}), HOME_HEALTH_HOSPICE_ESRD, _D(2015, 1, 1)),
    Bundle(frozenset({"ccm", "pcm"}), APCM_CODES, _D(2025, 1, 1)),
    Bundle(frozenset({"ccm"}), PCM_CODES, _D(2022, 1, 1)),
    Bundle(frozenset({"pcm"}), CCM_CODES, _D(2022, 1, 1)),
    Bundle(frozenset({"apcm"}), CCM_CODES | PCM_CODES, _D(2025, 1, 1)),
    # From 2026 APCM's own behavioural-health add-ons (G0568-G0570) take 99484's place.
    Bundle(frozenset({"bhi"}), APCM_CODES, _D(2026, 1, 1)),
)


def excluding(kind: str, day: dt.date) -> frozenset[str]:
    """The codes that keep a month of this kind of care (see Bundle) from billing on `day`."""
    return frozenset().union(*(b.codes for b in BUNDLES if kind in b.billed and b.in_force(day)))


# The program a patient is billed under, as people read it.
PROGRAM_LABELS = {
    "ccm": "CCM/PCM",
    "pcm_focus": "PCM on the focus condition",
    "apcm": "APCM",
    "bhi": "General BHI",
}


class Kind(StrEnum):
    BLOCK = "block"
    WARNING = "warning"
    # Keeps a billable month out of the claim file; never changes whether the month bills
    # (docs/billing-rules.md, "Claim edits").
    CLAIM_EDIT = "claim edit"


@dataclass(frozen=True)
class Reason:
    """A stable reason code with what it means and, for a block, how to mend it."""

    code: str
    kind: Kind
    text: str
    mend: str = ""


REASONS: dict[str, Reason] = {
    r.code: r
    for r in (
        Reason(
            "NO_CONDITIONS",
            Kind.BLOCK,
            "The patient has no chronic condition on file.",
            "Add the patient's chronic conditions (ICD-10-CM).",
        ),
        Reason(
            "NO_CONSENT",
            Kind.BLOCK,
            "No consent to care management is documented on or before the last day of the month.",
            "Record the date and method of the patient's consent.",
        ),
        Reason(
            "NEW_CONSENT_REQUIRED",
            Kind.BLOCK,
            "The consent on file was given for a different billing practitioner.",
            "Document new consent for the current billing practitioner.",
        ),
        Reason(
            "CONSENT_REVOKED",
            Kind.BLOCK,
            "The patient stopped care management in an earlier month.",
            "Bill only months up to the revocation, or record new consent.",
        ),
        Reason(
            "NO_INITIATING_VISIT",
            Kind.BLOCK,
            "No initiating visit with the billing practitioner within 12 months before "
            "consent and not after this month.",
            "Record the qualifying face-to-face visit (E/M, AWV or IPPE).",
        ),
        Reason(
            "NO_CARE_PLAN",
            Kind.BLOCK,
            "No care plan signed on or before the last day of the month (a version signed in "
            "ccmdesk, or a plan kept elsewhere recorded by its date).",
            "Write the patient's care plan and have the billing practitioner sign it, or record "
            "the date of the plan kept elsewhere.",
        ),
        Reason(
            "NO_BILLING_PRACTITIONER",
            Kind.BLOCK,
            "The patient has no billing practitioner with an NPI.",
            "Choose a billing practitioner who has an NPI on file.",
        ),
        Reason(
            "EXCLUDED_SERVICE",
            Kind.BLOCK,
            "A service billed this month excludes care management (home health or hospice "
            "supervision, ESRD, APCM, or the other of CCM and PCM).",
            "Bill care management in another month, or correct the other services.",
        ),
        Reason(
            "BILLED_ELSEWHERE",
            Kind.BLOCK,
            "Another practitioner bills care management for this patient this month.",
            "Only one practitioner may bill care management per month.",
        ),
        Reason(
            "BELOW_THRESHOLD",
            Kind.BLOCK,
            "Countable time is below the first threshold.",
            "More countable time is needed this month.",
        ),
        Reason(
            "PRE_CONSENT_TIME_EXCLUDED",
            Kind.WARNING,
            "Time before the consent day was not counted.",
        ),
        Reason(
            "OVERLAP_COUNTED_ONCE",
            Kind.WARNING,
            "Time when two people worked on the patient at once was counted once.",
        ),
        Reason(
            "SPLIT_AT_MONTH_BOUNDARY",
            Kind.WARNING,
            "An entry crossing midnight into another month was split; each month counts its "
            "own part.",
        ),
        Reason(
            "NON_CLINICAL_TIME_EXCLUDED",
            Kind.WARNING,
            "Time recorded by non-clinical, billing or admin staff was not counted.",
        ),
        Reason(
            "OTHER_SERVICE_TIME_EXCLUDED",
            Kind.WARNING,
            "Time for other services (TCM, RPM, BHI) or face-to-face time was not counted.",
        ),
        Reason(
            "INPATIENT_TIME_EXCLUDED",
            Kind.WARNING,
            "Time on days of an inpatient stay was not counted.",
        ),
        Reason(
            "COMPLEX_FALLBACK",
            Kind.WARNING,
            "Complexity is attested but there is less than 60 minutes; billed as non-complex "
            "care management.",
        ),
        Reason(
            "ADDON_CAP_REACHED",
            Kind.WARNING,
            "Time past 60 minutes earns nothing more: 99439 is limited to 2 units a month.",
        ),
        Reason(
            "UNITS_REVIEW",
            Kind.WARNING,
            "More than 2 add-on units: review the time log before billing.",
        ),
        Reason(
            "ALTERNATIVE_PAYS_MORE",
            Kind.WARNING,
            "Another compliant code family would pay more for this month.",
        ),
        Reason(
            "PCM_NOT_CCM",
            Kind.WARNING,
            "One chronic condition: billed as principal care management (PCM), not CCM.",
        ),
        Reason(
            "FEES_FROM_EARLIER_YEAR",
            Kind.WARNING,
            "There is no fee schedule for this year; amounts are from the latest earlier year.",
        ),
        Reason(
            "NO_FEE_SCHEDULE",
            Kind.WARNING,
            "There is no fee schedule for this year or any earlier year; amounts show as $0.00.",
        ),
        Reason("NOT_SIGNED", Kind.WARNING, "The billing practitioner has not signed the month."),
        # What the patient's payers add (docs/billing-rules.md, "Payers").
        Reason(
            "PAYER_DOES_NOT_COVER",
            Kind.BLOCK,
            "The patient's primary payer does not pay for this care-management program.",
            "Confirm the patient's coverage with the payer, then record the payer that pays, "
            "or correct what this payer covers on the Payers page.",
        ),
        Reason(
            "PAYER_NEEDS_MORE_DIAGNOSES",
            Kind.BLOCK,
            "The primary payer pays care management only with more diagnoses on the claim "
            "than the patient's chronic conditions give.",
            "Record the patient's other chronic conditions (ICD-10-CM), or confirm the payer's "
            "rule on the Payers page.",
        ),
        Reason(
            "COVERAGE_UNKNOWN",
            Kind.WARNING,
            "It is not known whether the primary payer pays for care management: confirm "
            "with the payer before billing.",
        ),
        Reason(
            "COINSURANCE_WAIVED",
            Kind.WARNING,
            "The patient's coinsurance is waived this month for documented financial hardship.",
        ),
        # The care plan in force (docs/billing-rules.md, "Care plan").
        Reason(
            "CARE_PLAN_REVIEW_DUE",
            Kind.WARNING,
            "The care plan's review date passed before the end of the month: review the plan "
            "with the patient and sign the revised version.",
        ),
        Reason(
            "CARE_PLAN_NOT_GIVEN",
            Kind.WARNING,
            "No copy of the signed care plan in force is recorded as given to the patient or "
            "caregiver.",
        ),
        # The programs beyond CCM (docs/billing-rules.md, "Programs", "APCM", "General BHI").
        Reason(
            "FOCUS_CONDITION_MISSING",
            Kind.BLOCK,
            "The PCM focus condition is not on the patient's list of chronic conditions.",
            "Add the focus condition to the patient's conditions, or choose another focus "
            "condition in the patient's program.",
        ),
        Reason(
            "OTHER_PRACTITIONER_BILLS_CM",
            Kind.WARNING,
            "Another practitioner bills care management this month: check that they bill CCM, "
            "not PCM for the same condition.",
        ),
        Reason(
            "APCM_NOT_ATTESTED",
            Kind.BLOCK,
            "The practice has not attested that it offers the APCM service elements.",
            "A billing practitioner attests the APCM prerequisites in Practice settings.",
        ),
        Reason(
            "TCM_WITH_APCM",
            Kind.WARNING,
            "Transitional care management (99495/99496) is recorded in an APCM month; sources "
            "disagree on whether the same practitioner may bill both: the biller decides.",
        ),
        Reason(
            "PROGRAM_NOT_IN_FORCE",
            Kind.BLOCK,
            "The program's codes were not in force in this month.",
            "Bill this month under a program whose codes were in force.",
        ),
        Reason(
            "OTHER_PROGRAM_PAYS_MORE",
            Kind.WARNING,
            "Another program would pay more for this month; changing the patient's program is "
            "the practitioner's or the biller's decision.",
        ),
        Reason(
            "NO_BH_CONDITION",
            Kind.BLOCK,
            "The patient has no behavioural-health condition (ICD-10-CM F01-F99) on file.",
            "Add the patient's behavioural-health diagnosis, or tag the time as care management.",
        ),
        # What keeps a billable month out of the claim file (docs/billing-rules.md,
        # "Claim edits"); rules/claims.py decides them.
        Reason(
            "CLAIM_NO_PAYER",
            Kind.CLAIM_EDIT,
            "The patient has no primary payer on file.",
            "Record the patient's primary payer and member id on the patient's record.",
        ),
        Reason(
            "CLAIM_NO_EDI_PAYER_ID",
            Kind.CLAIM_EDIT,
            "The primary payer has no clearinghouse payer id, or is self-pay, so no claim file "
            "goes to it.",
            "Enter the payer's id from the clearinghouse's payer list on the Payers page, or bill "
            "this month outside the claim file.",
        ),
        Reason(
            "CLAIM_NO_MEMBER_ID",
            Kind.CLAIM_EDIT,
            "The patient's member id for the primary payer is missing, or is not a valid "
            "Medicare Beneficiary Identifier (MBI) for Medicare.",
            "Copy the member id from the patient's insurance card onto the patient's record.",
        ),
        Reason(
            "CLAIM_NO_SEX",
            Kind.CLAIM_EDIT,
            "A claim needs the patient's sex as F or M, and the record has neither.",
            "Record the patient's sex as the payer has it (F or M).",
        ),
        Reason(
            "CLAIM_NO_DIAGNOSIS",
            Kind.CLAIM_EDIT,
            "The patient has no diagnosis to put on the claim.",
            "Add the patient's chronic conditions (ICD-10-CM).",
        ),
        Reason(
            "CLAIM_NO_SIGNATURE_ON_FILE",
            Kind.CLAIM_EDIT,
            "The patient's signed release of information and assignment of benefits is not on "
            "file.",
            "Have the patient sign the release and assignment, then mark the signature as on "
            "file on the patient's record.",
        ),
        Reason(
            "CLAIM_NO_ADDRESS",
            Kind.CLAIM_EDIT,
            "The patient's address is not complete: a claim needs the street, city, US state "
            "and a 5- or 9-digit ZIP code.",
            "Complete the patient's street, city, state and ZIP code (12345 or 12345-6789).",
        ),
        Reason(
            "CLAIM_PRACTICE_ADDRESS",
            Kind.CLAIM_EDIT,
            "The practice's address is not complete: the billing provider needs the street, "
            "city, US state and a 9-digit ZIP code.",
            "Enter the practice's street, city, state and full ZIP+4 code (12345-6789) in "
            "Practice settings → Claims.",
        ),
        Reason(
            "CLAIM_NO_SUBMITTER",
            Kind.CLAIM_EDIT,
            "The practice's clearinghouse settings are not complete: the submitter's name, id "
            "and phone and the receiver's name and id are needed.",
            "Enter the settings your clearinghouse gave you in Practice settings → Clearinghouse.",
        ),
    )
}

# Payer kinds and the programs a payer's `covers` may name (docs/billing-rules.md, "Payers").
PAYER_KINDS = ("medicare", "medicare_advantage", "medicaid", "commercial", "self")
# A patient's release/assignment signature: blank follows the practice's setting.
SIGNATURE_ON_FILE = ("", "yes", "no")
MEDICARE_KINDS = frozenset({"medicare", "medicare_advantage"})  # QMB patients owe nothing
PROGRAMS = ("ccm", "pcm", "apcm", "bhi")
# The program a patient is billed under from a month onward (docs/billing-rules.md,
# "Programs"): CCM or PCM by the conditions, PCM on one focus condition, or APCM.
PATIENT_PROGRAMS = ("ccm", "pcm_focus", "apcm")
# The steps of a patient's enrolment history, and why a patient declines or stops
# (docs/payers.md, "Declining"); "other" needs a note.
ENROLMENT_STEPS = ("offered", "consented", "declined", "revoked")
DECLINE_REASONS = ("cost share", "not interested", "enrolled elsewhere", "not eligible", "other")

# What came of an outreach call; an attempt is a record, never time: the minutes spent calling
# are timed with the stopwatch and counted as any other (docs/billing-rules.md, "C6 Consent":
# a call before consent still never counts).
CALL_OUTCOMES = ("reached", "voicemail", "no answer", "wrong number", "declined")
# When a patient prefers to be called, by the practice's wall clock: (label, first hour, end hour).
PREFERRED_CALL_TIMES: dict[str, tuple[str, int, int]] = {
    "morning": ("Morning (8-12)", 8, 12),
    "afternoon": ("Afternoon (12-17)", 12, 17),
    "evening": ("Evening (17-20)", 17, 20),
}
# The reminders ccmdesk raises; each can be turned off for the practice and for one person.
REMINDER_KINDS: dict[str, str] = {
    "falling_behind": "Patients falling behind their next threshold (each morning)",
    "long_stopwatch": "A stopwatch running longer than the limit",
    "no_stopwatch": 'Active in ccmdesk with no stopwatch running ("timing a call?")',
    "callbacks_due": "Callbacks due",
    "ready_to_sign": "Months ready to sign (practitioners)",
    "month_close": "Days left to close the month and months still unsigned (billing)",
}
UNKNOWN_COVERAGE = "unknown"  # `covers` when no one has asked the payer yet
DEFAULT_COINSURANCE_PERCENT = 20  # Medicare Part B; what a patient with no payer is estimated at
CLAIM_DIAGNOSES = 12  # diagnoses a CMS-1500 or an 837P claim carries (box 21 A-L)
CLAIM_POINTERS = 4  # diagnoses one service line points at (box 24E, SV107)

# The Medicare Part B deductible by year, in cents; the patient share is an estimate that
# assumes it has been met (docs/billing-rules.md, "Patient share").
PART_B_DEDUCTIBLE: dict[int, int] = {2025: 25700, 2026: 28300}

# Medicare national non-facility amounts in cents (docs/billing-rules.md, "Codes and families",
# with their sources). The database is seeded from a frozen copy of these in migrations 0002 and
# 0011 (99484); a test keeps them equal.
DEFAULT_FEES: dict[int, dict[str, int]] = {
    2025: {
        "99490": 6049,
        "99439": 4593,
        "99491": 8216,
        "99437": 5758,
        "99487": 13165,
        "99489": 7052,
        "G0506": 6081,
        "99424": 8087,
        "99425": 5887,
        "99426": 6178,
        "99427": 5046,
        "G0556": 1520,
        "G0557": 4884,
        "G0558": 10707,
        "99484": 5305,
    },
    2026: {
        "99490": 6613,
        "99439": 5044,
        "99491": 8918,
        "99437": 6313,
        "99487": 14429,
        "99489": 7816,
        "G0506": 6647,
        "99424": 8751,
        "99425": 6146,
        "99426": 6780,
        "99427": 5411,
        "G0556": 1637,
        "G0557": 5378,
        "G0558": 11724,
        "99484": 5745,
    },
}
