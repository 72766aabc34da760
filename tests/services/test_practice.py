"""The practice's claim settings: saved, read back, audited, and kept by the first start."""

from __future__ import annotations

import dataclasses
import json

import pytest
from sqlalchemy import select

from ccmdesk.db import Database
from ccmdesk.models import AuditEvent, Practice
from ccmdesk.rules.claims import PatientClaimFacts, claim_edits
from ccmdesk.rules.records import PracticeRecord, StaffRecord
from ccmdesk.services import PermissionDenied, ServiceError, Services, ValidationFailed
from ccmdesk.services.claims import practice_claim_settings
from tests.helpers.common import ADMIN, BILLER, CLI, DOCTOR, NOW, NURSE, VALID_NPIS

CLAIM_SETTINGS = {
    "street": "12 Harbor Rd", "city": "Portland", "state": "ME", "zip": "04101-1234",
    "tin_kind": "ssn", "accept_assignment": False, "taxonomy": "207Q00000X",
    "collects_signature": False, "submitter_id": "HARBOR01", "submitter_name": "Harbor Clinic",
    "submitter_phone": "2075550100", "receiver_id": "CLEARCO", "receiver_name": "Clear Co",
    "isa_qualifier": "30", "isa_id": "123456789", "usage": "P",
}  # fmt: skip


def _events(db: Database) -> list[AuditEvent]:
    with db.read() as session:
        return list(
            session.scalars(
                select(AuditEvent).where(AuditEvent.entity == "practice").order_by(AuditEvent.id)
            )
        )


def test_claim_settings_are_saved_read_back_and_audited(
    staffed: Services, db: Database, practice: PracticeRecord
) -> None:
    assert practice.tin_kind == "ein" and practice.accept_assignment and practice.usage == "T"
    changed = dataclasses.replace(practice, **CLAIM_SETTINGS)
    staffed.practice.save(ADMIN, changed)
    assert staffed.practice.get() == changed
    with db.read() as session:
        row = session.scalars(select(Practice)).one()
        assert (row.street, row.zip, row.tin_kind, row.accept_assignment, row.usage) == (
            "12 Harbor Rd",
            "04101-1234",
            "ssn",
            False,
            "P",
        )
        assert row.control_number == 0  # the export's counter: not a setting
    event = _events(db)[-1]
    assert event.action == "practice.update" and event.actor == "admin-a"
    before, after = json.loads(event.before), json.loads(event.after)
    assert before["street"] == "" and before["accept_assignment"] is True
    assert after["street"] == "12 Harbor Rd" and after["accept_assignment"] is False
    assert after["usage"] == "P" and "control_number" not in after


def test_the_saved_settings_clear_the_practice_claim_edits(
    staffed: Services, db: Database, practice: PracticeRecord
) -> None:
    ready = PatientClaimFacts(signature_on_file=True)

    def practice_edits() -> set[str]:
        with db.read() as session:
            settings = practice_claim_settings(session.scalars(select(Practice)).one())
        practice_only = {"CLAIM_PRACTICE_ADDRESS", "CLAIM_NO_SUBMITTER"}
        return practice_only & set(claim_edits(ready, settings))

    assert practice_edits() == {"CLAIM_PRACTICE_ADDRESS", "CLAIM_NO_SUBMITTER"}
    staffed.practice.save(ADMIN, dataclasses.replace(practice, **CLAIM_SETTINGS))
    assert practice_edits() == set()
    # A 5-digit ZIP is a valid setting, but the billing provider needs all 9 on a claim.
    staffed.practice.save(
        ADMIN, dataclasses.replace(practice, **(CLAIM_SETTINGS | {"zip": "04101"}))
    )
    assert practice_edits() == {"CLAIM_PRACTICE_ADDRESS"}


def test_the_printed_address_is_never_split_into_parts(
    staffed: Services, db: Database, practice: PracticeRecord
) -> None:
    assert practice.address == "1 Main St, Portland, ME 04101"
    staffed.practice.save(ADMIN, dataclasses.replace(practice, phone="207-555-0199"))
    saved = staffed.practice.get()
    assert saved is not None
    assert (saved.street, saved.city, saved.state, saved.zip) == ("", "", "", "")


def test_bad_settings_npi_or_tin_are_refused_with_sentences_and_nothing_changes(
    staffed: Services, practice: PracticeRecord
) -> None:
    bad = dataclasses.replace(
        practice, group_npi="1245319598", tin="12-3456789", state="XX", usage="Q"
    )
    with pytest.raises(ValidationFailed) as caught:
        staffed.practice.save(ADMIN, bad)
    messages = {e.field: e.message for e in caught.value.errors}
    assert messages == {
        "group_npi": "'1245319598' is not a valid NPI: the check digit does not match",
        "tin": "'12-3456789' is not a TIN: it must be 9 digits (e.g. 12-3456789)",
        "state": "'XX' is not a US state code, e.g. ME",
        "usage": "'Q' is not T (test) or P (production)",
    }
    assert staffed.practice.get() == practice


