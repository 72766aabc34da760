"""The export's CSV files (handoff and claim lines), exactly as formats.md describes them."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from dataclasses import astuple, dataclass, fields
from typing import TypeVar

# A spreadsheet runs a cell that begins with one of these as a formula.
FORMULA_STARTS = ("=", "+", "-", "@")


@dataclass(frozen=True)
class HandoffLine:
    """One enrolled or active patient's month."""

    month: str
    mrn: str
    last_name: str
    first_name: str
    practitioner_npi: str
    countable_seconds: int
    practitioner_seconds: int
    excluded_seconds: int
    codes: str  # "99490x1;99439x2"; empty when not billable
    status: str  # "billable" or "not_billable"
    blocks: str  # reason codes, ";"-separated, sorted
    warnings: str
    signed_off: str  # "yes" / "no"
    amount_cents: int
    # Issue #17's columns, after the first ones (docs/formats.md): blank for callers that do not
    # know the claim file.
    program: str = ""  # the patient's program (docs/formats.md)
    claim_id: str = ""  # CLM01 of a billable month
    claim_edits: str = ""  # the failing CLAIM_* codes of a billable month, ";"-separated, sorted
    patient_share_cents: int = 0


@dataclass(frozen=True)
class ClaimLine:
    """One billable code line."""

    month: str
    mrn: str
    date_of_service: str  # YYYY-MM-DD
    place_of_service: str
    code: str
    units: int
    charge_cents: int
    diagnosis_codes: str  # ";"-separated, in the order on file
    rendering_npi: str
    billing_npi: str
    payer: str
    member_id: str
    # What a practice-management import needs besides (docs/formats.md); defaults: not known.
    patient_last_name: str = ""
    patient_first_name: str = ""
    patient_dob: str = ""  # YYYY-MM-DD
    patient_sex: str = ""
    patient_address: str = ""  # the street
    patient_city: str = ""
    patient_state: str = ""
    patient_zip: str = ""
    payer_id: str = ""  # the primary payer's id in the payer list
    edi_payer_id: str = ""
    relationship: str = ""  # the patient's relationship to the insured: self, spouse, ...
    secondary_payer: str = ""  # the secondary payer's id in the payer list
    secondary_member_id: str = ""
    diagnosis_pointers: str = ""  # letters into diagnosis_codes, "ABCD" (box 24E)
    tin: str = ""
    taxonomy: str = ""
    signed_by_npi: str = ""
    signed_on: str = ""  # YYYY-MM-DD, the practice's day
    patient_share_cents: int = 0  # this line's part of the month's patient share
    claim_id: str = ""
    # Issue #18: "month_claim" (the month's claim, claim_id) or "visit_claim" (G0506: add it
    # to the initiating visit's claim, dated that day; docs/formats.md).
    bill_on: str = ""


# Free text typed by people: guarded against spreadsheet formulas.
_TEXT = frozenset({
    "mrn", "last_name", "first_name", "payer", "member_id", "patient_last_name",
    "patient_first_name", "patient_address", "patient_city", "patient_state", "patient_zip",
    "edi_payer_id", "secondary_member_id",
})  # fmt: skip


def guarded(value: str) -> str:
    """Text that a spreadsheet would take for a formula, made plain with a leading `'`."""
    return "'" + value if value.startswith(FORMULA_STARTS) else value


def csv_bytes(header: Sequence[str], rows: Iterable[Sequence[object]]) -> bytes:
    """UTF-8 without BOM, CRLF line ends, quotes only where needed (RFC 4180)."""
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode("utf-8")


_Line = TypeVar("_Line", HandoffLine, ClaimLine)


def _table(kind: type[_Line], lines: Iterable[_Line]) -> bytes:
    names = [f.name for f in fields(kind)]
    guard = [name in _TEXT for name in names]
    rows = (
        [
            guarded(v) if g and isinstance(v, str) else v
            for v, g in zip(astuple(line), guard, strict=True)
        ]
        for line in lines
    )
    return csv_bytes(names, rows)


def handoff_csv(lines: Iterable[HandoffLine]) -> bytes:
    """handoff-YYYY-MM.csv: one row per enrolled or active patient, sorted by MRN (a month's
    general BHI row stays right after its care-management row: the order given within a
    patient is kept)."""
    return _table(HandoffLine, sorted(lines, key=lambda line: line.mrn))


def claim_lines_csv(lines: Iterable[ClaimLine]) -> bytes:
    """claim-lines-YYYY-MM.csv: one row per billable code line, by MRN, base code first (the
    order given within a patient is kept: the rules list the base code first)."""
    return _table(ClaimLine, sorted(lines, key=lambda line: line.mrn))
