"""The practitioner's monthly review: the queue, the one-screen summary, signing and unlocking."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from ccmdesk.db import Database
from ccmdesk.models import (
    CarePlanCopy,
    CarePlanVersion,
    MonthlyReview,
    Patient,
    SentClaim,
    Staff,
    TimeEntry,
    TimeSegment,
)
from ccmdesk.models.staff import Role
from ccmdesk.rules import icd10
from ccmdesk.rules.billing import estimate_text
from ccmdesk.rules.care_plan import PlanInForce, plan_label
from ccmdesk.rules.intervals import day_month_year, month_label, month_of
from ccmdesk.rules.minutes import month_bounds
from ccmdesk.rules.records import FieldError
from ccmdesk.services import audit
from ccmdesk.services.base import (
    ServiceBase,
    checked_month,
    checked_reason,
    patient_by_mrn,
    practice_zone,
)
from ccmdesk.services.billing.comparison import Compared, comparison, program_name
from ccmdesk.services.billing.evaluation import BillingRow, BillingService
from ccmdesk.services.billing.plumbing import collector_paused
from ccmdesk.services.context import SYSTEM_ROLE, Actor, Clock, Permission, allowed
from ccmdesk.services.errors import NotFound, PermissionDenied, ServiceError, ValidationFailed
from ccmdesk.services.locks import closed_months
from ccmdesk.services.practice import attestation_text
from ccmdesk.services.refusals import Refusal, first_refusal, message, permission_refusal

# The summary reads the patient's conditions and enrollment.
_WITH_RECORD = (selectinload(Patient.conditions), selectinload(Patient.enrollment))

# What a row of the queue is, for the practitioner.
READY = "ready to sign"
BLOCKED = "blocked"
BELOW = "below threshold"
SIGNED = "signed"
CLOSED = "closed for billing"  # billable, but in a month closed before it was signed


def month_sign_refusal(month: str, current: str, closed: bool) -> str:
    """Why nothing in this month can be signed now, or "": the one rule both the refusal to
    sign and the screen's Sign buttons follow."""
    if month > current:
        return f"{month_label(month)} has not begun; it cannot be signed yet."
    if closed:
        return (
            f"{month_label(month)} is closed for billing; an administrator must reopen it "
            "before anything in it is signed."
        )
    return ""


def unlock_refusal(
    actor: Actor, month: str, patient_name: str, *, own: bool, closed: bool, signed: bool
) -> Refusal | None:
    """Why `actor` may not void the signature on a patient's month, or None: the one rule both
    ReviewService.unlock and the Unlock button follow. `own`: the patient's billing
    practitioner is the actor (a practitioner unlocks only their own patients' months)."""
    return first_refusal(
        permission_refusal(actor, Permission.UNLOCK_MONTH),
        Refusal(
            f"{actor.name} is not the billing practitioner of {patient_name}; only that "
            "practitioner (or an administrator) may do this.",
            denied=True,
        )
        if actor.role == Role.PRACTITIONER and not own
        else None,
        Refusal(
            f"{month_label(month)} is closed for billing; an administrator must reopen it "
            "before a signature in it is voided."
        )
        if closed
        else None,
        Refusal(
            f"{month_label(month)} is not signed for {patient_name}; there is nothing to unlock."
        )
        if not signed
        else None,
    )


def corrected_claim_text(sent_in: str) -> str:
    """What unlocking a month whose claim was sent means for the claim (docs/billing-rules.md,
    "Unlocking a month whose claim was sent"); "" when no claim was sent."""
    if not sent_in:
        return ""
    return (
        f"A claim for this month was already sent in {sent_in}. If the month then bills "
        "differently, the payer needs a corrected claim (frequency 7), which ccmdesk does not "
        "produce yet: send it from the clearinghouse or practice-management system."
    )


def estimate_line(row: BillingRow) -> str:
    """The patient-share estimate the summary shows: for a billable month of a patient with a
    payer, a secondary payer or a waiver; "" otherwise (no payer on file reads as before)."""
    r = row.result
    patient = r.inputs[1]
    if not r.billable or (
        patient.coverage is None and not patient.secondary_payer and r.cost_share.waiver is None
    ):
        return ""
    return estimate_text(r)


