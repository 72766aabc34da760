"""CSV import: kinds from headers, every problem as FILE:LINE: COLUMN, all or nothing."""

from __future__ import annotations

import datetime as dt
import io
import tracemalloc
from pathlib import Path

import pytest
from sqlalchemy import select

from ccmdesk.db import Database
from ccmdesk.models import AuditEvent, InpatientStay, PatientMonth, TimeEntry
from ccmdesk.services import ImportFailed, PermissionDenied, Services
from tests.helpers.common import CLI, NURSE, VALID_NPIS
from tests.helpers.database import db_dump
from tests.helpers.imports import failing, files

STAFF = f"""staff_id,name,role,credentials,npi
dr-a,Dr. A,practitioner,MD,{VALID_NPIS[0]}
rn-lee,Grace Lee,clinical,RN,
ma-kim,Joon Kim,clinical,MA,
"""
PATIENTS = '''mrn,last_name,first_name,dob,payer_type,member_id,billing_practitioner,conditions,consent_date,consent_method,initiating_visit_date,care_plan_date
1001,Rivera,Ana,1950-02-03,medicare,1EG4-TE5-MK73,dr-a,E11.9;I10,2025-11-04,verbal,2025-11-04,2025-11-04
1002,O'Neil,"Séamus ""Jim""",1948-07-19,commercial,X99,dr-a,I50.22,2025-11-04,written,2025-11-04,2025-11-04
'''
ENTRIES = '''mrn,staff_id,start,end,service,face_to_face,activity,note
1001,rn-lee,2026-03-04T09:00:00-05:00,2026-03-04T09:08:00-05:00,ccm,no,call with patient or caregiver,"Checked sugars; ""fine"""
1001,ma-kim,2026-03-04T09:00:00-05:00,2026-03-04T09:20:00-05:00,ccm,no,,
1002,rn-lee,2026-03-04T09:08:00-05:00,2026-03-04T09:30:00-05:00,tcm,no,,
'''
MONTHS = """mrn,month,complexity,other_services,billed_elsewhere,inpatient
1001,2026-03,moderate,G0181,no,2026-03-10..2026-03-12
"""


def test_all_four_kinds_import_in_any_order_and_reimport_changes_nothing(
    services: Services, db: Database, tmp_path: Path
) -> None:
    paths = files(tmp_path, months=MONTHS, entries=ENTRIES, patients=PATIENTS, staff=STAFF)
    summary = services.imports.import_paths(CLI, paths)
    assert summary.lines() == [
        "staff: 3 added, 0 updated, 0 unchanged",
        "patients: 2 added, 0 updated, 0 unchanged",
        "time entries: 3 added, 0 updated, 0 unchanged",
        "patient months: 1 added, 0 updated, 0 unchanged",
    ]
    assert services.patients.get(CLI, "1002").first_name == 'Séamus "Jim"'
    with db.session() as session:
        note = session.scalars(select(TimeEntry.note).order_by(TimeEntry.id)).first()
        month = session.scalars(select(PatientMonth)).one()
        stay = session.scalars(select(InpatientStay)).one()
        events = session.scalars(select(AuditEvent.reason)).all()
    assert note == 'Checked sugars; "fine"'
    assert (month.complexity, month.other_services) == ("moderate", "G0181")
    assert (str(stay.admitted_on), str(stay.discharged_on)) == ("2026-03-10", "2026-03-12")
    assert all(reason.startswith("imported from ") for reason in events)

    before = db_dump(db)
    again = services.imports.import_paths(CLI, paths)
    assert [c.created + c.updated for c in again.counts.values()] == [0, 0, 0, 0, 0, 0]
    assert db_dump(db) == before


def test_changed_rows_update_with_before_and_after_in_the_audit_trail(
    services: Services, db: Database, tmp_path: Path
) -> None:
    services.imports.import_paths(CLI, files(tmp_path, staff=STAFF, patients=PATIENTS))
    changed = PATIENTS.replace("Rivera,Ana", "Rivera-Lopez,Ana")
    summary = services.imports.import_paths(CLI, files(tmp_path, patients=changed))
    assert summary.counts["patients"].updated == 1
    assert summary.counts["patients"].unchanged == 1
    with db.session() as session:
        event = session.scalars(select(AuditEvent).order_by(AuditEvent.id.desc())).first()
    assert event.action == "patient.update"
    assert '"last_name":"Rivera"' in event.before and '"last_name":"Rivera-Lopez"' in event.after


