"""Claim edits (what keeps a billable month out of the claim file), the claim's diagnoses and
lines, and diagnosis pointers."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass

from ccmdesk.rules.billing import CodeLine, MonthResult
from ccmdesk.rules.catalog import CLAIM_DIAGNOSES, CLAIM_POINTERS
from ccmdesk.rules.icd10 import behavioural_health
from ccmdesk.rules.validation import US_STATES, mbi_error, normalize_mbi

POINTER_LETTERS = "ABCDEFGHIJKL"  # box 21's diagnoses A-L, one letter each

# Digits are [0-9], never \d: a ZIP code in other scripts' digits is not one a payer accepts.
_ZIP_5_OR_9 = re.compile(r"[0-9]{5}(?:-?[0-9]{4})?")
_ZIP_9 = re.compile(r"[0-9]{5}-?[0-9]{4}")
# ICD-10-CM chapter F, F01-F99: mental, behavioural and neurodevelopmental disorders.


@dataclass(frozen=True)
class PostalAddress:
    """An address as parts, as a claim carries it (N3/N4, boxes 5, 32 and 33)."""

    street: str = ""
    city: str = ""
    state: str = ""  # two letters
    zip: str = ""

    def complete(self, zip_plus_4: bool = False) -> bool:
        """Street, city and a US state are filled in and the ZIP code has 5 or 9 digits
        (12345, 12345-6789 or 123456789), or 9 when `zip_plus_4` asks for them."""
        zip_code = self.zip.strip()
        shape = _ZIP_9 if zip_plus_4 else _ZIP_5_OR_9
        return (
            bool(self.street.strip() and self.city.strip())
            and self.state.strip().upper() in US_STATES
            and shape.fullmatch(zip_code) is not None
        )


@dataclass(frozen=True)
class PatientClaimFacts:
    """What the patient's record says that a claim needs. The defaults are an empty record:
    no payer, no member id, no sex, no diagnosis, no address."""

    payer_id: str = ""  # the primary payer; blank: none on file
    payer_kind: str = ""  # catalog.PAYER_KINDS
    edi_payer_id: str = ""  # the clearinghouse's id for the payer; blank: no claim file for it
    member_id: str = ""
    sex: str = ""  # F, M, X, U or blank; a claim takes only F or M
    diagnoses: tuple[str, ...] = ()  # the patient's conditions, in the claim's order
    # The signed release and assignment: True or False as recorded on the patient, None (blank)
    # follows the practice setting.
    signature_on_file: bool | None = None
    address: PostalAddress = PostalAddress()


@dataclass(frozen=True)
class PracticeClaimSettings:
    """The practice's settings that every claim needs: its address as the billing provider,
    whether it collects the signature at registration, and the clearinghouse settings."""

    address: PostalAddress = PostalAddress()
    collects_signature: bool = True  # the practice collects the signature at registration
    submitter_name: str = ""
    submitter_id: str = ""
    submitter_phone: str = ""
    receiver_name: str = ""
    receiver_id: str = ""


def signature_on_file(patient: PatientClaimFacts, practice: PracticeClaimSettings) -> bool:
    """Whether the release and assignment signature is on file (boxes 12 and 13, CLM08 and
    CLM09): the patient's own yes or no, else the practice's setting."""
    if patient.signature_on_file is not None:
        return patient.signature_on_file
    return practice.collects_signature


def practice_edits(practice: PracticeClaimSettings) -> frozenset[str]:
    """The claim edits the practice's own settings fail: the same for every month of every
    patient, so a month's statuses work them out once."""
    edits: set[str] = set()
    if not practice.address.complete(zip_plus_4=True):
        edits.add("CLAIM_PRACTICE_ADDRESS")
    submitter = (
        practice.submitter_name, practice.submitter_id, practice.submitter_phone,
        practice.receiver_name, practice.receiver_id,
    )  # fmt: skip
    if not all(value.strip() for value in submitter):
        edits.add("CLAIM_NO_SUBMITTER")
    return frozenset(edits)


def patient_edits(patient: PatientClaimFacts, practice: PracticeClaimSettings) -> set[str]:
    """The claim edits the patient's record fails (the practice's setting decides whether the
    signature is on file when the record does not say)."""
    edits: set[str] = set()
    if not patient.payer_id.strip():
        edits.add("CLAIM_NO_PAYER")
    # The EDI id is the payer's: with no payer there is nothing to judge. A self-pay "payer"
    # is the patient, who is sent no claim file whatever its settings say.
    elif not patient.edi_payer_id.strip() or patient.payer_kind == "self":
        edits.add("CLAIM_NO_EDI_PAYER_ID")
    member_id = patient.member_id.strip()
    # A Medicare member id is an MBI; one that is not would have the claim rejected.
    if not member_id or (
        patient.payer_kind == "medicare" and mbi_error(normalize_mbi(member_id)) is not None
    ):
        edits.add("CLAIM_NO_MEMBER_ID")
    if patient.sex.strip().upper() not in ("F", "M"):
        edits.add("CLAIM_NO_SEX")
    if not any(code.strip() for code in patient.diagnoses):
        edits.add("CLAIM_NO_DIAGNOSIS")
    if not signature_on_file(patient, practice):
        edits.add("CLAIM_NO_SIGNATURE_ON_FILE")
    if not patient.address.complete():
        edits.add("CLAIM_NO_ADDRESS")
    return edits


