"""The export's CSV files: columns, order, RFC 4180 quoting and the formula guard."""

from __future__ import annotations

import csv
import io

from ccmdesk.reports.csv_files import ClaimLine, HandoffLine, claim_lines_csv, handoff_csv


def handoff(mrn: str, last: str = "Rivera", first: str = "Ana") -> HandoffLine:
    return HandoffLine("2026-03", mrn, last, first, "1000000012", 1500, 0, 60, "99490x1",
                       "billable", "", "NOT_SIGNED", "no", 6613)  # fmt: skip


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
        b"amount_cents"
    )
    assert lines[1].startswith(b"2026-03,A1,") and lines[2].startswith(b"2026-03,B2,")
    assert (
        lines[1]
        == b"2026-03,A1,Rivera,Ana,1000000012,1500,0,60,99490x1,billable,,NOT_SIGNED,no,6613"
    )
    assert lines[-1] == b""  # the last row ends with CRLF too


def test_claim_lines_keep_the_base_code_first_within_a_patient() -> None:
    data = claim_lines_csv([claim("B2", "99490"), claim("A1", "99490"), claim("A1", "99439")])
    rows = list(csv.reader(io.StringIO(data.decode())))
    assert rows[0][:7] == ["month", "mrn", "date_of_service", "place_of_service", "code",
                           "units", "charge_cents"]  # fmt: skip
    assert [(r[1], r[4]) for r in rows[1:]] == [("A1", "99490"), ("A1", "99439"), ("B2", "99490")]


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
