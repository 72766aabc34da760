"""The month's export for billing: the handoff and claim-line CSV files, written atomically."""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import hashlib
import os
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from ccmdesk.db import Database, integrity_problem
from ccmdesk.errors import RESTORE_ADVICE
from ccmdesk.models import (
    AuditEvent,
    CarePlanVersion,
    MonthlyReview,
    Patient,
    Payer,
    Practice,
    Staff,
    TimeEntry,
    TimeSegment,
)
from ccmdesk.reports import pdf, rendering
from ccmdesk.reports.csv_files import ClaimLine, HandoffLine, claim_lines_csv, handoff_csv
from ccmdesk.reports.x12 import claim_id
from ccmdesk.rules import icd10
from ccmdesk.rules.billing import (
    CodeLine,
    MonthResult,
    clock,
    codes_words,
    day_text,
    estimate_text,
    waiver_text,
)
from ccmdesk.rules.care_plan import plan_label
from ccmdesk.rules.catalog import REASONS
from ccmdesk.rules.claims import (
    PatientClaimFacts,
    claim_diagnoses,
    signature_on_file,
)
from ccmdesk.rules.claims import claim_lines as month_claim_lines
from ccmdesk.rules.intervals import date_text, date_time_text, month_label
from ccmdesk.rules.minutes import month_bounds
from ccmdesk.rules.text import file_safe
from ccmdesk.services import audit
from ccmdesk.services.base import ServiceBase, checked_month, practice_zone, staff_label
from ccmdesk.services.billing.evaluation import BillingRow, BillingService, amount_by_code
from ccmdesk.services.billing.plumbing import collector_paused
from ccmdesk.services.claim_files import ClaimFile, payer_claims, write_claim_files
from ccmdesk.services.claims import SIGNATURE, ClaimStatus, practice_claim_settings
from ccmdesk.services.context import Actor, Clock, Permission
from ccmdesk.services.dashboard import DashboardService
from ccmdesk.services.errors import ServiceError
from ccmdesk.services.glance import glance
from ccmdesk.services.review import log_lines_of, plan_in_force
from ccmdesk.services.staging import Finished, Staging

Progress = Callable[[int, int], None]  # (done, total)


class ExportCancelled(ServiceError):
    """The person stopped the export; nothing was written."""


@dataclass
class ExportResult:
    month: str
    folder: Path
    files: list[Path] = field(default_factory=list)
    patients: int = 0
    billable: int = 0
    claim_lines: int = 0
    # Earlier exports into the folder that had been cut off while moving their files into
    # place, finished before this one's files moved.
    finished: list[Finished] = field(default_factory=list)
    # Each claim file written (name, claims in it), in the order written.
    claim_files: list[tuple[str, int]] = field(default_factory=list)
    month_open: bool = False  # the month had not ended: no claim file was written


# The note on a line billed on the initiating visit's claim, not the month's (G0506).
VISIT_CLAIM_NOTE = "add to the initiating visit's claim"


def billed(r: MonthResult) -> list[MonthResult]:
    """The results whose lines go on the month's claim: its program's when billable, then its
    general BHI's when billable (docs/formats.md)."""
    out = [r] if r.billable else []
    if r.bhi is not None and r.bhi.billable:
        out.append(r.bhi)
    return out


def handoff_lines(row: BillingRow, status: ClaimStatus | None = None) -> list[HandoffLine]:
    """The month's handoff rows: its care management's, then its general BHI's when any time
    is tagged BHI (docs/formats.md, "handoff-YYYY-MM.csv columns")."""
    lines = [handoff_line(row, status)]
    if row.result.bhi is not None:
        lines.append(handoff_line(row, status, row.result.bhi))
    return lines


def handoff_line(
    row: BillingRow, status: ClaimStatus | None = None, result: MonthResult | None = None
) -> HandoffLine:
    """The month's handoff row (or, with `result`, its general BHI's); a billable month's
    claim id and failing claim edits come with its claim status (services/claims.py)."""
    r = result if result is not None else row.result
    billable = r.billable
    return HandoffLine(
        month=r.month,
        mrn=row.mrn,
        last_name=row.last_name,
        first_name=row.first_name,
        practitioner_npi=row.practitioner_npi,
        countable_seconds=r.countable_seconds,
        practitioner_seconds=r.practitioner_seconds,
        excluded_seconds=r.excluded_seconds,
        codes=r.codes if r.billable else "",
        status="billable" if r.billable else "not_billable",
        blocks=";".join(sorted(r.blocks)),
        warnings=";".join(sorted(r.warnings)),
        signed_off="yes" if r.signed else "no",
        amount_cents=r.amount_cents if r.billable else 0,
        program=r.program,
        claim_id=claim_id(row.mrn, r.month) if billable else "",
        claim_edits=";".join(sorted(status.edits)) if billable and status else "",
        patient_share_cents=r.patient_share_cents if billable else 0,
    )


