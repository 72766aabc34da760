"""The export's CSV files: columns, order, RFC 4180 quoting and the formula guard."""

from __future__ import annotations

import csv
import io
from dataclasses import replace

from ccmdesk.reports.csv_files import ClaimLine, HandoffLine, claim_lines_csv, handoff_csv


def handoff(mrn: str, last: str = "Rivera", first: str = "Ana") -> HandoffLine:
    return HandoffLine("2026-03", mrn, last, first, "1000000012", 1500, 0, 60, "99490x1",
                       "billable", "", "NOT_SIGNED", "no", 6613, "ccm", f"{mrn}-202603",
                       "CLAIM_NO_ADDRESS;CLAIM_NO_SUBMITTER", 1323)  # fmt: skip


def claim(mrn: str, code: str, payer: str = "Medicare Part B") -> ClaimLine:
    return ClaimLine("2026-03", mrn, "2026-03-31", "11", code, 1, 6613, "E11.9;I10",
                     "1000000012", "1245319599", payer, "1EG4-TE5-MK73")  # fmt: skip


def test_the_handoff_has_the_columns_of_formats_md_sorted_by_mrn_with_crlf() -> None:
    data = handoff_csv([handoff("B2"), handoff("A1")])
    assert not data.startswith(b"\xef\xbb\xbf")  # no BOM
    lines = data.split(b"\r\n")
    assert lines[0] == (
        b"month,mrn,last_name,first_name,practitioner_npi,countable_seconds,"
        b"practitioner_seconds,excluded_seconds,codes,status,blocks,warnings,signed_off,"
        b"amount_cents,program,claim_id,claim_edits,patient_share_cents"
    )
    assert lines[1].startswith(b"2026-03,A1,") and lines[2].startswith(b"2026-03,B2,")
    assert lines[1] == (
        b"2026-03,A1,Rivera,Ana,1000000012,1500,0,60,99490x1,billable,,NOT_SIGNED,no,6613,"
        b"ccm,A1-202603,CLAIM_NO_ADDRESS;CLAIM_NO_SUBMITTER,1323"
    )
    assert lines[-1] == b""  # the last row ends with CRLF too


def test_claim_lines_keep_the_base_code_first_within_a_patient() -> None:
    data = claim_lines_csv([claim("B2", "99490"), claim("A1", "99490"), claim("A1", "99439")])
    rows = list(csv.reader(io.StringIO(data.decode())))
    assert rows[0][:7] == ["month", "mrn", "date_of_service", "place_of_service", "code",
                           "units", "charge_cents"]  # fmt: skip
    assert [(r[1], r[4]) for r in rows[1:]] == [("A1", "99490"), ("A1", "99439"), ("B2", "99490")]


def test_claim_lines_gain_the_practice_management_columns_after_the_old_ones() -> None:
    rows = list(csv.reader(io.StringIO(claim_lines_csv([claim("A1", "99490")]).decode())))
    assert rows[0] == [
        "month", "mrn", "date_of_service", "place_of_service", "code", "units", "charge_cents",
        "diagnosis_codes", "rendering_npi", "billing_npi", "payer", "member_id",
        "patient_last_name", "patient_first_name", "patient_dob", "patient_sex",
        "patient_address", "patient_city", "patient_state", "patient_zip", "payer_id",
        "edi_payer_id", "relationship", "secondary_payer", "secondary_member_id",
        "diagnosis_pointers", "tin", "taxonomy", "signed_by_npi", "signed_on",
        "patient_share_cents", "claim_id", "bill_on",
    ]  # fmt: skip
    assert len(rows[1]) == len(rows[0])


def test_a_months_bhi_row_stays_right_after_its_care_management_row() -> None:
    bhi = replace(handoff("A1"), codes="99484x1", program="bhi", amount_cents=5745)
    data = handoff_csv([handoff("B2"), handoff("A1"), bhi, handoff("A0")])
    rows = list(csv.reader(io.StringIO(data.decode())))
    assert [(r[1], r[14]) for r in rows[1:]] == [
        ("A0", "ccm"), ("A1", "ccm"), ("A1", "bhi"), ("B2", "ccm")]  # fmt: skip


def test_hostile_text_round_trips_and_never_runs_as_a_formula() -> None:
    nasty = 'O\'Brien, "Bud" <b>&amp; \U0001f600 \u05e9\u05dc\u05d5\u05dd\nsecond line'
    data = handoff_csv([handoff("A1", last=nasty, first="=HYPERLINK(\"x\")"),
                        handoff("-5", first="@SUM(A1)")])  # fmt: skip
    rows = list(csv.reader(io.StringIO(data.decode("utf-8"), newline="")))
    by_mrn = {r[1]: r for r in rows[1:]}
    assert by_mrn["A1"][2] == nasty  # quotes, commas, newline, emoji, Hebrew intact
    assert by_mrn["A1"][3] == '\'=HYPERLINK("x")'
    assert by_mrn["'-5"][3] == "'@SUM(A1)"  # the MRN is text too
    assert by_mrn["A1"][13] == "6613"  # numbers are not touched
    claim_rows = list(
        csv.reader(io.StringIO(claim_lines_csv([claim("A1", "99490", "+Plan")]).decode()))
    )
    assert claim_rows[1][10] == "'+Plan"
    # The patient's own text in the new columns is guarded the same way.
    line = replace(claim("A1", "99490"), patient_last_name="=cmd", patient_address="-1 Main",
                   patient_city="@x", secondary_member_id="+7", edi_payer_id="=E")  # fmt: skip
    row = dict(zip(*csv.reader(io.StringIO(claim_lines_csv([line]).decode())), strict=True))
    assert [row[name] for name in ("patient_last_name", "patient_address", "patient_city",
                                   "secondary_member_id", "edi_payer_id")] == [
        "'=cmd", "'-1 Main", "'@x", "'+7", "'=E"]  # fmt: skip
