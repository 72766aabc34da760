"""Which months that bill may go in a claim file: claim edits, claim ids and claims sent."""

from __future__ import annotations

from collections.abc import Container, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ccmdesk.models import Patient, Payer, Practice, SentClaim
from ccmdesk.reports.x12 import claim_id
from ccmdesk.rules.claims import (
    PatientClaimFacts,
    PostalAddress,
    PracticeClaimSettings,
    claim_edits,
    practice_edits,
)
from ccmdesk.services.billing import queries

# The patient's release and assignment signature as recorded; blank follows the practice.
SIGNATURE = {"yes": True, "no": False}


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


# The patient columns a claim needs, in the order _facts reads them.
_CLAIM_COLUMNS = (
    Patient.id, Patient.mrn, Patient.member_id, Patient.sex, Patient.signature_on_file,
    Patient.address, Patient.city, Patient.state, Patient.zip,
    Payer.payer_id, Payer.kind, Payer.edi_payer_id,
)  # fmt: skip

Conditions = Mapping[int, Sequence[str]]  # patient id -> condition codes in claim order


@dataclass(frozen=True)
class ClaimReads:
    """What the claim statuses of a month are worked out from: the database's part, read in
    the caller's transaction, so the Python part (`statuses_from`) can run apart from it."""

    month: str
    practice: PracticeClaimSettings
    patients: Sequence[tuple[Any, ...]]  # rows of _CLAIM_COLUMNS
    conditions: Conditions
    sent: Mapping[str, str]  # MRN -> the file the month's claim was last sent in


def _patients(session: Session, which: list[str] | None) -> list[tuple[Any, ...]]:
    query = select(*_CLAIM_COLUMNS).outerjoin(Payer, Payer.id == Patient.primary_payer_id)
    if which is not None:
        query = query.where(Patient.mrn.in_(which))
    result = session.connection().execute(query)
    rows = list(result.cursor.fetchall())
    result.close()
    return rows


def _facts(
    patients: Iterable[Sequence[Any]],
    conditions: Conditions,
    only: Container[str] | None = None,
) -> dict[str, PatientClaimFacts]:
    """The patients' claim facts by MRN (of the MRNs in `only`, when given), from their
    rows: pure Python."""
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
    ) in patients:
        if only is not None and mrn not in only:
            continue
        facts[mrn] = PatientClaimFacts(
            payer_id=payer or "",
            payer_kind=kind or "",
            edi_payer_id=edi or "",
            member_id=member,
            sex=sex,
            diagnoses=tuple(conditions.get(pid, ())),
            signature_on_file=SIGNATURE.get(signature),
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


def claim_reads(
    session: Session,
    month: str,
    mrns: Iterable[str] | None = None,
    conditions: Conditions | None = None,
) -> ClaimReads:
    """The database's part of the month's claim statuses. `conditions`, when the caller has
    read every patient's conditions already (the month's evaluation has), are not read again."""
    which = None if mrns is None else sorted(set(mrns))
    return ClaimReads(
        month,
        practice_claim_settings(session.scalars(select(Practice)).first()),
        _patients(session, which),
        (
            queries.conditions(session, None if which is None else Patient.mrn.in_(which))
            if conditions is None
            else conditions
        ),
        sent_files(session, month),
    )


def statuses_from(reads: ClaimReads, only: Container[str] | None = None) -> dict[str, ClaimStatus]:
    """The claim statuses of what `claim_reads` read (of the MRNs in `only`, when given: the
    billing panel asks for the months that bill), by MRN: pure Python, no database."""
    month, practice, sent = reads.month, reads.practice, reads.sent
    failed = practice_edits(practice)  # the same for every patient: worked out once
    return {
        mrn: ClaimStatus(
            claim_id(mrn, month), claim_edits(facts, practice, failed), sent.get(mrn, "")
        )
        for mrn, facts in _facts(reads.patients, reads.conditions, only).items()
    }


def claim_statuses(
    session: Session, month: str, mrns: Iterable[str] | None = None
) -> dict[str, ClaimStatus]:
    """Every patient's (or the named ones') claim status for the month, by MRN."""
    return statuses_from(claim_reads(session, month, mrns))
