"""Issue #18's worked cases put in a database: patients and time entries by CSV import, then
programs, visits and the APCM attestation through tests/helpers/programs.py."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from ccmdesk.db import Database
from ccmdesk.rules.records import StaffRecord
from ccmdesk.services import Services
from tests.helpers.billing import WHO, csv_bytes
from tests.helpers.common import CLI, patient_text
from tests.helpers.program_cases import ProgramCase
from tests.helpers.programs import attest_apcm, set_program, set_visits

Staffing = Callable[[ProgramCase, str], str]


def shared_staff(case: ProgramCase, who: str) -> str:
    """The `staffed` practice's people: one case per database."""
    return WHO[who]


def own_staff(case: ProgramCase, who: str) -> str:
    """Each case's own nurse, so many cases share a database without one nurse being on two
    patients at once (the scheduler's time never counts, so one scheduler serves all)."""
    return WHO[who] if who in ("SCHED", "MD") else f"{who.lower()}-{case.number:02d}"


def add_own_staff(services: Services, cases: Sequence[ProgramCase]) -> None:
    for case in cases:
        for who in sorted({w.who for w in case.work} - {"SCHED", "MD"}):
            record = StaffRecord(own_staff(case, who), f"{who} {case.number:02d}", "clinical", who)
            services.staff.save(CLI, record, is_new=True)


def patient_row(case: ProgramCase) -> dict[str, str]:
    p = case.patient
    overrides = {"mrn": case.mrn, "last_name": f"Program{case.number:02d}"}
    if "conditions" in p:
        overrides["conditions"] = ";".join(p["conditions"])  # type: ignore[arg-type]
    for name in ("consent_date", "initiating_visit_date", "care_plan_date"):
        if name in p:
            day = p[name]
            overrides[name] = day.isoformat() if day else ""  # type: ignore[attr-defined]
    if "consent_date" in p:
        overrides["consent_method"] = "verbal" if p["consent_date"] else ""
    if p.get("qmb"):
        overrides["qmb"] = "yes"
    return patient_text(**overrides)


def case_files(
    cases: Sequence[ProgramCase], staff: Staffing = shared_staff
) -> list[tuple[str, bytes]]:
    """The cases as import files: patients, time entries and, where a case has month facts,
    patient months."""
    entries = [
        {
            "mrn": c.mrn,
            "staff_id": staff(c, item.who),
            "start": item.start.isoformat(),
            "end": item.end.isoformat(),
            "service": item.service,
            "face_to_face": "yes" if item.face_to_face else "no",
        }
        for c in cases
        for item in c.work
    ]
    months = [
        {
            "mrn": c.mrn,
            "month": c.month,
            "complexity": "none",
            "other_services": ";".join(c.facts.get("other_services", ())),  # type: ignore[arg-type]
            "billed_elsewhere": "yes" if c.facts.get("billed_elsewhere") else "no",
        }
        for c in cases
        if c.facts
    ]
    files = [("patients.csv", csv_bytes([patient_row(c) for c in cases]))]
    if entries:
        files.append(("time_entries.csv", csv_bytes(entries)))
    if months:
        files.append(("patient_months.csv", csv_bytes(months)))
    return files


def put_cases(
    services: Services, db: Database, cases: Sequence[ProgramCase], staff: Staffing = shared_staff
) -> None:
    """Import the cases, then record what the import does not take yet: each patient's
    program periods, last visit and G0506 flag, and (when any case has it) the attestation."""
    services.imports.import_data(CLI, case_files(cases, staff))
    for case in cases:
        for from_month, program, focus in case.periods:
            set_program(db, case.mrn, program, from_month=from_month, focus=focus)
        last_visit = case.patient.get("last_visit_date")
        g0506 = case.patient.get("g0506")
        if last_visit is not None or g0506 is not None:
            set_visits(db, case.mrn, last_visit=last_visit, g0506=g0506)  # type: ignore[arg-type]
    if any(case.attested for case in cases):
        attest_apcm(db)
