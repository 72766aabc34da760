"""The export as a claim source: the superbill's payer boxes, the wider CSVs, the handoff's
"Not in the claim file"."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections import Counter
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from ccmdesk.db import Database
from ccmdesk.models import Patient, Payer, Practice, SentClaim
from ccmdesk.rules.billing import MonthFacts, Waiver, estimate_text
from ccmdesk.rules.billing import evaluate as evaluate_month
from ccmdesk.rules.catalog import REASONS
from ccmdesk.rules.intervals import date_text
from ccmdesk.rules.payers import PayerRecord
from ccmdesk.services import Services
from ccmdesk.services.billing.evaluation import BillingRow
from ccmdesk.services.claims import ClaimStatus
from ccmdesk.services.export import MONTH_OPEN, NOT_SIGNED, claim_file_notes, line_shares
from tests.helpers.billing import csv_bytes, patient_row, with_cases
from tests.helpers.common import BILLER, CLI, DOCTOR, NOW, VALID_NPIS
from tests.helpers.reports import boxes, fragments
from tests.helpers.rules import MARCH, entry, patient
from tests.helpers.scenario_cases import CASES, MONTH, Work, at

ADDRESS = {"address": "5 Oak Ave", "city": "Portland", "state": "ME", "zip": "04101"}
SIGNED_ON = NOW.astimezone(ZoneInfo("America/New_York")).date()  # the practice's day


@pytest.fixture
def team(staffed: Services) -> Services:
    return with_cases(staffed)


def case(number: int) -> dict[str, str]:
    return patient_row(next(c for c in CASES if c.number == number))


def reimport(team: Services, *rows: dict[str, str]) -> None:
    """The patients' rows again, changed; a column one row names is blank in the others."""
    columns = dict.fromkeys(name for row in rows for name in row)
    full = [{name: row.get(name, "") for name in columns} for row in rows]
    team.imports.import_data(CLI, [("patients.csv", csv_bytes(full))])


def medigap(team: Services, name: str = "AARP Medigap Plan G") -> None:
    team.payers.save(BILLER, PayerRecord("medigap-g", name, "commercial", covers="ccm;pcm"))


def claim_practice(db: Database, **changes: object) -> None:
    """The practice's claim settings, set on the row (the practice service's own setters are
    another step of issue #17)."""
    settings: dict[str, object] = {
        "street": "12 Main St", "city": "Portland", "state": "ME", "zip": "04101-1234",
        "submitter_id": "S1", "submitter_name": "Test Practice", "submitter_phone": "2075550100",
        "receiver_id": "R1", "receiver_name": "Clearing Co", "taxonomy": "207Q00000X",
    } | changes  # fmt: skip
    with db.session() as session:
        practice = session.scalars(select(Practice)).one()
        for name, value in settings.items():
            setattr(practice, name, value)


def part_b_edi(db: Database) -> None:
    with db.session() as session:
        session.scalars(select(Payer).where(Payer.payer_id == "mcr-b")).one().edi_payer_id = "X1"


def read(path: Path) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(path.read_bytes().decode("utf-8"), newline="")))


def text(path: Path) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(path).pages)


def share_sentence(document: bytes) -> str:
    """The patient-share sentence under box 28, its wrapped lines joined."""
    pieces = fragments(document)
    start = next(p for p in pieces if p.text.startswith("Patient share"))
    lines = [p.text for p in pieces if abs(p.x - start.x) < 0.5 and 0 <= start.y - p.y < 40]
    return " ".join(lines)


def superbill(folder: Path, mrn: str) -> Path:
    return folder / "superbills" / f"{MONTH}-{mrn}.pdf"


# --- the superbill ------------------------------------------------------------------------------


