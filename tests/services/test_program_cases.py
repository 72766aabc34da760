"""Issue #18's worked cases through the services: imported, billed and exported, they read as
the rules engine gives them (tests/helpers/program_cases.py)."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from ccmdesk.db import Database
from ccmdesk.services import Services
from tests.helpers.common import BILLER
from tests.helpers.program_cases import CASES, ProgramCase, assert_program_case
from tests.helpers.program_imports import add_own_staff, own_staff, put_cases


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c.number}-{c.name}")
def test_every_program_case_imported_and_billed(
    staffed: Services, db: Database, case: ProgramCase
) -> None:
    put_cases(staffed, (case,))
    row = staffed.billing.patient_month(BILLER, case.mrn, case.month)
    assert_program_case(case, row.result)


def read(path: Path) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(path.read_bytes().decode("utf-8"), newline="")))


@pytest.mark.parametrize("attested", [False, True], ids=["not attested", "attested"])
def test_the_cases_billed_together_and_their_handoff_rows(
    staffed: Services, db: Database, tmp_path: Path, attested: bool
) -> None:
    # The attestation is the practice's: the cases that need it share one database, the
    # others another. Each case has its own nurse, so their times may coincide.
    cases = [c for c in CASES if c.attested == attested]
    add_own_staff(staffed, cases)
    put_cases(staffed, cases, own_staff)
    for month in sorted({c.month for c in cases}):
        billed = {row.mrn: row.result for row in staffed.billing.month(BILLER, month).rows}
        folder = tmp_path / month
        staffed.export.export(BILLER, month, folder, allow_open_month=True)
        rows = read(folder / f"handoff-{month}.csv")
        handoff = {row["mrn"]: row for row in rows if row["program"] != "bhi"}
        bhi_rows = {row["mrn"]: row for row in rows if row["program"] == "bhi"}
        for case in (c for c in cases if c.month == month):
            assert_program_case(case, billed[case.mrn])
            # The handoff's row is the month's care management: its program's codes, status
            # and reasons; G0506 is never in it (it goes on the visit's claim).
            row = handoff[case.mrn]
            assert (row["codes"], row["status"]) == (case.codes, case.status), case.name
            assert row["blocks"] == ";".join(sorted(case.blocks)), case.name
            warnings = sorted((*case.warnings, "NOT_SIGNED"))
            assert row["warnings"] == ";".join(warnings), case.name
            if case.countable_seconds is not None:
                assert int(row["countable_seconds"]) == case.countable_seconds, case.name
            assert int(row["amount_cents"]) == case.amount_cents, case.name
            assert row["program"] == case.program, case.name
            assert "G0506" not in row["codes"]
            # A month with BHI time has its BHI row right after, with the BHI result's own
            # codes, status, seconds and amount.
            bhi = bhi_rows.get(case.mrn)
            if case.bhi is None:
                assert bhi is None, case.name
            else:
                assert bhi is not None, case.name
                assert rows.index(bhi) == rows.index(row) + 1, case.name
                assert (bhi["codes"], bhi["status"]) == (case.bhi.codes, case.bhi.status)
                assert bhi["blocks"] == ";".join(sorted(case.bhi.blocks)), case.name
                assert int(bhi["countable_seconds"]) == case.bhi.countable_seconds, case.name
                assert int(bhi["amount_cents"]) == case.bhi.amount_cents, case.name
