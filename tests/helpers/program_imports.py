"""Issue #18's worked cases put in a database as a practice would: patients (with their
programs, last visits and G0506 flags), time entries and month facts by CSV import, and the
APCM attestation through the practice service."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from ccmdesk.rules.records import StaffRecord
from ccmdesk.services import Services
from tests.helpers.billing import WHO, csv_bytes
from tests.helpers.common import CLI, patient_text
from tests.helpers.program_cases import ProgramCase

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


def patient_row(
    case: ProgramCase, period: int | None = 0, *, with_focus: bool = False
) -> dict[str, str]:
    """The case's patients.csv row, with its `period`-th program period (0: the first; None:
    no program columns, the program stays); `with_focus` lists a focus condition the case
    lacks, as the patient's list had it when the focus was chosen."""
    p = case.patient
    overrides = {"mrn": case.mrn, "last_name": f"Program{case.number:02d}"}
    if "conditions" in p:
        overrides["conditions"] = ";".join(p["conditions"])  # type: ignore[arg-type]
    if with_focus and missing_focus(case):
        listed = overrides.get("conditions") or patient_text()["conditions"]
        overrides["conditions"] = ";".join([*listed.split(";"), *missing_focus(case)])
    for name in ("consent_date", "initiating_visit_date", "care_plan_date"):
        if name in p:
            day = p[name]
            overrides[name] = day.isoformat() if day else ""  # type: ignore[attr-defined]
    if "consent_date" in p:
        overrides["consent_method"] = "verbal" if p["consent_date"] else ""
    if p.get("qmb"):
        overrides["qmb"] = "yes"
    last_visit = p.get("last_visit_date")
    overrides["last_visit_date"] = last_visit.isoformat() if last_visit else ""  # type: ignore[attr-defined]
    overrides["initiating_visit_g0506"] = "yes" if p.get("g0506") else "no"
    if period is not None and period < len(case.periods):
        from_month, program, focus = case.periods[period]
        overrides.update(program=program, focus_condition=focus or "", program_from=from_month)
    return patient_text(**overrides)


def missing_focus(case: ProgramCase) -> list[str]:
    """The case's focus conditions that are not on its list of conditions."""
    listed = case.patient.get("conditions") or patient_text()["conditions"].split(";")
    return [f for _, _, f in case.periods if f and f not in listed]  # type: ignore[operator]


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
    files = [("patients.csv", csv_bytes([patient_row(c, with_focus=True) for c in cases]))]
    if entries:
        files.append(("time_entries.csv", csv_bytes(entries)))
    if months:
        files.append(("patient_months.csv", csv_bytes(months)))
    return files


def put_cases(
    services: Services, cases: Sequence[ProgramCase], staff: Staffing = shared_staff
) -> None:
    """Import the cases; a case with several program periods gets its later ones from further
    patients.csv files, as a practice records a change; then, when any case has it, the
    practitioner's APCM attestation."""
    services.imports.import_data(CLI, case_files(cases, staff))
    for period in range(1, max((len(c.periods) for c in cases), default=0)):
        rows = [patient_row(c, period) for c in cases if len(c.periods) > period]
        services.imports.import_data(CLI, [("patients.csv", csv_bytes(rows))])
    # A focus condition taken off the patient's list after it was chosen (FOCUS_CONDITION_MISSING).
    dropped = [patient_row(c, None) for c in cases if missing_focus(c)]
    if dropped:
        services.imports.import_data(CLI, [("patients.csv", csv_bytes(dropped))])
    if any(case.attested for case in cases):
        services.practice.attest_apcm(CLI, WHO["MD"])
