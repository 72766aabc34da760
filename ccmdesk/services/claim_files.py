"""The month's 837P claim files: one per payer, from its signed, billing, claim-ready months."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal, cast

from sqlalchemy import select
from sqlalchemy.orm import Session

from ccmdesk.models import Patient, Payer, Practice, SentClaim, Staff
from ccmdesk.reports import x12
from ccmdesk.rules.claims import claim_diagnoses, claim_lines
from ccmdesk.services.billing.evaluation import BillingRow
from ccmdesk.services.claims import ClaimStatus, sent_files
from ccmdesk.services.errors import ServiceError


class ClaimFileNotWritten(ServiceError):
    """A claim file failed its 837P check: the export wrote nothing. `problems` names each
    claim and segment."""

    def __init__(self, refused: x12.ClaimFileRefused, name: str) -> None:
        super().__init__(f"{name}: {refused}")
        self.problems = refused.problems


def file_name(month: str, payer_id: str) -> str:
    """`claims-YYYY-MM-<payer_id>.x12` (docs/formats.md)."""
    return f"claims-{month}-{payer_id}.x12"


@dataclass(frozen=True)
class PendingClaim:
    """A patient-month to send, as its CLM will say it."""

    patient_id: int
    mrn: str
    claim: x12.Claim


@dataclass(frozen=True)
class PayerClaims:
    """One payer's claims for the month, and what every file of the practice shares."""

    payer_id: str
    claims: tuple[PendingClaim, ...]
    submitter: x12.Submitter
    receiver: x12.Receiver
    billing_provider: x12.BillingProvider
    usage: Literal["T", "P"]
    qualifier: str
    interchange_id: str

    @property
    def total_cents(self) -> int:
        return sum(c.claim.total_cents for c in self.claims)

    def interchange(self, control_number: int, created: dt.datetime) -> x12.Interchange:
        return x12.Interchange(
            envelope=x12.Envelope(
                control_number=control_number,
                created=created,
                usage=self.usage,
                qualifier=self.qualifier,
                interchange_id=self.interchange_id,
            ),
            submitter=self.submitter,
            receiver=self.receiver,
            billing_provider=self.billing_provider,
            claims=tuple(c.claim for c in self.claims),
        )


@dataclass(frozen=True)
class ClaimFile:
    """A claim file checked and ready to stage: its name, bytes, control number and claims."""

    name: str
    payer_id: str
    data: bytes = field(repr=False)
    control_number: int
    claims: int
    total_cents: int


def sendable(row: BillingRow, status: ClaimStatus | None, *, resend: bool) -> bool:
    """Whether the patient-month goes in a claim file: it bills (its program, its BHI or both),
    signed (whatever the export's signed-only choice), no claim edit failing, and not sent
    before unless resending."""
    return (
        row.result.bills
        and row.result.signed
        and status is not None
        and status.ready
        and (resend or not status.sent_in)
    )


def split_name(name: str) -> tuple[str, str]:
    """A staff member's one name as (last, first) for NM1: the last word is the last name;
    a leading "Dr." is a title, not a first name (docs/formats.md)."""
    words = name.replace(",", " ").split()
    if words and words[0].rstrip(".").lower() == "dr":
        words = words[1:]
    if not words:
        return "", ""
    return words[-1], " ".join(words[:-1])


def payer_claims(
    session: Session,
    practice: Practice,
    month: str,
    rows: Sequence[BillingRow],
    statuses: Mapping[str, ClaimStatus],
    *,
    resend: bool = False,
) -> list[PayerClaims]:
    """Each payer's claims for the month, by payer id, read inside the export's session: only
    payers with an EDI payer id and at least one month to send."""
    chosen = [r for r in rows if sendable(r, statuses.get(r.mrn), resend=resend)]
    if not chosen:
        return []
    patients = {
        p.mrn: p
        for p in session.scalars(select(Patient).where(Patient.mrn.in_([r.mrn for r in chosen])))
    }
    payers = {p.id: p for p in session.scalars(select(Payer))}
    staff = {s.id: s for s in session.scalars(select(Staff))}
    group = x12.BillingProvider(
        name=practice.name,
        npi=practice.group_npi or "",
        address=x12.Address(practice.street, practice.city, practice.state, practice.zip),
        tin=practice.tin,
        tin_kind=cast(Literal["ein", "ssn"], practice.tin_kind),
        taxonomy=practice.taxonomy,
    )
    by_payer: dict[str, list[PendingClaim]] = {}
    for row in chosen:
        patient = patients[row.mrn]
        payer = payers.get(patient.primary_payer_id or 0)
        if payer is None or not payer.edi_payer_id.strip() or payer.kind == "self":
            continue  # a claim edit keeps these out already; never guess a payer
        practitioner = staff.get(patient.billing_practitioner_id or 0)
        claim = _claim(row, patient, payer, practice, practitioner, group)
        by_payer.setdefault(payer.payer_id, []).append(PendingClaim(patient.id, row.mrn, claim))
    return [
        PayerClaims(
            payer_id=payer_id,
            # A practice without a group NPI bills under each practitioner: their claims
            # follow each other so that each practitioner gets one billing-provider loop.
            claims=tuple(sorted(claims, key=lambda c: (_provider_key(c), c.mrn))),
            submitter=x12.Submitter(
                practice.submitter_name, practice.submitter_id, practice.submitter_phone
            ),
            receiver=x12.Receiver(practice.receiver_name, practice.receiver_id),
            billing_provider=group,
            usage="P" if practice.usage == "P" else "T",
            qualifier=practice.isa_qualifier or "ZZ",
            interchange_id=practice.isa_id,  # blank: the submitter id (x12.Envelope)
        )
        for payer_id, claims in sorted(by_payer.items())
    ]