def test_header_names_are_case_insensitive_and_a_bom_is_accepted(
    services: Services, tmp_path: Path
) -> None:
    path = tmp_path / "staff.csv"
    path.write_bytes(b"\xef\xbb\xbf" + STAFF.replace("staff_id,name,role", "Staff_ID, NAME ,Role")
                     .encode())  # fmt: skip
    assert services.imports.import_paths(CLI, [path]).counts["staff"].created == 3


BAD_CASES = [
    # (file contents by name, expected problem lines)
    pytest.param(
        {"patients": PATIENTS.replace("E11.9;I10", "E11.9;ZZZ.9")},
        ["patients.csv:2: conditions: 'ZZZ.9' is not an ICD-10-CM code"],
        id="wrong ICD-10 code",
    ),
    pytest.param(
        {"staff": STAFF.replace(VALID_NPIS[0], "1234567890")},
        ["staff.csv:2: npi: '1234567890' is not a valid NPI: the check digit does not match"],
        id="bad NPI",
    ),
    pytest.param(
        {"patients": PATIENTS.replace("1EG4-TE5-MK73", "1EG4-TE5-MK7")},
        ["patients.csv:2: member_id: '1EG4TE5MK7' is not a Medicare MBI: it must be 11 "
         "characters, it has 10"],
        id="bad MBI",
    ),
    pytest.param(
        {"patients": PATIENTS.replace("1950-02-03", "2027-01-01")},
        ["patients.csv:2: dob: 2027-01-01 is in the future"],
        id="future DOB",
    ),
    pytest.param(
        {"patients": PATIENTS.replace("dr-a,E11", "dr-z,E11")},
        ["patients.csv:2: billing_practitioner: no staff member has staff_id 'dr-z'"],
        id="unknown staff id",
    ),
    pytest.param(
        {"patients": PATIENTS.replace(",dob,", ",").replace(",1950-02-03,", ",")
         .replace(",1948-07-19,", ",")},
        ["patients.csv:1: dob: required column is missing from this patients file"],
        id="missing column",
    ),
    pytest.param(
        {"staff": STAFF.replace("npi\n", "npi,email\n").replace("MD,1234567893", "MD,1234567893,")
         .replace("RN,\n", "RN,,\n").replace("MA,\n", "MA,,\n")},
        ["staff.csv:1: email: unknown column in a staff file"],
        id="unknown column",
    ),
    pytest.param(
        {"patients": PATIENTS.replace("1002,O'Neil", "1001,O'Neil")},
        ["patients.csv:3: mrn: '1001' appears twice in this file (first on line 2)",
         "entries.csv:4: mrn: no patient has MRN '1002'"],
        id="duplicate MRN",
    ),
    pytest.param(
        {"entries": ENTRIES.replace("2026-03-04T09:20:00-05:00", "2026-03-04T08:20:00-05:00")},
        ["entries.csv:3: end: is not after start"],
        id="end before start",
    ),
    pytest.param(
        {"entries": ENTRIES.replace("2026-03-04T09:30:00-05:00", "2026-04-16T09:30:00-05:00")},
        ["entries.csv:4: end: is in the future"],
        id="entry in the future",
    ),
    pytest.param(
        {"entries": ENTRIES.replace("T09:08:00-05:00,2026-03-04T09:30", "T09:07:00-05:00,"
                                    "2026-03-04T09:30")},
        # In the practice's time (New York), as the stopwatch says it, with the other row's line.
        ["entries.csv:4: start: This overlaps rn-lee's 09:00\N{EN DASH}09:08 entry for MRN 1001 "
         "on 04 Mar 2026 (entries.csv line 2); change the start or end."],
        id="one nurse, two places",
    ),
    pytest.param(
        {"entries": ENTRIES.replace("2026-03-04T09:00:00-05:00,2026-03-04T09:08", "2026-03-04T09:00"
                                    ":00,2026-03-04T09:08").replace(",tcm,", ",xyz,")},
        ["entries.csv:2: start: '2026-03-04T09:00:00' has no UTC offset; add one, e.g. -05:00",
         "entries.csv:4: service: 'xyz' is not one of ccm, pcm, tcm, rpm, bhi"],
        id="instant without offset and unknown service",
    ),
    pytest.param(
        {"months": MONTHS.replace("2026-03,moderate,G0181,no,2026-03-10..2026-03-12",
                                  "2026-3,severe,G01,maybe,2026-03-12..2026-03-10")},
        ["months.csv:2: month: '2026-3' is not a month; use YYYY-MM",
         "months.csv:2: complexity: 'severe' is not none, moderate or high",
         "months.csv:2: other_services: 'G01' is not a CPT or HCPCS code (5 letters or digits)",
         "months.csv:2: billed_elsewhere: 'maybe' is not yes or no",
         "months.csv:2: inpatient: '2026-03-12..2026-03-10' ends before it starts"],
        id="patient month rules",
    ),
    pytest.param(
        {"months": MONTHS.replace("1001,", "9999,")},
        ["months.csv:2: mrn: no patient has MRN '9999'"],
        id="month for an unknown patient",
    ),
]  # fmt: skip


