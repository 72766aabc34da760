"""Importing the hardship waivers file."""

from __future__ import annotations

import functools
from collections.abc import Callable

from sqlalchemy import select

from ccmdesk.models import Patient, Staff, Waiver
from ccmdesk.rules.waivers import APPROVER_ROLES, WAIVER_COLUMNS, WaiverRecord, waiver_from_text
from ccmdesk.services.importing.core import Check, FileKind, Importer, Row, Write
from ccmdesk.services.waivers import audit_form, lock_error, overlap_error, waiver_record

WAIVERS = "waivers"


def _stored(c: Check | Write, mrns: set[str]) -> dict[str, dict[str, tuple[Waiver, WaiverRecord]]]:
    """The stored waivers of these patients: MRN -> first month -> (row, record)."""
    found: dict[str, dict[str, tuple[Waiver, WaiverRecord]]] = {m: {} for m in mrns}
    query = (
        select(Waiver, Patient.mrn, Staff.staff_id)
        .join(Patient, Patient.id == Waiver.patient_id)
        .join(Staff, Staff.id == Waiver.approved_by_id)
        .where(Patient.mrn.in_(sorted(mrns)))
    )
    for waiver, mrn, key in c.session.execute(query):
        found[mrn][waiver.from_month] = (waiver, waiver_record(waiver, mrn, key))
    return found


class WaiversImporter(Importer):
    """Waiver rows, keyed by mrn + from_month: a stored waiver with that first month is
    changed, any other is left as it is (docs/formats.md)."""

    kind = FileKind(
        WAIVERS,
        ("mrn", "from_month"),
        WAIVER_COLUMNS,
        ("mrn", "from_month", "approved_by", "approved_on", "reason"),
    )

    def check(self, c: Check) -> None:
        seen: dict[tuple[str, str], tuple[str, int]] = {}
        rows: dict[str, list[tuple[Row, WaiverRecord]]] = {}
        for batch, known_mrn in c.mrn_batches(WAIVERS):
            for row in batch:
                record = self._read(c, row, known_mrn)
                if record is None:
                    continue
                key = (record.mrn, record.from_month)
                if not c.duplicate(seen, key, row, "from_month", f"{key[0]} {key[1]}"):
                    rows.setdefault(record.mrn, []).append((row, record))
        # One patient's waivers never overlap: those of the files with those stored that the
        # files leave as they are.
        stored = _stored(c, set(rows))
        for mrn, items in rows.items():
            kept = [r for first, (_, r) in stored[mrn].items()
                    if first not in {i.from_month for _, i in items}]  # fmt: skip
            for index, (row, record) in enumerate(items):
                others = kept + [other for _, other in items[:index]]
                if error := overlap_error(record, others):
                    c.problems.add(row.file, row.line, error.field, error.message)
                # Someone who has left may stay the approver of a waiver already on file.
                approver = c.refs[record.approved_by]
                previous = stored[mrn].get(record.from_month)
                if not approver.active and (
                    previous is None or previous[1].approved_by != record.approved_by
                ):
                    c.problems.add(row.file, row.line, "approved_by",
                                   f"'{record.approved_by}' is no longer active")  # fmt: skip

    def _read(self, c: Check, row: Row, known_mrn: Callable[[str], bool]) -> WaiverRecord | None:
        record, errors = waiver_from_text(row.values, c.today)
        report = functools.partial(c.problems.add, row.file, row.line)
        for error in errors:
            report(error.field, error.message)
        ok = not errors
        if record.mrn and not known_mrn(record.mrn):
            report("mrn", f"no patient has MRN '{record.mrn}'")
            ok = False
        approver = c.refs.get(record.approved_by) if record.approved_by else None
        if not record.approved_by:
            report("approved_by", "is required")
            ok = False
        elif approver is None or approver.role not in APPROVER_ROLES:
            report(
                "approved_by",
                f"'{record.approved_by}' is not billing staff or an administrator; only they "
                "approve hardship waivers",
            )
            ok = False
        return record if ok else None

    def write(self, w: Write) -> None:
        counts = w.summary.counts[WAIVERS]
        session = w.session
        staff_ids = dict(session.execute(select(Staff.staff_id, Staff.id)).all())
        for csv_file, batch in w.rows(WAIVERS):
            records = []
            for row in batch:
                record, errors = waiver_from_text(row.values, w.today)
                if errors:
                    csv_file.changed()
                records.append((row, record))
            mrns = {record.mrn for _, record in records}
            patients = w.patient_ids(mrns)
            stored = _stored(w, mrns)
            for row, record in records:
                patient_id = patients[record.mrn]
                waiver, before = stored[record.mrn].get(record.from_month, (None, None))
                if before == record:
                    counts.unchanged += 1
                    continue
                table = w.locks.table
                if message := lock_error(table, patient_id, before, record):
                    w.locks.problems.add(row.file, row.line, "from_month", message)
                    continue
                if waiver is None:
                    waiver = Waiver(patient_id=patient_id, from_month=record.from_month,
                                    recorded_at=w.now, recorded_by=w.actor.key)  # fmt: skip
                    session.add(waiver)
                    counts.created += 1
                else:
                    counts.updated += 1
                waiver.to_month = record.to_month
                waiver.approved_by_id = staff_ids[record.approved_by]
                assert record.approved_on is not None  # checked
                waiver.approved_on = record.approved_on
                waiver.reason = record.reason
                w.record_saved(
                    "waiver", f"{record.mrn} {record.from_month}",
                    (audit_form(before) if before else None, audit_form(record)), patient_id,
                )  # fmt: skip
            w.release()