def sent_in(session: Session, patient_id: int, month: str) -> str:
    """The file the patient's claim for the month was last sent in, or ""."""
    found = session.scalars(
        select(SentClaim.file)
        .where(SentClaim.patient_id == patient_id, SentClaim.month == month)
        .order_by(SentClaim.id.desc())
        .limit(1)
    ).first()
    return found or ""


def review_status(row: BillingRow) -> str:
    """Signed; ready to sign (billable); below threshold (only time is missing); blocked."""
    result = row.result
    if result.signed:
        return SIGNED
    if result.bills:  # its program, its general BHI or both
        return READY
    if set(result.blocks) <= {"BELOW_THRESHOLD"}:
        return BELOW
    return BLOCKED


@dataclass(frozen=True)
class LogLine:
    """One entry of the month's time log, as the practitioner reviews it."""

    entry_id: int
    started_at: dt.datetime  # UTC
    ended_at: dt.datetime | None  # None while a stopwatch runs
    seconds: int
    staff_name: str
    staff_role: str
    activity: str
    service: str
    face_to_face: bool
    note: str
    open: bool = False  # a stopwatch still running or paused: its time is not final


@dataclass(frozen=True)
class Signature:
    """A signature on a patient-month, in force or voided by an unlock."""

    signed_by: str  # name
    signed_by_key: str
    signed_at: dt.datetime
    attestation: str
    summary_hash: str
    voided_at: dt.datetime | None = None
    voided_by: str = ""
    void_reason: str = ""


def plan_in_force(row: BillingRow) -> PlanInForce | None:
    """The care plan the row's month was judged on: the evaluation's own facts, so the summary,
    the superbill and the bill agree (docs/billing-rules.md, "Care plan")."""
    m, facts, _ = row.result.inputs
    return facts.care_plan(m.last_day)


def _given_on(session: Session, patient_id: int, plan: PlanInForce | None) -> dt.date | None:
    """The day the first copy of the signed version `plan` was given (None for a plan kept
    elsewhere, or a version never given)."""
    if plan is None or plan.external or not plan.given:
        return None
    return session.scalar(
        select(func.min(CarePlanCopy.given_on))
        .join(CarePlanVersion, CarePlanVersion.id == CarePlanCopy.version_id)
        .where(CarePlanVersion.patient_id == patient_id, CarePlanVersion.number == plan.number)
    )


def care_plan_text(plan: PlanInForce | None, given_on: dt.date | None) -> str:
    """The summary's care plan line: "version 3, signed 4 Nov 2026 · review by 4 May 2027 ·
    copy given 6 Nov 2026", "kept elsewhere, dated 4 Nov 2026" or "none on file"."""
    if plan is None:
        return "none on file"
    if plan.external:
        return plan_label(plan, day_month_year)
    parts = [plan_label(plan, day_month_year)]
    if plan.review_on is not None:
        parts.append(f"review by {day_month_year(plan.review_on)}")
    parts.append(f"copy given {day_month_year(given_on)}" if given_on else "no copy given yet")
    return " · ".join(parts)


@dataclass(frozen=True)
class MonthlySummary:
    """Everything on the one screen a practitioner signs."""

    row: BillingRow
    dob: dt.date
    conditions: tuple[tuple[str, str], ...]  # (code, description), in claim order
    consent_date: dt.date | None
    consent_method: str
    # The care plan in force on the month's last day, as the evaluation judged it (a signed
    # version, or a plan kept elsewhere), and the day its first copy was given (a version only).
    care_plan: PlanInForce | None
    care_plan_given_on: dt.date | None
    log: tuple[LogLine, ...]
    signature: Signature | None  # the one in force
    history: tuple[Signature, ...]  # voided, newest first
    closed: bool  # the practice closed the month
    month_over: bool  # False while the month is still running
    attestation: str  # what signing would attest now
    # The month as evaluated now no longer matches what was signed (say, a condition or the
    # consent changed on the patient's record since): the signature covers the old figures.
    changed_since_signed: bool = False
    # Why the person asking may not unlock the month ("" when they may), by the rule
    # unlocking obeys (unlock_refusal).
    unlock_refusal: str = ""
    # The claim file the month's claim was last sent in ("" when none): unlocking it then
    # means a corrected claim.
    sent_in: str = ""
    # The patient-share estimate sentence ("" for a month that does not bill, or a patient
    # with no payer facts).
    estimate: str = ""

    @property
    def unlock_warning(self) -> str:
        """What unlocking would mean for a claim already sent ("" when none was)."""
        return corrected_claim_text(self.sent_in)

    @property
    def can_unlock(self) -> bool:
        return not self.unlock_refusal

    @property
    def month(self) -> str:
        return self.row.result.month

    @property
    def status(self) -> str:
        return review_status(self.row)

    @property
    def program(self) -> str:
        """The month's program as the screens name it ("CCM/PCM", "APCM", "PCM (focus I10)")."""
        return program_name(self.row.result)

    @property
    def comparison(self) -> list[Compared]:
        """The program billed beside each other program the month was priced under (empty
        when none was): changing programs is the practitioner's or biller's decision."""
        return comparison(self.row.result)

    @property
    def open_stopwatch(self) -> bool:
        """Someone's stopwatch is still running or paused on this patient in the month."""
        return any(line.open for line in self.log)


