"""Importing the patients file."""

from __future__ import annotations

import dataclasses
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ccmdesk.models import Patient
from ccmdesk.rules.programs import PROGRAM_COLUMNS, ProgramChoice, program_choice
from ccmdesk.rules.records import (
    NEW_PAYER_COLUMNS,
    OLD_PAYER_COLUMNS,
    PATIENT_FILE_COLUMNS,
    FieldError,
    PatientRecord,
)
from ccmdesk.rules.validation import patient_from_text
from ccmdesk.services.billing.flags import billed_months_kept
from ccmdesk.services.coverage import (
    PayerBook,
    kept_coverage,
    named_new_way,
    payer_keys,
    resolve,
    store_made,
    stored_coverage,
)
from ccmdesk.services.enrolment import consent_events
from ccmdesk.services.importing.core import (
    Check,
    FileKind,
    Importer,
    Row,
    Write,
    batches,
    patient_ids,
)
from ccmdesk.services.patients import (
    apply_patient,
    audit_form,
    change_reason,
    kept_columns,
    patient_record,
    reference_errors,
    staff_refs,
    stored_kept,
    stored_staff_references,
)
from ccmdesk.services.programs import (
    ProgramLocks,
    apply_program,
    change_refusal,
    periods_of,
    program_key,
)

PATIENTS = "patients"