def test_the_superbill_fills_the_payer_and_practice_boxes_from_the_database(
    team: Services, db: Database, tmp_path: Path
) -> None:
    medigap(team)
    reimport(team, case(2) | ADDRESS | {"secondary_payer": "medigap-g",
                                        "secondary_member_id": "MG-778812",
                                        "signature_on_file": "no"})  # fmt: skip
    claim_practice(db, tin_kind="ssn", accept_assignment=False)
    team.review.sign(DOCTOR, "S02", MONTH)
    team.export.export(BILLER, MONTH, tmp_path)
    document = superbill(tmp_path, "S02").read_bytes()
    found = boxes(document)
    assert found == found | {
        "Payer (carrier block)": "Medicare Part B",
        "1 Insurance type": "Medicare",
        "1a Insured's ID number": "1EG4TE5MK73",
        "4 Insured's name": "Case02, Ana",
        "6 Patient relationship to insured": "self",
        "7 Insured's address": "same as patient (5)",
        "9 Other insured's name": "Case02, Ana",
        "9a Other insured's policy no.": "MG-778812",
        "9d Other insurance plan name": "AARP Medigap Plan G",
        "11d Another health benefit plan?": "yes (9, 9a, 9d)",
        "12 Patient's signature (release)": "Not on file",
        "13 Insured's signature (benefits)": "Not on file",
        "25 Federal tax ID (SSN)": "123456789",
        "27 Accept assignment": "no",
        "32 Service facility": "Test Practice, 12 Main St, Portland, ME 04101-1234",
        "33 Billing provider · phone":
            "Test Practice, 12 Main St, Portland, ME 04101-1234 · 207-555-0100",
        "33a Billing provider NPI": VALID_NPIS[1],
        "33b Taxonomy": "207Q00000X",
        "31 Signature of physician · date": f"Dr. A · {date_text(SIGNED_ON)}",
    }  # fmt: skip
    # The patient's share is the rules' own sentence for the month, whatever it says.
    month = team.billing.patient_month(BILLER, "S02", MONTH)
    assert share_sentence(document) == estimate_text(month.result)


def test_an_insured_spouse_prints_in_box_4_and_the_practice_defaults_fill_the_rest(
    team: Services, tmp_path: Path
) -> None:
    team.payers.save(BILLER, PayerRecord("aetna", "Aetna Choice POS II", "commercial",
                                         covers="ccm;pcm"))  # fmt: skip
    row = {k: v for k, v in case(2).items() if k not in ("payer", "payer_type", "member_id")}
    reimport(team, row | {"primary_payer": "aetna", "primary_member_id": "W123456789",
                          "relationship": "spouse", "insured_last_name": "Case02",
                          "insured_first_name": "Bruno"})  # fmt: skip
    team.export.export(BILLER, MONTH, tmp_path)
    found = boxes(superbill(tmp_path, "S02").read_bytes())
    assert found == found | {
        "Payer (carrier block)": "Aetna Choice POS II",
        "1 Insurance type": "Commercial (group health plan or other)",
        "1a Insured's ID number": "W123456789",
        "4 Insured's name": "Case02, Bruno",
        "6 Patient relationship to insured": "spouse",
        "7 Insured's address": "—",
        "9 Other insured's name": "none",
        "11d Another health benefit plan?": "no",
        # The practice collects the signature at registration unless it says it does not.
        "12 Patient's signature (release)": "Signature on file",
        "25 Federal tax ID (EIN)": "123456789",
        "27 Accept assignment": "yes",
        # No address parts yet: the printed address.
        "32 Service facility": "Test Practice, 1 Main St, Portland, ME 04101",
        "33 Billing provider · phone": "Test Practice, 1 Main St, Portland, ME 04101 · "
        "207-555-0100",
        "33b Taxonomy": "—",
    }  # fmt: skip


def test_without_a_group_npi_the_practitioner_is_the_billing_provider_of_box_33(
    team: Services, db: Database, tmp_path: Path
) -> None:
    claim_practice(db, group_npi=None)
    team.export.export(BILLER, MONTH, tmp_path)
    found = boxes(superbill(tmp_path, "S02").read_bytes())
    assert found["33 Billing provider · phone"].startswith("Dr. A, 12 Main St, Portland")
    assert found["33a Billing provider NPI"] == VALID_NPIS[0]
    assert found["32 Service facility"].startswith("Test Practice, 12 Main St")