def test_the_first_start_keeps_claim_settings_the_command_line_gave(services: Services) -> None:
    described = PracticeRecord(name="Old Name", timezone="America/Chicago", **CLAIM_SETTINGS)
    services.practice.save(CLI, described)
    services.practice.set_up(
        PracticeRecord(name="New Name", timezone="America/Denver"),
        StaffRecord("boss", "Pat Boss", "admin"),
    )
    assert services.practice.get() == dataclasses.replace(
        described, name="New Name", timezone="America/Denver"
    )


def _apcm_events(db: Database) -> list[tuple[str, str, dict[str, object], dict[str, object]]]:
    return [
        (e.action, e.actor, json.loads(e.before or "null"), json.loads(e.after or "null"))
        for e in _events(db)
        if e.action.startswith("practice.apcm")
    ]


def test_a_practitioner_attests_apcm_in_their_own_name_and_it_is_read_back(
    staffed: Services, db: Database
) -> None:
    assert staffed.practice.apcm_attestation() is None
    attested = staffed.practice.attest_apcm(DOCTOR)
    assert (attested.staff_id, attested.name, attested.at) == ("dr-a", "Dr. A", NOW)
    assert staffed.practice.apcm_attestation() == attested
    [(action, actor, before, after)] = _apcm_events(db)
    assert (action, actor) == ("practice.apcm_attest", "dr-a")
    assert before == {"apcm_attested_by": None, "apcm_attested_at": None}
    assert after == {"apcm_attested_by": "dr-a", "apcm_attested_at": NOW.isoformat()}


def test_nobody_but_a_practitioner_attests_and_never_for_someone_else(
    staffed: Services,
) -> None:
    for actor in (ADMIN, BILLER, NURSE):
        with pytest.raises(PermissionDenied, match="may not attest the practice's APCM"):
            staffed.practice.attest_apcm(actor)
    staffed.staff.save(
        CLI, StaffRecord("dr-b", "Dr. B", "practitioner", "MD", VALID_NPIS[2]), is_new=True
    )
    with pytest.raises(PermissionDenied, match="only in their own name"):
        staffed.practice.attest_apcm(DOCTOR, "dr-b")
    with pytest.raises(ServiceError, match="'rn-lee' is not an active practitioner"):
        staffed.practice.attest_apcm(CLI, "rn-lee")
    assert staffed.practice.apcm_attestation() is None
    assert staffed.practice.attest_apcm(CLI, "dr-b").name == "Dr. B"


def test_an_administrator_withdraws_the_attestation(staffed: Services, db: Database) -> None:
    staffed.practice.attest_apcm(DOCTOR)
    for actor in (DOCTOR, BILLER):
        with pytest.raises(PermissionDenied):
            staffed.practice.withdraw_apcm(actor)
    staffed.practice.withdraw_apcm(ADMIN)
    assert staffed.practice.apcm_attestation() is None
    staffed.practice.withdraw_apcm(ADMIN)  # none to withdraw: nothing happens
    assert [a for a, *_ in _apcm_events(db)] == ["practice.apcm_attest", "practice.apcm_withdraw"]


def test_the_after_hours_phone_is_saved_read_back_and_audited(
    staffed: Services, db: Database, practice: PracticeRecord
) -> None:
    """Printed on the care plan's patient copy (docs/care-plan-templates.md)."""
    assert practice.after_hours_phone == ""
    staffed.practice.save(ADMIN, dataclasses.replace(practice, after_hours_phone="207-555-0199"))
    saved = staffed.practice.get()
    assert saved is not None and saved.after_hours_phone == "207-555-0199"
    with db.read() as session:
        assert session.scalars(select(Practice.after_hours_phone)).one() == "207-555-0199"
    event = _events(db)[-1]
    before, after = json.loads(event.before), json.loads(event.after)
    assert (before["after_hours_phone"], after["after_hours_phone"]) == ("", "207-555-0199")
    with pytest.raises(ValidationFailed) as refused:
        staffed.practice.save(ADMIN, dataclasses.replace(practice, after_hours_phone="5" * 41))
    assert [(e.field, e.message) for e in refused.value.errors] == [
        ("after_hours_phone", "is 41 characters long; at most 40")
    ]