@dataclass(frozen=True)
class Unlocked:
    """What an unlock did: the voided signature's month, and what it means for a sent claim."""

    mrn: str
    month: str
    sent_in: str = ""  # the claim file the month's claim was sent in, "" when none

    @property
    def corrected_claim_needed(self) -> bool:
        return bool(self.sent_in)

    @property
    def message(self) -> str:
        return corrected_claim_text(self.sent_in)


@dataclass(frozen=True)
class ReviewQueue:
    month: str
    rows: tuple[tuple[BillingRow, str], ...]  # (row, status), in MRN order
    closed: bool
    # Why nothing in the month can be signed now ("" when it can), by the rule signing obeys.
    sign_refusal: str = ""

    @property
    def can_sign(self) -> bool:
        return not self.sign_refusal

    def count(self, status: str) -> int:
        return sum(1 for _, s in self.rows if s == status)


class ReviewService(ServiceBase):
    """Practitioners review, attest and sign their patients' months; signing freezes them."""

    def __init__(self, db: Database, clock: Clock, billing: BillingService) -> None:
        super().__init__(db, clock)
        self._billing = billing

    # --- reads ----------------------------------------------------------------------------------

    def queue(self, actor: Actor, month: str) -> ReviewQueue:
        """A practitioner's patients for the month with their review status; billing staff
        and administrators see every practitioner's."""
        actor = self._authorize(actor, Permission.VIEW_BILLING)
        month = checked_month(month)
        with collector_paused(), self._db.read() as session:
            which = None
            if actor.role == Role.PRACTITIONER:
                me = self._staff(session, actor)
                which = Patient.billing_practitioner_id == me.id
            rows = self._billing.evaluate_in(session, month, which)
            closed = bool(closed_months(session, [month]))
            current = month_of(self._now(), practice_zone(session))
        refusal = month_sign_refusal(month, current, closed)
        if not allowed(actor, Permission.SIGN_MONTH):
            refusal = f"{actor.name} may not sign a patient's month."
        statuses = []
        for row in rows:
            status = review_status(row)
            # A billable month the practice closed unsigned is not "ready": nothing signs it.
            statuses.append((row, CLOSED if closed and status == READY else status))
        return ReviewQueue(month, tuple(statuses), closed, refusal)

    def summary(self, actor: Actor, mrn: str, month: str) -> MonthlySummary:
        """The one-screen monthly summary of a patient."""
        actor = self._authorize(actor, Permission.VIEW_BILLING)
        month = checked_month(month)
        with self._db.read() as session:
            patient = patient_by_mrn(session, mrn, *_WITH_RECORD)
            if actor.role == Role.PRACTITIONER:
                self._own_patient(session, actor, patient)
            row = self._billing.evaluate_in(session, month, Patient.id == patient.id, every=True)[0]
            zone = practice_zone(session)
            log = self.log_lines(session, patient.id, month, zone)
            reviews = session.scalars(
                select(MonthlyReview)
                .where(MonthlyReview.patient_id == patient.id, MonthlyReview.month == month)
                .order_by(MonthlyReview.signed_at.desc(), MonthlyReview.id.desc())
            ).all()
            people = {
                sid: (name, key)
                for sid, name, key in session.execute(select(Staff.id, Staff.name, Staff.staff_id))
            }
            signatures = [
                Signature(
                    *people.get(r.signed_by_id, ("?", "")),
                    r.signed_at,
                    r.attestation,
                    r.summary_hash,
                    r.voided_at,
                    people.get(r.voided_by_id or 0, ("the command line", ""))[0]
                    if r.voided_at
                    else "",
                    r.void_reason or "",
                )
                for r in reviews
            ]
            enrollment = patient.enrollment
            plan = plan_in_force(row)
            today_month = month_of(self._now(), zone)
            in_force = next((s for s in signatures if s.voided_at is None), None)
            changed = in_force is not None and in_force.summary_hash != audit.document_digest(
                _summary_document(row, log)
            )
            closed = bool(closed_months(session, [month]))
            unlock = unlock_refusal(
                actor,
                month,
                f"{patient.first_name} {patient.last_name}",
                own=self._is_own(session, actor, patient),
                closed=closed,
                signed=in_force is not None,
            )
            return MonthlySummary(
                row=row,
                dob=patient.dob,
                conditions=tuple((c.code, icd10.description(c.code)) for c in patient.conditions),
                consent_date=enrollment.consent_date if enrollment else None,
                consent_method=(enrollment.consent_method or "") if enrollment else "",
                care_plan=plan,
                care_plan_given_on=_given_on(session, patient.id, plan),
                log=tuple(log),
                signature=in_force,
                history=tuple(s for s in signatures if s.voided_at is not None),
                closed=closed,
                month_over=month < today_month,
                attestation=attestation_text(session),
                changed_since_signed=changed,
                unlock_refusal=message(unlock),
                sent_in=sent_in(session, patient.id, month),
                estimate=estimate_line(row),
            )

    # --- signing --------------------------------------------------------------------------------

    def sign(
        self, actor: Actor, mrn: str, month: str, shown: tuple[str, int] | None = None
    ) -> Signature:
        """Sign one patient's month with the practice's attestation statement."""
        return self.sign_many(actor, month, [mrn], {mrn: shown} if shown else None)[0]

    def sign_many(
        self,
        actor: Actor,
        month: str,
        mrns: Sequence[str],
        shown: Mapping[str, tuple[str, int]] | None = None,
    ) -> list[Signature]:
        """Sign several patients' months in one go: every one is signable, or none is signed
        and the refusal lists each patient that is not, with why.

        `shown` is what the practitioner was shown per MRN (every code the month bills, its
        general BHI's included, and their total in cents): if the
        month reads differently now (someone added time meanwhile), nothing is signed.
        """
        actor = self._authorize(actor, Permission.SIGN_MONTH)
        month = checked_month(month)
        wanted = list(dict.fromkeys(m.strip() for m in mrns if m.strip()))
        if not wanted:
            raise ValidationFailed([FieldError("patients", "choose at least one patient")])
        now = self._now().replace(microsecond=0)
        with collector_paused(), self._db.session() as session:
            me = self._staff(session, actor)
            zone = practice_zone(session)
            refusal = month_sign_refusal(
                month, month_of(now, zone), bool(closed_months(session, [month]))
            )
            if refusal:
                raise ServiceError(refusal)
            patients = {
                p.mrn: p for p in session.scalars(select(Patient).where(Patient.mrn.in_(wanted)))
            }
            if missing := [m for m in wanted if m not in patients]:
                raise NotFound(f"There is no patient with MRN {', '.join(missing)}.")
            rows = {
                row.mrn: row
                for row in self._billing.evaluate_in(
                    session, month, Patient.mrn.in_(wanted), every=True
                )
            }
            by_id = log_lines_of(session, [patients[mrn].id for mrn in wanted], month, zone)
            logs = {mrn: by_id.get(patients[mrn].id, []) for mrn in wanted}
            problems = []
            for mrn in wanted:
                patient, row = patients[mrn], rows[mrn]
                why = self._why_not_signable(patient, row, me, logs[mrn])
                seen = (shown or {}).get(mrn)
                now_reads = (row.result.all_codes, row.result.total_cents)
                if not why and seen is not None and tuple(seen) != now_reads:
                    why = (
                        f"it changed since it was shown ({seen[0] or 'no codes'} then, "
                        f"{now_reads[0] or 'no codes'} now); look at it again"
                    )
                if why:
                    problems.append(f"{row.patient_name} ({mrn}): {why}")
            if problems:
                raise ServiceError(
                    "Nothing was signed. "
                    + ("These months cannot be signed: " if len(problems) > 1 else "")
                    + "; ".join(problems)
                )
            attestation = attestation_text(session)
            signatures = []
            for mrn in wanted:
                patient, row = patients[mrn], rows[mrn]
                document = _summary_document(row, logs[mrn])
                text = audit.canonical_json(document) or ""
                digest = audit.document_digest(document)
                session.add(
                    MonthlyReview(
                        patient_id=patient.id,
                        month=month,
                        signed_by_id=me.id,
                        signed_at=now,
                        attestation=attestation,
                        summary=text,
                        summary_hash=digest,
                    )
                )
                audit.record_month(
                    session,
                    now,
                    actor,
                    "month.sign",
                    patient,
                    month,
                    after={
                        "attestation": attestation,
                        "summary_sha256": digest,
                        "codes": document["codes"],
                        "amount_cents": document["amount_cents"],
                        "countable_seconds": document["countable_seconds"],
                        "entries": len(logs[mrn]),
                    },
                )
                signatures.append(Signature(actor.name, actor.key, now, attestation, digest))
        return signatures

    def unlock(self, actor: Actor, mrn: str, month: str, reason: str) -> Unlocked:
        """Void the signature on a patient's month so it can change; it must be signed again.
        When the month's claim was sent already, the result and the audit event say that a
        corrected claim will be needed."""
        actor = self._authorize(actor, Permission.UNLOCK_MONTH)
        month = checked_month(month)
        if not reason.strip():
            raise ValidationFailed([FieldError("reason", "is required to unlock a signed month")])
        reason = checked_reason(reason)
        now = self._now().replace(microsecond=0)
        with self._db.session() as session:
            patient = patient_by_mrn(session, mrn)
            staff = None
            if actor.role != SYSTEM_ROLE:
                staff = self._staff(session, actor)
            review = session.scalars(
                select(MonthlyReview).where(
                    MonthlyReview.patient_id == patient.id,
                    MonthlyReview.month == month,
                    MonthlyReview.voided_at.is_(None),
                )
            ).first()
            refusal = unlock_refusal(
                actor,
                month,
                f"{patient.first_name} {patient.last_name}",
                own=self._is_own(session, actor, patient),
                closed=bool(closed_months(session, [month])),
                signed=review is not None,
            )
            if refusal is not None:
                refusal.raise_it()
            assert review is not None  # unlock_refusal refuses a month not signed
            review.voided_at = now
            review.voided_by_id = staff.id if staff is not None else None
            review.void_reason = reason.strip()
            signer = session.get(Staff, review.signed_by_id)
            sent = sent_in(session, patient.id, month)
            audit.record_month(
                session,
                now,
                actor,
                "month.unlock",
                patient,
                month,
                before={
                    "signed_by": signer.staff_id if signer else "",
                    "signed_at": review.signed_at,
                    "summary_sha256": review.summary_hash,
                },
                # Only a sent claim adds to the event: an unlock of a month never sent in a
                # claim file is recorded as before.
                after={"sent_in": sent, "corrected_claim": corrected_claim_text(sent)}
                if sent
                else None,
                reason=reason.strip(),
            )
            return Unlocked(patient.mrn, month, sent)

    # --- helpers --------------------------------------------------------------------------------

    @staticmethod
    def _why_not_signable(
        patient: Patient, row: BillingRow, me: Staff, log: Sequence[LogLine]
    ) -> str:
        if patient.billing_practitioner_id != me.id:
            return "only the patient's billing practitioner signs the month"
        if row.result.signed:
            return "the month is signed already"
        if any(line.open for line in log):
            return "a stopwatch is still running or paused on this patient; stop it first"
        if not row.result.bills:
            reasons = [b for b in row.result.blocks] or ["nothing to bill"]
            return "not billable (" + ", ".join(reasons) + ")"
        return ""

    @staticmethod
    def log_lines(session: Session, patient_id: int, month: str, zone: dt.tzinfo) -> list[LogLine]:
        """The patient's entries with time in the month, everyone's, in time order."""
        return log_lines_of(session, [patient_id], month, zone).get(patient_id, [])

    @staticmethod
    def _staff(session: Session, actor: Actor) -> Staff:
        staff = session.scalars(select(Staff).where(Staff.staff_id == actor.key)).first()
        if staff is None:
            raise PermissionDenied(f"{actor.name} is not a staff member; sign in as one.")
        return staff

    def _is_own(self, session: Session, actor: Actor, patient: Patient) -> bool:
        """Whether the actor is the patient's billing practitioner."""
        if actor.role != Role.PRACTITIONER:
            return False
        return patient.billing_practitioner_id == self._staff(session, actor).id

    def _own_patient(self, session: Session, actor: Actor, patient: Patient) -> None:
        me = self._staff(session, actor)
        if patient.billing_practitioner_id != me.id:
            raise PermissionDenied(
                f"{actor.name} is not the billing practitioner of {patient.first_name} "
                f"{patient.last_name}; only that practitioner (or an administrator) may do this."
            )