def test_hostile_coverage_text_never_breaks_the_superbill_or_the_handoff(
    team: Services, tmp_path: Path
) -> None:
    nasty = '<b>Zoë\'s</b> & "Mutual" Plan ' + "Ü" * 60
    medigap(team, nasty)
    reimport(team, case(2) | {"secondary_payer": "medigap-g", "secondary_member_id": "<i>1</i>",
                              "first_name": "Zoë <b>"})  # fmt: skip
    team.export.export(BILLER, MONTH, tmp_path)
    found = boxes(superbill(tmp_path, "S02").read_bytes())
    assert found["9d Other insurance plan name"].replace(" ", "") == nasty.replace(" ", "")
    assert found["9a Other insured's policy no."] == "<i>1</i>"
    handoff = text(tmp_path / f"handoff-{MONTH}.pdf")
    assert "<b>Zoë's</b>" in handoff and "Case02, Zoë <b>" in handoff


# --- the CSV files ------------------------------------------------------------------------------


def test_claim_lines_carry_what_a_practice_management_import_needs(
    team: Services, db: Database, tmp_path: Path
) -> None:
    medigap(team)
    reimport(team, case(5) | ADDRESS | {"secondary_payer": "medigap-g",
                                        "secondary_member_id": "MG-1"})  # fmt: skip
    claim_practice(db)
    team.review.sign(DOCTOR, "S05", MONTH)
    team.export.export(BILLER, MONTH, tmp_path)
    lines = [line for line in read(tmp_path / f"claim-lines-{MONTH}.csv") if line["mrn"] == "S05"]
    assert [line["code"] for line in lines] == ["99490", "99439"]
    first = lines[0]
    assert first == first | {
        "patient_last_name": "Case05", "patient_first_name": "Ana", "patient_dob": "1950-02-03",
        "patient_sex": "F", "patient_address": "5 Oak Ave", "patient_city": "Portland",
        "patient_state": "ME", "patient_zip": "04101", "payer_id": "mcr-b", "edi_payer_id": "",
        "relationship": "self", "secondary_payer": "medigap-g", "secondary_member_id": "MG-1",
        "diagnosis_pointers": "AB", "tin": "123456789", "taxonomy": "207Q00000X",
        "signed_by_npi": VALID_NPIS[0], "signed_on": SIGNED_ON.isoformat(),
        "claim_id": "S05-202603",
    }  # fmt: skip
    # The Medigap plan takes S05's coinsurance: the patient's own share is nothing.
    handoff = {row["mrn"]: row for row in read(tmp_path / f"handoff-{MONTH}.csv")}
    assert handoff["S05"]["patient_share_cents"] == "0"
    assert {line["patient_share_cents"] for line in lines} == {"0"}
    # Elsewhere a month's share split over its lines adds up to the handoff's figure for it.
    shares: Counter[str] = Counter()
    for line in read(tmp_path / f"claim-lines-{MONTH}.csv"):
        shares[line["mrn"]] += int(line["patient_share_cents"])
    several = [mrn for mrn, row in handoff.items()
               if ";" in row["codes"] and int(row["patient_share_cents"]) > 0]  # fmt: skip
    assert several
    assert all(shares[mrn] == int(handoff[mrn]["patient_share_cents"]) for mrn in several)
    unsigned = next(line for line in read(tmp_path / f"claim-lines-{MONTH}.csv")
                    if line["mrn"] == "S02")  # fmt: skip
    assert (unsigned["signed_by_npi"], unsigned["signed_on"], unsigned["secondary_payer"]) == (
        "", "", "")  # fmt: skip


