"""The payer list: who may change it, saving, retiring, deleting, and the audit trail."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from ccmdesk.db import Database
from ccmdesk.models import AuditEvent
from ccmdesk.rules.payers import PayerRecord
from ccmdesk.services import NotFound, PermissionDenied, ServiceError, Services, ValidationFailed
from tests.helpers.common import ADMIN, BILLER, NURSE, patient_text

AETNA = {"payer_id": "aetna-ma", "name": "Aetna Medicare", "kind": "medicare_advantage",
         "covers": "ccm;pcm", "coinsurance_percent": "20"}  # fmt: skip


def actions(db: Database) -> list[tuple[str, str]]:
    with db.read() as session:
        rows = session.execute(select(AuditEvent.action, AuditEvent.entity_key)).all()
    return [(a, k) for a, k in rows if a.startswith("payer.")]


def test_billing_staff_add_and_update_payers_and_each_change_is_audited(
    staffed: Services, db: Database
) -> None:
    saved = staffed.payers.save_text(BILLER, AETNA)
    assert saved == PayerRecord(
        "aetna-ma", "Aetna Medicare", "medicare_advantage", covers="ccm;pcm"
    )
    staffed.payers.save_text(ADMIN, {**AETNA, "min_diagnoses": "2"})
    staffed.payers.save_text(ADMIN, {**AETNA, "min_diagnoses": "2"})  # no change, no event
    assert staffed.payers.get(NURSE, "aetna-ma").min_diagnoses == 2
    assert actions(db) == [("payer.create", "aetna-ma"), ("payer.update", "aetna-ma")]
    assert [p.payer_id for p in staffed.payers.list(NURSE)] == ["aetna-ma", "mcr-b"]


def test_care_team_reads_but_may_not_change_payers(staffed: Services) -> None:
    with pytest.raises(PermissionDenied, match="may not change the payer list"):
        staffed.payers.save_text(NURSE, AETNA)
    with pytest.raises(PermissionDenied):
        staffed.payers.retire(NURSE, "mcr-b")
    assert [p.payer_id for p in staffed.payers.list(NURSE)] == ["mcr-b"]


def test_a_wrong_payer_is_refused_field_by_field(staffed: Services) -> None:
    with pytest.raises(ValidationFailed) as caught:
        staffed.payers.save_text(BILLER, {**AETNA, "payer_id": "Aetna MA", "covers": "rpm"})
    assert [e.field for e in caught.value.errors] == ["payer_id", "covers"]


def test_a_retired_payer_stays_and_is_offered_no_more(staffed: Services, db: Database) -> None:
    staffed.payers.save_text(BILLER, AETNA)
    staffed.patients.save_text(
        ADMIN, patient_text(payer="Aetna Medicare", payer_type="medicare_advantage",
                            member_id="A1")
    )  # fmt: skip
    with pytest.raises(ServiceError, match="1 patient\\(s\\) have Aetna Medicare as a payer"):
        staffed.payers.delete(BILLER, "aetna-ma")
    assert staffed.payers.retire(BILLER, "aetna-ma").retired
    assert [p.payer_id for p in staffed.payers.list(NURSE, include_retired=False)] == ["mcr-b"]
    assert staffed.patients.get(NURSE, "1001").primary_payer == "aetna-ma"
    assert ("payer.retire", "aetna-ma") in actions(db)


def test_an_unused_payer_may_be_deleted_but_never_medicare_part_b(
    staffed: Services, db: Database
) -> None:
    staffed.payers.save_text(BILLER, AETNA)
    staffed.payers.delete(BILLER, "aetna-ma")
    with pytest.raises(NotFound):
        staffed.payers.get(NURSE, "aetna-ma")
    with pytest.raises(ServiceError, match="cannot be deleted"):
        staffed.payers.delete(ADMIN, "mcr-b")
    assert actions(db)[-1] == ("payer.delete", "aetna-ma")


def test_a_payer_becomes_medicare_only_when_its_patients_are_the_insured(
    staffed: Services,
) -> None:
    staffed.payers.save_text(BILLER, {**AETNA, "kind": "commercial"})
    staffed.patients.save_text(
        ADMIN, {**patient_text(payer="", payer_type="", member_id=""), "primary_payer": "aetna-ma",
                "relationship": "spouse", "insured_last_name": "Rivera",
                "insured_first_name": "Luis"}
    )  # fmt: skip
    with pytest.raises(ValidationFailed) as caught:
        staffed.payers.save_text(BILLER, {**AETNA, "kind": "medicare"})
    assert [str(e) for e in caught.value.errors] == [
        "kind: 1 patient(s) with this primary payer are not the insured; a Medicare patient "
        "always is: correct their relationship first"
    ]
    assert staffed.payers.get(NURSE, "aetna-ma").kind == "commercial"


def test_the_patient_list_names_each_patients_primary_payer_as_the_list_has_it(
    staffed: Services,
) -> None:
    staffed.payers.save_text(BILLER, AETNA)
    staffed.patients.save_text(NURSE, patient_text())
    staffed.patients.save_text(NURSE, patient_text(mrn="1002", payer="", payer_type="",
                                                   member_id=""))  # fmt: skip
    staffed.patients.save_text(
        NURSE, patient_text(mrn="1003", payer="Aetna Medicare",
                            payer_type="medicare_advantage", member_id="W9")
    )  # fmt: skip
    staffed.payers.save_text(BILLER, {**AETNA, "name": "Aetna Medicare PPO"})
    rows = {row.mrn: (row.primary_payer, row.payer_name)
            for row in staffed.patients.list_rows(NURSE)}  # fmt: skip
    assert rows == {
        "1001": ("mcr-b", "Medicare Part B"),
        "1002": ("", ""),
        "1003": ("aetna-ma", "Aetna Medicare PPO"),  # renamed since the patient was saved
    }
