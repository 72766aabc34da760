"""Plain records for practice, staff and patients, shared by the GUI, the services and import."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from ccmdesk.rules.text import shown


@dataclass(frozen=True)
class FieldError:
    """One problem with one field; `field` is the CSV column name of that field."""

    field: str
    message: str

    def __post_init__(self) -> None:
        # Messages quote what was typed or read from a cell: escaped here, once for every caller,
        # so a line break or a terminal escape in it cannot reach a message unescaped.
        object.__setattr__(self, "field", shown(self.field))
        object.__setattr__(self, "message", shown(self.message))

    def __str__(self) -> str:
        return f"{self.field}: {self.message}"


@dataclass(frozen=True)
class PracticeRecord:
    name: str
    address: str = ""
    phone: str = ""
    # The number patients call outside office hours, printed on the care plan's patient copy.
    after_hours_phone: str = ""
    group_npi: str = ""
    tin: str = ""
    timezone: str = "America/New_York"
    place_of_service: str = "11"
    date_of_service_rule: str = "last_day"
    # What claims need (docs/payers.md, "The practice's claim settings"): the address as parts
    # (boxes 32 and 33, loop 2010AA; `address` stays the printed address), box 25's TIN kind,
    # box 27, box 33b, and whether the release and assignment signature is collected at
    # registration (boxes 12 and 13).
    street: str = ""
    city: str = ""
    state: str = ""
    zip: str = ""
    tin_kind: str = "ein"  # ein or ssn
    accept_assignment: bool = True
    taxonomy: str = ""
    collects_signature: bool = True
    # The clearinghouse settings of the 837P: loops 1000A and 1000B and the ISA envelope. The
    # interchange control number is not here: the claim export keeps that counter itself.
    submitter_id: str = ""
    submitter_name: str = ""
    submitter_phone: str = ""  # 10 digits
    receiver_id: str = ""
    receiver_name: str = ""
    isa_qualifier: str = "ZZ"
    isa_id: str = ""  # blank: the submitter id
    usage: str = "T"  # T (test) until the clearinghouse says to switch to P (production)


# The fields of PracticeRecord that only claims use: the first start does not ask for them.
CLAIM_SETTING_FIELDS = (
    "street", "city", "state", "zip", "tin_kind", "accept_assignment", "taxonomy",
    "collects_signature", "submitter_id", "submitter_name", "submitter_phone", "receiver_id",
    "receiver_name", "isa_qualifier", "isa_id", "usage",
)  # fmt: skip


DEFAULT_ACTIVITIES = (
    "Call with patient or caregiver",
    "Coordination with other providers",
    "Medication reconciliation",
    "Care plan review or revision",
    "Referrals and community resources",
    "Education",
    "Other",
)

# What a practitioner attests by signing a patient's month, unless the practice words its own.
DEFAULT_ATTESTATION = (
    "I directed the chronic care management services for this patient this month. I reviewed "
    "the time log and the care plan, and the time recorded was spent on care management by me "
    "or by clinical staff under my direction."
)


# What a billing practitioner attests before the practice bills APCM (docs/billing-rules.md,
# "APCM"); without it every APCM month is blocked (APCM_NOT_ATTESTED).
APCM_ATTESTATION = (
    "I attest that this practice has all 13 APCM service elements available to every patient "
    "it bills Advanced Primary Care Management for: patient consent; an initiating visit for "
    "new patients; 24/7 access to the care team, with real-time access to the patient's "
    "record; continuity of care with a designated member of the care team; care delivered in "
    "other ways (telehealth, home visits, extended hours); comprehensive care management; an "
    "electronic patient-centred comprehensive care plan, shared with the patient; management "
    "of care transitions; coordination with other practitioners and with home- and "
    "community-based services; enhanced communication (portal, secure messaging); analysis of "
    "the patient population's data; risk stratification; and performance measurement. I also "
    "attest that the practice meets APCM's quality-reporting condition: it reports the Value "
    "in Primary Care MIPS Value Pathway, or takes part in a qualifying alternative payment "
    "model."
)


@dataclass(frozen=True)
class StopwatchSettings:
    """How the stopwatch behaves for the whole practice."""

    idle_minutes: int = 5  # minutes without keyboard or mouse before asking about idle time
    activities: tuple[str, ...] = DEFAULT_ACTIVITIES  # the stop dialog's list, in order


@dataclass(frozen=True)
class StaffRecord:
    staff_id: str
    name: str
    role: str
    credentials: str = ""
    npi: str = ""
    active: bool = True


@dataclass(frozen=True)
class PatientRecord:
    """Every field of patients.csv; staff are referred to by staff_id."""

    mrn: str
    last_name: str
    first_name: str
    dob: dt.date | None
    billing_practitioner: str
    sex: str = ""
    phone: str = ""
    address: str = ""
    city: str = ""
    state: str = ""
    zip: str = ""
    payer: str = ""  # the primary payer's name and kind (the old columns, kept in step)
    payer_type: str = ""
    member_id: str = ""  # the primary member id (patients.csv: primary_member_id or member_id)
    qmb: bool = False
    care_manager: str = ""
    conditions: tuple[str, ...] = field(default_factory=tuple)
    consent_date: dt.date | None = None
    consent_method: str = ""
    consent_practitioner: str = ""
    consent_revoked_date: dt.date | None = None
    initiating_visit_date: dt.date | None = None
    care_plan_date: dt.date | None = None
    # Coverage (docs/payers.md): payers by payer_id.
    primary_payer: str = ""
    relationship: str = "self"
    insured_last_name: str = ""
    insured_first_name: str = ""
    secondary_payer: str = ""
    secondary_member_id: str = ""
    signature_on_file: str = ""  # yes, no, or blank: the practice's setting
    # The patient says they cannot pay the coinsurance: the care team is shown the options
    # (docs/payers.md, "A patient who cannot pay").
    cannot_pay: bool = False
    # The last face-to-face visit with the practice (APCM's three-year rule), and whether the
    # billing practitioner did G0506's extensive assessment and care planning at the initiating
    # visit (docs/billing-rules.md, "APCM" and "G0506").
    last_visit_date: dt.date | None = None
    initiating_visit_g0506: bool = False
    # How to reach the patient beyond `phone` (the main, home number), and when they prefer to
    # be called: "" or a key of catalog.PREFERRED_CALL_TIMES (docs/calls.md).
    mobile_phone: str = ""
    other_phone: str = ""
    preferred_call_time: str = ""
    # The language the patient reads: "en" or "es" (rules/care_plan.LANGUAGES); it picks the
    # patient copy of the care plan (docs/care-plan-templates.md).
    preferred_language: str = "en"


PATIENT_COLUMNS = (
    "mrn",
    "last_name",
    "first_name",
    "dob",
    "sex",
    "phone",
    "address",
    "city",
    "state",
    "zip",
    "payer",
    "payer_type",
    "member_id",
    "qmb",
    "billing_practitioner",
    "care_manager",
    "conditions",
    "consent_date",
    "consent_method",
    "consent_practitioner",
    "consent_revoked_date",
    "initiating_visit_date",
    "care_plan_date",
)
RELATIONSHIPS = ("self", "spouse", "child", "other")  # the patient's, to the insured
# A patients.csv file may name the primary payer the old way (payer, payer_type, member_id) or
# the new way (primary_payer, primary_member_id), and carry the rest of the coverage, and
# cannot_pay and the visit columns (a file or an editor without them keeps what is stored);
# the editor uses the new
# way only.
NEW_PAYER_COLUMNS = ("primary_payer", "primary_member_id")
OLD_PAYER_COLUMNS = ("payer", "payer_type", "member_id")
COVERAGE_COLUMNS = (
    "relationship",
    "insured_last_name",
    "insured_first_name",
    "secondary_payer",
    "secondary_member_id",
    "signature_on_file",
)
CANNOT_PAY = "cannot_pay"
VISIT_COLUMNS = ("last_visit_date", "initiating_visit_g0506")
CALL_COLUMNS = ("mobile_phone", "other_phone", "preferred_call_time")
LANGUAGE_COLUMN = "preferred_language"
# Columns a file (or an editor) may leave out: the patient keeps what is stored.
KEPT_COLUMNS = (CANNOT_PAY, *VISIT_COLUMNS, *CALL_COLUMNS, LANGUAGE_COLUMN)
PATIENT_FILE_COLUMNS = PATIENT_COLUMNS + NEW_PAYER_COLUMNS + COVERAGE_COLUMNS + KEPT_COLUMNS
STAFF_COLUMNS = ("staff_id", "name", "role", "credentials", "npi")
