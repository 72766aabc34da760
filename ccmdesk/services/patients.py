"""The patient registry: list, read, add and edit patients."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased, object_session, selectinload

from ccmdesk.db import Database
from ccmdesk.models import Enrollment, Patient, PatientCondition, Payer, Staff
from ccmdesk.rules.records import (
    CALL_COLUMNS,
    CANNOT_PAY,
    KEPT_COLUMNS,
    LANGUAGE_COLUMN,
    PATIENT_FILE_COLUMNS,
    FieldError,
    PatientRecord,
)
from ccmdesk.rules.validation import patient_from_text
from ccmdesk.services import audit
from ccmdesk.services.base import ServiceBase
from ccmdesk.services.billing.evaluation import BillingService
from ccmdesk.services.billing.flags import billed_months_kept
from ccmdesk.services.context import Actor, Clock, Permission
from ccmdesk.services.coverage import (
    PayerBook,
    StoredCoverage,
    apply_coverage,
    kept_coverage,
    named_new_way,
    payer_keys,
    resolve,
    store_made,
)
from ccmdesk.services.enrolment import consent_events, last_declined, stop_problems
from ccmdesk.services.errors import NotFound, ValidationFailed


@dataclass(frozen=True)
class StaffRef:
    """What reference checks need to know about a staff member."""

    name: str
    role: str
    npi: str
    active: bool
    # False for a staff row being imported that has errors of its own: it exists for reference
    # checks, but its role and NPI are not judged again on every patient that names it.
    checked: bool = True


class PatientRow(NamedTuple):
    """One line of the patient list (a named tuple: 10,000 of them are built at start-up)."""

    mrn: str
    last_name: str
    first_name: str
    dob: dt.date
    billing_practitioner: str  # display name
    enrollment: str  # "Enrolled", "No consent", "Declined", "Consent revoked"
    conditions: tuple[str, ...]
    care_manager: str  # staff_id
    primary_payer: str = ""  # payer_id; "" for no payer
    payer_name: str = ""  # as the payer list names it now


def enrollment_status(consent: dt.date | None, revoked: dt.date | None, today: dt.date) -> str:
    if consent is None:
        return "No consent"
    if revoked is not None and revoked <= today:
        return "Consent revoked"
    return "Enrolled"


STAFF_COLUMNS_OF_PATIENT = ("billing_practitioner", "care_manager", "consent_practitioner")


def reference_errors(
    record: PatientRecord,
    staff: Mapping[str, StaffRef],
    previous: Mapping[str, str] | None = None,
) -> list[FieldError]:
    """Staff named by a patient must exist, be active and have the right role.

    `previous` holds the staff the stored patient names now (column -> staff_id): someone who
    has left may stay where they already are, so old records can still be saved, but may not be
    newly chosen.
    """
    errors: list[FieldError] = []

    def known(column: str, key: str) -> StaffRef | None:
        ref = staff.get(key)
        if ref is None:
            errors.append(FieldError(column, f"no staff member has staff_id '{key}'"))
            return None
        if not ref.checked:
            return None  # the staff row itself is wrong and is reported on its own line
        if not ref.active and (previous or {}).get(column) != key:
            errors.append(FieldError(column, f"'{key}' is no longer active; choose someone else"))
            return None
        return ref

    def practitioner(column: str, key: str) -> None:
        ref = known(column, key)
        if ref is None:
            return
        if ref.role != "practitioner":
            errors.append(FieldError(column, f"'{key}' is {ref.role}, not a practitioner"))
        elif not ref.npi:
            errors.append(FieldError(column, f"practitioner '{key}' has no NPI"))

    if record.billing_practitioner:
        practitioner("billing_practitioner", record.billing_practitioner)
    if record.consent_practitioner and record.consent_practitioner != record.billing_practitioner:
        practitioner("consent_practitioner", record.consent_practitioner)
    if record.care_manager:
        ref = known("care_manager", record.care_manager)
        if ref is not None and ref.role not in ("clinical", "practitioner"):
            errors.append(
                FieldError(
                    "care_manager",
                    f"'{record.care_manager}' is {ref.role}; a care manager must be clinical "
                    "staff or a practitioner",
                )
            )
    return errors


def stored_staff_references(
    session: Session, mrns: Iterable[str] | None = None
) -> dict[str, dict[str, str]]:
    """For each stored patient (or those MRNs): column -> staff_id of the staff it names."""
    billing, manager, consent = aliased(Staff), aliased(Staff), aliased(Staff)
    query = (
        select(Patient.mrn, billing.staff_id, manager.staff_id, consent.staff_id)
        .outerjoin(billing, Patient.billing_practitioner_id == billing.id)
        .outerjoin(manager, Patient.care_manager_id == manager.id)
        .outerjoin(Enrollment, Enrollment.patient_id == Patient.id)
        .outerjoin(consent, Enrollment.consent_practitioner_id == consent.id)
    )
    if mrns is not None:
        query = query.where(Patient.mrn.in_(list(mrns)))
    return {
        mrn: dict(zip(STAFF_COLUMNS_OF_PATIENT, (b or "", m or "", c or ""), strict=True))
        for mrn, b, m, c in session.execute(query)
    }


def staff_refs(session: Session) -> tuple[dict[str, StaffRef], dict[str, int]]:
    """Every staff member by staff_id, and their database ids."""
    refs: dict[str, StaffRef] = {}
    ids: dict[str, int] = {}
    for staff in session.scalars(select(Staff)):
        refs[staff.staff_id] = StaffRef(staff.name, staff.role, staff.npi or "", staff.active)
        ids[staff.staff_id] = staff.id
    return refs, ids


def patient_record(
    patient: Patient, staff_keys: Mapping[int, str], payer_keys: Mapping[int, str]
) -> PatientRecord:
    enrollment = patient.enrollment
    return PatientRecord(
        mrn=patient.mrn,
        last_name=patient.last_name,
        first_name=patient.first_name,
        dob=patient.dob,
        sex=patient.sex,
        phone=patient.phone,
        address=patient.address,
        city=patient.city,
        state=patient.state,
        zip=patient.zip,
        payer=patient.payer,
        payer_type=patient.payer_type,
        member_id=patient.member_id,
        qmb=patient.qmb,
        billing_practitioner=staff_keys.get(patient.billing_practitioner_id or 0, ""),
        care_manager=staff_keys.get(patient.care_manager_id or 0, ""),
        conditions=tuple(c.code for c in patient.conditions),
        consent_date=enrollment.consent_date if enrollment else None,
        consent_method=(enrollment.consent_method or "") if enrollment else "",
        consent_practitioner=(
            staff_keys.get(enrollment.consent_practitioner_id or 0, "") if enrollment else ""
        ),
        consent_revoked_date=enrollment.consent_revoked_date if enrollment else None,
        initiating_visit_date=enrollment.initiating_visit_date if enrollment else None,
        care_plan_date=enrollment.care_plan_date if enrollment else None,
        primary_payer=payer_keys.get(patient.primary_payer_id or 0, ""),
        relationship=patient.insured_relationship,
        insured_last_name=patient.insured_last_name,
        insured_first_name=patient.insured_first_name,
        secondary_payer=payer_keys.get(patient.secondary_payer_id or 0, ""),
        secondary_member_id=patient.secondary_member_id,
        signature_on_file=patient.signature_on_file,
        cannot_pay=patient.cannot_pay,
        last_visit_date=patient.last_visit_date,
        initiating_visit_g0506=enrollment.initiating_visit_g0506 if enrollment else False,
        mobile_phone=patient.mobile_phone,
        other_phone=patient.other_phone,
        preferred_call_time=patient.preferred_call_time,
        preferred_language=patient.preferred_language,
    )


def apply_patient(
    patient: Patient,
    record: PatientRecord,
    staff_ids: Mapping[str, int],
    payer_ids: Mapping[str, int],
) -> None:
    """Copy a validated, resolved record onto the ORM rows (patient, conditions, enrollment)."""
    patient.mrn = record.mrn
    patient.last_name = record.last_name
    patient.first_name = record.first_name
    assert record.dob is not None  # validated
    patient.dob = record.dob
    patient.sex = record.sex
    patient.phone = record.phone
    patient.mobile_phone = record.mobile_phone
    patient.other_phone = record.other_phone
    patient.preferred_call_time = record.preferred_call_time
    patient.preferred_language = record.preferred_language
    patient.address = record.address
    patient.city = record.city
    patient.state = record.state
    patient.zip = record.zip
    patient.payer = record.payer
    patient.payer_type = record.payer_type
    patient.member_id = record.member_id
    patient.qmb = record.qmb
    patient.cannot_pay = record.cannot_pay
    patient.last_visit_date = record.last_visit_date
    apply_coverage(patient, record, payer_ids)
    patient.billing_practitioner_id = staff_ids.get(record.billing_practitioner)
    patient.care_manager_id = staff_ids.get(record.care_manager)
    current = [c.code for c in patient.conditions]
    if current != list(record.conditions):
        patient.conditions.clear()
        if current:
            # Flush the deletes first: the (patient, code) unique key would clash on re-insert.
            session = object_session(patient)
            if session is not None:
                session.flush()
        patient.conditions.extend(
            PatientCondition(position=i, code=code) for i, code in enumerate(record.conditions)
        )
    enrollment = patient.enrollment or Enrollment()
    enrollment.consent_date = record.consent_date
    enrollment.consent_method = record.consent_method or None
    enrollment.consent_practitioner_id = staff_ids.get(record.consent_practitioner)
    enrollment.consent_revoked_date = record.consent_revoked_date
    enrollment.initiating_visit_date = record.initiating_visit_date
    enrollment.initiating_visit_g0506 = record.initiating_visit_g0506
    enrollment.care_plan_date = record.care_plan_date
    patient.enrollment = enrollment


def kept_text(
    cannot_pay: bool,
    last_visit: dt.date | None,
    g0506: bool | None,
    calls: tuple[str, str, str] = ("", "", ""),
    language: str = "en",
) -> dict[str, str]:
    """The stored values of the KEPT_COLUMNS as a file writes them; `calls` is the mobile
    and other phone and the preferred call time (CALL_COLUMNS)."""
    return {
        CANNOT_PAY: "yes" if cannot_pay else "no",
        "last_visit_date": last_visit.isoformat() if last_visit else "",
        "initiating_visit_g0506": "yes" if g0506 else "no",
        **dict(zip(CALL_COLUMNS, calls, strict=True)),
        LANGUAGE_COLUMN: language,
    }


def kept_columns(raw: Mapping[str, str], stored: Mapping[str, str] | None) -> dict[str, str]:
    """`raw` with cannot_pay, last_visit_date, initiating_visit_g0506, the call columns and
    the preferred language filled from the stored patient (kept_text) where it leaves them
    out: a patients.csv or an editor without them keeps what is on file."""
    if stored is None:
        return dict(raw)
    return {**{k: v for k, v in stored.items() if k in KEPT_COLUMNS and k not in raw}, **raw}


def stored_kept(session: Session, mrns: Iterable[str]) -> dict[str, dict[str, str]]:
    """kept_text of each stored patient of these MRNs."""
    query = (
        select(
            Patient.mrn, Patient.cannot_pay, Patient.last_visit_date,
            Enrollment.initiating_visit_g0506, Patient.mobile_phone, Patient.other_phone,
            Patient.preferred_call_time, Patient.preferred_language,
        )
        .outerjoin(Enrollment, Enrollment.patient_id == Patient.id)
        .where(Patient.mrn.in_(sorted(set(mrns))))
    )  # fmt: skip
    return {
        mrn: kept_text(flag, visit, g0506, (mobile, other, preferred), language)
        for mrn, flag, visit, g0506, mobile, other, preferred, language in session.execute(query)
    }


def audit_form(record: PatientRecord) -> dict[str, Any]:
    return dataclasses.asdict(record)


def _loaded(session: Session, mrn: str) -> Patient | None:
    return session.scalars(
        select(Patient)
        .where(Patient.mrn == mrn)
        .options(selectinload(Patient.conditions), selectinload(Patient.enrollment))
    ).first()


class PatientService(ServiceBase):
    """Patients, read by everyone and changed by the care team."""

    def __init__(self, db: Database, clock: Clock, billing: BillingService) -> None:
        super().__init__(db, clock)
        self._billing = billing  # a change must not silently rewrite a closed or signed bill

    def list_rows(self, actor: Actor) -> list[PatientRow]:
        """Every patient, with the columns the list shows, in two set-based queries."""
        actor = self._authorize(actor, Permission.VIEW_PATIENTS)
        with self._db.read() as session:
            today = self._today(session)
            billing = aliased(Staff)
            manager = aliased(Staff)
            # Core execution on the session's connection: these are plain column rows, and
            # skipping the ORM's row loading halves the time for a 10,000-patient list.
            connection = session.connection()
            conditions: dict[int, list[str]] = {}
            for patient_id, code in connection.execute(
                select(PatientCondition.patient_id, PatientCondition.code).order_by(
                    PatientCondition.patient_id, PatientCondition.position
                )
            ):
                conditions.setdefault(patient_id, []).append(code)
            declined = last_declined(connection)
            rows = connection.execute(
                select(
                    Patient.id,
                    Patient.mrn,
                    Patient.last_name,
                    Patient.first_name,
                    Patient.dob,
                    billing.name,
                    manager.staff_id,
                    Enrollment.consent_date,
                    Enrollment.consent_revoked_date,
                    Payer.payer_id,
                    Payer.name,
                )
                .outerjoin(billing, Patient.billing_practitioner_id == billing.id)
                .outerjoin(manager, Patient.care_manager_id == manager.id)
                .outerjoin(Enrollment, Enrollment.patient_id == Patient.id)
                .outerjoin(Payer, Patient.primary_payer_id == Payer.id)
                .order_by(Patient.last_name, Patient.first_name, Patient.mrn)
            )
            return [
                PatientRow(
                    mrn=mrn,
                    last_name=last,
                    first_name=first,
                    dob=dob,
                    billing_practitioner=billing_name or "",
                    enrollment=(
                        "Declined"
                        if consent is None and pid in declined
                        else enrollment_status(consent, revoked, today)
                    ),
                    conditions=tuple(conditions.get(pid, ())),
                    care_manager=manager_key or "",
                    primary_payer=payer_id or "",
                    payer_name=payer_name or "",
                )
                for (
                    pid, mrn, last, first, dob, billing_name, manager_key, consent, revoked,
                    payer_id, payer_name,
                ) in rows
            ]  # fmt: skip

    def get(self, actor: Actor, mrn: str) -> PatientRecord:
        actor = self._authorize(actor, Permission.VIEW_PATIENTS)
        with self._db.read() as session:
            patient = _loaded(session, mrn)
            if patient is None:
                raise NotFound(f"There is no patient with MRN '{mrn}'.")
            keys = {sid: key for key, sid in staff_refs(session)[1].items()}
            return patient_record(patient, keys, payer_keys(session))

    def check_text(self, raw: Mapping[str, str], original_mrn: str | None) -> list[FieldError]:
        """Every problem with the typed fields, without saving: the editor shows them inline."""
        with self._db.read() as session:
            return self._check(session, raw, original_mrn)[1]

    def _check(
        self, session: Session, raw: Mapping[str, str], original_mrn: str | None
    ) -> tuple[
        PatientRecord, list[FieldError], dict[str, int], PayerBook, Patient | None,
        PatientRecord | None,
    ]:  # fmt: skip
        """The record typed, its problems, the staff ids, the payers, and the stored patient
        with its record as it stands (the audit trail's before-image)."""
        refs, ids = staff_refs(session)
        found = _loaded(session, original_mrn) if original_mrn else None
        stored = now = None
        if found is not None:
            keys = {sid: key for key, sid in ids.items()}
            now = patient_record(found, keys, payer_keys(session))
            stored = StoredCoverage.of(now)
        raw = kept_coverage(raw, stored)
        if now is not None:
            stored_text = kept_text(
                now.cannot_pay, now.last_visit_date, now.initiating_visit_g0506,
                (now.mobile_phone, now.other_phone, now.preferred_call_time),
                now.preferred_language,
            )  # fmt: skip
            raw = kept_columns(raw, stored_text)
        record, errors = patient_from_text(raw, self._today(session))
        previous = stored_staff_references(session, [original_mrn]) if original_mrn else {}
        errors += reference_errors(record, refs, previous.get(original_mrn or ""))
        book = PayerBook.read(session)
        record, coverage = resolve(record, book, stored, new_way=named_new_way(raw))
        errors += coverage
        if record.mrn and record.mrn != original_mrn:
            taken = session.scalars(select(Patient.id).where(Patient.mrn == record.mrn)).first()
            if taken is not None:
                errors.append(FieldError("mrn", f"'{record.mrn}' belongs to another patient"))
        return record, errors, ids, book, found, now

    def save_text(
        self,
        actor: Actor,
        raw: Mapping[str, str],
        original_mrn: str | None = None,
        stop: tuple[str, str] = ("", ""),
    ) -> PatientRecord:
        """Add (original_mrn None) or update a patient from column → typed text.

        Coverage columns left out of `raw` keep what is stored (a patients.csv without them);
        the primary payer is named either by primary_payer (the editor) or, the old way, by
        payer and payer_type (docs/payers.md). `stop` is why the patient stopped (a reason and
        a note), kept in the enrolment history with a new or changed revocation day.
        """
        actor = self._authorize(actor, Permission.EDIT_PATIENTS)
        unknown = set(raw) - set(PATIENT_FILE_COLUMNS)
        if unknown:
            raise ValueError(f"unknown patient fields: {sorted(unknown)}")
        with self._db.session() as session:
            record, errors, ids, book, found, now = self._check(session, raw, original_mrn)
            errors += stop_problems(*stop, revoked=record.consent_revoked_date is not None)
            if errors:
                raise ValidationFailed(errors)
            # A payer the old columns name is made first: the patient points at it.
            for made in store_made(session, book):
                audit.record_saved(
                    session, self._now(), actor, "payer", made.payer_id,
                    (None, dataclasses.asdict(made)),
                )  # fmt: skip
            payer_ids = {key: pid for pid, key in payer_keys(session).items()}
            if original_mrn is None:
                patient = Patient()
                session.add(patient)
                before = None
            else:
                if found is None:
                    raise NotFound(f"There is no patient with MRN '{original_mrn}'.")
                patient = found
                before = audit_form(now) if now is not None else None
            kept = billed_months_kept(
                session,
                self._billing,
                [patient.id] if before else [],
                flag_why=lambda _id: change_reason(before, audit_form(record)),
                actor=actor,
                now=self._now().replace(microsecond=0),
            )
            with kept:
                apply_patient(patient, record, ids, payer_ids)
            session.flush()
            change = (before, audit_form(record))
            audit.record_saved(
                session, self._now(), actor, "patient", record.mrn, change, patient_id=patient.id
            )
            consent_events(session, patient.id, before, change[1], self._now(), actor, stop)
            return record


def change_reason(before: dict[str, Any] | None, after: dict[str, Any]) -> str:
    """What changed on a patient's record, in the words a month's flag shows."""
    changed = sorted(k for k in after if before is None or before.get(k) != after.get(k))
    revoked = after.get("consent_revoked_date")
    if "consent_revoked_date" in changed and revoked is not None:
        rest = [k for k in changed if k != "consent_revoked_date"]
        return f"consent revoked as of {revoked.isoformat()}, recorded later" + (
            f"; also changed: {', '.join(k.replace('_', ' ') for k in rest)}" if rest else ""
        )
    return "patient record changed: " + ", ".join(k.replace("_", " ") for k in changed)
