"""Payers, waivers and sent claims put on patients for the billing, review and closing tests."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from ccmdesk.db import Database
from ccmdesk.models import Patient, Payer, SentClaim, Staff, Waiver
from ccmdesk.services import Services
from tests.helpers.claim_files import claim_ready
from tests.helpers.common import CLI

# A commercial plan that pays for principal care management only: a CCM month is blocked.
PCM_ONLY = {"payer_id": "acme-pcm", "name": "Acme Health PCM", "kind": "commercial",
            "covers": "pcm", "coinsurance_percent": "10"}  # fmt: skip
# A payer made by migration 0009 from old text: nobody has asked what it covers yet.
UNKNOWN = {"payer_id": "blue-plan", "name": "Blue Plan", "kind": "commercial",
           "covers": "unknown", "coinsurance_percent": "20"}  # fmt: skip
SECONDARY = {"payer_id": "medigap-g", "name": "AARP Medigap Plan G", "kind": "commercial",
             "covers": "ccm;pcm", "coinsurance_percent": "0"}  # fmt: skip
CLAIM_FILE = "claims-2026-03-mcr-b.x12"


def add_payers(services: Services, *payers: dict[str, str]) -> None:
    for payer in payers:
        services.payers.save_text(CLI, payer)


def set_payers(db: Database, mrn: str, primary: str | None, secondary: str | None = None) -> None:
    """Point the patient's primary (and secondary) coverage at payers by payer_id, as the
    patient service stores them (None: no payer)."""
    with db.session() as session:
        ids = dict(session.execute(select(Payer.payer_id, Payer.id)).all())
        patient = session.scalars(select(Patient).where(Patient.mrn == mrn)).one()
        patient.primary_payer_id = ids[primary] if primary else None
        patient.secondary_payer_id = ids[secondary] if secondary else None


def add_waiver(
    db: Database, mrn: str, first: str, last: str | None, approver: str = "bill-b"
) -> None:
    with db.session() as session:
        patient = session.scalars(select(Patient).where(Patient.mrn == mrn)).one()
        staff = session.scalars(select(Staff).where(Staff.staff_id == approver)).one()
        session.add(
            Waiver(
                patient_id=patient.id, from_month=first, to_month=last, approved_by_id=staff.id,
                approved_on=dt.date(2026, 2, 3), reason="lost her job; practice criteria 2",
                recorded_at=dt.datetime(2026, 2, 3, 15, tzinfo=dt.UTC), recorded_by=approver,
            )
        )  # fmt: skip


def add_sent_claim(db: Database, mrn: str, month: str, file: str = CLAIM_FILE) -> None:
    with db.session() as session:
        patient = session.scalars(select(Patient).where(Patient.mrn == mrn)).one()
        session.add(
            SentClaim(
                patient_id=patient.id, month=month, claim_id=f"{mrn}-{month.replace('-', '')}",
                payer_id="mcr-b", file=file, control_number=7, sent_on=dt.date(2026, 4, 2),
                sent_at=dt.datetime(2026, 4, 2, 15, tzinfo=dt.UTC), sent_by="bill-b",
                total_cents=6613,
            )
        )  # fmt: skip


def give_claim_facts(db: Database, *mrns: str) -> None:
    """What the patients' own records need for a claim: Medicare Part B with a valid MBI, sex
    F, and (with claim_ready) an address."""
    with db.session() as session:
        part_b = session.scalars(select(Payer).where(Payer.payer_id == "mcr-b")).one()
        for patient in session.scalars(select(Patient).where(Patient.mrn.in_(mrns))):
            patient.primary_payer_id = part_b.id
            patient.member_id, patient.sex = "1EG4TE5MK73", "F"
    claim_ready(db)
