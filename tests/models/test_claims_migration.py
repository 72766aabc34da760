"""Migration 0010 adds the claim settings and starts each enrolment history from the record."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import text

from ccmdesk.db import _alembic_config, create_db_engine, open_database


def _database_at_0009(path: Path) -> None:
    from alembic import command

    engine, _ = create_db_engine(f"sqlite:///{path}")
    with engine.begin() as connection:
        command.upgrade(_alembic_config(connection), "0009")
        for number, (consented, revoked) in enumerate(
            [("2026-01-05", None), ("2026-02-01", "2026-04-20"), (None, None)], start=1
        ):
            connection.execute(
                text("INSERT INTO patient (id, mrn, last_name, first_name, dob, sex, phone, "
                     "address, city, state, zip, payer, payer_type, member_id, qmb, "
                     "insured_relationship, insured_last_name, insured_first_name, "
                     "secondary_member_id, signature_on_file) VALUES (:id, :mrn, 'Doe', 'Jo', "
                     "'1950-01-01', 'F', '', '', '', '', '', '', '', '', 0, 'self', '', '', '', "
                     "'')"),
                {"id": number, "mrn": f"P{number}"},
            )  # fmt: skip
            connection.execute(
                text("INSERT INTO enrollment (patient_id, consent_date, consent_revoked_date) "
                     "VALUES (:id, :consented, :revoked)"),
                {"id": number, "consented": consented, "revoked": revoked},
            )  # fmt: skip
        connection.execute(
            text("INSERT INTO practice (name, address, phone, tin, timezone, place_of_service, "
                 "date_of_service_rule, idle_minutes, auto_lock_minutes, activities, "
                 "attestation) VALUES ('Clinic', '1 Main St', '', '', 'America/New_York', '11', "
                 "'last_day', 5, 10, '', '')")
        )  # fmt: skip
    engine.dispose()


def test_the_enrolment_history_starts_from_consent_and_revocation(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    _database_at_0009(path)
    db = open_database(f"sqlite:///{path}", tmp_path / "backups")
    with db.read() as session:
        history = session.execute(
            text("SELECT patient_id, step, day, reason, recorded_by FROM enrolment_event "
                 "ORDER BY patient_id, day")
        ).all()  # fmt: skip
        practice = session.execute(
            text("SELECT tin_kind, accept_assignment, collects_signature, isa_qualifier, usage, "
                 "control_number, street FROM practice")
        ).one()  # fmt: skip
        cannot_pay = session.execute(text("SELECT DISTINCT cannot_pay FROM patient")).all()
    db.dispose()
    assert history == [
        (1, "consented", "2026-01-05", None, "upgrade"),
        (2, "consented", "2026-02-01", None, "upgrade"),
        (2, "revoked", "2026-04-20", None, "upgrade"),
    ]
    # The practice keeps billing as before: EIN, accepts assignment, collects the signature,
    # test files until it says otherwise, and no control number used yet.
    assert tuple(practice) == ("ein", 1, 1, "ZZ", "T", 0, "")
    assert cannot_pay == [(0,)]
