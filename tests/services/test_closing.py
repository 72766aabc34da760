"""A billed month stays what was billed: the closed bill re-checked, late changes flagged."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
from sqlalchemy import select, text

from ccmdesk.db import Database
from ccmdesk.models import MonthClose
from ccmdesk.services import PermissionDenied, ServiceError, Services, ValidationFailed
from tests.helpers.billing import (
    READY_MRN,
    add_case_staff,
    import_cases,
    patient_row,
    with_cases,
)
from tests.helpers.common import ADMIN, BILLER, CLI, DOCTOR, NURSE
from tests.helpers.payer_billing import PCM_ONLY, UNKNOWN, add_payers, set_payers
from tests.helpers.scenario_cases import CASES, MONTH, w

REVOKED_IN_FEBRUARY = {"consent_revoked_date": "2026-02-27"}
OFF_MEDICARE = {"payer": "", "payer_type": "", "member_id": ""}  # the old columns, emptied


@pytest.fixture
def team(staffed: Services) -> Services:
    """The worked cases of March 2026, with Dr. A as their billing practitioner."""
    return with_cases(staffed)


def _edit(services: Services, mrn: str, **changes: str) -> None:
    case = next(c for c in CASES if f"S{c.number:02d}" == mrn)
    services.patients.save_text(NURSE, patient_row(case) | changes, mrn)


def test_a_closed_month_matches_the_bill_it_was_closed_with(team: Services) -> None:
    team.closing.close(BILLER, MONTH)
    check = team.closing.check(BILLER, MONTH)
    assert check.closed and check.ok and check.message() == ""
    assert team.closing.check_all(BILLER) == []


def test_a_back_dated_revocation_goes_through_and_flags_the_closed_month(
    team: Services,
) -> None:
    before = team.billing.patient_month(BILLER, READY_MRN, MONTH)
    assert before.result.billable
    team.closing.close(BILLER, MONTH)
    _edit(team, READY_MRN, **REVOKED_IN_FEBRUARY)
    # The record says what is true...
    assert team.patients.get(NURSE, READY_MRN).consent_revoked_date == dt.date(2026, 2, 27)
    # ...and the closed month says that its bill is no longer the one billed, and why.
    check = team.closing.check(BILLER, MONTH)
    assert not check.ok and check.changed == (READY_MRN,)
    (flag,) = check.flags
    assert flag.mrn == READY_MRN and "consent revoked as of 2026-02-27" in flag.why
    assert flag.before.startswith(f"{READY_MRN}|") and flag.before != flag.after
    assert "differs from the one it was closed with for 1 patient(s)" in check.message()
    assert [c.month for c in team.closing.check_all(BILLER)] == [MONTH]


def test_billing_acknowledges_a_flag_with_a_reason_and_the_month_is_settled(
    team: Services, db: Database
) -> None:
    team.closing.close(BILLER, MONTH)
    _edit(team, READY_MRN, **REVOKED_IN_FEBRUARY)
    with pytest.raises(PermissionDenied):
        team.closing.acknowledge(NURSE, MONTH, "seen")
    with pytest.raises(ValidationFailed):
        team.closing.acknowledge(BILLER, MONTH, " ")
    settled = team.closing.acknowledge(BILLER, MONTH, "claim for S02 voided with the payer")
    assert settled.ok
    assert team.closing.check_all(BILLER) == []
    with pytest.raises(ServiceError, match="Nothing in March 2026 awaits"):
        team.closing.acknowledge(BILLER, MONTH, "again")
    assert team.audit.verify(ADMIN).ok
    deep = team.audit.deep_check(ADMIN)
    assert deep.ok, [d.message() for d in deep.differences]


def test_a_signed_month_is_flagged_too_when_the_record_changes_its_bill(team: Services) -> None:
    team.review.sign(DOCTOR, READY_MRN, MONTH)
    _edit(team, READY_MRN, conditions="E11.9")  # one condition: no longer what was signed
    (flag,) = team.closing.check(BILLER, MONTH).flags
    assert flag.why == "patient record changed: conditions"
    # A change that leaves every billed month as it was raises nothing.
    _edit(team, "S03", phone="207-555-0199")
    assert len(team.closing.check(BILLER, MONTH).flags) == 1


def test_a_data_table_edited_behind_ccmdesks_back_shows_on_the_closed_month(
    team: Services, db: Database
) -> None:
    team.closing.close(BILLER, MONTH)
    with db.session() as session:  # what someone with the file and a SQLite shell could do
        session.execute(text("UPDATE fee_schedule_amount SET amount_cents = amount_cents * 10"))
    check = team.closing.check(BILLER, MONTH)
    assert not check.ok and len(check.changed) >= 1
    with db.session() as session:  # and rewriting the stored bill is caught by the audit hash
        session.execute(text("UPDATE month_close SET bill = ''"))
    assert not team.closing.check(BILLER, MONTH).stored_hash_ok


def test_an_imported_change_flags_the_billed_month_as_a_typed_one_does(team: Services) -> None:
    from tests.helpers.billing import csv_bytes

    team.closing.close(BILLER, MONTH)
    case = next(c for c in CASES if f"S{c.number:02d}" == READY_MRN)
    row = patient_row(case) | REVOKED_IN_FEBRUARY
    team.imports.import_data(CLI, [("patients.csv", csv_bytes([row]))])
    (flag,) = team.closing.check(BILLER, MONTH).flags
    assert flag.mrn == READY_MRN and flag.why.startswith("consent revoked as of 2026-02-27")
    assert flag.raised_by.startswith("command line")


# --- payers after a month is closed (docs/billing-rules.md, "Payer changes and closed months") --


def test_a_payer_that_stops_paying_shows_on_the_closed_month_until_acknowledged(
    team: Services, db: Database
) -> None:
    add_payers(team, UNKNOWN)
    set_payers(db, READY_MRN, "blue-plan")
    team.closing.close(BILLER, MONTH)
    team.payers.save_text(BILLER, {**UNKNOWN, "covers": "pcm"})  # a CCM month: now blocked
    row = team.billing.patient_month(BILLER, READY_MRN, MONTH)
    assert row.result.blocks == ("PAYER_DOES_NOT_COVER",)
    # The stored bill is kept; the re-check names the patient whose line now differs. A payer
    # reaches many patients at once, so no flag per patient: the month says it once.
    check = team.closing.check(BILLER, MONTH)
    assert not check.ok and check.changed == (READY_MRN,) and check.flags == ()
    assert "differs from the one it was closed with for 1 patient(s)" in check.message()
    assert team.closing.acknowledge(BILLER, MONTH, "Blue Plan confirmed: no CCM").ok


def test_unknown_coverage_and_coinsurance_changes_leave_a_closed_month_as_billed(
    team: Services, db: Database
) -> None:
    add_payers(team, UNKNOWN)
    set_payers(db, READY_MRN, "blue-plan")
    before = team.billing.patient_month(BILLER, READY_MRN, MONTH).result
    assert before.billable and "COVERAGE_UNKNOWN" in before.warnings  # a warning, no block
    team.closing.close(BILLER, MONTH)
    assert team.closing.check(BILLER, MONTH).ok
    # The payer turns out to pay: the warning goes, the bill is the same.
    team.payers.save_text(BILLER, {**UNKNOWN, "covers": "ccm;pcm"})
    # The coinsurance is corrected: the estimate follows the payer list, the bill does not move.
    team.payers.save_text(BILLER, {**UNKNOWN, "covers": "ccm;pcm", "coinsurance_percent": "30"})
    after = team.billing.patient_month(BILLER, READY_MRN, MONTH).result
    assert "COVERAGE_UNKNOWN" not in after.warnings
    assert (after.codes, after.amount_cents) == (before.codes, before.amount_cents)
    assert after.patient_share_cents != before.patient_share_cents
    assert team.closing.check(BILLER, MONTH).ok
    assert team.closing.check_all(BILLER) == []


def test_a_new_payer_on_the_record_flags_a_closed_month_only_when_it_changes_the_bill(
    team: Services,
) -> None:
    add_payers(team, UNKNOWN, PCM_ONLY)
    team.closing.close(BILLER, MONTH)
    # A payer whose coverage is unknown adds a warning only: nothing to flag.
    _edit(team, READY_MRN, **OFF_MEDICARE, primary_payer="blue-plan", primary_member_id="B-1")
    assert team.closing.check(BILLER, MONTH).ok
    # A payer that does not pay for CCM blocks the month: the change goes through, flagged.
    _edit(team, READY_MRN, **OFF_MEDICARE, primary_payer="acme-pcm", primary_member_id="A-1")
    check = team.closing.check(BILLER, MONTH)
    (flag,) = check.flags
    assert flag.mrn == READY_MRN and "primary payer" in flag.why
    assert check.changed == (READY_MRN,)


# --- general BHI on the stored bill (docs/billing-rules.md, "Closed and signed months") --------


def test_a_closed_bill_without_bhi_keeps_its_lines_as_before(team: Services, db: Database) -> None:
    team.closing.close(BILLER, MONTH)
    with db.read() as session:
        bill = session.scalars(select(MonthClose.bill)).one()
    rows = team.billing.month(BILLER, MONTH).rows
    assert bill.splitlines() == [
        f"{r.mrn}|{r.result.codes}|{r.result.amount_cents}|{r.result.signed}" for r in rows
    ]


def test_a_closed_month_whose_bhi_starts_billing_shows_a_difference(
    staffed: Services, db: Database
) -> None:
    case = next(c for c in CASES if f"S{c.number:02d}" == READY_MRN)  # 99490 on E11.9, I10
    bhi = w("RN", 21, 21, hour=15, service="bhi")  # 21 minutes tagged BHI
    import_cases(add_case_staff(staffed), (dataclasses.replace(case, work=(*case.work, bhi)),))
    row = staffed.billing.patient_month(BILLER, READY_MRN, MONTH)
    assert row.result.bhi is not None and row.result.bhi.blocks == ("NO_BH_CONDITION",)
    staffed.closing.close(BILLER, MONTH)
    with db.read() as session:
        closed_line = session.scalars(select(MonthClose.bill)).one()
    # BHI time that bills nothing leaves the line as it always read.
    assert closed_line == f"{READY_MRN}|99490x1|6613|False"
    # The behavioural-health diagnosis recorded late: the month's BHI now bills 99484.
    staffed.patients.save_text(NURSE, patient_row(case) | {"conditions": "E11.9;F33.1"}, READY_MRN)
    check = staffed.closing.check(BILLER, MONTH)
    assert not check.ok and check.changed == (READY_MRN,)
    (flag,) = check.flags
    assert (flag.before, flag.after) == (closed_line, f"{closed_line}|bhi:99484x1|5745")
