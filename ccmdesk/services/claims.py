"""Which billable months may go in a claim file: claim edits, claim ids and claims sent."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from ccmdesk.models import Patient, PatientCondition, Payer, Practice, SentClaim
from ccmdesk.reports.x12 import claim_id
from ccmdesk.rules.claims import (
    PatientClaimFacts,
    PostalAddress,
    PracticeClaimSettings,
    claim_edits,
)

_SIGNATURE = {"yes": True, "no": False}


@dataclass(frozen=True)
class ClaimStatus:
    """A patient-month as the claim file sees it: its claim id, the claim edits that fail
    (sorted), and the file an earlier export sent it in ("" when never sent)."""

    claim_id: str
    edits: tuple[str, ...]
    sent_in: str = ""

    @property
    def ready(self) -> bool:
        """No claim edit fails; the month still has to bill and be signed to be sent."""
        return not self.edits


def practice_claim_settings(practice: Practice | None) -> PracticeClaimSettings:
    """The practice's settings every claim needs (an empty set before the practice exists)."""
    if practice is None:
        return PracticeClaimSettings()
    return PracticeClaimSettings(
        address=PostalAddress(practice.street, practice.city, practice.state, practice.zip),
        collects_signature=practice.collects_signature,
        submitter_name=practice.submitter_name,
        submitter_id=practice.submitter_id,
        submitter_phone=practice.submitter_phone,
        receiver_name=practice.receiver_name,
        receiver_id=practice.receiver_id,
    )


def patient_claim_facts(
    session: Session, mrns: Iterable[str] | None = None
) -> dict[str, PatientClaimFacts]:
    """What each patient's record says that a claim needs, by MRN, in two queries."""
    which = None if mrns is None else sorted(set(mrns))
    # Core rows on the session's connection: a month's 10,000 patients need none of the ORM's
    # result machinery (it cost a third of the billing panel's claim statuses, measured).
    connection = session.connection()
    conditions: dict[int, list[str]] = defaultdict(list)
    query = (
        select(PatientCondition.patient_id, PatientCondition.code)
        .join(Patient, Patient.id == PatientCondition.patient_id)
        .order_by(PatientCondition.patient_id, PatientCondition.position)
    )
    if which is not None:
        query = query.where(Patient.mrn.in_(which))
    result = connection.execute(query)
    for patient_id, code in result.cursor.fetchall():  # the driver's tuples, in one call
        conditions[patient_id].append(code)
    result.close()
    rows = select(
        Patient.id, Patient.mrn, Patient.member_id, Patient.sex, Patient.signature_on_file,
        Patient.address, Patient.city, Patient.state, Patient.zip,
        Payer.payer_id, Payer.kind, Payer.edi_payer_id,
    ).outerjoin(Payer, Payer.id == Patient.primary_payer_id)  # fmt: skip
    if which is not None:
        rows = rows.where(Patient.mrn.in_(which))
    facts: dict[str, PatientClaimFacts] = {}
    for (
        pid,
        mrn,
        member,
        sex,
        signature,
        street,
        city,
        state,
        zip_code,
        payer,
        kind,
        edi,
    ) in connection.execute(rows):
        facts[mrn] = PatientClaimFacts(
            payer_id=payer or "",
            payer_kind=kind or "",
            edi_payer_id=edi or "",
            member_id=member,
            sex=sex,
            diagnoses=tuple(conditions.get(pid, ())),
            signature_on_file=_SIGNATURE.get(signature),
            address=PostalAddress(street, city, state, zip_code),
        )
    return facts


def sent_files(session: Session, month: str) -> dict[str, str]:
    """The file each patient's claim for the month was last sent in, by MRN."""
    rows = session.execute(
        select(Patient.mrn, SentClaim.file)
        .join(Patient, Patient.id == SentClaim.patient_id)
        .where(SentClaim.month == month)
        .order_by(SentClaim.id)
    )
    return {mrn: file for mrn, file in rows}  # the last row of a patient wins


def claim_statuses(
    session: Session, month: str, mrns: Iterable[str] | None = None
) -> dict[str, ClaimStatus]:
    """Every patient's (or the named ones') claim status for the month, by MRN."""
    practice = practice_claim_settings(session.scalars(select(Practice)).first())
    sent = sent_files(session, month)
    return {
        mrn: ClaimStatus(claim_id(mrn, month), claim_edits(facts, practice), sent.get(mrn, ""))
        for mrn, facts in patient_claim_facts(session, mrns).items()
    }
