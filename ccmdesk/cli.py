"""Command line: the GUI by default; practice, import and demo as formats.md describes."""

from __future__ import annotations

import argparse
import gc
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from sqlalchemy.exc import SQLAlchemyError

from ccmdesk import __version__
from ccmdesk.config import (
    DATA_DIR_ENV,
    RUNNING_FILE,
    ConfigError,
    database_url,
    resolve_data_dir,
    running_elsewhere,
    setup_logging,
)
from ccmdesk.db import (
    BACKUP_DIR_NAME,
    Database,
    integrity_problem,
    open_database,
)
from ccmdesk.dbfile import DamagedFile, DatabaseFileError, sqlite_file
from ccmdesk.errors import DAMAGED_MESSAGE, DatabaseDamaged, DatabaseError, classify

COMMANDS = ("practice", "import", "export", "demo", "audit", "user", "backup", "restore")
# Only these make a database where there is none (and the GUI's first start; restore puts a
# backup in place, on a new workstation too). The rest read or copy one, so a mistyped
# --data-dir must be refused rather than answered from a database made empty on the spot.
CREATING_COMMANDS = ("practice", "import", "demo", "restore")
# Qt platforms that draw on a display server; any other (offscreen, vnc, eglfs...) needs none.
DISPLAY_PLATFORMS = ("", "xcb", "wayland", "wayland-egl")


def _action(
    commands: argparse._SubParsersAction[argparse.ArgumentParser],
    command: tuple[str, str],
    action: tuple[str, str],
) -> argparse.ArgumentParser:
    """A command that takes an ACTION (audit verify, user set-password), each (name, help):
    the action's parser."""
    name, text = command
    actions = commands.add_parser(name, help=text).add_subparsers(
        dest=f"{name}_command", metavar="ACTION", required=True
    )
    return actions.add_parser(action[0], help=action[1])