def line_shares(share_cents: int, charges: Sequence[int]) -> list[int]:
    """The month's patient share split over its code lines in proportion to their charges,
    the cents left over by rounding down on the first (base) line: the lines add up to the
    month's share (docs/formats.md, claim-lines)."""
    total = sum(charges)
    if not charges or total <= 0:
        return [share_cents] + [0] * (len(charges) - 1) if charges else []
    parts = [share_cents * charge // total for charge in charges]
    parts[0] += share_cents - sum(parts)
    return parts


# Why an unsigned billable month is in no claim file, and how to mend it.
NOT_SIGNED = (
    "Not signed: the billing practitioner has not signed the month.",
    "The billing practitioner signs the month in the Monthly summary; then export again.",
)

# Why no month of a month still under way is in a claim file (docs/formats.md, "Claim files").
MONTH_OPEN = (
    "The month has not ended: its claims are sent once it has.",
    "Export the month again after its last day.",
)


def claim_file_notes(
    rows: Iterable[BillingRow],
    statuses: Mapping[str, ClaimStatus],
    secondary: Mapping[str, tuple[str, str]],
    *,
    resend: bool = False,
    month_open: bool = False,
) -> pdf.ClaimFileNotes:
    """What the handoff says about the claim files (docs/formats.md, "Not in the claim file"):
    every billable month that goes in none, with why (not signed, each failing claim edit,
    or already sent, unless `resend` sends it again); the billable months whose patient has a
    secondary payer (`secondary`: MRN -> (payer name, member id)); the waived months."""
    left_out: list[pdf.LeftOut] = []
    to_secondary: list[pdf.SecondaryClaim] = []
    waived: list[pdf.Waived] = []
    for row in sorted(rows, key=lambda row: row.mrn):
        r = row.result
        bills = billed(r)
        if not bills:
            continue
        status = statuses.get(row.mrn)
        claim = status.claim_id if status is not None else claim_id(row.mrn, r.month)
        reasons: list[tuple[str, str]] = []
        if month_open:
            reasons.append(MONTH_OPEN)
        if not r.signed:
            reasons.append(NOT_SIGNED)
        for code in sorted(status.edits if status is not None else ()):
            reasons.append((REASONS[code].text, REASONS[code].mend))
        if status is not None and status.sent_in and not resend:
            reasons.append(
                (
                    f"Already sent in {status.sent_in}.",
                    "To send it once more, export again choosing to resend it (--resend on "
                    "the command line).",
                )
            )
        if reasons:
            left_out.append(pdf.LeftOut(row.mrn, row.patient_name, claim, tuple(reasons)))
        if row.mrn in secondary:
            payer, member_id = secondary[row.mrn]
            to_secondary.append(
                pdf.SecondaryClaim(
                    row.mrn,
                    row.patient_name,
                    claim,
                    payer,
                    member_id,
                    sum(b.cost_share.coinsurance_cents for b in bills),
                )
            )
        waiver = bills[0].cost_share.waiver
        if waiver is not None:
            waived.append(pdf.Waived(row.mrn, row.patient_name, waiver_text(waiver)))
    return pdf.ClaimFileNotes(tuple(left_out), tuple(to_secondary), tuple(waived))


def secondary_coverage(session: Session) -> dict[str, tuple[str, str]]:
    """Each patient's secondary payer (its name in the payer list) and member id, by MRN, for
    the patients that have one (few: no list of MRNs to send)."""
    return {
        mrn: (name, member_id)
        for mrn, name, member_id in session.execute(
            select(Patient.mrn, Payer.name, Patient.secondary_member_id).join(
                Payer, Payer.id == Patient.secondary_payer_id
            )
        )
    }


def generation_time(now: dt.datetime) -> dt.datetime:
    """Now, or SOURCE_DATE_EPOCH when set: the same data then exports to the same bytes."""
    fixed = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    if fixed.isascii() and fixed.isdigit():
        return dt.datetime.fromtimestamp(int(fixed), dt.UTC)
    return now


def write_atomically(folder: Path, files: dict[str, bytes]) -> list[Path]:
    """Write every file into a staging folder of its own in the folder, then move them all
    into place in the order given (see ccmdesk.services.staging): a failure leaves neither
    half files nor temporary ones behind."""
    with _staged(folder, "export") as staging:
        for name, data in files.items():
            _stage(staging, name, data)
        return _published(staging)


@contextlib.contextmanager
def _staged(folder: Path, what: str, notes: Path | None = None) -> Iterator[Staging]:
    try:
        staging = Staging.open(folder, what, notes)
    except OSError as error:
        raise _not_written(folder, error) from error
    with staging:
        yield staging


def _stage(staging: Staging, name: str, data: bytes, held: bool = False) -> None:
    try:
        with staging.create(name, held) as out:
            _write_all(out, data)
    except OSError as error:
        raise _not_written(staging.folder, error) from error


def _published(staging: Staging) -> list[Path]:
    try:
        return staging.publish()
    except OSError as error:
        raise _not_written(staging.folder, error) from error


def _not_written(folder: Path, error: OSError) -> ServiceError:
    return ServiceError(
        f"The export could not be written to {folder}: {error.strerror or error}. "
        "Nothing was left there; choose a folder you may write to."
    )


def _write_all(out: BinaryIO, data: bytes) -> None:
    """Write and flush to the disk, so a rename never publishes a file still in a cache."""
    out.write(data)
    out.flush()
    os.fsync(out.fileno())


class ExportService(ServiceBase):
    """Billing staff export a month: what the billing system imports without retyping."""

    def __init__(
        self,
        db: Database,
        clock: Clock,
        billing: BillingService,
        workers: int | None = None,
        dashboard: DashboardService | None = None,
    ) -> None:
        super().__init__(db, clock)
        self._billing = billing
        # The handoff's first page: the dashboard's figures, read in the export's transaction.
        self._dashboard = dashboard or DashboardService(db, clock, billing)
        # None: one process per core once there are enough superbills to be worth it.
        self.workers = workers
        # The data folder's exports-under-way: each export notes its folder there while it
        # runs, so that the app's next start sweeps what one cut off left (staging.sweep_noted).
        self.notes: Path | None = None

    def _workers(self, bills: int) -> int:
        return rendering.worker_count(bills) if self.workers is None else self.workers

    @staticmethod
    def _check(cancelled: Callable[[], bool] | None) -> None:
        if cancelled is not None and cancelled():
            raise ExportCancelled("The export was stopped; nothing was written.")

    def unfinished_month_end(self, month: str) -> dt.date | None:
        """The month's last day while the month has not ended in the practice's time zone
        (by the service's clock), else None: an export of it needs `allow_open_month`."""
        month = checked_month(month)
        with self._db.read() as session:
            return self._unfinished(session, month)

    def _unfinished(self, session: Session, month: str) -> dt.date | None:
        zone = practice_zone(session)
        _, end = month_bounds(month, zone)
        if self._now() >= end:
            return None
        return (end.astimezone(zone) - dt.timedelta(days=1)).date()

    def export(
        self,
        actor: Actor,
        month: str,
        folder: Path,
        *,
        signed_only: bool = False,
        resend: bool = False,
        allow_open_month: bool = False,
        progress: Progress | None = None,
        cancelled: Callable[[], bool] | None = None,
    ) -> ExportResult:
        actor = self._authorize(actor, Permission.EXPORT)
        month = checked_month(month)
        folder = Path(folder)
        if folder.exists() and not folder.is_dir():
            raise ServiceError(f"{folder} is a file, not a folder; choose a folder to export to.")
        # Claims made from a damaged file would carry its damage to the payer: check it first.
        if problem := integrity_problem(self._db):
            raise ServiceError(f"Nothing was exported: {problem}. {RESTORE_ADVICE}")
        now = generation_time(self._now())
        lines: list[ClaimLine] = []
        pending: list[tuple[list[str], Callable[[], list[bytes]]]] = []
        with contextlib.ExitStack() as stack:
            with collector_paused(), self._db.read() as session:
                practice = session.scalars(select(Practice).limit(1)).first()
                if practice is None:
                    raise ServiceError(
                        "Describe the practice first (Practice settings, or `ccmdesk practice`):"
                        " claims need its name, NPI and place of service."
                    )
                zone = practice_zone(session)
                month_end = self._unfinished(session, month)
                if month_end is not None and not allow_open_month:
                    raise ServiceError(_open_month_refusal(month, month_end))
                # The claim files, the handoff's claim columns and its "Not in the claim file"
                # all read the same statuses, worked out with the month's evaluation.
                rows, statuses = self._billing.evaluate_with_claims(session, month)
                # A month whose care management or general BHI bills has a superbill; one with
                # a G0506 has a claim line for the visit's claim besides (docs/formats.md).
                listed = [
                    r
                    for r in rows
                    if (r.result.bills or r.result.g0506 is not None)
                    and (r.result.signed or not signed_only)
                ]
                claimed = [r for r in listed if r.result.bills]
                claim_notes = claim_file_notes(
                    rows, statuses, secondary_coverage(session), resend=resend,
                    month_open=month_end is not None,
                )  # fmt: skip
                # A month still under way sends no claim: its minutes may still earn a unit,
                # and its date of service may lie ahead (docs/formats.md, "Claim files").
                payers = (
                    []
                    if month_end is not None
                    else payer_claims(session, practice, month, rows, statuses, resend=resend)
                )
                renderer = stack.enter_context(rendering.Renderer(self._workers(len(claimed))))
                head = _audit_head(session)
                generated = f"{date_time_text(now.astimezone(zone))} ({zone}) by {actor.name}"
                describe = _Describer(session, practice, month, zone, listed, generated, head, now)
                # Superbills are described here, where the database is, and rendered in
                # batches while later ones are described: on worker processes when there are
                # many, else when their turn comes below.
                for start in range(0, len(claimed), rendering.BATCH):
                    self._check(cancelled)
                    batch = claimed[start : start + rendering.BATCH]
                    for row in batch:
                        lines += describe.claim_lines(row)
                    bills = [describe.superbill(row) for row in batch]
                    pending.append(([r.mrn for r in batch], renderer.submit(bills)))
                # A G0506 month that bills nothing else: its visit-claim line alone.
                for row in listed:
                    if not row.result.bills:
                        lines += describe.claim_lines(row)
                minutes = _staff_minutes(session, month, zone, describe.staff)
                # In the same transaction as the rows: the first page's totals are the
                # handoff's own.
                board = self._dashboard.compute_in(session, month)
                practice_name = practice.name
            total = len(claimed) + 1
            names = superbill_names([r.mrn for r in claimed])
            # Every new file goes into this export's own hidden folder, and into place only
            # once all are there (ccmdesk.services.staging): a cut leaves nothing half done.
            staging = stack.enter_context(
                _staged(folder, f"export of {month_label(month)}", self.notes)
            )
            digests: dict[str, str] = {}

            def stage(name: str, data: bytes, held: bool = False) -> None:
                digests[name] = hashlib.sha256(data).hexdigest()  # for the export's audit record
                _stage(staging, name, data, held)

            merger = pdf.Merger(f"Superbills {month_label(month)}", now)
            done = 0
            for mrns, result in pending:
                self._check(cancelled)
                for mrn, document in zip(mrns, result(), strict=True):
                    merger.add(document)
                    stage(f"superbills/{month}-{names[mrn]}.pdf", document)
                    done += 1
                if progress is not None:
                    progress(done, total)
            renderer.close()  # every batch is in: the workers may go
            handoff_file, claims_file = (
                handoff_csv(line for r in rows for line in handoff_lines(r, statuses.get(r.mrn))),
                claim_lines_csv(lines),
            )
            report = pdf.Handoff(
                practice=practice_name,
                month=month,
                month_name=month_label(month),
                enrolled_or_active=len(rows),
                billable=tuple(h for r in rows for b, h in _handoff_rows(r) if b),
                not_billed=tuple(h for r in rows for b, h in _handoff_rows(r) if not b),
                amount_by_code=tuple(amount_by_code(rows).items()),
                visit_claims=_visit_claims(rows),
                staff_minutes=minutes,
                generated=generated,
                created=now,
                audit_head=head or "",
                claims=claim_notes,
                glance=glance(board),
                attachments={
                    f"handoff-{month}.csv": handoff_file,
                    f"claim-lines-{month}.csv": claims_file,
                },
            )
            # Moved into place in this order, after the superbills: the handoff report, which
            # names the generation time and the audit head, then the claim files, last.
            stage(f"claim-lines-{month}.csv", claims_file)
            stage(f"handoff-{month}.csv", handoff_file)
            if done:
                stage(f"superbills-{month}.pdf", merger.getvalue())
            stage(f"handoff-{month}.pdf", pdf.handoff_pdf(report))
            self._check(cancelled)
            # The counter, the sent claims and the audit record are written in one write
            # transaction, and the files are published INSIDE it, before it commits, so that
            # the claim files are in place exactly when their claims are recorded as sent:
            # - the rows are written (flushed) before any file moves: a refused write moves
            #   nothing;
            # - a failure to publish, or a commit that fails after the files moved, rolls the
            #   transaction back (no control number used, no claim marked sent) and takes back
            #   any claim file already moved (`_withdraw`); the claim files move last;
            # - an export cut off (killed) before its commit has its transaction rolled back,
            #   and the sweep that finishes its other files never moves its claim files
            #   (staged as held, ccmdesk.services.staging).
            # Only a kill in the instant between the last move and the commit can leave claim
            # files in place unrecorded. The write lock, held from the counter's read to the
            # commit, keeps two exports from taking the same control numbers.
            claim_files: list[ClaimFile] = []
            try:
                with self._db.session() as session:
                    today = self._today(session)
                    claim_files = write_claim_files(
                        session, month, payers, resend=resend, created=now.astimezone(zone),
                        day=today, sent_by=actor.key,
                    )  # fmt: skip
                    for claim_file in claim_files:
                        stage(claim_file.name, claim_file.data, held=True)
                    audit.record(
                        session,
                        at=self._now(),
                        actor=actor,
                        action=EXPORT_ACTION,
                        entity="month",
                        entity_key=month,
                        after=_export_record(
                            month, folder, digests, claim_files, signed_only=signed_only,
                            resend=resend, open_month=month_end is not None,
                        ),
                    )  # fmt: skip
                    session.flush()
                    written = _published(staging)
            except BaseException:
                _withdraw(folder, claim_files)
                raise
        if progress is not None:
            progress(total, total)
        return ExportResult(
            month,
            folder,
            written,
            patients=len(rows),
            billable=sum(1 for r in rows if r.result.bills),
            claim_lines=len(lines),
            finished=staging.finished,
            claim_files=[(f.name, f.claims) for f in claim_files],
            month_open=month_end is not None,
        )


EXPORT_ACTION = "month.export"


def _withdraw(folder: Path, claim_files: Sequence[ClaimFile]) -> None:
    """Remove the claim files this export moved into place, when its transaction did not
    commit: a claim file whose claims are not recorded as sent must not be left to send."""
    for claim_file in claim_files:
        path = folder / claim_file.name
        with contextlib.suppress(OSError):
            if path.read_bytes() == claim_file.data:  # ours, not an earlier export's
                path.unlink()


def _audit_head(session: Session) -> str | None:
    """The hash of the last audit event that is not an export's own record: two exports of
    the same data print the same head, so their PDFs and CSVs are byte-identical."""
    return session.scalars(
        select(AuditEvent.hash)
        .where(AuditEvent.action != EXPORT_ACTION)
        .order_by(AuditEvent.id.desc())
        .limit(1)
    ).first()


def _export_record(
    month: str,
    folder: Path,
    digests: dict[str, str],
    claim_files: Sequence[ClaimFile],
    *,
    signed_only: bool,
    resend: bool,
    open_month: bool,
) -> dict[str, object]:
    """What the export's audit event says: the month, the choices, every file with its
    SHA-256, and each claim file's control number and claims (docs/formats.md)."""
    return {
        "month": month,
        "folder": str(folder),
        "signed_only": signed_only,
        "resend": resend,
        "open_month": open_month,
        "files": [{"name": name, "sha256": digest} for name, digest in digests.items()],
        "claim_files": [
            {
                "name": f.name,
                "payer_id": f.payer_id,
                "control_number": f.control_number,
                "claims": f.claims,
                "total_cents": f.total_cents,
            }
            for f in claim_files
        ],
    }


def _open_month_refusal(month: str, last_day: dt.date) -> str:
    return (
        f"{month_label(month)} has not ended yet (its last day is {date_text(last_day)}): its "
        "minutes may still change. Export it once it has ended, or allow an open month "
        "(--allow-open-month on the command line; the export dialog asks)."
    )


class _Describer:
    """What the month's superbills and claim lines say, read in a few queries for all."""

    def __init__(
        self,
        session: Session,
        practice: Practice,
        month: str,
        zone: dt.tzinfo,
        claimed: list[BillingRow],
        generated: str,
        head: str | None,
        created: dt.datetime,
    ) -> None:
        self.zone, self.generated, self.head = zone, generated, head or ""
        self.created = created
        self.header = pdf.PracticeHeader(
            practice.name,
            practice.address,
            practice.phone,
            practice.group_npi or "",
            practice.tin,
            tin_kind=practice.tin_kind.upper(),  # box 25
            taxonomy=practice.taxonomy,  # box 33b
            accept_assignment=practice.accept_assignment,  # box 27
        )
        self.place = practice.place_of_service
        self.group_npi = practice.group_npi or ""
        self.tin, self.taxonomy = practice.tin, practice.taxonomy
        self.claim_settings = practice_claim_settings(practice)
        self.practice_address = practice_address(practice)
        self.patients = {
            p.mrn: p
            for p in session.scalars(
                select(Patient)
                .where(Patient.mrn.in_([r.mrn for r in claimed]))
                .options(selectinload(Patient.enrollment))
            )
        }
        self.staff = {m.id: m for m in session.scalars(select(Staff))}
        # The payer list as it is now: a payer renamed there is printed by its new name (the
        # patient's own payer text is only refreshed when the patient is saved).
        self.payers: dict[int, Payer] = {p.id: p for p in session.scalars(select(Payer))}
        self.signatures = {
            review.patient_id: review
            for review in session.scalars(
                select(MonthlyReview).where(
                    MonthlyReview.month == month, MonthlyReview.voided_at.is_(None)
                )
            )
        }
        ids = [p.id for p in self.patients.values()]
        self.logs = log_lines_of(session, ids, month, zone)
        # Who signed each signed care plan version (the appendix names the plan in force).
        self.plan_signers: dict[tuple[int, int], int | None] = {
            (pid, number): signer
            for pid, number, signer in session.execute(
                select(
                    CarePlanVersion.patient_id, CarePlanVersion.number, CarePlanVersion.signed_by_id
                ).where(CarePlanVersion.patient_id.in_(ids), CarePlanVersion.signed_on.is_not(None))
            )
        }

    def payer_name(self, patient: Patient) -> str:
        """The primary payer's name as the payer list has it now; else the patient's text."""
        payer = self.payers.get(patient.primary_payer_id or 0)
        return payer.name if payer is not None else patient.payer

    def signed(self, patient: Patient) -> tuple[Staff | None, dt.date | None]:
        """Who signed the patient's month and on which day of the practice (None: unsigned)."""
        review = self.signatures.get(patient.id)
        if review is None:
            return None, None
        return self.staff.get(review.signed_by_id), review.signed_at.astimezone(self.zone).date()

    def claim_lines(self, row: BillingRow) -> list[ClaimLine]:
        """The month's claim lines: its care management's, its general BHI's (pointing at
        the behavioural-health diagnoses first), then its G0506 for the visit's claim."""
        r = row.result
        # Each billed result's patient share spread over its lines, in the claim's line order
        # (care management, then BHI); G0506's coinsurance is the visit claim's.
        shares = [
            share
            for result in billed(r)
            for share in line_shares(
                result.patient_share_cents, [line.charge_cents for line in result.lines]
            )
        ]
        month_claim = claim_id(row.mrn, r.month)
        parts = [
            (
                item.line,
                item.service_date,
                item.letters,
                0 if item.g0506 else shares[n],
                "" if item.g0506 else month_claim,
                "visit_claim" if item.g0506 else "month_claim",
            )
            for n, item in enumerate(month_claim_lines(r, g0506=True))
        ]
        return self._claim_lines(row, claim_diagnoses(r), parts)

    def _claim_lines(
        self,
        row: BillingRow,
        conditions: Sequence[str],
        parts: Sequence[tuple[CodeLine, dt.date, str, int, str, str]],
    ) -> list[ClaimLine]:
        patient, place, group_npi = self.patients[row.mrn], self.place, self.group_npi
        r = row.result
        diagnoses = ";".join(conditions)
        primary = self.payers.get(patient.primary_payer_id or 0)
        secondary = self.payers.get(patient.secondary_payer_id or 0)
        signer, signed_on = self.signed(patient)
        return [
            ClaimLine(
                month=r.month,
                mrn=row.mrn,
                date_of_service=day.isoformat(),
                place_of_service=place,
                code=line.code,
                units=line.units,
                charge_cents=line.charge_cents,
                diagnosis_codes=diagnoses,
                rendering_npi=row.practitioner_npi,
                billing_npi=group_npi or row.practitioner_npi,
                payer=self.payer_name(patient),
                member_id=patient.member_id,
                patient_last_name=patient.last_name,
                patient_first_name=patient.first_name,
                patient_dob=patient.dob.isoformat(),
                patient_sex=patient.sex,
                patient_address=patient.address,
                patient_city=patient.city,
                patient_state=patient.state,
                patient_zip=patient.zip,
                payer_id=primary.payer_id if primary is not None else "",
                edi_payer_id=primary.edi_payer_id if primary is not None else "",
                relationship=patient.insured_relationship or "self",
                secondary_payer=secondary.payer_id if secondary is not None else "",
                secondary_member_id=patient.secondary_member_id if secondary is not None else "",
                diagnosis_pointers=letters,
                tin=self.tin,
                taxonomy=self.taxonomy,
                signed_by_npi=(signer.npi or "") if signer is not None else "",
                signed_on=signed_on.isoformat() if signed_on is not None else "",
                patient_share_cents=share,
                claim_id=claim,
                bill_on=bill_on,
            )
            for line, day, letters, share, claim, bill_on in parts
        ]

    def care_plan(self, patient: Patient, row: BillingRow) -> str:
        """The plan the month was billed on: "version 3, signed 04 Nov 2026 (Dr. A, MD)", "kept
        elsewhere, dated 04 Nov 2026", or "" (printed "none on file")."""
        plan = plan_in_force(row)
        if plan is None:
            return ""
        text = plan_label(plan)
        signer = (
            None
            if plan.number is None
            else self.staff.get(self.plan_signers.get((patient.id, plan.number)) or 0)
        )
        if signer is not None:
            text += f" ({staff_label(signer)})"
        return text

    def superbill(self, row: BillingRow) -> pdf.Superbill:
        patient = self.patients[row.mrn]
        signature = self.signatures.get(patient.id)
        log = self.logs.get(patient.id, [])
        staff, zone, place, group_npi = self.staff, self.zone, self.place, self.group_npi
        header, generated, head = self.header, self.generated, self.head
        r = row.result
        conditions = claim_diagnoses(r)
        # Box 24: the claim's lines as the claim file and the claim-lines CSV list them.
        items = month_claim_lines(r, g0506=True)
        bills = billed(r)
        # The superbill's date of service: the care management's, else (only the BHI bills)
        # the BHI's.
        main = bills[0]
        practitioner = staff.get(patient.billing_practitioner_id or 0)
        name = row.practitioner + (
            f", {practitioner.credentials}" if practitioner and practitioner.credentials else ""
        )
        enrollment = patient.enrollment
        consent = ""
        if enrollment is not None and enrollment.consent_date is not None:
            consent = date_text(enrollment.consent_date) + (
                f", {enrollment.consent_method}" if enrollment.consent_method else ""
            )
        care_plan = self.care_plan(patient, row)
        who = (
            "billing practitioner's own time"
            if r.option and r.option.family in ("ccm_practitioner", "pcm_practitioner")
            else "countable time"
        )
        sign_off = None
        if signature is not None:
            signer = staff.get(signature.signed_by_id)
            signed_at = signature.signed_at.astimezone(zone)
            sign_off = pdf.SignOff(
                signer.name if signer else "?",
                date_time_text(signed_at),
                signature.attestation,
                day=date_text(signed_at.date()),  # box 31: the day the month was signed
            )
        address = _address_text(patient.address, patient.city, patient.state, patient.zip)
        primary = self.payers.get(patient.primary_payer_id or 0)
        secondary = self.payers.get(patient.secondary_payer_id or 0)
        relationship = patient.insured_relationship or "self"
        insured = ""  # box 4: blank prints the patient, who is the insured
        if relationship != "self":
            insured = ", ".join(
                part for part in (patient.insured_last_name, patient.insured_first_name) if part
            )
        # Boxes 12 and 13: the patient's own yes or no, else what the practice collects.
        on_file = signature_on_file(
            PatientClaimFacts(signature_on_file=SIGNATURE.get(patient.signature_on_file)),
            self.claim_settings,
        )
        return pdf.Superbill(
            practice=header,
            month=r.month,
            month_name=month_label(r.month),
            practitioner=name,
            practitioner_npi=row.practitioner_npi,
            billing_npi=group_npi or row.practitioner_npi,
            patient_name=f"{patient.last_name}, {patient.first_name}",
            dob=date_text(patient.dob),
            mrn=patient.mrn,
            address=address,
            sex=patient.sex,  # box 3
            phone=patient.phone,  # box 5
            payer=self.payer_name(patient),
            payer_kind=primary.kind if primary is not None else "",  # box 1
            member_id=patient.member_id,  # box 1a
            relationship=relationship,  # box 6
            insured_name=insured,
            other_insured=(
                pdf.OtherInsured(secondary.name, patient.secondary_member_id)
                if secondary is not None
                else None
            ),  # boxes 9, 9a, 9d and 11d
            signature_on_file=on_file,
            service_facility=f"{header.name}, {self.practice_address}",  # box 32
            # Box 33 names whom 33a's NPI belongs to: the group, else the practitioner billing
            # in their own name (as the claim file's loop 2010AA does).
            billing_provider=header.name if group_npi else row.practitioner,
            billing_address=self.practice_address,  # box 33
            patient_share_text=_share_text(bills),
            qmb=patient.qmb,
            date_of_service=date_text(main.date_of_service),
            place_of_service=place,
            diagnoses=tuple((code, icd10.description(code)) for code in conditions),
            lines=tuple(
                pdf.ServiceLine(
                    item.line.code,
                    item.line.description,
                    item.line.units,
                    item.letters,
                    item.line.charge_cents,
                    # The month's own date of service heads the page; a line of another
                    # (the BHI's, after the care management's) says its own.
                    date_of_service=date_text(item.service_date) if n >= len(main.lines) else "",
                )
                for n, item in enumerate(item for item in items if not item.g0506)
            ),
            total_cents=sum(result.amount_cents for result in bills),
            patient_share_cents=sum(result.patient_share_cents for result in bills),
            visit_lines=tuple(
                pdf.ServiceLine(
                    item.line.code,
                    item.line.description,
                    item.line.units,
                    item.letters,
                    item.line.charge_cents,
                    date_of_service=date_text(item.service_date),
                    note=VISIT_CLAIM_NOTE,
                )
                for item in items
                if item.g0506
            ),
            minutes=(
                ("Countable (each second once)", clock(r.countable_seconds)),
                ("Clinical staff", clock(r.staff_seconds)),
                ("Billing practitioner", clock(r.practitioner_seconds)),
            )
            + (
                (("General BHI, counted apart", clock(r.bhi.countable_seconds)),)
                if r.bhi is not None
                else ()
            ),
            thresholds=tuple(
                f"{clock(t.seconds)} of {who} reached on {day_text(t.day)} → {t.code}"
                for t in (r.thresholds if r.billable else ())
            )
            + tuple(
                f"{clock(t.seconds)} of BHI time reached on {day_text(t.day)} → {t.code}"
                for t in (r.bhi.thresholds if r.bhi is not None and r.bhi.billable else ())
            ),
            excluded=tuple(
                (REASONS[code].text, clock(seconds)) for code, seconds in sorted(r.excluded.items())
            ),
            consent=consent,
            care_plan=care_plan,
            sign_off=sign_off,
            log=tuple(
                pdf.LogLine(
                    date_text(line.started_at.astimezone(zone)),
                    f"{line.started_at.astimezone(zone):%H:%M}–"
                    + (f"{line.ended_at.astimezone(zone):%H:%M}" if line.ended_at else "running"),
                    clock(line.seconds),
                    line.staff_name,
                    line.activity,
                    line.service.upper() + (" F2F" if line.face_to_face else ""),
                    line.note,
                )
                for line in log
            ),
            generated=generated,
            audit_head=head,
            created=self.created,
        )


def practice_address(practice: Practice) -> str:
    """The practice's address on one line (boxes 32 and 33, the patient copy): its parts, the
    way the claim file carries them, once entered; until then the printed address."""
    if practice.street.strip():
        return _address_text(practice.street, practice.city, practice.state, practice.zip)
    return practice.address


def _address_text(street: str, city: str, state: str, zip_code: str) -> str:
    """An address from its parts on one line, "1 Main St, Portland, ME 04101"; blank parts
    left out."""
    parts = (street.strip(), city.strip(), f"{state.strip()} {zip_code.strip()}".strip())
    return ", ".join(part for part in parts if part)


def superbill_names(mrns: Sequence[str]) -> dict[str, str]:
    """Each MRN's part of its superbill's file name: the MRN itself when that is safe in a file
    name and no other MRN differs from it only in case (Windows and macOS would take them for
    one file); otherwise the safe form plus a short hash of the real MRN, so that two patients
    never share, or overwrite, one file."""
    safe = {mrn: file_safe(mrn) for mrn in mrns}
    taken = Counter(name.casefold() for name in safe.values())
    return {
        mrn: name
        if name == mrn and taken[name.casefold()] == 1
        else f"{name}-{hashlib.sha256(mrn.encode()).hexdigest()[:8]}"
        for mrn, name in safe.items()
    }


def _share_text(bills: Sequence[MonthResult]) -> str:
    """The patient-share sentence for what the superbill bills: the rules' own sentence, of
    the care management and the general BHI together when both bill."""
    if len(bills) == 1:
        return estimate_text(bills[0])
    shares = [b.cost_share for b in bills]
    together = dataclasses.replace(
        shares[0],
        patient_cents=sum(share.patient_cents for share in shares),
        coinsurance_cents=sum(share.coinsurance_cents for share in shares),
    )
    return estimate_text(dataclasses.replace(bills[0], cost_share=together))


def _visit_claims(rows: Iterable[BillingRow]) -> tuple[pdf.VisitClaim, ...]:
    """Each G0506 of the month, for the handoff's "Add to the visit's claim"."""
    return tuple(
        pdf.VisitClaim(row.mrn, row.patient_name, date_text(day), line.code, line.charge_cents)
        for row in rows
        if (line := row.result.g0506) is not None and (day := row.result.g0506_day) is not None
    )


def _handoff_rows(row: BillingRow) -> list[tuple[bool, pdf.HandoffRow]]:
    """The month's rows of the handoff report, each with whether it bills: its care
    management's, then its general BHI's, marked BHI."""
    out = [(row.result.billable, _handoff_row(row, row.result))]
    if row.result.bhi is not None:
        out.append((row.result.bhi.billable, _handoff_row(row, row.result.bhi)))
    return out


def _handoff_row(row: BillingRow, r: MonthResult) -> pdf.HandoffRow:
    reasons = tuple((REASONS[code].text, REASONS[code].mend) for code in sorted(r.blocks)) or (
        ("Nothing reaches a billing threshold.", ""),
    )
    return pdf.HandoffRow(
        mrn=row.mrn,
        patient=row.patient_name,
        practitioner=row.practitioner,
        # A page people read: codes as every screen writes them (the CSV keeps semicolons).
        codes=codes_words(r.codes) if r.billable else "",
        amount_cents=r.amount_cents if r.billable else 0,
        signed=r.signed,
        reasons=() if r.billable else reasons,
        bhi=r.program == "bhi",
    )


def _staff_minutes(
    session: Session, month: str, zone: dt.tzinfo, staff: dict[int, Staff]
) -> tuple[tuple[str, str, str], ...]:
    """Minutes recorded in the month by each staff member (closed stretches, cut at the
    month's ends), counted or not: what the team did, for the billing office."""
    lo, hi = month_bounds(month, zone)
    seconds: dict[int, int] = {}
    for staff_id, started, ended in session.execute(
        select(TimeEntry.staff_id, TimeSegment.started_at, TimeSegment.ended_at)
        .join(TimeSegment, TimeSegment.entry_id == TimeEntry.id)
        .where(
            TimeEntry.deleted_at.is_(None),
            TimeSegment.started_at < hi,
            TimeSegment.ended_at > lo,
        )
    ):
        assert ended is not None  # `ended_at > lo` leaves out stretches still running
        part = (min(ended, hi) - max(started, lo)).total_seconds()
        seconds[staff_id] = seconds.get(staff_id, 0) + int(part)
    return tuple(
        (staff[sid].name, staff[sid].role.replace("_", " "), clock(total))
        for sid, total in sorted(seconds.items(), key=lambda item: staff[item[0]].name)
    )
