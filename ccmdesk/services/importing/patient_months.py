"""Importing the patient months file (each patient-month's facts)."""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ccmdesk.models import PatientMonth
from ccmdesk.rules.month_facts import (
    Stay,
    complexity_error,
    other_services,
    other_services_errors,
    parse_stay,
    stay_error,
)
from ccmdesk.rules.validation import ParseError, parse_list, parse_month
from ccmdesk.services.billing.month_facts import (
    MonthFactsRecord,
    month_document,
    month_record,
    stay_months,
    write_month_facts,
)
from ccmdesk.services.importing.core import Cells, Check, FileKind, Importer, Report, Row, Write

PATIENT_MONTHS = "patient months"


@dataclass(frozen=True)
class _MonthIn:
    mrn: str
    month: str
    complexity: str
    other_services: tuple[str, ...]
    billed_elsewhere: bool
    inpatient: tuple[tuple[dt.date, dt.date], ...]


def _parse_stay(item: str, month: str, report: Report) -> Stay | None:
    try:
        stay = parse_stay(item)
    except ParseError as exc:
        report("inpatient", str(exc))
        return None
    if message := stay_error(stay, month):
        report("inpatient", message)
        return None
    return stay


def _read_month(
    row: Row, report: Report, known_mrn: Callable[[str], bool] | None = None
) -> _MonthIn | None:
    """A patient month row's values, or None after reporting each problem."""
    cells = Cells(row, report)
    v, bad = cells.values, cells.bad
    mrn = cells.mrn(known_mrn)
    month = ""
    try:
        # Cells are read without the spaces around them, like every other cell; the month
        # itself then passes the one strict check.
        month = parse_month(v.get("month", "").strip())
    except ParseError as exc:
        bad("month", str(exc))
    complexity = cells.choice("complexity", "none", complexity_error)
    others = other_services(parse_list(v.get("other_services", "")))
    for message in other_services_errors(others):
        bad("other_services", message)
    billed_elsewhere = cells.flag("billed_elsewhere")
    stays: list[Stay] = []
    for item in parse_list(v.get("inpatient", "")):
        stay = _parse_stay(item, month, report)
        if stay is None:
            cells.ok = False
        else:
            stays.append(stay)
    if not cells.ok:
        return None
    return _MonthIn(mrn, month, complexity, others, billed_elsewhere, tuple(stays))


class PatientMonthsImporter(Importer):
    """Patient-month rows: the month's facts, new or replacing the stored ones."""

    kind = FileKind(
        PATIENT_MONTHS,
        ("mrn", "month"),
        ("mrn", "month", "complexity", "other_services", "billed_elsewhere", "inpatient"),
        ("mrn", "month"),
    )

    def check(self, c: Check) -> None:
        seen: dict[tuple[str, str], tuple[str, int]] = {}
        for batch, known_mrn in c.mrn_batches(PATIENT_MONTHS):
            for row in batch:
                item = _read_month(row, c.reporter(row), known_mrn)
                if item is not None:
                    key = (item.mrn, item.month)
                    c.duplicate(seen, key, row, "month", f"{item.mrn} {item.month}")

    def write(self, w: Write) -> None:
        counts = w.summary.counts[PATIENT_MONTHS]
        session = w.session
        for items in w.items(PATIENT_MONTHS, _read_month):
            patient_ids = w.patient_ids(item.mrn for _, item in items)
            stored = {
                (row.patient_id, row.month): row
                for row in session.scalars(
                    select(PatientMonth)
                    .where(
                        PatientMonth.patient_id.in_(sorted(set(patient_ids.values()))),
                        PatientMonth.month.in_(sorted({item.month for _, item in items})),
                    )
                    .options(selectinload(PatientMonth.inpatient_stays))
                )
            }
            for source_row, item in items:
                patient_id = patient_ids[item.mrn]
                month_row = stored.get((patient_id, item.month))
                facts = MonthFactsRecord(
                    item.complexity, item.other_services, item.billed_elsewhere, item.inpatient
                )
                after = month_document(facts)
                before = None
                if month_row is not None:
                    before = month_document(month_record(month_row))
                    if before == after:
                        counts.unchanged += 1
                        continue
                # A stay reaching into another month changes that month's minutes too.
                old_stays = (
                    set(month_record(month_row).inpatient_stays) if month_row is not None else set()
                )
                months = {item.month, *stay_months(old_stays ^ set(facts.inpatient_stays))}
                w.locks.check(source_row, "month", patient_id, months, "its facts")
                new = functools.partial(PatientMonth, patient_id=patient_id, month=item.month)
                month_row = w.saved(counts, month_row, new)
                write_month_facts(session, month_row, facts)
                w.record(
                    action="month.update" if before else "month.create",
                    entity="patient_month",
                    entity_key=f"{item.mrn} {item.month}",
                    patient_id=patient_id,
                    before=before,
                    after=after,
                )
            w.release()
