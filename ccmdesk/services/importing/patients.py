"""Importing the patients file."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ccmdesk.models import Patient
from ccmdesk.rules.records import PATIENT_COLUMNS, PatientRecord
from ccmdesk.rules.validation import patient_from_text
from ccmdesk.services.billing.flags import billed_months_kept
from ccmdesk.services.importing.core import Check, FileKind, Importer, Write, batches
from ccmdesk.services.patients import (
    apply_patient,
    audit_form,
    change_reason,
    patient_record,
    reference_errors,
    staff_refs,
    stored_staff_references,
)

PATIENTS = "patients"


class PatientsImporter(Importer):
    """Patient rows, with their conditions and enrollment."""

    kind = FileKind(
        PATIENTS,
        ("mrn", "last_name"),
        PATIENT_COLUMNS,
        ("mrn", "last_name", "first_name", "dob", "billing_practitioner"),
    )

    def check(self, c: Check) -> None:
        seen = c.patients_seen
        for batch in batches(c.rows(PATIENTS)):
            mrns = sorted({row.values.get("mrn", "").strip() for row in batch})
            previous = stored_staff_references(c.session, mrns)
            for row in batch:
                record, errors = patient_from_text(row.values, c.today)
                stored = previous.get(record.mrn)
                errors += reference_errors(record, c.refs, stored)
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
        for csv_file, batch in w.rows(PATIENTS):
            records: dict[str, PatientRecord] = {}
            for row in batch:
                record, errors = patient_from_text(row.values, w.today)
                if errors:
                    csv_file.changed()
                records[record.mrn] = record
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
                before = audit_form(patient_record(patient, keys)) if patient else None
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
                    apply_patient(patient, record, ids)
                    changes.append((patient, before, audit_form(record)))
            # One flush for the batch (not one per row): the audit events need the new ids.
            session.flush()
            for patient, before, after in changes:
                w.record_saved("patient", patient.mrn, (before, after), patient.id)
            w.release()
