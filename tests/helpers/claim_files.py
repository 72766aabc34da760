"""A practice, payers and patients with everything a claim file needs, and files read back."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from ccmdesk.db import Database
from ccmdesk.models import Patient, Payer, Practice, SentClaim

MEDICARE_EDI = "SMEDC"
PRACTICE_ZIP = "04101-1234"


def claim_ready(db: Database) -> None:
    """Medicare Part B gets its EDI id, the practice its address parts and clearinghouse
    settings, every patient a street address: the worked cases become claim-ready."""
    with db.session() as session:
        medicare = session.scalars(select(Payer).where(Payer.payer_id == "mcr-b")).one()
        medicare.edi_payer_id = MEDICARE_EDI
        practice = session.scalars(select(Practice)).one()
        practice.street, practice.city = "12 Main St", "Portland"
        practice.state, practice.zip = "ME", PRACTICE_ZIP
        practice.taxonomy = "207Q00000X"
        practice.submitter_name, practice.submitter_id = "Test Practice", "SUB123"
        practice.submitter_phone = "207-555-0100"
        practice.receiver_name, practice.receiver_id = "Clearing Co", "REC456"
        for patient in session.scalars(select(Patient)):
            patient.address, patient.city = "5 Elm St", "Portland"
            patient.state, patient.zip = "ME", "04101"


def set_patient(db: Database, mrn: str, **values: object) -> None:
    with db.session() as session:
        patient = session.scalars(select(Patient).where(Patient.mrn == mrn)).one()
        for name, value in values.items():
            setattr(patient, name, value)


def control_number(db: Database) -> int:
    with db.read() as session:
        return session.scalars(select(Practice.control_number)).one()


def sent_claims(db: Database) -> list[tuple[str, str, int, str]]:
    """(claim id, file, control number, sent_by) of every sent claim, in order."""
    with db.read() as session:
        return [
            (c.claim_id, c.file, c.control_number, c.sent_by)
            for c in session.scalars(select(SentClaim).order_by(SentClaim.id))
        ]


def claim_files(folder: Path) -> dict[str, str]:
    return {p.name: p.read_text(encoding="ascii") for p in sorted(folder.glob("claims-*.x12"))}


def split(text: str) -> list[list[str]]:
    """The file's segments split on "~\\n" and "*", each as its elements."""
    assert text.endswith("~\n")
    return [segment.split("*") for segment in text[: -len("~\n")].split("~\n")]


def claims_of(text: str) -> dict[str, list[list[str]]]:
    """Each claim's segments from its CLM to the next subscriber HL (or SE), by claim id."""
    found: dict[str, list[list[str]]] = {}
    current: list[list[str]] | None = None
    for segment in split(text):
        if segment[0] == "CLM":
            current = found.setdefault(segment[1], [])
        elif segment[0] in ("SE",) or (segment[0] == "HL"):
            current = None
        if current is not None:
            current.append(segment)
    return found