def test_the_handoff_csv_gains_program_claim_id_claim_edits_and_the_patient_share(
    team: Services, db: Database, tmp_path: Path
) -> None:
    team.export.export(BILLER, MONTH, tmp_path / "before")
    handoff = {row["mrn"]: row for row in read(tmp_path / "before" / f"handoff-{MONTH}.csv")}
    assert list(handoff["S02"])[-4:] == [
        "program", "claim_id", "claim_edits", "patient_share_cents"]  # fmt: skip
    # The patient's program: the default `ccm` bills PCM (S18) by the conditions, and a month
    # that is blocked (S17) or short of any threshold (S01) is still in it.
    assert {handoff[mrn]["program"] for mrn in ("S02", "S18", "S17", "S01")} == {"ccm"}
    assert handoff["S02"]["claim_id"] == "S02-202603"
    # The worked cases' records have no address, and the practice no claim settings yet.
    assert handoff["S02"]["claim_edits"] == (
        "CLAIM_NO_ADDRESS;CLAIM_NO_EDI_PAYER_ID;CLAIM_NO_SUBMITTER;CLAIM_PRACTICE_ADDRESS"
    )
    assert handoff["S02"]["patient_share_cents"] == "1323"  # 20 % of $66.13, half up
    assert handoff["S24"]["patient_share_cents"] == "0"  # QMB
    for blocked in ("S01", "S17"):  # no claim for a month that does not bill
        row = handoff[blocked]
        assert (row["claim_id"], row["claim_edits"], row["patient_share_cents"]) == ("", "", "0")
    reimport(team, case(2) | ADDRESS)
    claim_practice(db)
    part_b_edi(db)
    team.export.export(BILLER, MONTH, tmp_path / "after")
    after = {row["mrn"]: row for row in read(tmp_path / "after" / f"handoff-{MONTH}.csv")}
    assert after["S02"]["claim_edits"] == "" and after["S03"]["claim_edits"] == "CLAIM_NO_ADDRESS"


# --- the handoff report -------------------------------------------------------------------------


def test_the_handoff_lists_each_billable_month_left_out_of_the_claim_file_and_why(
    team: Services, db: Database, tmp_path: Path
) -> None:
    medigap(team)
    reimport(
        team,
        case(2) | ADDRESS,  # signed and ready: goes in the file
        case(3) | ADDRESS,  # ready but not signed
        case(4) | ADDRESS | {"sex": ""},  # signed, no sex on file
        case(5) | ADDRESS | {"secondary_payer": "medigap-g", "secondary_member_id": "MG-1"},
    )
    claim_practice(db)
    part_b_edi(db)
    for mrn in ("S02", "S04", "S05"):
        team.review.sign(DOCTOR, mrn, MONTH)
    sent_before(db, "S05", "claims-2026-03-mcr-b.x12")
    team.export.export(BILLER, MONTH, tmp_path)
    report = text(tmp_path / f"handoff-{MONTH}.pdf")
    assert "Not in the claim file" in report
    section = " ".join(
        report.split("Not in the claim file", 1)[1].split("Minutes by staff member")[0].split()
    )
    assert "S02" not in section.split("Claims that go to a secondary payer")[0]
    assert "S03" in section and "Not signed" in section
    assert "S04" in section and REASONS["CLAIM_NO_SEX"].text in section
    assert "Already sent in claims-2026-03-mcr-b.x12." in section
    # Months the rules do not bill are in "Not billed and why", not here.
    assert "S01" not in section and "S17" not in section
    secondary = section.split("Claims that go to a secondary payer", 1)[1]
    assert "S05" in secondary and "AARP Medigap Plan G" in secondary and "MG-1" in secondary
    # The coinsurance the secondary payer is billed: 20 % of the month's amount, half up; the
    # patient's own share is nothing.
    row = next(r for r in read(tmp_path / f"handoff-{MONTH}.csv") if r["mrn"] == "S05")
    coinsurance = (int(row["amount_cents"]) * 20 + 50) // 100
    assert f"${coinsurance / 100:.2f}" in secondary and row["patient_share_cents"] == "0"
    assert "Billable, in no claim file" in report