def _provider_key(pending: PendingClaim) -> str:
    provider = pending.claim.billing_provider
    return provider.npi if provider is not None else ""


def _claim(
    row: BillingRow,
    patient: Patient,
    payer: Payer,
    practice: Practice,
    practitioner: Staff | None,
    group: x12.BillingProvider,
) -> x12.Claim:
    r = row.result
    # The month's claim lines (its program's, then its BHI line; G0506 goes on the initiating
    # visit's claim, never here) and diagnoses in the order the superbill and the claim-lines
    # CSV use (docs/billing-rules.md, "Diagnosis pointers").
    diagnoses = claim_diagnoses(r)
    lines = tuple(
        x12.ServiceLine(c.line.code, c.line.units, c.line.charge_cents, c.service_date, c.pointers)
        for c in claim_lines(r)
    )
    rendering = None
    billing = None
    npi = (practitioner.npi or "") if practitioner is not None else row.practitioner_npi
    last, first = split_name(practitioner.name if practitioner is not None else row.practitioner)
    if npi:
        rendering = x12.Practitioner(last, first, npi)
    if not practice.group_npi:
        # Loop 2010AA is the billing practitioner when the practice has no group NPI; the
        # writer then leaves out 2310B, whose NPI would be the same.
        billing = x12.BillingProvider(
            name=last,
            first_name=first,
            person=True,
            npi=npi,
            address=group.address,
            tin=group.tin,
            tin_kind=group.tin_kind,
            taxonomy=group.taxonomy,
        )
    relationship = cast(x12.Relationship, patient.insured_relationship or "self")
    insured = None
    if relationship != "self":
        insured = x12.Insured(patient.insured_last_name, patient.insured_first_name)
    return x12.Claim(
        claim_id=x12.claim_id(row.mrn, r.month),
        patient=x12.Patient(
            last_name=patient.last_name,
            first_name=patient.first_name,
            birth_date=patient.dob,
            sex="M" if patient.sex.strip().upper() == "M" else "F",  # a claim edit keeps others out
            address=x12.Address(patient.address, patient.city, patient.state, patient.zip),
        ),
        member_id=patient.member_id,
        payer_name=payer.name,
        payer_edi_id=payer.edi_payer_id,
        payer_kind=cast(x12.PayerKind, payer.kind),
        diagnoses=diagnoses,
        lines=lines,
        relationship=relationship,
        insured=insured,
        place_of_service=practice.place_of_service,
        accept_assignment=practice.accept_assignment,
        rendering=rendering,
        billing_provider=billing,
    )


def write_claim_files(
    session: Session,
    month: str,
    payers: Iterable[PayerClaims],
    *,
    resend: bool,
    created: dt.datetime,
    day: dt.date,
    sent_by: str,
) -> list[ClaimFile]:
    """Number and check each payer's file and record its claims as sent, in the caller's write
    transaction (which holds the write lock, so no other export takes the same numbers): one
    step of the practice's counter per file. Nothing is committed here; the caller commits once
    the files are in place. ClaimFileNotWritten when a file fails its check."""
    payers = list(payers)
    practice = session.scalars(select(Practice).limit(1)).one()
    if not resend:
        # Read under the lock: an export that ran meanwhile may have sent some of these.
        sent = sent_files(session, month)
        again = sorted(c.mrn for p in payers for c in p.claims if c.mrn in sent)
        if again:
            raise ServiceError(
                f"Another export sent claims of {month} while this one ran (MRN {again[0]}, "
                f"in {sent[again[0]]}); nothing was written. Export again."
            )
    number = practice.control_number
    files: list[ClaimFile] = []
    at = created.astimezone(dt.UTC)
    for payer in payers:
        number += 1
        name = file_name(month, payer.payer_id)
        try:
            text = x12.checked_837p(payer.interchange(number, created))
        except x12.ClaimFileRefused as refused:
            raise ClaimFileNotWritten(refused, name) from refused
        for pending in payer.claims:
            session.add(
                SentClaim(
                    patient_id=pending.patient_id,
                    month=month,
                    claim_id=pending.claim.claim_id,
                    payer_id=payer.payer_id,
                    file=name,
                    control_number=number,
                    sent_on=day,
                    sent_at=at,
                    sent_by=sent_by,
                    total_cents=pending.claim.total_cents,
                )
            )
        files.append(
            ClaimFile(
                name,
                payer.payer_id,
                text.encode("ascii"),
                number,
                len(payer.claims),
                payer.total_cents,
            )
        )
    practice.control_number = number
    return files