def _summary_document(row: BillingRow, log: Sequence[LogLine]) -> dict[str, object]:
    """What a signature covers: the codes and minutes shown, and every entry of the log; the
    program only when it is not CCM and the general BHI only when the month has BHI time, so
    that a month signed before programs existed hashes as it did."""
    r = row.result
    document: dict[str, object] = {
        "mrn": row.mrn,
        "month": r.month,
        "codes": [[line.code, line.units] for line in r.lines],
        "amount_cents": r.amount_cents,
        "countable_seconds": r.countable_seconds,
        "practitioner_seconds": r.practitioner_seconds,
        "excluded": dict(r.excluded),
        "entries": [
            [line.entry_id, line.started_at, line.ended_at, line.seconds, line.service, line.note]
            for line in log
        ],
    }
    if r.program != "ccm":
        document["program"] = r.program
    if r.bhi is not None:
        document["bhi"] = {
            "codes": [[line.code, line.units] for line in r.bhi.lines],
            "seconds": r.bhi.countable_seconds,
        }
    return document


def log_lines_of(
    session: Session, patient_ids: Sequence[int], month: str, zone: dt.tzinfo
) -> dict[int, list[LogLine]]:
    """Each patient's entries with time in the month, everyone's, in time order: one query
    for any number of patients (an export reads a thousand logs)."""
    lo, hi = month_bounds(month, zone)
    found: dict[int, list[LogLine]] = {}
    if not patient_ids:
        return found
    # The patients' entries first (by the patient index), then their segments: never a scan
    # of the whole month's segments per patient.
    entries = session.scalars(
        select(TimeEntry)
        .join(TimeSegment, TimeSegment.entry_id == TimeEntry.id)
        .where(
            TimeEntry.patient_id.in_(list(patient_ids)),
            TimeEntry.deleted_at.is_(None),
            TimeSegment.started_at < hi,
            (TimeSegment.ended_at > lo) | TimeSegment.ended_at.is_(None),
        )
        .distinct()
        .options(selectinload(TimeEntry.segments))
    ).all()
    staff = {
        s.id: s
        for s in session.scalars(select(Staff).where(Staff.id.in_({e.staff_id for e in entries})))
    }
    for e in entries:
        starts = [s.started_at for s in e.segments]
        running = any(s.ended_at is None for s in e.segments)
        ends = [s.ended_at for s in e.segments if s.ended_at is not None]
        seconds = sum(
            int((min(s.ended_at, hi) - max(s.started_at, lo)).total_seconds())
            for s in e.segments
            if s.ended_at is not None and s.ended_at > lo and s.started_at < hi
        )
        who = staff[e.staff_id]
        found.setdefault(e.patient_id, []).append(
            LogLine(
                e.id,
                min(starts),
                None if running else max(ends),
                seconds,
                who.name,
                who.role,
                e.activity,
                e.service,
                e.face_to_face,
                e.note,
                e.state != "stopped",
            )
        )
    for lines in found.values():
        lines.sort(key=lambda line: (line.started_at, line.entry_id))
    return found