@pytest.mark.parametrize(("bad", "expected"), BAD_CASES)
@pytest.mark.usefixtures("practice")  # overlaps are told in the practice's time
def test_a_bad_file_lists_every_problem_and_writes_nothing(
    services: Services, db: Database, tmp_path: Path, bad: dict[str, str], expected: list[str]
) -> None:
    contents = {"staff": STAFF, "patients": PATIENTS, "entries": ENTRIES, "months": MONTHS}
    contents.update(bad)
    before = db_dump(db)
    problems = failing(services, files(tmp_path, **contents))
    assert problems == expected
    assert db_dump(db) == before


def test_a_file_matching_no_kind_names_the_columns_it_lacks(
    services: Services, tmp_path: Path
) -> None:
    problems = failing(services, files(tmp_path, odd="name,phone\nA,1\n"))
    assert problems == [
        "odd.csv:1: (header): is not a ccmdesk import file: staff needs staff_id, role; payers "
        "needs payer_id, kind; patients needs mrn, last_name; waivers needs mrn, from_month; "
        "time entries needs mrn, staff_id, start; patient months needs mrn, month"
    ]


def test_a_file_of_one_endless_field_is_refused_not_read_into_memory(
    services: Services, tmp_path: Path
) -> None:
    path = tmp_path / "staff.csv"
    path.write_text("staff_id,name,role\nx," + "A" * 1_100_000 + ",clinical\n", encoding="utf-8")
    problems = failing(services, [path])
    assert len(problems) == 1 and problems[0].startswith(
        "staff.csv:2: (row): cannot be read as CSV"
    )


def test_line_numbers_count_physical_lines_and_quoted_breaks(
    services: Services, tmp_path: Path
) -> None:
    text = STAFF + 'nurse-2,"Multi\nLine Name",clinical,RN,\nbad id,X,clinical,,\n'
    problems = failing(services, files(tmp_path, staff=text))
    # Header is line 1, three rows (2-4), a record spanning lines 5-6 (reported where it starts;
    # a name may not hold a line break), then the bad row on 7.
    assert problems == [
        "staff.csv:5: name: contains line breaks or control characters",
        "staff.csv:7: staff_id: 'bad id' is not a staff id: letters, digits, '.', '_' or '-', "
        "at most 40",
    ]


def test_the_same_key_in_two_files_is_an_error(services: Services, tmp_path: Path) -> None:
    first = tmp_path / "a"
    second = tmp_path / "b"
    first.mkdir()
    second.mkdir()
    with pytest.raises(ImportFailed) as caught:
        services.imports.import_paths(CLI, files(first, staff=STAFF) + files(second, staff=STAFF))
    assert caught.value.problems[0] == (
        f"{second / 'staff.csv'}:2: staff_id: 'dr-a' is also in {first / 'staff.csv'} line 2"
    )


@pytest.mark.usefixtures("practice")
def test_an_entry_overlapping_a_stored_entry_is_refused(
    services: Services, db: Database, tmp_path: Path
) -> None:
    services.imports.import_paths(
        CLI, files(tmp_path, staff=STAFF, patients=PATIENTS, entries=ENTRIES)
    )
    later = (
        ENTRIES.splitlines()[0]
        + "\n1002,ma-kim,2026-03-04T09:19:00-05:00,2026-03-04T09:25:00-05:00,,,,\n"
    )
    before = db_dump(db)
    problems = failing(services, files(tmp_path, more=later))
    assert problems == [
        "more.csv:2: start: This overlaps ma-kim's 09:00\N{EN DASH}09:20 entry for MRN 1001 on "
        "04 Mar 2026; change the start or end."
    ]
    assert db_dump(db) == before
    touching = later.replace("09:19:00", "09:20:00")
    assert (
        services.imports.import_paths(CLI, files(tmp_path, more=touching))
        .counts["time entries"]
        .created
        == 1
    )