class PatientsImporter(Importer):
    """Patient rows, with their conditions, enrollment and coverage."""

    kind = FileKind(
        PATIENTS,
        ("mrn", "last_name"),
        PATIENT_FILE_COLUMNS + PROGRAM_COLUMNS,
        ("mrn", "last_name", "first_name", "dob", "billing_practitioner"),
    )

    def check(self, c: Check) -> None:
        for csv_file in c.files:
            old = [col for col in OLD_PAYER_COLUMNS if col in csv_file.columns]
            new = [col for col in NEW_PAYER_COLUMNS if col in csv_file.columns]
            if csv_file.kind == PATIENTS and old and new:
                c.problems.add(
                    csv_file.name, 1, "(header)",
                    f"names the primary payer both ways ({', '.join(new + old)}); use "
                    "primary_payer and primary_member_id, or payer, payer_type and member_id, "
                    "not both",
                )  # fmt: skip
        seen = c.patients_seen
        # Closed and signed months, read once when a row first sets a program.
        locks: ProgramLocks | None = None
        for batch in batches(c.rows(PATIENTS)):
            mrns = sorted({row.values.get("mrn", "").strip() for row in batch})
            previous = stored_staff_references(c.session, mrns)
            coverage = stored_coverage(c.session, mrns)
            visits = stored_kept(c.session, mrns)
            ids = patient_ids(c.session, mrns)
            periods = periods_of(c.session, ids.values())
            for row in batch:
                mrn = row.values.get("mrn", "").strip()
                raw = kept_coverage(row.values, coverage.get(mrn))
                raw = kept_columns(raw, visits.get(mrn))
                record, errors = patient_from_text(raw, c.today)
                stored = previous.get(record.mrn)
                errors += reference_errors(record, c.refs, stored)
                errors += resolve(record, c.payers, coverage.get(mrn), named_new_way(raw))[1]
                choice, problems = row_program(row, record.conditions)
                errors += problems
                if choice is not None and not problems:
                    # A new patient has no signed month, but closed months hold for everyone.
                    locks = locks or ProgramLocks.read(c.session)
                    pid = ids.get(mrn, 0)
                    if message := change_refusal(periods.get(pid, []), choice, locks, pid):
                        errors.append(FieldError("program_from" if choice.from_month else
                                                 "program", message))  # fmt: skip
                for error in errors:
                    c.problems.add(row.file, row.line, error.field, error.message)
                if record.mrn and c.duplicate(seen, record.mrn, row, "mrn", f"'{record.mrn}'"):
                    continue
                if not errors:
                    c.billing_moves[record.billing_practitioner] += 1
                    c.manager_moves[record.care_manager] += 1
                    if stored is not None:
                        c.billing_moves[stored["billing_practitioner"]] -= 1
                        c.manager_moves[stored["care_manager"]] -= 1

    def write(self, w: Write) -> None:
        counts = w.summary.counts[PATIENTS]
        session = w.session
        _, ids = staff_refs(session)
        keys = {sid: key for key, sid in ids.items()}
        # Read after the payers file was written; payers the old columns name are made here
        # in row order, as the checking pass made them.
        book = PayerBook.read(session)
        locks = ProgramLocks.of(w.locks.table)
        for csv_file, batch in w.rows(PATIENTS):
            mrns = [r.values.get("mrn", "").strip() for r in batch]
            coverage = stored_coverage(session, mrns)
            visits = stored_kept(session, mrns)
            records: dict[str, PatientRecord] = {}
            choices: dict[str, ProgramChoice] = {}
            for row in batch:
                mrn = row.values.get("mrn", "").strip()
                raw = kept_coverage(row.values, coverage.get(mrn))
                raw = kept_columns(raw, visits.get(mrn))
                record, errors = patient_from_text(raw, w.today)
                record, more = resolve(record, book, coverage.get(mrn), named_new_way(raw))
                choice, problems = row_program(row, record.conditions)
                if errors or more or problems:
                    csv_file.changed()
                records[record.mrn] = record
                if choice is not None:
                    choices[record.mrn] = choice
            for made in store_made(session, book):
                w.record_saved("payer", made.payer_id, (None, dataclasses.asdict(made)))
            payers = payer_keys(session)
            payer_ids = {key: pid for pid, key in payers.items()}
            existing = {
                p.mrn: p
                for p in session.scalars(
                    select(Patient)
                    .where(Patient.mrn.in_(list(records)))
                    .options(selectinload(Patient.conditions), selectinload(Patient.enrollment))
                )
            }
            pending: list[tuple[Patient | None, PatientRecord, dict[str, Any] | None]] = []
            for mrn, record in records.items():
                patient = existing.get(mrn)
                before = audit_form(patient_record(patient, keys, payers)) if patient else None
                if before == audit_form(record):
                    counts.unchanged += 1
                    continue
                pending.append((patient, record, before))
            # A change reaching a closed or signed month's bill flags that month, as it does
            # when typed (docs/integrity.md, "Billed months stay billed").
            whys = {p.id: change_reason(before, audit_form(r)) for p, r, before in pending if p}
            kept = billed_months_kept(
                session, w.billing, list(whys), flag_why=whys.__getitem__, actor=w.actor,
                now=w.now.replace(microsecond=0),
            )  # fmt: skip
            changes: list[tuple[Patient, dict[str, Any] | None, dict[str, Any]]] = []
            with kept:
                for found, record, before in pending:
                    patient = w.saved(counts, found, Patient)
                    apply_patient(patient, record, ids, payer_ids)
                    changes.append((patient, before, audit_form(record)))
            # One flush for the batch (not one per row): the audit events need the new ids.
            session.flush()
            for patient, before, after in changes:
                w.record_saved("patient", patient.mrn, (before, after), patient.id)
                # The enrolment history's consent and revocation, in the import's transaction.
                consent_events(session, patient.id, before, after, w.now, w.actor)
            if choices:
                # The checking pass refused a change into a signed or closed month; the same
                # program again is no change and writes nothing (docs/formats.md).
                new_ids = {p.mrn: p.id for p, _, _ in changes} | {
                    m: p.id for m, p in existing.items()
                }
                unchanged = set(existing) - {p.mrn for p, _, _ in changes}
                for mrn, choice in choices.items():
                    changed = apply_program(
                        session, new_ids[mrn], choice, at=w.now, actor=w.actor,
                        entity_key=program_key(mrn, choice.from_month), reason=w.reason,
                        locks=locks,
                    )  # fmt: skip
                    if changed and mrn in unchanged:
                        # Only the program changed: the patient counts as updated.
                        counts.unchanged -= 1
                        counts.updated += 1
            w.release()


def row_program(
    row: Row, conditions: tuple[str, ...]
) -> tuple[ProgramChoice | None, list[FieldError]]:
    """The row's program columns: None when `program` is blank (the program stays as it is);
    the focus condition must be among the row's own conditions."""
    program = row.values.get("program", "").strip()
    focus = row.values.get("focus_condition", "").strip()
    month = row.values.get("program_from", "").strip()
    if not program:
        return None, [
            FieldError(column, "is set but program is empty")
            for column, value in (("focus_condition", focus), ("program_from", month))
            if value
        ]
    choice, errors = program_choice(program, month, focus or None, conditions)
    return choice, errors
