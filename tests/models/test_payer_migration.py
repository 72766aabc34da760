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
