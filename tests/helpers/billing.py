"""The worked cases as import files and as a staffed month, for the service and UI tests."""

from __future__ import annotations

import csv
import datetime as dt
import io

from ccmdesk.rules.records import StaffRecord
from ccmdesk.services import Services
from tests.helpers.common import CLI, VALID_NPIS, patient_text
from tests.helpers.scenario_cases import CASES, MONTH, Case, Work

WHO = {"RN": "rn-lee", "LPN": "lpn-l", "MA": "ma-m", "MD": "dr-a", "SCHED": "sched-s"}
# Worked cases by their patient's MRN: 2 is billable once signed, 1 is short, 17 is blocked.
READY_MRN, BELOW_MRN, BLOCKED_MRN = "S02", "S01", "S17"


def csv_bytes(rows: list[dict[str, str]]) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode()


def patient_row(case: Case) -> dict[str, str]:
    p = case.patient
    overrides = {"mrn": f"S{case.number:02d}", "last_name": f"Case{case.number:02d}"}
    if "conditions" in p:
        overrides["conditions"] = ";".join(p["conditions"])  # type: ignore[arg-type]
    if "consent_date" in p:
        consent = p["consent_date"]
        overrides["consent_date"] = consent.isoformat() if consent else ""  # type: ignore[attr-defined]
        overrides["consent_method"] = "verbal" if consent else ""
    if "initiating_visit_date" in p:
        visit = p["initiating_visit_date"]
        overrides["initiating_visit_date"] = visit.isoformat() if visit else ""  # type: ignore[attr-defined]
    if p.get("qmb"):
        overrides["qmb"] = "yes"
    return patient_text(**overrides)


def shifted(case: Case, item: Work, together: bool) -> tuple[dt.datetime, dt.datetime]:
    """The entry's times; with several cases in one database each case gets its own hour of
    the day, so one nurse is never on two cases at once (the day, which matters, is kept)."""
    if not together or item.start.hour == 23:  # case 15's call across midnight stays put
        return item.start, item.end
    offset = dt.timedelta(minutes=(case.number - 1) * 55) - dt.timedelta(hours=10)
    return item.start + offset, item.end + offset


def import_cases(services: Services, cases: tuple[Case, ...]) -> None:
    services.imports.import_data(CLI, case_files(cases))


def case_files(cases: tuple[Case, ...]) -> list[tuple[str, bytes]]:
    """The worked cases as import files (patients, time entries, patient months)."""
    patients = [patient_row(c) for c in cases]
    together = len(cases) > 1
    entries = [
        {
            "mrn": f"S{c.number:02d}",
            "staff_id": WHO[item.who],
            "start": shifted(c, item, together)[0].isoformat(),
            "end": shifted(c, item, together)[1].isoformat(),
            "service": item.service,
            "face_to_face": "yes" if item.face_to_face else "no",
        }
        for c in cases
        for item in c.work
    ]
    months = [
        {
            "mrn": f"S{c.number:02d}",
            "month": MONTH,
            "complexity": str(c.month.get("complexity", "none")),
            "other_services": ";".join(c.month.get("other_services", ())),  # type: ignore[arg-type]
        }
        for c in cases
        if c.month
    ]
    files = [("patients.csv", csv_bytes(patients)), ("time_entries.csv", csv_bytes(entries))]
    if months:
        files.append(("patient_months.csv", csv_bytes(months)))
    return files


def add_case_staff(services: Services) -> Services:
    """The nurses the worked cases name besides the `staffed` practice's own."""
    for record in (
        StaffRecord("lpn-l", "Lou Nurse", "clinical", "LPN"),
        StaffRecord("ma-m", "Max Assistant", "clinical", "MA"),
    ):
        services.staff.save(CLI, record, is_new=True)
    return services


def with_cases(services: Services) -> Services:
    """The `staffed` practice with every worked case of March 2026 imported."""
    import_cases(add_case_staff(services), CASES)
    return services


def with_second_doctor_and_cases(services: Services) -> Services:
    """with_cases, and Dr. B, a second practitioner who is billing practitioner of none."""
    services.staff.save(
        CLI, StaffRecord("dr-b", "Dr. B", "practitioner", "MD", VALID_NPIS[1]), is_new=True
    )
    return with_cases(services)