def _parser(with_commands: bool = True) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ccmdesk",
        description="Chronic Care Management time tracking and billing. "
        "With no command, opens the application.",
    )
    parser.add_argument(
        "--version",
        action="version",
        version=f"ccmdesk {__version__}",
        help="print ccmdesk's version and exit",
    )
    parser.add_argument(
        "--data-dir",
        metavar="DIR",
        help="folder for the database, backups and logs (default: $CCMDESK_DATA_DIR, else the "
        "user's data folder)",
    )
    if not with_commands:
        parser.set_defaults(command=None)
        return parser
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    practice = commands.add_parser("practice", help="create or update the practice details")
    practice.add_argument(
        "--name", help="the practice's name (required the first time, when it is created)"
    )
    practice.add_argument(
        "--group-npi", metavar="NPI", help="the group's 10-digit National Provider Identifier"
    )
    practice.add_argument("--tin", help="the tax identification number (EIN), e.g. 12-3456789")
    practice.add_argument("--address", help="the address printed on superbills")
    practice.add_argument("--phone", help="the phone number printed on superbills")
    practice.add_argument(
        "--after-hours-phone",
        metavar="PHONE",
        help="the number patients call when the office is closed (on the care plan's copy)",
    )
    practice.add_argument(
        "--timezone",
        metavar="AREA/CITY",
        help="the practice's time zone, e.g. America/Chicago: months and days are its own",
    )
    practice.add_argument("--pos", metavar="CODE", help="place of service, e.g. 11 (office)")
    practice.add_argument(
        "--date-of-service",
        choices=("last_day", "threshold_date"),
        help="date of service on claims: the month's last day (default) or the day the "
        "highest billed threshold was reached",
    )
    claims = practice.add_argument_group(
        "claim settings", "what superbills and claim files need (docs/payers.md)"
    )
    claims.add_argument("--street", metavar="S", help="the practice's street, as claims carry it")
    claims.add_argument("--city", metavar="C", help="the practice's city")
    claims.add_argument("--state", metavar="ST", help="the practice's two-letter state, e.g. ME")
    claims.add_argument(
        "--zip", metavar="12345-6789", help="the practice's ZIP code; claims need all 9 digits"
    )
    claims.add_argument(
        "--taxonomy", metavar="CODE", help="the billing provider's taxonomy code, e.g. 207Q00000X"
    )
    claims.add_argument(
        "--tin-kind", choices=("ein", "ssn"), help="whether the TIN is an EIN (default) or an SSN"
    )
    claims.add_argument(
        "--accept-assignment",
        choices=("yes", "no"),
        help="whether the practice accepts assignment (box 27; default yes)",
    )
    claims.add_argument(
        "--collects-signature",
        choices=("yes", "no"),
        help="whether patients sign the release and assignment at registration (default yes)",
    )
    house = practice.add_argument_group(
        "clearinghouse", "the 837P claim file's sender and receiver, from the clearinghouse"
    )
    house.add_argument("--submitter-id", metavar="ID", help="the practice's id as submitter")
    house.add_argument("--submitter-name", metavar="N", help="the submitter's name")
    house.add_argument("--submitter-phone", metavar="P", help="the submitter's contact phone")
    house.add_argument("--receiver-id", metavar="ID", help="the clearinghouse's receiver id")
    house.add_argument("--receiver-name", metavar="N", help="the clearinghouse's name")
    house.add_argument(
        "--isa-qualifier", metavar="Q", help="the interchange id qualifier (default ZZ)"
    )
    house.add_argument(
        "--isa-id", metavar="ID", help="the interchange sender id (default: the submitter id)"
    )
    house.add_argument(
        "--usage",
        choices=("T", "P"),
        type=str.upper,
        help="T sends test files (the default) until the clearinghouse says to switch to P",
    )

    apcm = practice.add_argument_group(
        "APCM", "the billing practitioner's attestation of the APCM prerequisites "
        "(docs/billing-rules.md)"
    )  # fmt: skip
    apcm_flags = apcm.add_mutually_exclusive_group()
    apcm_flags.add_argument(
        "--apcm-attested-by",
        metavar="STAFF_ID",
        help="record that this practitioner attests the 13 APCM service elements and the "
        "quality-reporting condition (APCM months are blocked without it)",
    )
    apcm_flags.add_argument(
        "--withdraw-apcm", action="store_true", help="withdraw the APCM attestation"
    )

    importer = commands.add_parser(
        "import", help="import staff, patients, time entries and patient months from CSV files"
    )
    importer.add_argument(
        "files",
        nargs="+",
        metavar="FILE.csv",
        type=Path,
        help="CSV files in any order; each one's kind is known from its header (docs/formats.md)",
    )

    export = commands.add_parser("export", help="export a month for billing")
    export.add_argument(
        "--month", required=True, metavar="YYYY-MM", help="the month to export, e.g. 2026-03"
    )
    export.add_argument(
        "--out",
        required=True,
        metavar="DIR",
        type=Path,
        help="the folder to write the PDFs and CSV files into (made if missing)",
    )
    export.add_argument(
        "--signed-only",
        action="store_true",
        help="only signed months get superbills and claim lines (the handoff lists every row)",
    )
    export.add_argument(
        "--resend",
        action="store_true",
        help="put claims an earlier export already sent in the claim files again",
    )
    export.add_argument(
        "--allow-open-month",
        action="store_true",
        help="export a month that has not ended yet (no claim file is written for it)",
    )

    demo = commands.add_parser("demo", help="fill an empty data folder with a demo practice")
    demo.add_argument(
        "--csv-out",
        metavar="DIR",
        type=Path,
        help="only write the demo practice as import files into DIR (the database is not touched)",
    )

    verify = _action(
        commands,
        ("audit", "check the audit trail"),
        ("verify", "recompute the hash chain; name the first event that does not fit"),
    )
    verify.add_argument(
        "--head",
        metavar="HASH",
        help="a head hash written down earlier (printed here and on exports): it must still be "
        "in the chain",
    )
    verify.add_argument(
        "--deep",
        action="store_true",
        help="also rebuild staff, patients, time entries, month facts, signatures, month closes, "
        "fees, care plans and the practice from the audit trail and name every row the tables "
        "hold differently",
    )

    set_password = _action(
        commands,
        ("user", "staff sign-in (for IT staff)"),
        (
            "set-password",
            "set a staff member's password (asked twice without echo); lifts a lockout",
        ),
    )
    set_password.add_argument(
        "staff_id", metavar="STAFF_ID", help="the staff id the person signs in with"
    )
    set_password.add_argument(
        "--password-stdin",
        action="store_true",
        help="read the password from the first line of standard input (for scripts)",
    )

    backup = commands.add_parser(
        "backup", help="copy the database now (default: into the data folder's backups/)"
    )
    backup.add_argument("--to", metavar="FILE", type=Path, help="write the copy to FILE")
    restore = commands.add_parser(
        "restore",
        help="replace the database with a backup (checked first; the current one is kept aside)",
    )
    restore.add_argument(
        "file", metavar="FILE", type=Path, help="the backup to restore, e.g. one in backups/"
    )
    return parser


