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


# Free text typed by people: guarded against spreadsheet formulas.
_TEXT = frozenset({"mrn", "last_name", "first_name", "payer", "member_id"})


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
    """handoff-YYYY-MM.csv: one row per enrolled or active patient, sorted by MRN."""
    return _table(HandoffLine, sorted(lines, key=lambda line: line.mrn))


def claim_lines_csv(lines: Iterable[ClaimLine]) -> bytes:
    """claim-lines-YYYY-MM.csv: one row per billable code line, by MRN, base code first (the
    order given within a patient is kept: the rules list the base code first)."""
    return _table(ClaimLine, sorted(lines, key=lambda line: line.mrn))