def claim_edits(
    patient: PatientClaimFacts,
    practice: PracticeClaimSettings,
    practice_failed: frozenset[str] | None = None,
) -> tuple[str, ...]:
    """The claim edits that fail for the patient's month, sorted; none means the month may go
    in a claim file once it bills and is signed (docs/billing-rules.md, "Claim edits").
    `practice_failed` is practice_edits(practice), when the caller has worked it out."""
    if practice_failed is None:
        practice_failed = practice_edits(practice)
    return tuple(sorted(patient_edits(patient, practice) | practice_failed))


def claim_ready(edits: Sequence[str]) -> bool:
    """A billable, signed month goes in the claim file only when no claim edit fails."""
    return not edits


def pointer_numbers(diagnoses: Sequence[str], *, bhi: bool = False) -> tuple[int, ...]:
    """The diagnoses a service line points at, as 1-based places among the claim's diagnoses
    (SV107): a care-management line at the first four; a BHI line at the behavioural-health
    diagnoses first, then the others, in the claim's order, up to four. Only the first 12
    diagnoses are on the claim, so a line never points past them."""
    places = list(range(1, min(len(diagnoses), CLAIM_DIAGNOSES) + 1))
    if bhi:
        # A stable sort: behavioural-health diagnoses first, each group in the claim's order.
        places.sort(key=lambda n: not behavioural_health(diagnoses[n - 1]))
    return tuple(places[:CLAIM_POINTERS])


def pointer_letters(diagnoses: Sequence[str], *, bhi: bool = False) -> str:
    """The same pointers as letters, as box 24E and the claim-lines CSV show them ("ABCD")."""
    return "".join(POINTER_LETTERS[n - 1] for n in pointer_numbers(diagnoses, bhi=bhi))


def diagnosis_order(conditions: Sequence[str], focus: str | None = None) -> tuple[str, ...]:
    """The claim's diagnoses in order, up to the 12 a claim carries: the focus condition first
    when it is on the list, then the others in the patient's order (docs/billing-rules.md,
    "Diagnosis pointers")."""
    codes = tuple(conditions)
    if focus is not None and focus in codes:
        codes = (focus, *(code for code in codes if code != focus))
    return codes[:CLAIM_DIAGNOSES]


def claim_diagnoses(result: MonthResult) -> tuple[str, ...]:
    """The diagnoses of the month's claim in order (HI, box 21, the claim-lines CSV): the
    conditions it was evaluated with, a pcm_focus month's focus condition first."""
    patient = result.inputs[1]
    focus = patient.focus_condition if result.program == "pcm_focus" else None
    return diagnosis_order(patient.conditions, focus)


@dataclass(frozen=True)
class ClaimLine:
    """One service line of a month's claim: its code line, date of service and pointers."""

    line: CodeLine
    service_date: dt.date
    pointers: tuple[int, ...]  # 1-based places in claim_diagnoses(result)
    g0506: bool = False  # belongs on the initiating visit's claim, never in the month's 837P

    @property
    def letters(self) -> str:
        """The pointers as box 24E and the claim-lines CSV show them ("ABCD")."""
        return "".join(POINTER_LETTERS[n - 1] for n in self.pointers)


def claim_lines(result: MonthResult, *, g0506: bool = False) -> tuple[ClaimLine, ...]:
    """The lines the month's claim carries (result.all_lines): its program's lines, dated by
    the month's date of service (an APCM month's last day) and pointing at the first four
    diagnoses, then its 99484 line, pointing at the behavioural-health diagnoses first. With
    `g0506`, the G0506 line follows, dated the initiating visit's day, for the superbill and
    the claim lines; the 837P never asks for it (docs/billing-rules.md, "G0506")."""
    diagnoses = claim_diagnoses(result)
    care = pointer_numbers(diagnoses)
    lines = [ClaimLine(line, result.date_of_service, care) for line in result.lines]
    if result.bhi is not None:
        bhi = pointer_numbers(diagnoses, bhi=True)
        day = result.bhi.date_of_service
        lines.extend(ClaimLine(line, day, bhi) for line in result.bhi.lines)
    if g0506 and result.g0506 is not None and result.g0506_day is not None:
        lines.append(ClaimLine(result.g0506, result.g0506_day, care, g0506=True))
    return tuple(lines)