def test_unreadable_and_non_utf8_files_are_reported(services: Services, tmp_path: Path) -> None:
    latin = tmp_path / "latin.csv"
    latin.write_bytes("staff_id,name,role\nx,Jos\xe9,clinical\n".encode("latin-1"))
    assert failing(services, [latin]) == ["latin.csv:1: (file): is not UTF-8 text (byte 24)"]
    missing = tmp_path / "missing.csv"
    assert failing(services, [missing])[0].startswith("missing.csv:1: (file): cannot be read")


def test_only_admins_and_the_command_line_may_import(staffed: Services, tmp_path: Path) -> None:
    with pytest.raises(PermissionDenied):
        staffed.imports.import_paths(NURSE, files(tmp_path, staff=STAFF))


def test_import_cannot_strand_patients_by_changing_their_practitioner_role(
    services: Services, db: Database, tmp_path: Path
) -> None:
    services.imports.import_paths(CLI, files(tmp_path, staff=STAFF, patients=PATIENTS))
    demoted = STAFF.replace(
        f"dr-a,Dr. A,practitioner,MD,{VALID_NPIS[0]}", "dr-a,Dr. A,clinical,MD,"
    )
    before = db_dump(db)
    assert failing(services, files(tmp_path, staff=demoted)) == [
        "staff.csv:2: role: 2 patient(s) have Dr. A as billing practitioner; move them to "
        "another practitioner first"
    ]
    assert db_dump(db) == before


ADMINS = """staff_id,name,role
boss-1,Pat One,admin
boss-2,Sam Two,admin
"""


def test_staff_changes_are_judged_on_the_state_after_the_whole_import(
    services: Services, db: Database, tmp_path: Path
) -> None:
    services.imports.import_paths(CLI, files(tmp_path, admins=ADMINS))
    both_demoted = ADMINS.replace(",admin", ",billing")
    before = db_dump(db)
    assert failing(services, files(tmp_path, admins=both_demoted)) == [
        "admins.csv:2: role: these files would leave no active administrator; keep one",
        "admins.csv:3: role: these files would leave no active administrator; keep one",
    ]
    assert db_dump(db) == before
    # Handing the role over in the same file is fine: an administrator remains afterwards.
    handover = "staff_id,name,role\nboss-1,Pat One,billing\nboss-2,Sam Two,billing\nboss-3,Al Three,admin\n"
    assert (
        services.imports.import_paths(CLI, files(tmp_path, admins=handover)).counts["staff"].updated
        == 2
    )


def test_a_care_manager_cannot_change_role_while_patients_name_her(
    services: Services, db: Database, tmp_path: Path
) -> None:
    patients = PATIENTS.replace(
        "billing_practitioner,conditions", "billing_practitioner,care_manager,conditions"
    )
    patients = patients.replace("dr-a,E11.9;I10", "dr-a,rn-lee,E11.9;I10").replace(
        "dr-a,I50.22", "dr-a,rn-lee,I50.22"
    )
    services.imports.import_paths(CLI, files(tmp_path, staff=STAFF, patients=patients))
    to_billing = STAFF.replace("rn-lee,Grace Lee,clinical", "rn-lee,Grace Lee,billing")
    assert failing(services, files(tmp_path, staff=to_billing)) == [
        "staff.csv:3: role: 2 patient(s) have Grace Lee as care manager; give them another care "
        "manager first"
    ]
    # Moving both patients to another care manager in the same import makes the change fine.
    moved = patients.replace(",rn-lee,", ",ma-kim,")
    summary = services.imports.import_paths(CLI, files(tmp_path, staff=to_billing, patients=moved))
    assert summary.counts["staff"].updated == 1 and summary.counts["patients"].updated == 2


# --- input limits (#15) ------------------------------------------------------------------------


