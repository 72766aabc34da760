"""Claim statuses: the claim edits of each patient-month, its claim id and where it was sent."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from ccmdesk.db import Database
from ccmdesk.models import Patient, SentClaim
from ccmdesk.services import Services
from ccmdesk.services.claims import ClaimStatus, claim_statuses
from tests.helpers.claim_files import claim_ready
from tests.helpers.common import ADMIN, patient_text

READY = {"address": "1 Elm St", "city": "Portland", "state": "ME", "zip": "04101"}


def test_a_complete_record_is_claim_ready_and_each_gap_names_its_edit(
    staffed: Services, db: Database
) -> None:
    staffed.patients.save_text(ADMIN, patient_text(**READY))
    staffed.patients.save_text(ADMIN, patient_text(mrn="1002", sex="", **READY))
    statuses = _statuses(db)
    # Out of the box the practice has no clearinghouse and Part B no EDI id.
    assert statuses["1001"].edits == (
        "CLAIM_NO_EDI_PAYER_ID", "CLAIM_NO_SUBMITTER", "CLAIM_PRACTICE_ADDRESS",
    )  # fmt: skip
    claim_ready(db)
    statuses = _statuses(db)
    assert statuses["1001"].ready and statuses["1001"].claim_id == "1001-202603"
    assert statuses["1002"].edits == ("CLAIM_NO_SEX",)


def test_a_sent_claim_names_the_file_it_went_in(staffed: Services, db: Database) -> None:
    staffed.patients.save_text(ADMIN, patient_text(**READY))
    with db.session() as session:
        patient = session.scalars(select(Patient)).one()
        session.add(
            SentClaim(
                patient_id=patient.id, month="2026-03", claim_id="1001-202603", payer_id="mcr-b",
                file="claims-2026-03-mcr-b.x12", control_number=7,
                sent_on=dt.date(2026, 4, 2), sent_at=dt.datetime(2026, 4, 2, 15, tzinfo=dt.UTC),
                sent_by="bill-chen", total_cents=6613,
            )
        )  # fmt: skip
    assert _statuses(db)["1001"].sent_in == "claims-2026-03-mcr-b.x12"
    with db.read() as session:
        assert claim_statuses(session, "2026-04")["1001"].sent_in == ""


def _statuses(db: Database) -> dict[str, ClaimStatus]:
    with db.read() as session:
        return claim_statuses(session, "2026-03")
