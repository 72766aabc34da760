"""Hardship waivers: who keeps them, what they say, overlaps, signed and closed months."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from sqlalchemy import select

from ccmdesk.db import Database
from ccmdesk.models import AuditEvent, MonthClose
from ccmdesk.rules.records import StaffRecord
from ccmdesk.services import (
    NotFound,
    PermissionDenied,
    ServiceError,
    Services,
    ValidationFailed,
)
from tests.helpers.common import ADMIN, BILLER, CLI, DOCTOR, NOW, NURSE, patient_text
from tests.helpers.database import sign


@pytest.fixture
def patient(staffed: Services) -> Services:
    staffed.patients.save_text(ADMIN, patient_text())
    return staffed


def waiver(**changes: str) -> dict[str, str]:
    row = {"mrn": "1001", "from_month": "2026-02", "to_month": "2026-04",
           "approved_by": "", "approved_on": "2026-01-28", "reason": "Lost her job in January"}  # fmt: skip
    row.update(changes)
    return row


def close(db: Database, month: str) -> None:
    with db.session() as session:
        session.add(MonthClose(month=month, closed_at=NOW, closed_by="bill-b"))


def waiver_events(db: Database) -> list[tuple[str, str, dict[str, object] | None]]:
    with db.read() as session:
        rows = session.execute(
            select(AuditEvent.action, AuditEvent.entity_key, AuditEvent.after).where(
                AuditEvent.entity == "waiver"
            )
        ).all()
    return [(a, k, json.loads(after) if after else None) for a, k, after in rows]


def test_billing_records_a_waiver_approved_by_themselves_by_default_and_it_is_audited(
    patient: Services, db: Database
) -> None:
    row = patient.waivers.record_text(BILLER, waiver())
    assert row.record.approved_by == "bill-b"
    assert row.approved_by_name == "Bo Biller"
    assert row.span == "February 2026 to April 2026"
    assert [r.waiver_id for r in patient.waivers.list(ADMIN, "1001")] == [row.waiver_id]
    [(action, key, after)] = waiver_events(db)
    assert (action, key) == ("waiver.create", "1001 2026-02")
    assert after is not None and after["reason"] == "Lost her job in January"


def test_only_billing_staff_and_administrators_keep_waivers(patient: Services) -> None:
    for actor in (NURSE, DOCTOR):
        with pytest.raises(PermissionDenied, match="may not record, change or list"):
            patient.waivers.record_text(actor, waiver())
        with pytest.raises(PermissionDenied):
            patient.waivers.list(actor)


def test_the_approver_must_be_billing_or_an_administrator_and_still_active(
    patient: Services,
) -> None:
    with pytest.raises(ValidationFailed) as caught:
        patient.waivers.record_text(ADMIN, waiver(approved_by="rn-lee"))
    assert [e.field for e in caught.value.errors] == ["approved_by"]
    patient.staff.save(CLI, StaffRecord("bill-c", "Cy Gone", "billing", active=False), is_new=True)
    with pytest.raises(ValidationFailed, match="no longer active"):
        patient.waivers.record_text(ADMIN, waiver(approved_by="bill-c"))
    # The command line is no staff member: it names the approver.
    with pytest.raises(ValidationFailed, match="approved_by: is required"):
        patient.waivers.record_text(CLI, waiver())
    assert patient.waivers.record_text(CLI, waiver(approved_by="admin-a")).approved_by_name == (
        "Ann Admin"
    )


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"reason": "  "}, "reason"),
        ({"from_month": ""}, "from_month"),
        ({"from_month": "2026-13"}, "from_month"),
        ({"to_month": "2026-01"}, "to_month"),
        ({"approved_on": ""}, "approved_on"),
        ({"approved_on": "2026-04-16"}, "approved_on"),  # after today (NOW is 15 April)
        ({"mrn": "9999"}, "mrn"),
    ],
)
def test_a_waiver_must_say_what_it_covers_who_approved_it_when_and_why(
    patient: Services, changes: dict[str, str], field: str
) -> None:
    with pytest.raises(ValidationFailed) as caught:
        patient.waivers.record_text(BILLER, waiver(**changes))
    assert [e.field for e in caught.value.errors] == [field]


def test_one_patients_waivers_never_overlap(patient: Services) -> None:
    first = patient.waivers.record_text(BILLER, waiver(to_month=""))  # open-ended
    with pytest.raises(
        ValidationFailed, match="overlaps the patient's waiver from February 2026 on"
    ):
        patient.waivers.record_text(BILLER, waiver(from_month="2026-09", to_month="2026-10"))
    patient.waivers.end(BILLER, first.waiver_id, "2026-04")
    later = patient.waivers.record_text(BILLER, waiver(from_month="2026-05", to_month="2026-06"))
    with pytest.raises(ValidationFailed, match="overlaps"):
        patient.waivers.change_text(BILLER, first.waiver_id, waiver(to_month="2026-05"))
    assert later.record.from_month == "2026-05"


def test_a_new_waiver_may_not_cover_a_signed_or_a_closed_month(
    patient: Services, db: Database
) -> None:
    sign(db, "1001", "2026-03", NOW)
    with pytest.raises(ServiceError, match="March 2026 is signed for this patient; whether its "
                       "coinsurance is waived cannot change"):  # fmt: skip
        patient.waivers.record_text(BILLER, waiver())
    close(db, "2026-02")
    with pytest.raises(ServiceError, match="February 2026 is closed for billing"):
        patient.waivers.record_text(BILLER, waiver())
    # An open-ended waiver is judged against the months signed or closed so far.
    with pytest.raises(ServiceError, match="March 2026 is signed"):
        patient.waivers.record_text(BILLER, waiver(from_month="2026-03", to_month=""))
    assert patient.waivers.record_text(BILLER, waiver(from_month="2026-04", to_month=""))
    assert waiver_events(db)[-1][0] == "waiver.create"


def test_a_change_is_judged_by_the_months_it_adds_or_takes_away(
    patient: Services, db: Database
) -> None:
    row = patient.waivers.record_text(BILLER, waiver(to_month=""))  # February on
    sign(db, "1001", "2026-03", NOW)
    # Its reason may be corrected: the signed month keeps its waiver.
    patient.waivers.change_text(BILLER, row.waiver_id, waiver(to_month="", reason="Job lost"))
    # Ending it in April takes away no signed month; ending it in February takes March away.
    with pytest.raises(ServiceError, match="March 2026 is signed"):
        patient.waivers.end(BILLER, row.waiver_id, "2026-02")
    ended = patient.waivers.end(BILLER, row.waiver_id, "2026-04")
    assert ended.record.to_month == "2026-04"
    # Starting it later takes March away too; who approved it is printed for March.
    with pytest.raises(ServiceError, match="March 2026"):
        patient.waivers.change_text(BILLER, row.waiver_id, waiver(from_month="2026-04"))
    with pytest.raises(ServiceError, match="March 2026"):
        patient.waivers.change_text(
            BILLER, row.waiver_id, waiver(reason="Job lost", approved_by="admin-a")
        )
    actions = [a for a, _, _ in waiver_events(db)]
    assert actions == ["waiver.create", "waiver.update", "waiver.end"]


def test_ending_an_open_waiver_is_refused_when_a_later_month_is_closed(
    patient: Services, db: Database
) -> None:
    row = patient.waivers.record_text(BILLER, waiver(to_month=""))
    close(db, "2026-06")
    with pytest.raises(ServiceError, match="June 2026 is closed for billing"):
        patient.waivers.end(BILLER, row.waiver_id, "2026-04")
    patient.waivers.end(BILLER, row.waiver_id, "2026-07")


def test_a_waiver_is_deleted_only_when_it_covers_no_signed_or_closed_month(
    patient: Services, db: Database
) -> None:
    row = patient.waivers.record_text(BILLER, waiver())
    close(db, "2026-04")
    with pytest.raises(ServiceError, match="April 2026 is closed"):
        patient.waivers.delete(ADMIN, row.waiver_id)
    with db.session() as session:
        session.scalars(select(MonthClose)).one().reopened_at = NOW
    patient.waivers.delete(ADMIN, row.waiver_id)
    assert patient.waivers.list(ADMIN) == []
    assert waiver_events(db)[-1][:2] == ("waiver.delete", "1001 2026-02")
    with pytest.raises(NotFound):
        patient.waivers.delete(ADMIN, row.waiver_id)


def test_the_list_names_patients_and_approvers(patient: Services) -> None:
    patient.patients.save_text(ADMIN, patient_text(mrn="1002", last_name="Abbott"))
    patient.waivers.record_text(BILLER, waiver(mrn="1002"))
    patient.waivers.record_text(ADMIN, waiver())
    rows = patient.waivers.list(BILLER)
    assert [(r.patient_name, r.approved_by_name) for r in rows] == [
        ("Abbott, Ana", "Bo Biller"),
        ("Rivera, Ana", "Ann Admin"),
    ]
    assert [a.staff_id for a in patient.waivers.approvers(BILLER)] == ["admin-a", "bill-b"]
    with pytest.raises(NotFound):
        patient.waivers.list(BILLER, "9999")
    assert dt.date(2026, 1, 28) == rows[0].record.approved_on