def _restore_hint(data_dir: Path) -> str:
    """For a database that cannot be opened: the latest good backup, and how to restore it."""
    from ccmdesk.services.backup import latest_good_backup

    good = latest_good_backup(data_dir / BACKUP_DIR_NAME)
    if good is None:
        return ""
    taken = good.taken.astimezone().strftime("%Y-%m-%d %H:%M")
    return (
        f"\nThe latest good backup is {good.path.name} (taken {taken}). To restore it (the "
        f'damaged database is kept beside it): ccmdesk restore "{good.path}"'
    )


def _restore(data_dir: Path, source: Path, *, in_window: bool = False) -> int:
    """Restore before anything opens the database: it may be the damaged thing being replaced.
    What came of it is printed, and shown in a window too when asked at a GUI start (started
    from a desktop icon, nobody reads the terminal)."""
    from ccmdesk.dbfile import locks_available
    from ccmdesk.services import Actor
    from ccmdesk.services.backup import BackupError, restore
    from ccmdesk.services.context import utc_now

    def refused(text: str) -> int:
        print(f"ccmdesk: restore: {text}", file=sys.stderr)
        if in_window:
            from ccmdesk.ui.app import show_startup_error

            show_startup_error(text)
        return 1

    # With advisory locks the restore itself refuses while any ccmdesk has the database open;
    # without them (Windows) the GUI's marker in the data folder is all there is to go by.
    other = None if locks_available() else running_elsewhere(data_dir)
    if other is not None:
        return refused(
            f"ccmdesk is open with this data folder (process {other}); close it on this "
            f"computer first. If it is not open (it ended badly), delete {data_dir / RUNNING_FILE} "
            "and try again. Nothing was changed."
        )
    target = sqlite_file(database_url(data_dir))
    if target is None:
        return refused(
            "this ccmdesk uses a database server; restore it with the server's own tools"
        )
    try:
        # Brought up to this version's schema and audited before it takes the database's place.
        aside = restore(target, source, utc_now(), Actor.command_line())
    except BackupError as error:
        return refused(str(error))
    lines = [f"Restored {source}."]
    if aside is not None:
        lines.append(
            f"The database it replaced, with everything recorded up to now, is kept as {aside}"
        )
    else:
        # Restore may start a new workstation's database; said, so a mistyped folder shows.
        lines.append(f"There was no database in {data_dir}; the restored one is its database now.")
    print("\n".join(lines))
    if in_window:
        from ccmdesk.ui.app import show_restored

        show_restored("\n\n".join(lines))
    return 0


def _read_new_password(args: argparse.Namespace) -> str | None:
    """The new password from stdin's first line, or asked twice at the terminal."""
    if args.password_stdin:
        return sys.stdin.readline().removesuffix("\n").removesuffix("\r")
    if not sys.stdin.isatty():
        print(
            "ccmdesk: user set-password: no terminal to ask at; pipe the password in with "
            "--password-stdin",
            file=sys.stderr,
        )
        return None
    import getpass

    first = getpass.getpass(f"New password for {args.staff_id}: ")
    if getpass.getpass("Type it again: ") != first:
        print("ccmdesk: user set-password: the two passwords differ; nothing changed",
              file=sys.stderr)  # fmt: skip
        return None
    return first


def _user(services: object, args: argparse.Namespace) -> int:
    from ccmdesk.services import Actor, Services

    assert isinstance(services, Services)
    password = _read_new_password(args)
    if password is None:
        return 1
    services.auth.set_password(Actor.command_line(), args.staff_id, password)
    print(f"Password set for {args.staff_id}.")
    return 0