def sent_before(db: Database, mrn: str, file: str) -> None:
    with db.session() as session:
        patient = session.scalars(select(Patient).where(Patient.mrn == mrn)).one()
        session.add(
            SentClaim(
                patient_id=patient.id, month=MONTH, claim_id=f"{mrn}-202603", payer_id="mcr-b",
                file=file, control_number=7, sent_on=dt.date(2026, 4, 2),
                sent_at=dt.datetime(2026, 4, 2, 15, tzinfo=dt.UTC), sent_by="bill-b",
                total_cents=16701,
            )
        )  # fmt: skip


def billing_row(mrn: str, *, signed: bool = True, **facts: object) -> BillingRow:
    """A billable month (25 minutes of a nurse's time) of a patient with these facts."""
    work = Work("RN", at(4), 25)
    result = evaluate_month(MARCH, patient(**facts), MonthFacts(signed=signed), [entry(work)])
    assert result.billable
    return BillingRow(mrn, "Rivera", "Ana", "Dr. A", VALID_NPIS[0], True, True, result)


def test_the_notes_drop_already_sent_on_resend_and_print_the_waiver_sentence() -> None:
    waiver = Waiver("2026-01", None, "Bo Biller", dt.date(2026, 1, 5))
    rows_ = [billing_row("A1"), billing_row("B2", waivers=(waiver,)), billing_row("C3")]
    statuses = {
        "A1": ClaimStatus("A1-202603", (), sent_in="claims-2026-03-mcr-b.x12"),
        "B2": ClaimStatus("B2-202603", ()),
        "C3": ClaimStatus("C3-202603", ("CLAIM_NO_SEX", "CLAIM_NO_ADDRESS")),
    }
    notes = claim_file_notes(rows_, statuses, {})
    assert [(r.mrn, [why for why, _ in r.reasons]) for r in notes.left_out] == [
        ("A1", ["Already sent in claims-2026-03-mcr-b.x12."]),
        ("C3", [REASONS["CLAIM_NO_ADDRESS"].text, REASONS["CLAIM_NO_SEX"].text]),
    ]
    assert notes.left_out[1].reasons[0][1] == REASONS["CLAIM_NO_ADDRESS"].mend
    resent = claim_file_notes(rows_, statuses, {}, resend=True)
    assert [r.mrn for r in resent.left_out] == ["C3"]
    assert [(r.mrn, r.sentence) for r in notes.waived] == [
        ("B2", "Coinsurance waived for documented financial hardship, approved 05 Jan 2026 "
               "by Bo Biller.")]  # fmt: skip
    unsigned = claim_file_notes([billing_row("D4", signed=False)], {}, {})
    assert unsigned.left_out[0].reasons == (NOT_SIGNED,)
    assert unsigned.left_out[0].claim_id == "D4-202603"
    # A month still under way sends nothing, however ready its claims are.
    under_way = claim_file_notes(rows_, statuses, {}, resend=True, month_open=True)
    assert [(r.mrn, r.reasons[0]) for r in under_way.left_out] == [
        ("A1", MONTH_OPEN), ("B2", MONTH_OPEN), ("C3", MONTH_OPEN)]  # fmt: skip


def test_a_month_goes_to_the_secondary_payer_with_its_coinsurance() -> None:
    rows_ = [billing_row("A1", secondary_payer="AARP Medigap Plan G"), billing_row("B2")]
    notes = claim_file_notes(rows_, {}, {"A1": ("AARP Medigap Plan G", "MG-1")})
    (claim,) = notes.secondary
    assert (claim.mrn, claim.claim_id, claim.payer, claim.member_id) == (
        "A1", "A1-202603", "AARP Medigap Plan G", "MG-1")  # fmt: skip
    assert claim.coinsurance_cents == rows_[0].result.cost_share.coinsurance_cents == 1323


def test_line_shares_add_up_to_the_months_share_in_proportion_to_the_charges() -> None:
    assert line_shares(3340, [6613, 5044, 5044]) == [1324, 1008, 1008]
    assert sum(line_shares(1, [6613, 5044])) == 1 and line_shares(1, [6613, 5044])[0] == 1
    assert line_shares(0, [6613]) == [0] and line_shares(5, []) == []
