"""Migration 0009 turns the patients' old payer text into payers and primary coverage."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import text

from ccmdesk.db import _alembic_config, create_db_engine, open_database

# (mrn, payer, payer_type, member_id): every case docs/payers.md names for the migration.
OLD_PATIENTS = [
    ("P1", "Medicare Part B", "medicare", "1EG4TE5MK73"),
    ("P2", "  medicare part b ", "", "1EG4TE5MK74"),
    ("P3", "Aetna Medicare", "medicare_advantage", "A1"),
    ("P4", "AETNA MEDICARE", "medicare_advantage", "A2"),
    ("P5", "Aetna Medicare", "commercial", "A3"),
    ("P6", "Blue Cross & Blue Shield of Somewhere", "", "B1"),
    ("P7", "Blue Cross & Blue Shield of Elsewhere", "commercial", "B2"),
    ("P8", "", "", ""),
    ("P9", "", "medicaid", "M1"),
    ("P10", "MCR B", "medicare", "1EG4TE5MK75"),
]


def url(path: Path) -> str:
    return f"sqlite:///{path}"


def _database_at_0008(path: Path) -> None:
    from alembic import command

    engine, _ = create_db_engine(url(path))
    with engine.begin() as connection:
        command.upgrade(_alembic_config(connection), "0008")
        for mrn, payer, payer_type, member_id in OLD_PATIENTS:
            connection.execute(
                text("INSERT INTO patient (mrn, last_name, first_name, dob, sex, phone, address, "
                     "city, state, zip, payer, payer_type, member_id, qmb) VALUES (:mrn, 'Doe', "
                     "'Jo', '1950-01-01', 'F', '', '', '', '', '', :payer, :type, :member, 0)"),
                {"mrn": mrn, "payer": payer, "type": payer_type, "member": member_id},
            )  # fmt: skip
    engine.dispose()


def test_old_payer_text_becomes_payers_and_primary_coverage(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    _database_at_0008(path)
    db = open_database(url(path), tmp_path / "backups")
    with db.read() as session:
        payers = session.execute(
            text("SELECT payer_id, name, kind, covers, coinsurance_percent, edi_payer_id, "
                 "retired FROM payer ORDER BY id")
        ).all()  # fmt: skip
        coverage = dict(
            session.execute(
                text("SELECT mrn, coalesce(payer.payer_id, '') || ' ' || member_id || ' ' || "
                     "insured_relationship FROM patient LEFT JOIN payer ON payer.id = "
                     "primary_payer_id")
            ).all()
        )  # fmt: skip
        old_text = session.execute(text("SELECT mrn, payer, payer_type FROM patient")).all()
    db.dispose()
    all_programs = "ccm;pcm;apcm;bhi"
    assert payers == [
        ("mcr-b", "Medicare Part B", "medicare", all_programs, 20, "", False),
        ("aetna-medicare", "Aetna Medicare", "medicare_advantage", "unknown", 20, "", False),
        ("aetna-medicare-2", "Aetna Medicare", "commercial", "unknown", 20, "", False),
        ("blue-cross-blue-shie", "Blue Cross & Blue Shield of Elsewhere", "commercial",
         "unknown", 20, "", False),
        ("blue-cross-blue-sh-2", "Blue Cross & Blue Shield of Somewhere", "commercial",
         "unknown", 20, "", False),
        ("mcr-b-2", "MCR B", "medicare", all_programs, 20, "", False),
        ("medicaid", "Medicaid", "medicaid", "unknown", 20, "", False),
    ]  # fmt: skip
    assert coverage == {
        "P1": "mcr-b 1EG4TE5MK73 self",
        "P2": "mcr-b 1EG4TE5MK74 self",
        "P3": "aetna-medicare A1 self",
        "P4": "aetna-medicare A2 self",
        "P5": "aetna-medicare-2 A3 self",
        "P6": "blue-cross-blue-sh-2 B1 self",
        "P7": "blue-cross-blue-shie B2 self",
        "P8": "  self",
        "P9": "medicaid M1 self",
        "P10": "mcr-b-2 1EG4TE5MK75 self",
    }
    # The old text stays as it was: the superbill and handoff print it unchanged.
    assert sorted(old_text) == sorted((m, p, t) for m, p, t, _ in OLD_PATIENTS)


def test_a_new_database_has_only_medicare_part_b(tmp_path: Path) -> None:
    db = open_database(url(tmp_path / "new.sqlite3"))
    with db.read() as session:
        payers = session.execute(
            text("SELECT payer_id, name, kind, covers, coinsurance_percent FROM payer")
        ).all()
    db.dispose()
    assert payers == [("mcr-b", "Medicare Part B", "medicare", "ccm;pcm;apcm;bhi", 20)]


def test_a_migrated_patient_reads_as_before_with_its_payer(tmp_path: Path) -> None:
    from ccmdesk.services import Services
    from tests.helpers.common import CLI

    path = tmp_path / "old.sqlite3"
    _database_at_0008(path)
    services = Services(open_database(url(path), tmp_path / "backups"))
    record = services.patients.get(CLI, "P6")
    assert (record.payer, record.payer_type, record.member_id) == (
        "Blue Cross & Blue Shield of Somewhere", "", "B1"
    )  # fmt: skip
    assert (record.primary_payer, record.relationship, record.secondary_payer) == (
        "blue-cross-blue-sh-2", "self", ""
    )  # fmt: skip
    # Every migrated payer keeps the 20 % every estimate was made with.
    assert {p.coinsurance_percent for p in services.payers.list(CLI)} == {20}


def test_migrated_patients_bill_as_a_patient_with_no_payer_does(tmp_path: Path) -> None:
    """Existing patients keep billing the same after the upgrade: the same codes and amount
    as a patient with no payer; a payer whose coverage is not known adds a warning only."""
    import datetime as dt

    from ccmdesk.rules.records import PracticeRecord, StaffRecord
    from ccmdesk.services import Services
    from tests.helpers.common import CLI, NOW, NURSE, VALID_NPIS, patient_text

    path = tmp_path / "old.sqlite3"
    _database_at_0008(path)
    db = open_database(url(path), tmp_path / "backups")
    services = Services(db, clock=lambda: NOW)
    services.practice.save(CLI, PracticeRecord(name="Clinic", group_npi=VALID_NPIS[1]))
    services.staff.save(CLI, StaffRecord("dr-a", "Dr. A", "practitioner", "MD", VALID_NPIS[0]),
                        is_new=True)  # fmt: skip
    services.staff.save(CLI, StaffRecord("rn-lee", "Grace Lee", "clinical", "RN"), is_new=True)
    start = dt.datetime(2026, 3, 3, 14, 0, tzinfo=dt.UTC)
    # Every old patient, and one with no payer at all, with the same record and 25 minutes.
    for n, (mrn, payer, payer_type, member_id) in enumerate([*OLD_PATIENTS, ("P0", "", "", "")]):
        services.patients.save_text(
            CLI, patient_text(mrn=mrn, payer=payer, payer_type=payer_type, member_id=member_id),
            original_mrn=None if mrn == "P0" else mrn,
        )  # fmt: skip
        begin = start + dt.timedelta(hours=n)
        services.entries.add_manual(NURSE, mrn, begin, begin + dt.timedelta(minutes=25),
                                    reason="call")  # fmt: skip
    rows = {row.mrn: row.result for row in services.billing.month(CLI, "2026-03").rows}
    db.dispose()
    baseline = rows.pop("P0")
    assert baseline.billable
    # A month past its end and not signed warns so; a payer may add only its own warning.
    expected = set(baseline.warnings)
    for mrn, result in rows.items():
        assert (result.billable, result.blocks, result.amount_cents) == (
            True, (), baseline.amount_cents), mrn  # fmt: skip
        assert [line.code for line in result.lines] == [line.code for line in baseline.lines]
        assert set(result.warnings) - expected <= {"COVERAGE_UNKNOWN"}, mrn
    # Medicare keeps every program; the others are not known until billing staff ask.
    unknown = {mrn for mrn, result in rows.items() if "COVERAGE_UNKNOWN" in result.warnings}
    assert unknown == {"P3", "P4", "P5", "P6", "P7", "P9"}