def _audit_verify(services: object, args: argparse.Namespace) -> int:
    from ccmdesk.services import Actor, Services

    assert isinstance(services, Services)
    check = services.audit.verify(Actor.command_line(), args.head)
    # A closed month's bill is re-checked against the one it was closed with: a data table
    # changed behind ccmdesk's back (or a late change nobody acknowledged) shows here.
    months = services.closing.check_all(Actor.command_line())
    for month in months:
        print(f"ccmdesk: audit verify: {month.message()}.", file=sys.stderr)
    if check.ok:
        print(f"Audit trail intact: {check.events:,} events.")
        print(f"Head hash: {check.head}")
    else:
        _chain_broken(check)
    deep_ok = _deep_check(services) if args.deep else True
    return 0 if check.ok and not months and deep_ok else 1


def _chain_broken(check: object) -> None:
    from ccmdesk.services import ChainCheck

    assert isinstance(check, ChainCheck)
    where = "the chain"
    if check.first_bad is not None:
        bad = check.first_bad
        where = (
            f"event {bad.id} ({bad.at:%Y-%m-%d %H:%M:%S} UTC, {bad.action} by {bad.actor}"
            + (f", patient {bad.mrn}" if bad.mrn else "")
            + ")"
        )
    print(f"ccmdesk: audit verify: the audit trail is broken at {where}: {check.problem}.",
          file=sys.stderr)  # fmt: skip
    print(f"Events read: {check.events:,}; last good hash: {check.head}", file=sys.stderr)


def _deep_check(services: object) -> bool:
    """The data tables against the audit trail's after-images: each differing row on stderr."""
    from ccmdesk.services import Actor, Services

    assert isinstance(services, Services)
    deep = services.audit.deep_check(Actor.command_line())
    for difference in deep.differences:
        print(f"ccmdesk: audit verify --deep: {difference.message()}.", file=sys.stderr)
    print(deep.summary(), file=sys.stdout if deep.ok else sys.stderr)
    return deep.ok


def _no_display(gui_args: Sequence[str]) -> str | None:
    """Why a window cannot open on this Linux computer, or None. Qt alone would abort with
    "xcb-cursor0 is needed... reinstalling may fix this" however the libraries stand, after
    the data folder was made; this says what is really missing, before anything is touched."""
    if not sys.platform.startswith("linux"):
        return None  # Windows and macOS always have their own display
    if os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"):
        return None
    platform = os.environ.get("QT_QPA_PLATFORM", "")
    for index, arg in enumerate(gui_args):  # Qt's own -platform NAME wins over the variable
        if arg in ("-platform", "--platform") and index + 1 < len(gui_args):
            platform = gui_args[index + 1]
        elif arg.startswith(("-platform=", "--platform=")):
            platform = arg.partition("=")[2]
    # "xcb;wayland:option" is a list of fallbacks, each with its options after a colon.
    names = [part.partition(":")[0].strip() for part in platform.split(";")]
    if any(name not in DISPLAY_PLATFORMS for name in names):
        return None
    return (
        "no display found: neither DISPLAY nor WAYLAND_DISPLAY is set, so the window has "
        "nowhere to open. Start ccmdesk from the desktop session (or over ssh with X "
        "forwarding, ssh -X); the commands (see --help) work without a display. Nothing "
        "was changed."
    )


def _missing_database(data_dir: Path) -> str | None:
    """For a command that needs an existing database: why the data folder has none, or None.
    Only the embedded SQLite file can be looked for without opening it; a database server's
    own checks stand for it."""
    path = sqlite_file(database_url(data_dir))
    if path is None or path.exists():
        return None
    return (
        f"there is no ccmdesk database in {data_dir} (no {path.name} there); check --data-dir "
        f"or ${DATA_DIR_ENV}. A new one is made only by opening the application for the "
        "first time, or by practice, import, demo or restore. Nothing was created."
    )


def _open(data_dir: Path, *, guarded: bool = True) -> Database:
    return open_database(database_url(data_dir), data_dir / BACKUP_DIR_NAME, guarded=guarded)