def test_problem_lines_show_control_characters_escaped_so_a_cell_cannot_forge_one(
    services: Services, db: Database, tmp_path: Path
) -> None:
    forged = '"x\nstaff.csv:9: role: all fine here\x1b[2J"'
    text = (
        "staff_id,name,role,credentials,npi,e\x1bmail\r\n"
        f"{forged},Ann\u202eeno,clinical,RN,,\r\n"
        "rn-b,Bo,nurse\u2028x,RN,,\r\n"
    )
    path = tmp_path / "staff.csv"
    path.write_bytes(text.encode("utf-8"))
    before = db_dump(db)
    with pytest.raises(ImportFailed) as caught:
        services.imports.import_paths(CLI, [path])
    problems = [p.replace(f"{tmp_path}/", "") for p in caught.value.problems]
    assert problems == [
        "staff.csv:1: e\\x1bmail: unknown column in a staff file",
        "staff.csv:2: staff_id: 'x\\nstaff.csv:9: role: all fine here\\x1b[2J' is not a staff "
        "id: letters, digits, '.', '_' or '-', at most 40",
        "staff.csv:4: role: 'nurse\\u2028x' is not a role; use one of clinical, practitioner, "
        "non_clinical, billing, admin",
    ]
    # The whole message, as the command line prints it, holds no character a terminal acts on.
    message = str(caught.value)
    assert message.count("\n") == len(problems)
    assert all(line.isprintable() for line in message.splitlines())
    assert db_dump(db) == before


def test_odd_months_long_notes_and_too_many_codes_are_refused_by_import(
    services: Services, db: Database, tmp_path: Path
) -> None:
    services.imports.import_paths(CLI, files(tmp_path, staff=STAFF, patients=PATIENTS))
    entries = (
        ENTRIES.splitlines()[0]
        + "\n"
        + (
            f"1001,rn-lee,2026-03-04T09:00:00-05:00,2026-03-04T09:08:00-05:00,ccm,no,,{'n' * 2001}\n"
            f"1002,rn-lee,2026-03-05T09:00:00-05:00,2026-03-05T09:08:00-05:00,ccm,no,,{'n' * 2000}\n"
        )
    )
    many = ";".join(f"G{n:04d}" for n in range(21))
    months = (
        "mrn,month,other_services\n"
        "1001,２０２６-03,\n1001,1999-12,\n1001,2100-01,\n1001,2026-1,\n"
        f"1002,2026-03,{many}\n1002, 2026-02 ,\n"
    )
    before = db_dump(db)
    assert failing(services, files(tmp_path, entries=entries, months=months)) == [
        "entries.csv:2: note: is 2001 characters long; at most 2000",
        "months.csv:2: month: '２０２６-03' is not a month; use YYYY-MM written with the digits 0-9",
        "months.csv:3: month: '1999-12' is outside the months ccmdesk handles, 2000-01 to 2099-12",
        "months.csv:4: month: '2100-01' is outside the months ccmdesk handles, 2000-01 to 2099-12",
        "months.csv:5: month: '2026-1' is not a month; use YYYY-MM",
        "months.csv:6: other_services: lists 21 codes; at most 20",
    ]
    assert db_dump(db) == before


def test_a_file_wrong_on_every_row_lists_the_first_problems_and_counts_them_all(
    services: Services, tmp_path: Path
) -> None:
    rows = "".join(f"id {n},Name,clinical\n" for n in range(1_500))
    path = tmp_path / "staff.csv"
    path.write_text("staff_id,name,role\n" + rows, encoding="utf-8")
    with pytest.raises(ImportFailed) as caught:
        services.imports.import_paths(CLI, [path])
    error = caught.value
    assert (error.total, len(error.problems)) == (1_500, 1_000)
    assert str(error).startswith(
        "Nothing was imported: 1,500 problem(s); the first 1,000 are listed.\n"
    )
    assert error.problems[0].endswith("staff.csv:2: staff_id: 'id 0' is not a staff id: "
                                      "letters, digits, '.', '_' or '-', at most 40")  # fmt: skip
    assert f"staff.csv:{1_001}: staff_id: 'id 999'" in error.problems[-1]


@pytest.mark.parametrize(
    "changed",
    [
        PATIENTS.replace("1950-02-03", "1950-02-30"),  # a row that would now be wrong
        PATIENTS.replace("Rivera", "Rivers"),  # rows still right, but not the ones checked
    ],
)
def test_a_file_that_changes_while_it_is_imported_is_refused(
    services: Services, db: Database, changed: str
) -> None:
    from ccmdesk.services.importing.core import Source

    services.imports.import_data(CLI, [("staff.csv", STAFF.encode())])
    # Checked as it was, then read again for writing after someone saved a change to it.
    contents = [PATIENTS.encode(), changed.encode()]
    opened: list[int] = []

    def open_file() -> io.BytesIO:
        opened.append(1)
        # The first pass, the header and the checking pass read one content; writing another.
        return io.BytesIO(contents[0] if len(opened) <= 3 else contents[1])

    before = db_dump(db)
    with pytest.raises(ImportFailed) as caught:
        services.imports._import(CLI, [Source("patients.csv", open_file)])
    assert caught.value.problems == [
        "patients.csv:1: (file): changed while it was being imported; make sure nothing else "
        "writes to it and import it again"
    ]
    assert len(opened) == 4
    assert db_dump(db) == before


