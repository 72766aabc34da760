"""The command line, as formats.md describes it."""

from __future__ import annotations

import gc
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from ccmdesk import __version__
from ccmdesk.cli import main
from ccmdesk.db import Database
from ccmdesk.services import Services
from tests.helpers.common import VALID_NPIS
from tests.helpers.database import damage_an_index


def run(*args: str, data_dir: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ccmdesk", "--data-dir", str(data_dir), *args],
        capture_output=True,
        text=True,
        timeout=120,
    )


def table_counts(data_dir: Path) -> dict[str, int]:
    connection = sqlite3.connect(data_dir / "ccmdesk.sqlite3")
    try:
        return {
            table: connection.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
            for table in ("staff", "patient", "time_entry", "patient_month", "audit_event")
        }
    finally:
        connection.close()


def test_version_prints_the_package_version(tmp_path: Path) -> None:
    result = run("--version", data_dir=tmp_path)
    assert result.returncode == 0
    assert result.stdout.strip() == f"ccmdesk {__version__}"


def test_practice_creates_then_updates_only_what_is_given(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["--data-dir", str(tmp_path), "practice"]
    assert main([*args, "--group-npi", VALID_NPIS[1]]) == 1
    assert "--name is required" in capsys.readouterr().err
    assert main([*args, "--name", "Harbor", "--group-npi", VALID_NPIS[1], "--tin", "12-3456789",
                 "--address", "1 Main St", "--phone", "555", "--timezone", "America/Chicago",
                 "--pos", "11"]) == 0  # fmt: skip
    assert "Practice saved: Harbor" in capsys.readouterr().out
    assert main([*args, "--pos", "02"]) == 0
    assert main([*args, "--timezone", "Mars/Olympus", "--group-npi", "1234567890"]) == 1
    err = capsys.readouterr().err
    assert "practice: group_npi: '1234567890' is not a valid NPI" in err
    assert "practice: timezone: 'Mars/Olympus' is not a time zone" in err
    connection = sqlite3.connect(tmp_path / "ccmdesk.sqlite3")
    row = connection.execute(
        "SELECT name, tin, timezone, place_of_service FROM practice"
    ).fetchone()
    connection.close()
    assert row == ("Harbor", "123456789", "America/Chicago", "02")


def test_practice_sets_the_after_hours_phone_and_keeps_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["--data-dir", str(tmp_path), "practice"]
    assert main([*args, "--name", "Harbor", "--after-hours-phone", "207-555-0199"]) == 0
    assert main([*args, "--phone", "207-555-0100"]) == 0  # another flag keeps it
    capsys.readouterr()
    connection = sqlite3.connect(tmp_path / "ccmdesk.sqlite3")
    row = connection.execute("SELECT phone, after_hours_phone FROM practice").fetchone()
    connection.close()
    assert row == ("207-555-0100", "207-555-0199")


def test_practice_apcm_flags_attest_and_withdraw(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["--data-dir", str(tmp_path), "practice"]
    assert main([*args, "--name", "Harbor"]) == 0
    staff = tmp_path / "staff.csv"
    staff.write_text(
        f"staff_id,name,role,credentials,npi\ndr-a,Dr. A,practitioner,MD,{VALID_NPIS[0]}\n"
        "rn-lee,Grace Lee,clinical,RN,\n",
        encoding="utf-8",
    )
    assert main(["--data-dir", str(tmp_path), "import", str(staff)]) == 0
    capsys.readouterr()
    assert main([*args, "--apcm-attested-by", "rn-lee"]) == 1
    assert "'rn-lee' is not an active practitioner" in capsys.readouterr().err
    assert main([*args, "--apcm-attested-by", "dr-a"]) == 0
    out = capsys.readouterr().out
    assert out == "APCM prerequisites attested by Dr. A (dr-a).\n"  # the practice is not saved

    def attested() -> tuple[object, ...]:
        connection = sqlite3.connect(tmp_path / "ccmdesk.sqlite3")
        row = connection.execute(
            "SELECT apcm_attested_by_id IS NOT NULL, apcm_attested_at IS NOT NULL FROM practice"
        ).fetchone()
        connection.close()
        return tuple(row)

    assert attested() == (1, 1)
    assert main([*args, "--withdraw-apcm"]) == 0
    assert "APCM attestation withdrawn" in capsys.readouterr().out
    assert attested() == (0, 0)


def test_practice_claim_flags_change_only_what_they_name(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["--data-dir", str(tmp_path), "practice"]
    assert main([*args, "--name", "Harbor", "--address", "12 Harbor Rd, Portland, ME"]) == 0
    assert main([*args, "--street", "12 Harbor Rd", "--city", "Portland", "--state", "me",
                 "--zip", "04101-1234", "--taxonomy", "207q00000x", "--tin-kind", "ssn",
                 "--accept-assignment", "no", "--collects-signature", "no",
                 "--submitter-id", "HARBOR01", "--submitter-name", "Harbor Clinic",
                 "--submitter-phone", "(207) 555-0100", "--receiver-id", "CLEARCO",
                 "--receiver-name", "Clear Co", "--isa-qualifier", "30",
                 "--isa-id", "123456789", "--usage", "p"]) == 0  # fmt: skip
    columns = (
        "address, street, city, state, zip, taxonomy, tin_kind, accept_assignment, "
        "collects_signature, submitter_id, submitter_name, submitter_phone, receiver_id, "
        "receiver_name, isa_qualifier, isa_id, usage"
    )

    def stored() -> tuple[object, ...]:
        connection = sqlite3.connect(tmp_path / "ccmdesk.sqlite3")
        try:
            return tuple(connection.execute(f"SELECT {columns} FROM practice").fetchone())
        finally:
            connection.close()

    everything = ("12 Harbor Rd, Portland, ME", "12 Harbor Rd", "Portland", "ME", "04101-1234",
                  "207Q00000X", "ssn", 0, 0, "HARBOR01", "Harbor Clinic", "2075550100",
                  "CLEARCO", "Clear Co", "30", "123456789", "P")  # fmt: skip
    assert stored() == everything
    # One flag changes one setting; the printed address and the parts stay apart.
    assert main([*args, "--accept-assignment", "yes"]) == 0
    assert main([*args, "--address", "PO Box 9, Portland, ME"]) == 0
    assert stored() == ("PO Box 9, Portland, ME", *everything[1:7], 1, *everything[8:])
    capsys.readouterr()
    assert main([*args, "--state", "XX", "--zip", "0410", "--isa-qualifier", "AB"]) == 1
    err = capsys.readouterr().err
    assert "practice: state: 'XX' is not a US state code, e.g. ME" in err
    assert "practice: zip: '0410' is not a ZIP code (12345 or 12345-6789)" in err
    assert "practice: isa_qualifier: 'AB' is not an interchange id qualifier" in err
    assert stored()[3:5] == ("ME", "04101-1234")  # nothing saved
    with pytest.raises(SystemExit):  # argparse names the choices
        main([*args, "--usage", "X"])
    assert "argument --usage: invalid choice: 'X'" in capsys.readouterr().err


def test_demo_csv_out_then_import_then_reimport(tmp_path: Path) -> None:
    files = tmp_path / "demo-files"
    data = tmp_path / "data"
    result = run("demo", "--csv-out", str(files), data_dir=data)
    assert result.returncode == 0, result.stderr
    names = sorted(p.name for p in files.iterdir())
    assert names == [
        "patient_months.csv", "patients.csv", "payers.csv", "staff.csv", "time_entries.csv",
    ]  # fmt: skip
    assert not data.exists()  # writing the files does not touch a database

    paths = [str(files / name) for name in reversed(names)]  # any order
    result = run("import", *paths, data_dir=data)
    assert result.returncode == 0, result.stderr
    assert "staff: 8 added" in result.stdout
    counts = table_counts(data)
    assert counts["patient"] >= 190 and counts["time_entry"] > 1000

    result = run("import", *paths, data_dir=data)
    assert result.returncode == 0
    assert "0 added, 0 updated" in result.stdout
    assert table_counts(data) == counts


def test_a_bad_import_exits_non_zero_lists_every_problem_and_changes_nothing(
    tmp_path: Path,
) -> None:
    data = tmp_path / "data"
    staff = tmp_path / "staff.csv"
    staff.write_text(f"staff_id,name,role,npi\ndr-a,Dr A,practitioner,{VALID_NPIS[0]}\n")
    assert run("import", str(staff), data_dir=data).returncode == 0
    before = table_counts(data)
    bad_staff = tmp_path / "more-staff.csv"
    bad_staff.write_text("staff_id,name,role,npi,email\ndr-b,Dr B,practitioner,1234567890,x\n")
    patients = tmp_path / "patients.csv"
    patients.write_text(
        "mrn,last_name,first_name,dob,payer_type,member_id,billing_practitioner,conditions\n"
        "1,Ng,Al,2099-01-01,medicare,BADMBI,dr-a,E11.9;XYZ\n"
        "1,Ng,Bo,1950-01-01,,,dr-q,I10\n"
    )
    entries = tmp_path / "entries.csv"
    entries.write_text("mrn,staff_id,end\n1,dr-a,2026-03-01T10:00:00Z\n")
    result = run("import", str(bad_staff), str(patients), str(entries), data_dir=data)
    assert result.returncode == 1
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert lines == [
        "ccmdesk: import: Nothing was imported: 8 problem(s).",
        f"{bad_staff}:1: email: unknown column in a staff file",
        f"{bad_staff}:2: npi: '1234567890' is not a valid NPI: the check digit does not match",
        f"{patients}:2: dob: 2099-01-01 is in the future",
        f"{patients}:2: member_id: 'BADMBI' is not a Medicare MBI: it must be 11 characters, "
        "it has 6",
        f"{patients}:2: conditions: 'XYZ' is not an ICD-10-CM code",
        f"{patients}:3: billing_practitioner: no staff member has staff_id 'dr-q'",
        f"{patients}:3: mrn: '1' appears twice in this file (first on line 2)",
        f"{entries}:1: (header): is not a ccmdesk import file: staff needs role; payers needs "
        "payer_id, kind; patients needs last_name; waivers needs from_month; time entries needs "
        "start; patient months "
        "needs month",
    ]
    assert table_counts(data) == before


def test_demo_refuses_a_database_with_patients(tmp_path: Path) -> None:
    assert run("demo", data_dir=tmp_path).returncode == 0
    result = run("demo", data_dir=tmp_path)
    assert result.returncode == 1
    assert "already holds patients" in result.stderr


def test_a_newer_database_is_refused_with_a_clear_message(tmp_path: Path) -> None:
    assert run("practice", "--name", "X", data_dir=tmp_path).returncode == 0
    connection = sqlite3.connect(tmp_path / "ccmdesk.sqlite3")
    connection.execute("UPDATE alembic_version SET version_num='0999'")
    connection.commit()
    connection.close()
    result = run("practice", "--name", "Y", data_dir=tmp_path)
    assert result.returncode == 1
    assert "written by a newer version of ccmdesk" in result.stderr


def test_the_data_dir_comes_from_the_environment_when_not_given(tmp_path: Path) -> None:
    env_dir = tmp_path / "from-env"
    result = subprocess.run(
        [sys.executable, "-m", "ccmdesk", "practice", "--name", "Env Practice"],
        capture_output=True,
        text=True,
        env={**__import__("os").environ, "CCMDESK_DATA_DIR": str(env_dir)},
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert (env_dir / "ccmdesk.sqlite3").exists()


def test_unknown_arguments_are_refused_for_commands(tmp_path: Path) -> None:
    result = run("import", "--bogus", "x.csv", data_dir=tmp_path)
    assert result.returncode == 2
    assert "unrecognized arguments: --bogus" in result.stderr


def test_no_command_opens_the_gui_with_the_remaining_arguments(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import ccmdesk.ui.app

    seen: dict[str, object] = {}

    def fake_run_gui(services: object, data_dir: Path, argv: list[str]) -> int:
        seen.update(data_dir=data_dir, argv=argv[1:], practice=services.practice.get())  # type: ignore[attr-defined]
        seen["gc_paused"] = not gc.isenabled()  # start-up runs without cyclic collection
        return 7

    monkeypatch.setattr(ccmdesk.ui.app, "run_gui", fake_run_gui)
    assert main(["--data-dir", str(tmp_path), "--user", "rn-lee", "-style", "fusion"]) == 7
    assert seen == {"data_dir": tmp_path.resolve(), "argv": ["--user", "rn-lee", "-style", "fusion"],
                    "practice": None, "gc_paused": True}  # fmt: skip
    assert gc.isenabled()


def test_help_lists_every_command(tmp_path: Path) -> None:
    result = run("--help", data_dir=tmp_path)
    assert result.returncode == 0
    assert all(command in result.stdout for command in ("practice", "import", "demo"))


def test_a_gui_start_that_cannot_open_the_database_says_why_in_a_window(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import ccmdesk.ui.app

    assert main(["--data-dir", str(tmp_path), "practice", "--name", "X"]) == 0
    connection = sqlite3.connect(tmp_path / "ccmdesk.sqlite3")
    connection.execute("UPDATE alembic_version SET version_num='0999'")
    connection.commit()
    connection.close()
    shown: list[str] = []
    monkeypatch.setattr(ccmdesk.ui.app, "show_startup_error", shown.append)
    assert main(["--data-dir", str(tmp_path)]) == 1
    assert len(shown) == 1 and "newer version of ccmdesk" in shown[0]
    assert "newer version of ccmdesk" in capsys.readouterr().err


def test_a_mistyped_command_is_refused_instead_of_opening_the_gui(tmp_path: Path) -> None:
    result = run("imprt", "x.csv", data_dir=tmp_path)
    assert result.returncode == 2
    assert (
        "unknown command 'imprt'; the commands are practice, import, export, demo, audit"
        in result.stderr
    )


def test_a_damaged_database_file_gives_a_message_not_a_traceback(tmp_path: Path) -> None:
    (tmp_path / "ccmdesk.sqlite3").write_bytes(b"this is not a database file at all" * 100)
    result = run("practice", "--name", "X", data_dir=tmp_path)
    assert result.returncode == 1
    assert result.stderr.strip() == (
        f"ccmdesk: cannot open the database: {tmp_path / 'ccmdesk.sqlite3'} is damaged: it does "
        "not start as an SQLite database does. Restore a backup."
    )


def test_commands_log_to_an_owner_only_file_in_the_data_folder(tmp_path: Path) -> None:
    import stat

    assert run("practice", "--name", "X", data_dir=tmp_path).returncode == 0
    log = tmp_path / "logs" / "ccmdesk.log"
    assert log.exists()
    assert stat.S_IMODE(log.stat().st_mode) == 0o600


def test_database_errors_never_show_the_values_of_a_statement(tmp_path: Path) -> None:
    from sqlalchemy import text
    from sqlalchemy.exc import IntegrityError

    from ccmdesk.db import open_database

    db = open_database(f"sqlite:///{tmp_path / 'x.sqlite3'}")
    with pytest.raises(IntegrityError) as caught, db.session() as session:
        session.execute(
            text(
                "INSERT INTO staff (staff_id, name, role, credentials, active) VALUES (:s, :n, 'nurse', '', 1)"
            ),
            {"s": "rn-secret", "n": "Secret Patientname"},
        )
    db.dispose()
    assert "Secret Patientname" not in str(caught.value)
    assert "hidden due to hide_parameters" in str(caught.value)


def test_audit_verify_passes_untouched_then_names_the_event_someone_edited(
    tmp_path: Path,
) -> None:
    assert run("practice", "--name", "Maple Clinic", data_dir=tmp_path).returncode == 0
    assert run("practice", "--phone", "207-555-0100", data_dir=tmp_path).returncode == 0
    result = run("audit", "verify", data_dir=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "Audit trail intact: 2 events." in result.stdout
    head = result.stdout.split("Head hash: ")[1].strip()
    assert run("audit", "verify", "--head", head, data_dir=tmp_path).returncode == 0

    connection = sqlite3.connect(tmp_path / "ccmdesk.sqlite3")
    connection.execute("DROP TRIGGER audit_event_no_update")
    connection.execute("UPDATE audit_event SET after = '{}' WHERE id = 1")
    connection.commit()
    connection.close()
    result = run("audit", "verify", data_dir=tmp_path)
    assert result.returncode == 1
    assert "broken at event 1 (" in result.stderr
    assert "practice.create by cli:" in result.stderr
    assert "its content was changed" in result.stderr
    assert run("audit", "verify", "--head", "f" * 64, data_dir=tmp_path).returncode == 1


def test_it_staff_set_a_password_from_a_pipe_and_the_person_signs_in_with_it(
    tmp_path: Path,
) -> None:
    from ccmdesk.db import open_database
    from ccmdesk.rules.records import StaffRecord
    from ccmdesk.services import Services
    from tests.helpers.common import CLI

    db = open_database(f"sqlite:///{tmp_path / 'ccmdesk.sqlite3'}")
    Services(db).staff.save(CLI, StaffRecord("rn-lee", "Grace Lee", "clinical"), is_new=True)
    db.dispose()

    def set_password(*args: str, given: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "ccmdesk", "--data-dir", str(tmp_path), "user",
             "set-password", *args],
            input=given, capture_output=True, text=True, timeout=120,
        )  # fmt: skip

    refused = set_password("rn-lee", given="correct horse battery\n")
    assert refused.returncode == 1 and "--password-stdin" in refused.stderr  # no terminal here
    weak = set_password("rn-lee", "--password-stdin", given="short\n")
    assert weak.returncode == 1
    assert "password: A password has at least 8 characters." in weak.stderr
    unknown = set_password("nobody", "--password-stdin", given="correct horse battery\n")
    assert unknown.returncode == 1 and "There is no staff member 'nobody'" in unknown.stderr
    done = set_password("rn-lee", "--password-stdin", given="correct horse battery\n")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "Password set for rn-lee."
    assert "correct horse battery" not in done.stdout + done.stderr

    db = open_database(f"sqlite:///{tmp_path / 'ccmdesk.sqlite3'}")
    try:
        assert Services(db).auth.sign_in("rn-lee", "correct horse battery").key == "rn-lee"
    finally:
        db.dispose()


def test_backup_then_restore_from_the_command_line_and_a_damaged_file_is_refused(
    tmp_path: Path,
) -> None:
    data = tmp_path / "data"
    assert run("practice", "--name", "Maple Clinic", data_dir=data).returncode == 0
    taken = run("backup", "--to", str(tmp_path / "before.sqlite3"), data_dir=data)
    assert taken.returncode == 0, taken.stderr
    assert taken.stdout.strip() == str(tmp_path / "before.sqlite3")
    assert (tmp_path / "before.sqlite3.sha256").exists()
    assert run("practice", "--name", "Renamed Clinic", data_dir=data).returncode == 0
    default = run("backup", data_dir=data)
    assert default.returncode == 0 and "/backups/manual-" in default.stdout

    damaged = tmp_path / "damaged.sqlite3"
    damaged.write_bytes((tmp_path / "before.sqlite3").read_bytes()[:-4096])
    (tmp_path / "damaged.sqlite3.sha256").write_text(
        (tmp_path / "before.sqlite3.sha256").read_text()
    )
    refused = run("restore", str(damaged), data_dir=data)
    assert refused.returncode == 1 and "Nothing was changed" in refused.stderr
    assert "Renamed Clinic" in practice_name(data)

    restored = run("restore", str(tmp_path / "before.sqlite3"), data_dir=data)
    assert restored.returncode == 0, restored.stderr
    assert practice_name(data) == "Maple Clinic"
    kept = restored.stdout.split("kept as ")[1].strip()
    assert "before-restore" in kept and Path(kept).exists()
    verified = run("audit", "verify", data_dir=data)
    assert verified.returncode == 0 and "2 events" in verified.stdout
    connection = sqlite3.connect(data / "ccmdesk.sqlite3")
    try:
        rows = connection.execute("SELECT action FROM audit_event ORDER BY id")
        actions = [row[0] for row in rows]
    finally:
        connection.close()
    assert actions == ["practice.create", "database.restore"]


def practice_name(data_dir: Path) -> str:
    connection = sqlite3.connect(data_dir / "ccmdesk.sqlite3")
    try:
        return connection.execute("SELECT name FROM practice").fetchone()[0]
    finally:
        connection.close()


def test_a_database_that_cannot_be_opened_names_the_latest_good_backup(tmp_path: Path) -> None:
    assert run("practice", "--name", "Maple Clinic", data_dir=tmp_path).returncode == 0
    assert run("backup", data_dir=tmp_path).returncode == 0
    database = tmp_path / "ccmdesk.sqlite3"
    database.write_bytes(b"\0" * 100 + database.read_bytes()[100:])  # the header wiped
    result = run("practice", "--name", "X", data_dir=tmp_path)
    assert result.returncode == 1
    first, second = result.stderr.strip().splitlines()
    assert first.startswith("ccmdesk: cannot open the database: ")
    assert second.startswith("The latest good backup is manual-")
    assert 'ccmdesk restore "' in second and "/backups/manual-" in second


HOLD_OPEN = r"""
import sys
from ccmdesk.db import open_database
db = open_database(sys.argv[1])
print("open", flush=True)
sys.stdin.readline()
db.dispose()
"""


@pytest.mark.skipif(sys.platform == "win32", reason="advisory locks: POSIX")
def test_restore_refuses_while_a_command_has_the_database_open(tmp_path: Path) -> None:
    """An import (any command) with the database open: restoring would make its rows vanish."""
    data = tmp_path / "data"
    assert run("practice", "--name", "Maple Clinic", data_dir=data).returncode == 0
    assert run("backup", "--to", str(tmp_path / "b.sqlite3"), data_dir=data).returncode == 0
    assert run("practice", "--name", "Renamed Clinic", data_dir=data).returncode == 0
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_OPEN, f"sqlite:///{data / 'ccmdesk.sqlite3'}"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "open"
        refused = run("restore", str(tmp_path / "b.sqlite3"), data_dir=data)
        assert refused.returncode == 1
        assert refused.stderr.strip() == (
            "ccmdesk: restore: The restore did not start: ccmdesk has this database open "
            "elsewhere (a window, or a command such as an import); close it and try again. "
            "Nothing was changed."
        )
        assert practice_name(data) == "Renamed Clinic"
        assert not list(data.glob("*before-restore*")) and not list(data.glob(".restore-*"))
    finally:
        holder.communicate("\n", timeout=60)  # the command ends
    restored = run("restore", str(tmp_path / "b.sqlite3"), data_dir=data)
    assert restored.returncode == 0, restored.stderr
    assert practice_name(data) == "Maple Clinic"


def test_without_advisory_locks_a_restore_goes_by_the_guis_marker(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Windows has no flock: the marker a running GUI leaves in the data folder decides."""
    import ccmdesk.dbfile

    data = tmp_path / "data"
    backup = tmp_path / "b.sqlite3"
    assert main(["--data-dir", str(data), "practice", "--name", "Maple Clinic"]) == 0
    assert main(["--data-dir", str(data), "backup", "--to", str(backup)]) == 0
    monkeypatch.setattr(ccmdesk.dbfile, "fcntl", None)
    ended = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                           capture_output=True, text=True, check=True)  # fmt: skip
    (data / "ccmdesk.running").write_text(ended.stdout)  # left by a ccmdesk that ended badly
    assert main(["--data-dir", str(data), "restore", str(backup)]) == 0
    alive = os.getppid()  # another process that is running: as if a window were open
    (data / "ccmdesk.running").write_text(f"{alive}\n")
    capsys.readouterr()
    assert main(["--data-dir", str(data), "restore", str(backup)]) == 1
    err = capsys.readouterr().err
    assert f"ccmdesk is open with this data folder (process {alive})" in err
    assert "Nothing was changed" in err


@pytest.mark.parametrize("damage", ["empty", "headerless"])
def test_an_empty_or_headerless_database_file_is_damaged_not_new(
    tmp_path: Path, damage: str
) -> None:
    assert run("practice", "--name", "Maple Clinic", data_dir=tmp_path).returncode == 0
    assert run("backup", data_dir=tmp_path).returncode == 0
    database = tmp_path / "ccmdesk.sqlite3"
    database.write_bytes(b"" if damage == "empty" else b"\0" * 16 + database.read_bytes()[16:])
    before = database.read_bytes()
    result = run("audit", "verify", data_dir=tmp_path)
    assert result.returncode == 1 and "Audit trail intact" not in result.stdout
    first, *rest = result.stderr.strip().splitlines()
    said = "is empty (0 bytes)" if damage == "empty" else "it does not start as an SQLite"
    assert first.startswith(f"ccmdesk: cannot open the database: {database}") and said in first
    assert rest[-1].startswith("The latest good backup is manual-")
    assert database.read_bytes() == before  # not made into a new, empty database


@pytest.mark.parametrize("damage", ["header wiped", "empty"])
def test_a_gui_start_on_a_database_that_cannot_be_opened_offers_the_latest_good_backup(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, damage: str
) -> None:
    import ccmdesk.ui.app

    assert main(["--data-dir", str(tmp_path), "practice", "--name", "Maple Clinic"]) == 0
    assert main(["--data-dir", str(tmp_path), "backup"]) == 0
    database = tmp_path / "ccmdesk.sqlite3"
    if damage == "empty":
        database.write_bytes(b"")
    else:
        database.write_bytes(b"\0" * 100 + database.read_bytes()[100:])
    offered: list[str] = []
    monkeypatch.setattr(
        ccmdesk.ui.app, "ask_to_restore", lambda _m, name: offered.append(name) or True
    )
    told: list[str] = []
    monkeypatch.setattr(ccmdesk.ui.app, "show_restored", told.append)
    started: list[Path] = []
    monkeypatch.setattr(
        ccmdesk.ui.app, "run_gui", lambda _s, data_dir, _argv: started.append(data_dir) or 0
    )
    assert main(["--data-dir", str(tmp_path)]) == 0
    assert len(offered) == 1 and offered[0].startswith("manual-")
    assert started == [tmp_path]  # the window opened, on the restored database
    assert practice_name(tmp_path) == "Maple Clinic"
    [aside] = tmp_path.glob("ccmdesk.sqlite3.before-restore-*")
    # The window says where the replaced database is kept.
    assert len(told) == 1 and f"is kept as {aside}" in told[0] and offered[0] in told[0]


def test_audit_verify_names_a_closed_month_whose_bill_was_changed_behind_its_back(
    staffed: Services, db: Database, tmp_path: Path
) -> None:
    from tests.helpers.billing import with_cases
    from tests.helpers.common import BILLER
    from tests.helpers.scenario_cases import MONTH

    with_cases(staffed)
    staffed.closing.close(BILLER, MONTH)
    db.dispose()
    assert db.sqlite_path == tmp_path / "ccmdesk.sqlite3"
    assert run("audit", "verify", data_dir=tmp_path).returncode == 0
    raw = sqlite3.connect(tmp_path / "ccmdesk.sqlite3")
    raw.execute("UPDATE fee_schedule_amount SET amount_cents = amount_cents * 10")
    raw.commit()
    raw.close()
    result = run("audit", "verify", data_dir=tmp_path)
    assert result.returncode == 1
    assert "Audit trail intact" in result.stdout
    assert "March 2026's bill now differs from the one it was closed with" in result.stderr


def test_a_damaged_database_gives_audit_verify_and_export_a_sentence_never_a_traceback(
    staffed: Services, db: Database, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """F15: bit flips anywhere in the file. Whatever SQLite or the rows then say, each command
    ends with a sentence (intact, broken, damaged) and an exit status, never a traceback."""
    import random
    import shutil

    from tests.helpers.billing import with_cases
    from tests.helpers.scenario_cases import MONTH

    with_cases(staffed)
    db.dispose()
    good = tmp_path / "good.sqlite3"
    shutil.copy(tmp_path / "ccmdesk.sqlite3", good)
    size = good.stat().st_size
    chance = random.Random(15)
    outcomes: dict[int, int] = {}
    for trial in range(24):
        data = tmp_path / f"trial{trial}"
        data.mkdir()
        damaged = bytearray(good.read_bytes())
        for _ in range(8):
            damaged[chance.randrange(100, size)] ^= 1 << chance.randrange(8)
        (data / "ccmdesk.sqlite3").write_bytes(bytes(damaged))
        for command in (["audit", "verify"], ["export", "--month", MONTH, "--out", str(data)]):
            status = main(["--data-dir", str(data), *command])
            said = capsys.readouterr()
            assert status in (0, 1), (trial, command)
            assert "Traceback" not in said.err
            outcomes[status] = outcomes.get(status, 0) + 1
    assert outcomes.get(1, 0) > 0  # some damage was noticed (the rest hit unused bytes)


def test_an_export_notes_its_folder_while_it_runs_and_says_what_it_finished_there(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from ccmdesk.services.staging import UNDER_WAY, Staging
    from tests.helpers.staging import NEW, cut_off

    data, out = tmp_path / "data", tmp_path / "out"
    assert main(["--data-dir", str(data), "practice", "--name", "Maple Clinic"]) == 0
    cut_off(out, NEW, committed=True, moved=1)  # an export killed while moving its files
    noted: list[str] = []
    publish = Staging.publish

    def publish_noting(staging: Staging) -> list[Path]:
        noted.extend(note.read_text() for note in (data / UNDER_WAY).iterdir())
        return publish(staging)

    monkeypatch.setattr(Staging, "publish", publish_noting)
    capsys.readouterr()
    assert main(["--data-dir", str(data), "export", "--month", "2026-03", "--out", str(out)]) == 0
    assert noted == [f"{out}\n"]  # for the next start's sweep, had this one been cut off
    assert list((data / UNDER_WAY).iterdir()) == []
    said = capsys.readouterr()
    assert f"ccmdesk: export: The export of March to {out} was cut off" in said.err
    assert str(out / "handoff-2026-03.pdf") in said.out


@pytest.mark.parametrize(
    ("month", "says"),
    [
        ("２０２６-11", "'２０２６-11' is not a month; use YYYY-MM written with the digits 0-9"),
        ("0000-01", "'0000-01' is outside the months ccmdesk handles, 2000-01 to 2099-12"),
        ("1999-12", "'1999-12' is outside the months ccmdesk handles, 2000-01 to 2099-12"),
        ("2100-01", "'2100-01' is outside the months ccmdesk handles, 2000-01 to 2099-12"),
        ("9999-12", "'9999-12' is outside the months ccmdesk handles, 2000-01 to 2099-12"),
        ("2026-1", "'2026-1' is not a month; use YYYY-MM"),
        (" 2026-11", "' 2026-11' is not a month; use YYYY-MM"),
        ("2026-11\x1b[2J", "'2026-11\\x1b[2J' is not a month; use YYYY-MM"),
    ],
)
def test_export_refuses_an_odd_month_with_one_line_and_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], month: str, says: str
) -> None:
    data, out = tmp_path / "data", tmp_path / "out"
    assert main(["--data-dir", str(data), "practice", "--name", "Harbor"]) == 0
    capsys.readouterr()
    assert main(["--data-dir", str(data), "export", "--month", month, "--out", str(out)]) == 1
    captured = capsys.readouterr()
    assert captured.err == f"ccmdesk: export: {says}\n"
    assert captured.out == ""
    assert not out.exists()


def test_import_problems_print_control_characters_escaped(tmp_path: Path) -> None:
    staff = tmp_path / "staff.csv"
    staff.write_bytes(b'staff_id,name,role\n"a\nb\x1b[31m",Ann,clinical\n')
    result = run("import", str(staff), data_dir=tmp_path / "data")
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        "ccmdesk: import: Nothing was imported: 1 problem(s).",
        f"{staff}:2: staff_id: 'a\\nb\\x1b[31m' is not a staff id: letters, digits, '.', '_' "
        "or '-', at most 40",
    ]


def test_a_mistyped_command_is_quoted_with_control_characters_escaped(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as caught:
        main(["--data-dir", str(tmp_path), "imp\x1b[2J\nrt"])
    assert caught.value.code == 2
    assert "unknown command 'imp\\x1b[2J\\nrt'" in capsys.readouterr().err


def test_audit_verify_deep_names_table_edits_the_chain_alone_cannot_see(
    staffed: Services, db: Database, tmp_path: Path
) -> None:
    import datetime as dt

    from tests.helpers.common import CLI, NURSE, patient_text

    staffed.patients.save_text(CLI, patient_text(mrn="1001"))
    start = dt.datetime(2026, 4, 14, 14, 0, tzinfo=dt.UTC)
    staffed.entries.add_manual(NURSE, "1001", start, start + dt.timedelta(minutes=9),
                                 reason="call on the ward phone")  # fmt: skip
    db.dispose()
    clean = run("audit", "verify", "--deep", data_dir=tmp_path)
    assert clean.returncode == 0, clean.stderr
    assert "The data tables match the audit trail (" in clean.stdout
    assert "Every field is covered." in clean.stdout

    raw = sqlite3.connect(tmp_path / "ccmdesk.sqlite3")
    raw.execute("UPDATE staff SET role = 'admin' WHERE staff_id = 'rn-lee'")
    raw.execute("UPDATE time_segment SET ended_at = datetime(ended_at, '+45 minutes')")
    raw.commit()
    raw.close()
    assert run("audit", "verify", data_dir=tmp_path).returncode == 0  # the chain holds
    result = run("audit", "verify", "--deep", data_dir=tmp_path)
    assert result.returncode == 1
    assert "Audit trail intact" in result.stdout
    *named, summary = result.stderr.splitlines()
    assert named == [
        'ccmdesk: audit verify --deep: staff rn-lee: role: the table holds "admin"; the audit '
        'trail says "clinical".',
        "ccmdesk: audit verify --deep: time_entry 1 (MRN 1001, rn-lee): segments: the table "
        "holds 54 min: 2026-04-14 14:00:00–14:54:00 UTC; the audit trail says 9 min: "
        "2026-04-14 14:00:00–14:09:00 UTC.",
    ]
    assert summary.startswith("2 difference(s) between the data tables and the audit trail (")


def test_damage_the_hashes_cannot_see_stops_export_and_fails_audit_verify(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """An index that no longer matches its table: the chain's hashes all fit, SQLite's full
    integrity check does not."""
    assert main(["--data-dir", str(tmp_path), "practice", "--name", "Maple Clinic"]) == 0
    damage_an_index(tmp_path / "ccmdesk.sqlite3")
    capsys.readouterr()
    assert main(["--data-dir", str(tmp_path), "audit", "verify"]) == 1
    assert "the database is damaged" in capsys.readouterr().err
    out = tmp_path / "out"
    assert (
        main(["--data-dir", str(tmp_path), "export", "--month", "2026-03", "--out", str(out)]) == 1
    )
    said = capsys.readouterr().err
    assert "Nothing was exported: the database is damaged" in said and "restore" in said
    assert not out.exists()


@pytest.mark.parametrize(
    "command",
    [
        ["audit", "verify"],
        ["export", "--month", "2026-03", "--out", "OUT"],
        ["backup"],
        ["user", "set-password", "rn-lee", "--password-stdin"],
    ],
)
def test_a_command_that_needs_a_database_refuses_a_folder_without_one_and_leaves_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], command: list[str]
) -> None:
    typo = tmp_path / "mistyped"
    out = tmp_path / "out"
    args = [str(out) if arg == "OUT" else arg for arg in command]
    assert main(["--data-dir", str(typo), *args]) == 1
    err = capsys.readouterr().err
    said = " ".join(command[:2] if command[0] in ("audit", "user") else command[:1])
    assert err.startswith(f"ccmdesk: {said}: there is no ccmdesk database in {typo}")
    assert "Nothing was created" in err
    assert not typo.exists()  # no folder, no database, no lock file, no log file
    assert not out.exists()


def test_a_folder_without_a_database_is_refused_by_a_separate_process_too(
    tmp_path: Path,
) -> None:
    typo = tmp_path / "mistyped"
    result = run("audit", "verify", data_dir=typo)
    assert result.returncode == 1
    assert result.stderr.startswith(
        f"ccmdesk: audit verify: there is no ccmdesk database in {typo}"
    )
    assert "intact" not in result.stdout
    assert not typo.exists()


def gui_start(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch, *extra: str
) -> tuple[int, list[Path]]:
    """A GUI start with the window replaced: its exit status and the folders a window opened on."""
    import ccmdesk.ui.app

    started: list[Path] = []
    monkeypatch.setattr(
        ccmdesk.ui.app, "run_gui", lambda _s, folder, _argv: started.append(folder) or 0
    )
    return main(["--data-dir", str(data_dir), *extra]), started


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="a display is Linux's question")
def test_a_gui_start_without_a_display_says_so_and_touches_no_data_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"):
        monkeypatch.delenv(name, raising=False)
    data = tmp_path / "data"
    assert gui_start(data, monkeypatch) == (1, [])
    assert (
        "ccmdesk: no display found: neither DISPLAY nor WAYLAND_DISPLAY" in capsys.readouterr().err
    )
    assert not data.exists()  # no folder, database or log file made for a window that never came
    assert gc.isenabled()
    monkeypatch.setenv("QT_QPA_PLATFORM", "xcb")  # a platform that needs a display is no help
    assert gui_start(data, monkeypatch) == (1, [])
    assert not data.exists()

    # A platform that needs none, from the variable or Qt's own -platform argument, opens.
    monkeypatch.setenv("QT_QPA_PLATFORM", "offscreen")
    assert gui_start(data, monkeypatch) == (0, [data])
    monkeypatch.delenv("QT_QPA_PLATFORM")
    assert gui_start(data, monkeypatch, "-platform", "offscreen") == (0, [data])
    monkeypatch.setenv("DISPLAY", ":0")
    assert gui_start(data, monkeypatch) == (0, [data])


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="a display is Linux's question")
def test_a_gui_process_without_a_display_says_so_instead_of_blaming_qts_libraries(
    tmp_path: Path,
) -> None:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")
    }
    data = tmp_path / "data"
    result = subprocess.run(
        [sys.executable, "-m", "ccmdesk", "--data-dir", str(data)],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    assert result.returncode == 1
    assert result.stderr.startswith("ccmdesk: no display found")
    assert "xcb" not in result.stderr
    assert not data.exists()


def test_every_option_of_every_command_says_what_it_is_for() -> None:
    import argparse

    from ccmdesk.cli import _parser

    def undocumented(parser: argparse.ArgumentParser, name: str) -> list[str]:
        missing = []
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for command, sub in action.choices.items():
                    missing += undocumented(sub, f"{name} {command}")
            elif not action.help or action.help == argparse.SUPPRESS:
                missing.append(f"{name} {action.dest}")
        return missing

    assert undocumented(_parser(), "ccmdesk") == []
    assert undocumented(_parser(with_commands=False), "ccmdesk") == []


def test_a_restore_into_a_folder_without_a_database_names_the_folder_it_made_one_in(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data, elsewhere = tmp_path / "data", tmp_path / "new-workstation"
    assert main(["--data-dir", str(data), "practice", "--name", "Maple Clinic"]) == 0
    assert main(["--data-dir", str(data), "backup", "--to", str(tmp_path / "b.sqlite3")]) == 0
    capsys.readouterr()
    assert main(["--data-dir", str(elsewhere), "restore", str(tmp_path / "b.sqlite3")]) == 0
    said = capsys.readouterr().out
    assert f"There was no database in {elsewhere}; the restored one is its database now." in said
    assert practice_name(elsewhere) == "Maple Clinic"


def test_export_prints_each_claim_file_and_resends_only_when_asked(
    tmp_path: Path, db: Database, staffed: Services, capsys: pytest.CaptureFixture[str]
) -> None:
    from tests.helpers.billing import with_cases
    from tests.helpers.claim_files import claim_ready
    from tests.helpers.common import DOCTOR

    with_cases(staffed)
    claim_ready(db)
    for mrn in ("S02", "S04"):
        staffed.review.sign(DOCTOR, mrn, "2026-03")
    export = ["--data-dir", str(tmp_path), "export", "--month", "2026-03"]
    capsys.readouterr()
    assert main([*export, "--out", str(tmp_path / "a")]) == 0
    said = capsys.readouterr().out.splitlines()
    assert str(tmp_path / "a" / "claims-2026-03-mcr-b.x12") in said
    assert said[-1] == "claims-2026-03-mcr-b.x12: 2 claims"
    assert main([*export, "--out", str(tmp_path / "b")]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == (
        "no claim files: no signed, claim-ready month left to send"
    )
    assert main([*export, "--out", str(tmp_path / "c"), "--resend"]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == "claims-2026-03-mcr-b.x12: 2 claims"


def test_export_of_a_month_not_ended_needs_allow_open_month(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data, out = tmp_path / "data", tmp_path / "out"
    assert main(["--data-dir", str(data), "practice", "--name", "Harbor"]) == 0
    export = ["--data-dir", str(data), "export", "--month", "2099-12", "--out", str(out)]
    capsys.readouterr()
    assert main(export) == 1
    captured = capsys.readouterr()
    assert captured.err.startswith(
        "ccmdesk: export: December 2099 has not ended yet (its last day is 31 Dec 2099)"
    )
    assert "--allow-open-month" in captured.err and not out.exists()
    assert main([*export, "--allow-open-month"]) == 0
    said = capsys.readouterr().out.splitlines()
    assert said[-1] == "no claim files: the month has not ended"
    assert (out / "handoff-2099-12.pdf").exists()
