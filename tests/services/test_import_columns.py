"""Every column rule of every import file: one bad cell, one FILE:LINE: COLUMN problem, no writes."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from ccmdesk.db import Database
from ccmdesk.services import ImportFailed, Services
from tests.helpers.common import CLI, VALID_NPIS
from tests.helpers.database import db_dump

GOOD = {
    "staff": [
        {"staff_id": "dr-a", "name": "Dr. A", "role": "practitioner", "credentials": "MD", "npi": VALID_NPIS[0]},
        {"staff_id": "rn-lee", "name": "Grace Lee", "role": "clinical", "credentials": "RN", "npi": ""},
    ],
    "patients": [
        {"mrn": "1001", "last_name": "Rivera", "first_name": "Ana", "dob": "1950-02-03", "sex": "F",
         "phone": "207-555-0101", "address": "1 Elm St", "city": "Portland", "state": "ME", "zip": "04101",
         "payer": "Medicare Part B", "payer_type": "medicare", "member_id": "1EG4-TE5-MK73", "qmb": "no",
         "billing_practitioner": "dr-a", "care_manager": "rn-lee", "conditions": "E11.9;I10",
         "consent_date": "2025-11-04", "consent_method": "verbal", "consent_practitioner": "dr-a",
         "consent_revoked_date": "", "initiating_visit_date": "2025-11-04", "care_plan_date": "2025-11-04"},
    ],
    "entries": [
        {"mrn": "1001", "staff_id": "rn-lee", "start": "2026-03-04T09:00:00-05:00",
         "end": "2026-03-04T09:20:00-05:00", "service": "ccm", "face_to_face": "no",
         "activity": "call with patient or caregiver", "note": "ok"},
    ],
    "months": [
        {"mrn": "1001", "month": "2026-03", "complexity": "moderate", "other_services": "",
         "billed_elsewhere": "no", "inpatient": "2026-03-10..2026-03-12"},
    ],
}  # fmt: skip

# (file, column, bad value, words the first message must contain[, problems in all]). More than
# one problem only where the bad cell really breaks other rows: a staff id or MRN that is gone.
RULES = [
    ("staff", "staff_id", "", "is required", 2),
    ("staff", "staff_id", "rn lee", "not a staff id", 2),
    ("staff", "name", "", "is required"),
    ("staff", "role", "", "is required"),
    ("staff", "role", "nurse", "not a role"),
    ("staff", "npi", "", "required for a practitioner"),
    ("staff", "npi", "12345", "must be 10 digits"),
    ("staff", "npi", "1234567890", "check digit"),
    ("staff", "name", "A" * 201, "at most 200"),
    ("staff", "name", "Grace\x00Lee", "control characters"),
    ("staff", "credentials", "R" * 41, "at most 40"),
    ("patients", "mrn", "", "is required", 3),
    ("patients", "last_name", "", "is required"),
    ("patients", "last_name", "R" * 101, "at most 100"),
    ("patients", "mrn", "10\n01", "line breaks", 3),
    ("patients", "address", "A" * 201, "at most 200"),
    ("patients", "phone", "5" * 41, "at most 40"),
    ("patients", "first_name", "", "is required"),
    ("patients", "dob", "", "is required"),
    ("patients", "dob", "02/03/1950", "use YYYY-MM-DD"),
    ("patients", "dob", "2026-04-16", "in the future"),
    ("patients", "dob", "1890-01-01", "130 years"),
    ("patients", "sex", "female", "not one of F, M, X, U"),
    ("patients", "state", "Maine", "two-letter"),
    ("patients", "zip", "041", "not a ZIP code"),
    ("patients", "payer_type", "medicare b", "not a payer type"),
    ("patients", "member_id", "1EG4-TE5-MK7", "11 characters"),
    ("patients", "member_id", "1SG4-TE5-MK73", "not a valid Medicare MBI"),
    ("patients", "qmb", "si", "not yes or no"),
    ("patients", "billing_practitioner", "", "is required"),
    ("patients", "billing_practitioner", "dr-x", "no staff member has staff_id 'dr-x'"),
    ("patients", "billing_practitioner", "rn-lee", "not a practitioner"),
    ("patients", "care_manager", "nobody", "no staff member"),
    ("patients", "conditions", "E11.9;Q99.99", "not an ICD-10-CM code"),
    ("patients", "conditions", "E11", "category"),
    ("patients", "conditions", "I10;I10", "listed twice"),
    ("patients", "consent_date", "2025-13-01", "use YYYY-MM-DD"),
    ("patients", "consent_date", "2026-05-01", "in the future"),
    ("patients", "consent_method", "", "required when consent_date"),
    ("patients", "consent_method", "email", "not verbal or written"),
    ("patients", "consent_practitioner", "rn-lee", "not a practitioner"),
    ("patients", "consent_revoked_date", "2025-10-01", "before consent_date"),
    ("patients", "consent_revoked_date", "2026-05-01", "in the future"),
    ("patients", "initiating_visit_date", "2026-05-01", "in the future"),
    ("patients", "care_plan_date", "yesterday", "use YYYY-MM-DD"),
    ("patients", "care_plan_date", "2026-05-01", "in the future"),
    ("patients", "last_visit_date", "2026-05-01", "in the future"),
    ("patients", "last_visit_date", "last week", "use YYYY-MM-DD"),
    ("patients", "initiating_visit_g0506", "maybe", "not yes or no"),
    ("patients", "mobile_phone", "5" * 41, "at most 40"),
    ("patients", "other_phone", "207\n555", "line breaks"),
    ("patients", "preferred_call_time", "noon", "not a time to call"),
    ("patients", "preferred_language", "fr", "not a language ccmdesk prints"),
    ("patients", "program", "bhi", "not a program"),
    ("patients", "program_from", "2026-03", "is set but program is empty"),
    ("patients", "focus_condition", "I10", "is set but program is empty"),
    ("entries", "mrn", "", "is required"),
    ("entries", "mrn", "9999", "no patient has MRN '9999'"),
    ("entries", "staff_id", "", "is required"),
    ("entries", "staff_id", "ghost", "no staff member"),
    ("entries", "start", "", "is required"),
    ("entries", "start", "2026-03-04 09:00", "no UTC offset"),
    ("entries", "start", "noon", "not a date and time"),
    ("entries", "end", "", "is required"),
    ("entries", "end", "2026-03-04T08:59:00-05:00", "not after start"),
    ("entries", "end", "2026-04-16T09:20:00-05:00", "in the future"),
    ("entries", "service", "ekg", "not one of ccm, pcm, tcm, rpm, bhi"),
    ("entries", "face_to_face", "sometimes", "not yes or no"),
    ("entries", "start", "2026-03-04T09:00:00.5-05:00", "fraction of a second"),
    ("entries", "start", "0001-01-01T00:00:00+05:00", "outside the range"),
    ("entries", "activity", "x" * 101, "at most 100"),
    ("entries", "note", "bell\x07", "control characters"),
    ("months", "mrn", "", "is required"),
    ("months", "mrn", "9999", "no patient has MRN"),
    ("months", "month", "03-2026", "use YYYY-MM"),
    ("months", "complexity", "low", "not none, moderate or high"),
    ("months", "other_services", "G0181;99", "not a CPT or HCPCS code"),
    ("months", "billed_elsewhere", "perhaps", "not yes or no"),
    ("months", "inpatient", "2026-03-10", "use YYYY-MM-DD..YYYY-MM-DD"),
    ("months", "inpatient", "2026-03-10..", "needs both dates"),
    ("months", "inpatient", "2026-03-12..2026-03-10", "ends before it starts"),
    ("months", "inpatient", "2026-04-01..2026-04-03", "not in 2026-03"),
]


def write(folder: Path, kind: str, rows: list[dict[str, str]]) -> Path:
    out = io.StringIO(newline="")
    writer = csv.DictWriter(out, fieldnames=list(rows[0]), lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(rows)
    path = folder / f"{kind}.csv"
    path.write_text(out.getvalue(), encoding="utf-8", newline="")
    return path


def test_the_good_files_import(services: Services, tmp_path: Path) -> None:
    paths = [write(tmp_path, kind, rows) for kind, rows in GOOD.items()]
    summary = services.imports.import_paths(CLI, paths)
    assert [c.created for c in summary.counts.values()] == [2, 0, 1, 0, 1, 1]


@pytest.mark.parametrize("rule", RULES, ids=lambda r: f"{r[0]}-{r[1]}-{r[2]!r}")
def test_one_bad_cell_is_reported_at_its_line_and_column_and_nothing_is_written(
    services: Services, db: Database, tmp_path: Path, rule: tuple
) -> None:
    kind, column, value, words, *count = rule
    before = db_dump(db)
    rows = {k: [dict(row) for row in v] for k, v in GOOD.items()}
    rows[kind][0][column] = value
    paths = [write(tmp_path, k, v) for k, v in rows.items()]
    with pytest.raises(ImportFailed) as caught:
        services.imports.import_paths(CLI, paths)
    problems = [p.replace(f"{tmp_path}/", "") for p in caught.value.problems]
    assert len(problems) == (count[0] if count else 1), problems
    assert problems[0].startswith(f"{kind}.csv:2: {column}: "), problems
    assert words in problems[0]
    assert db_dump(db) == before


def test_a_missing_required_column_is_reported_once_at_the_header(
    services: Services, db: Database, tmp_path: Path
) -> None:
    first = {k: v for k, v in GOOD["patients"][0].items() if k not in ("dob", "first_name")}
    rows = [first, dict(first, mrn="1002")]
    paths = [write(tmp_path, "staff", GOOD["staff"]), write(tmp_path, "patients", rows)]
    with pytest.raises(ImportFailed) as caught:
        services.imports.import_paths(CLI, paths)
    assert [p.replace(f"{tmp_path}/", "") for p in caught.value.problems] == [
        "patients.csv:1: first_name: required column is missing from this patients file",
        "patients.csv:1: dob: required column is missing from this patients file",
    ]


def test_a_note_may_span_lines(services: Services, db: Database, tmp_path: Path) -> None:
    rows = {k: [dict(row) for row in v] for k, v in GOOD.items()}
    rows["entries"][0]["note"] = "Called twice.\nLeft a message the second time.\tOK"
    paths = [write(tmp_path, k, v) for k, v in rows.items()]
    assert services.imports.import_paths(CLI, paths).counts["time entries"].created == 1


def test_the_call_columns_are_kept_when_left_out_and_cleared_when_blank(
    services: Services, tmp_path: Path
) -> None:
    """mobile_phone, other_phone and preferred_call_time are optional (docs/formats.md)."""
    staff = write(tmp_path, "staff", GOOD["staff"])
    first = dict(GOOD["patients"][0], mobile_phone="207-555-0199", other_phone="207-555-0177",
                 preferred_call_time="Evening")  # fmt: skip
    services.imports.import_paths(CLI, [staff, write(tmp_path, "patients", [first])])
    record = services.patients.get(CLI, "1001")
    assert (record.mobile_phone, record.other_phone, record.preferred_call_time) == (
        "207-555-0199", "207-555-0177", "evening")  # fmt: skip
    without = dict(GOOD["patients"][0], city="Bangor")  # no call columns: kept
    services.imports.import_paths(CLI, [staff, write(tmp_path, "patients", [without])])
    record = services.patients.get(CLI, "1001")
    assert (record.city, record.mobile_phone, record.preferred_call_time) == (
        "Bangor", "207-555-0199", "evening")  # fmt: skip
    blank = dict(first, mobile_phone="", preferred_call_time="")
    services.imports.import_paths(CLI, [staff, write(tmp_path, "patients", [blank])])
    record = services.patients.get(CLI, "1001")
    assert (record.mobile_phone, record.other_phone, record.preferred_call_time) == (
        "", "207-555-0177", "")  # fmt: skip


def test_the_preferred_language_is_kept_when_left_out_and_english_when_blank(
    services: Services, tmp_path: Path
) -> None:
    """preferred_language is optional (docs/formats.md): en, es or their names."""
    staff = write(tmp_path, "staff", GOOD["staff"])
    spanish = dict(GOOD["patients"][0], preferred_language="Español")
    services.imports.import_paths(CLI, [staff, write(tmp_path, "patients", [spanish])])
    assert services.patients.get(CLI, "1001").preferred_language == "es"
    without = dict(GOOD["patients"][0], city="Bangor")  # no language column: kept
    services.imports.import_paths(CLI, [staff, write(tmp_path, "patients", [without])])
    record = services.patients.get(CLI, "1001")
    assert (record.city, record.preferred_language) == ("Bangor", "es")
    blank = dict(spanish, preferred_language="")
    services.imports.import_paths(CLI, [staff, write(tmp_path, "patients", [blank])])
    assert services.patients.get(CLI, "1001").preferred_language == "en"