@pytest.mark.usefixtures("practice")
def test_rows_far_apart_in_a_long_file_are_checked_against_each_other(
    services: Services, db: Database, tmp_path: Path
) -> None:
    """Rows are read in batches; duplicates and overlaps are still found across batches."""
    services.imports.import_paths(CLI, files(tmp_path, staff=STAFF, patients=PATIENTS))
    start = dt.datetime(2026, 1, 1, 14, 0, tzinfo=dt.UTC)
    lines = ["mrn,staff_id,start,end,note"]
    for n in range(1_200):
        begin = start + dt.timedelta(minutes=10 * n)
        lines.append(
            f"{1001 + n % 2},rn-lee,{begin.isoformat()},"
            f"{(begin + dt.timedelta(minutes=9)).isoformat()},row {n}"
        )
    good = "\n".join(lines) + "\n"
    summary = services.imports.import_paths(CLI, files(tmp_path, entries=good))
    assert summary.counts["time entries"].created == 1_200
    again = services.imports.import_paths(CLI, files(tmp_path, entries=good))
    assert again.counts["time entries"].unchanged == 1_200
    before = db_dump(db)
    inside = start + dt.timedelta(minutes=10 * 599 + 1)  # within row 599 (line 601, MRN 1002)
    bad = (
        good
        + lines[1]
        + "\n"
        + (f"1001,rn-lee,{inside.isoformat()},{(inside + dt.timedelta(minutes=5)).isoformat()},\n")
    )
    # Row 599 is 17:50-17:59 UTC on 5 January: 12:50-12:59 in New York.
    assert failing(services, files(tmp_path, entries=bad)) == [
        "entries.csv:1202: start: this entry appears twice in this file (first on line 2)",
        "entries.csv:1203: start: This overlaps rn-lee's 12:50\N{EN DASH}12:59 entry for MRN "
        "1002 on 05 Jan 2026; change the start or end.",
    ]
    assert db_dump(db) == before


def entries_file(path: Path, rows: int, first: dt.datetime) -> Path:
    """`rows` time entries of one nurse, back to back from `first`, for two patients."""
    with path.open("w", encoding="utf-8", newline="") as out:
        out.write("mrn,staff_id,start,end,activity,note\n")
        for n in range(rows):
            begin = first + dt.timedelta(minutes=10 * n)
            end = begin + dt.timedelta(minutes=8)
            out.write(f"{1001 + n % 2},rn-lee,{begin.isoformat()},{end.isoformat()},Call,"
                      f"spoke with the patient about row {n}\n")  # fmt: skip
    return path


@pytest.mark.slow
def test_a_big_import_keeps_memory_flat(services: Services, tmp_path: Path) -> None:
    """Rows are streamed: ten times the rows must not take ten times the memory.

    Before streaming, every row held on to about 9 KB (its parsed values, its ORM objects and
    audit event) until the commit: 986 MB for 100,000 rows.
    """
    services.imports.import_paths(CLI, files(tmp_path, staff=STAFF, patients=PATIENTS))
    first = dt.datetime(2024, 1, 1, 14, 0, tzinfo=dt.UTC)
    services.imports.import_paths(CLI, [entries_file(tmp_path / "warm.csv", 50, first)])

    def peak(rows: int, first: dt.datetime) -> int:
        path = entries_file(tmp_path / f"entries-{rows}.csv", rows, first)
        tracemalloc.start()
        try:
            summary = services.imports.import_paths(CLI, [path])
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        assert summary.counts["time entries"].created == rows
        return peak

    small = peak(500, dt.datetime(2024, 6, 1, 14, 0, tzinfo=dt.UTC))
    big = peak(5_000, dt.datetime(2025, 1, 1, 14, 0, tzinfo=dt.UTC))
    per_row = (big - small) / 4_500
    assert per_row < 1_000, f"{per_row:.0f} bytes more per row ({small:,} -> {big:,} bytes)"
