"""Importing the staff file."""

from __future__ import annotations

import dataclasses
from collections import Counter

from sqlalchemy import func, select
from sqlalchemy.orm import InstrumentedAttribute

from ccmdesk.models import Patient, Staff
from ccmdesk.rules.records import STAFF_COLUMNS
from ccmdesk.rules.validation import staff_from_text
from ccmdesk.services.importing.core import Check, FileKind, Importer, Write
from ccmdesk.services.patients import StaffRef
from ccmdesk.services.staff import apply_staff, staff_record, stranded_patient_errors

STAFF = "staff"


class StaffImporter(Importer):
    """Staff rows: checked first, since patients and time entries name them."""

    kind = FileKind(STAFF, ("staff_id", "role"), STAFF_COLUMNS, ("staff_id", "name", "role"))

    def check(self, c: Check) -> None:
        seen: dict[str, tuple[str, int]] = {}
        for row in c.rows(STAFF):
            record, errors = staff_from_text(row.values)
            for error in errors:
                c.problems.add(row.file, row.line, error.field, error.message)
            if record.staff_id and c.duplicate(
                seen, record.staff_id, row, "staff_id", f"'{record.staff_id}'"
            ):
                continue
            if record.staff_id:
                # Known even when the row is wrong, so rows naming it don't pile up more errors.
                c.refs[record.staff_id] = StaffRef(
                    record.name, record.role, record.npi, True, checked=not errors
                )
            if not errors:
                # A practice's staff are few: their rows are kept for the writing pass.
                c.staff_in[record.staff_id] = (row, record)

    def settle(self, c: Check) -> None:
        """Judge staff changes by the state after the whole import, not row by row.

        Demoting an administrator is fine when the same files add another; changing a nurse's
        role is not when patients (on file or in these files) still name her care manager.
        """
        if not c.staff_in:
            return
        session = c.session
        stored = {s.staff_id: s for s in session.scalars(select(Staff))}
        final = {key: (s.role, s.active) for key, s in stored.items()}
        for key, (_, record) in c.staff_in.items():
            final[key] = (record.role, stored[key].active if key in stored else True)
        had_admin = any(s.role == "admin" and s.active for s in stored.values())
        if had_admin and not any(role == "admin" and active for role, active in final.values()):
            for key, (row, record) in c.staff_in.items():
                if key in stored and stored[key].role == "admin" and record.role != "admin":
                    c.problems.add(row.file, row.line, "role", "these files would leave no "
                                      "active administrator; keep one")  # fmt: skip
        # Counter's + keeps the positive totals: what is on file, moved by these files' rows.
        billing = _stored_counts(c, Patient.billing_practitioner_id) + c.billing_moves
        managed = _stored_counts(c, Patient.care_manager_id) + c.manager_moves
        for key, (row, record) in c.staff_in.items():
            if key not in stored:
                continue
            final_record = dataclasses.replace(record, active=stored[key].active)
            for error in stranded_patient_errors(
                record.name, final_record, billing[key], managed[key]
            ):
                c.problems.add(row.file, row.line, error.field, error.message)

    def write(self, w: Write) -> None:
        counts = w.summary.counts[STAFF]
        session = w.session
        existing = {s.staff_id: s for s in session.scalars(select(Staff))}
        for staff_id, (_, record) in w.staff_in.items():
            staff = existing.get(staff_id)
            before = staff_record(staff) if staff else None
            if before is not None:
                # The file has no "active" column: importing never reactivates or retires anyone.
                record = dataclasses.replace(record, active=before.active)
            if before == record:
                counts.unchanged += 1
                continue
            staff = w.saved(counts, staff, Staff)
            apply_staff(staff, record)
            change = (dataclasses.asdict(before) if before else None, dataclasses.asdict(record))
            w.record_saved("staff", staff_id, change)
        w.release()


def _stored_counts(c: Check, column: InstrumentedAttribute[int | None]) -> Counter[str]:
    """Patients on file per staff_id they name in `column`."""
    rows = c.session.execute(
        select(Staff.staff_id, func.count())
        .join(Patient, column == Staff.id)
        .group_by(Staff.staff_id)
    )
    return Counter({staff_id: count for staff_id, count in rows})