def _practice(services: object, args: argparse.Namespace) -> int:
    from ccmdesk.rules.records import CLAIM_SETTING_FIELDS, PracticeRecord
    from ccmdesk.services import Actor, Services, ValidationFailed

    assert isinstance(services, Services)
    current = services.practice.get()
    apcm = args.apcm_attested_by is not None or args.withdraw_apcm
    if current is None and not args.name:
        print("ccmdesk: practice: --name is required to create the practice", file=sys.stderr)
        return 1
    from ccmdesk.rules.validation import practice_from_text, practice_to_text

    # Only the flags given change anything; all of them go through the settings page's reading
    # of typed text, so `--tin 12-3456789` and `--state me` are stored as the page stores them.
    given = {
        "name": args.name,
        "group_npi": args.group_npi,
        "tin": args.tin,
        "address": args.address,
        "phone": args.phone,
        "after_hours_phone": args.after_hours_phone,
        "timezone": args.timezone,
        "pos": args.pos,
        "date_of_service_rule": args.date_of_service,
        **{name: getattr(args, name) for name in CLAIM_SETTING_FIELDS},
    }
    raw = practice_to_text(current or PracticeRecord(name=""))
    raw |= {name: value for name, value in given.items() if value is not None}
    record, errors = practice_from_text(raw)
    if errors:
        raise ValidationFailed(errors)
    if current is None or not apcm or any(v is not None for v in given.values()):
        saved = services.practice.save(Actor.command_line(), record)
        print(f"Practice saved: {saved.name} ({saved.timezone}, POS {saved.place_of_service})")
    if args.apcm_attested_by is not None:
        attested = services.practice.attest_apcm(Actor.command_line(), args.apcm_attested_by)
        print(f"APCM prerequisites attested by {attested.name} ({attested.staff_id}).")
    elif args.withdraw_apcm:
        services.practice.withdraw_apcm(Actor.command_line())
        print("APCM attestation withdrawn: APCM months are blocked until a practitioner attests.")
    return 0


def _command_name(args: argparse.Namespace) -> str:
    """The command as typed, e.g. "audit verify", for messages."""
    action = getattr(args, "audit_command", None) or getattr(args, "user_command", None)
    return f"{args.command} {action}" if action else str(args.command)


def main(argv: Sequence[str] | None = None) -> int:
    tokens = list(sys.argv[1:] if argv is None else argv)
    gui_args: list[str] = []
    if any(token in (*COMMANDS, "-h", "--help") for token in tokens):
        args = _parser().parse_args(tokens)
    else:
        # No command: the GUI. Arguments ccmdesk does not know go to it (Qt options such as
        # -style, or --user STAFF_ID).
        parser = _parser(with_commands=False)
        args, gui_args = parser.parse_known_args(tokens)
        if gui_args and not gui_args[0].startswith("-"):
            # A mistyped command must not open a window that waits for a click.
            from ccmdesk.rules.text import shown

            parser.error(
                f"unknown command '{shown(gui_args[0])}'; the commands are {', '.join(COMMANDS)}"
            )
        if (reason := _no_display(gui_args)) is not None:
            print(f"ccmdesk: {reason}", file=sys.stderr)
            return 1
        # The GUI starts faster without cyclic garbage collection while it builds its
        # long-lived objects; run_gui turns it back on once the window is shown.
        gc.disable()
    try:
        data_dir = resolve_data_dir(args.data_dir)
        needs_database = args.command is not None and args.command not in CREATING_COMMANDS
        # Before the log file: a refused folder is left as it was found, not made.
        if needs_database and (missing := _missing_database(data_dir)) is not None:
            print(f"ccmdesk: {_command_name(args)}: {missing}", file=sys.stderr)
            return 1
        if not (args.command == "demo" and args.csv_out):
            setup_logging(data_dir)
        if args.command == "demo" and args.csv_out:
            from ccmdesk.services.context import utc_now
            from ccmdesk.services.demo import build_demo

            for path in build_demo(utc_now()).write(args.csv_out):
                print(path)
            return 0
        if args.command == "restore":
            return _restore(data_dir, args.file)
        # audit verify opens a database whose audit triggers are gone, to say so.
        db = _open(data_dir, guarded=args.command != "audit")
    except (ConfigError, DatabaseError, DatabaseFileError, OSError, SQLAlchemyError) as exc:
        if isinstance(exc, OSError):
            message = f"cannot use the data folder: {exc}"
        elif isinstance(exc, SQLAlchemyError):
            # A damaged file or an unreachable server: say what the database said, not a trace.
            message = f"cannot open the database: {getattr(exc, 'orig', None) or exc}"
        else:
            message = str(exc)
        # An empty or headerless file is damaged like one SQLite cannot read.
        damaged = isinstance(exc, SQLAlchemyError | DatabaseDamaged | DamagedFile)
        if damaged and args.command != "restore":
            message += _restore_hint(data_dir)
        print(f"ccmdesk: {message}", file=sys.stderr)
        if args.command is None:
            from ccmdesk.services.backup import latest_good_backup
            from ccmdesk.ui.app import ask_to_restore, show_startup_error

            good = latest_good_backup(data_dir / BACKUP_DIR_NAME) if damaged else None
            if good is None:
                show_startup_error(message)
            elif (
                ask_to_restore(message, good.path.name)
                and _restore(data_dir, good.path, in_window=True) == 0
            ):
                return main(argv)  # start again, on the restored database
        return 1

    from ccmdesk.services import Actor, ServiceError, Services, ValidationFailed
    from ccmdesk.services.staging import UNDER_WAY

    services = Services(db)
    services.export_notes = data_dir / UNDER_WAY
    try:
        if args.command is None:
            from ccmdesk.ui.app import run_gui

            try:
                return run_gui(services, data_dir, [sys.argv[0], *gui_args])
            finally:
                gc.enable()
        if args.command == "practice":
            return _practice(services, args)
        if args.command == "import":
            summary = services.imports.import_paths(Actor.command_line(), args.files)
            for line in summary.lines() or ["nothing to import"]:
                print(line)
            return 0
        if args.command == "export":
            result = services.export.export(
                Actor.command_line(),
                args.month,
                args.out,
                signed_only=args.signed_only,
                resend=args.resend,
                allow_open_month=args.allow_open_month,
            )
            for earlier in result.finished:
                print(f"ccmdesk: export: {earlier.sentence()}", file=sys.stderr)
            for path in result.files:
                print(path)
            print(
                f"{result.patients:,} patients, {result.billable:,} billable, "
                f"{result.claim_lines:,} claim lines"
            )
            for name, claims in result.claim_files:
                print(f"{name}: {claims:,} claim{'' if claims == 1 else 's'}")
            if result.month_open:
                print("no claim files: the month has not ended")
            elif not result.claim_files:
                print("no claim files: no signed, claim-ready month left to send")
            return 0
        if args.command == "audit":
            return _audit_verify(services, args)
        if args.command == "user":
            return _user(services, args)
        if args.command == "backup":
            print(services.backups.take(Actor.command_line(), args.to))
            return 0
        if args.command == "demo":
            summary = services.demo.create(Actor.command_line())
            print(f"Demo practice created in {data_dir}")
            for line in summary.lines():
                print(line)
            return 0
    except ValidationFailed as exc:
        for error in exc.errors:
            print(f"ccmdesk: {args.command}: {error.field}: {error.message}", file=sys.stderr)
        return 1
    except ServiceError as exc:
        print(f"ccmdesk: {args.command}: {exc}", file=sys.stderr)
        return 1
    except Exception as exc:
        known = classify(exc)  # busy, full, read-only, damaged: a sentence, not a traceback
        if known is None:
            # Garbage read from a damaged file fails anywhere (a date that does not parse, say):
            # on a database that fails its integrity check that is damage, not a bug.
            problem = integrity_problem(db)
            if problem is None:
                raise
            known = DatabaseDamaged(f"{problem[:1].upper()}{problem[1:]}. {DAMAGED_MESSAGE}")
        print(f"ccmdesk: {args.command}: {known}", file=sys.stderr)
        return 1
    finally:
        db.dispose()
    raise AssertionError(f"unhandled command {args.command}")


if __name__ == "__main__":
    sys.exit(main())
