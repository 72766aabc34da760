"""Build (once) and cache benchmark databases: the demo practice scaled to N patients."""

from __future__ import annotations

import datetime as dt
import random
import shutil
import time
from pathlib import Path
from typing import Any

from ccmdesk.db import head_revision, open_database
from ccmdesk.services import Actor, Services
from ccmdesk.services.demo import DEMO_PRACTICE, build_demo

CACHE = Path(__file__).resolve().parent / ".cache"
# A fixed clock keeps the cached database identical from run to run.
NOW = dt.datetime(2026, 11, 20, 17, 0, tzinfo=dt.UTC)


def patients_database(patients: int) -> Path:
    """A data folder holding the demo staff and `patients` patients (no time entries)."""
    # The schema revision is in the name: a cache from older code is rebuilt, never migrated.
    folder = CACHE / f"patients-{patients}-{head_revision()}"
    if (folder / "ccmdesk.sqlite3").exists():
        return folder
    shutil.rmtree(folder, ignore_errors=True)
    started = time.perf_counter()
    db = open_database(f"sqlite:///{folder / 'ccmdesk.sqlite3'}", folder / "backups")
    services = Services(db, clock=lambda: NOW)
    actor = Actor.command_line()
    services.practice.save(actor, DEMO_PRACTICE)
    files = dict(build_demo(NOW, patients=patients).files)
    try:
        services.imports.import_data(
            actor, [(name, files[name]) for name in ("staff.csv", "payers.csv", "patients.csv")]
        )
    except BaseException:
        db.dispose()
        shutil.rmtree(folder, ignore_errors=True)  # never a half-built cache the next run trusts
        raise
    db.dispose()
    print(f"built {folder} in {time.perf_counter() - started:.1f} s")
    return folder


def entries_database(entries: int = 300_000, patients: int = 10_000) -> Path:
    """A copy of the patients database plus `entries` stopped time entries (bulk-inserted).

    Entries are spread over the 3 clinical staff and 2 practitioners, back to back per person
    and ending before NOW, so no one is in two places at once.
    """
    folder = CACHE / f"entries-{entries}-{head_revision()}"
    if (folder / "ccmdesk.sqlite3").exists():
        return folder

    from sqlalchemy import insert, select

    from ccmdesk.models import Patient, Staff, TimeEntry, TimeSegment

    source = patients_database(patients)
    shutil.rmtree(folder, ignore_errors=True)
    working_copy(source, folder)
    started = time.perf_counter()
    db = open_database(f"sqlite:///{folder / 'ccmdesk.sqlite3'}")
    with db.session() as session:
        patient_ids = list(session.scalars(select(Patient.id)))
        staff_ids = list(
            session.scalars(select(Staff.id).where(Staff.role.in_(("clinical", "practitioner"))))
        )
        per_staff = entries // len(staff_ids)
        entry_rows = []
        segment_rows = []
        next_id = 1
        for n, staff_id in enumerate(staff_ids):
            # Back to back, about 9.5 minutes apart (a very busy year), ending a day before NOW.
            length = [3 + (i * 7 + n) % 12 for i in range(per_staff)]
            cursor = NOW - dt.timedelta(days=1, minutes=sum(length), seconds=5 * per_staff)
            for i in range(per_staff):
                end = cursor + dt.timedelta(minutes=length[i])
                entry_rows.append({
                    "id": next_id, "patient_id": patient_ids[(i * 31 + n) % len(patient_ids)],
                    "staff_id": staff_id, "service": "ccm", "face_to_face": False,
                    "activity": "call with patient or caregiver", "note": "", "state": "stopped",
                    "source": "import", "created_at": end,
                })  # fmt: skip
                segment_rows.append({"entry_id": next_id, "started_at": cursor, "ended_at": end})
                next_id += 1
                cursor = end + dt.timedelta(seconds=5)
        session.execute(insert(TimeEntry), entry_rows)
        session.execute(insert(TimeSegment), segment_rows)
    db.dispose()
    print(f"built {folder} ({next_id - 1:,} entries) in {time.perf_counter() - started:.1f} s")
    return folder


BILLING_MONTH = "2026-10"


def billing_database(
    entries: int = 300_000, patients: int = 10_000, *, programs: bool = True
) -> Path:
    """One month (October 2026) of `entries` time entries over `patients` patients.

    100 extra clinical staff and the practitioners work back to back through the month, so no
    one is in two places at once; a few entries are TCM or face to face, some patients have
    complexity, a stay or another service on file, and a third of the months are signed.

    With `programs` (issue #18) the practice has attested APCM, about 5 % of the patients are
    in APCM and 2 % in PCM by focus condition, 10 % have general BHI time (nearly all of them
    with a behavioural-health condition), two in three have a last visit on file and some
    initiating visits are flagged for G0506. Without it the data is that of issue #4, the
    same rows as before (the new facts are drawn from a random source of their own).
    """
    shape = "" if programs else "-plain"
    folder = CACHE / f"billing-{entries}{shape}-{head_revision()}"
    if (folder / "ccmdesk.sqlite3").exists():
        return folder
    from zoneinfo import ZoneInfo

    from sqlalchemy import insert, select

    from ccmdesk.models import (
        InpatientStay,
        MonthlyReview,
        Patient,
        PatientMonth,
        Staff,
        TimeEntry,
        TimeSegment,
    )

    source = patients_database(patients)
    # Built beside the cache and renamed at the end: a failed build leaves no half database.
    building = folder.with_name(folder.name + ".building")
    shutil.rmtree(building, ignore_errors=True)
    working_copy(source, building)
    started = time.perf_counter()
    rng = random.Random(4)
    zone = ZoneInfo(DEMO_PRACTICE.timezone)
    month_start = dt.datetime(2026, 10, 1, tzinfo=zone).astimezone(dt.UTC)
    db = open_database(f"sqlite:///{building / 'ccmdesk.sqlite3'}")
    with db.session() as session:
        session.execute(
            insert(Staff),
            [
                {"staff_id": f"bench-rn-{n:03d}", "name": f"Bench Nurse {n:03d}",
                 "role": "clinical", "credentials": "RN", "active": True}
                for n in range(100)
            ],
        )  # fmt: skip
        patients_of = dict(
            session.execute(select(Patient.id, Patient.billing_practitioner_id)).all()
        )
        patient_ids = sorted(patients_of)
        workers = list(
            session.scalars(select(Staff.id).where(Staff.role.in_(("clinical", "practitioner"))))
        )
        # Issue #18's facts, from a random source of their own so the rows above stay the same.
        bhi_share = _programs(session, patient_ids, random.Random(18)) if programs else {}
        bhi_rng = random.Random(1818)
        entry_rows = []
        segment_rows = []
        per_staff = -(-entries // len(workers))
        next_id = 1
        for n, staff_id in enumerate(workers):
            cursor = month_start + dt.timedelta(minutes=n)
            for i in range(min(per_staff, entries - next_id + 1)):
                length = dt.timedelta(minutes=1 + (i * 7 + n) % 12, seconds=(i * 13) % 60)
                end = cursor + length
                roll = rng.random()
                pid = patient_ids[(i * 31 + n * 97) % len(patient_ids)]
                service = "tcm" if roll < 0.03 else "ccm"
                if pid in bhi_share and service == "ccm" and bhi_rng.random() < bhi_share[pid]:
                    service = "bhi"
                entry_rows.append({
                    "id": next_id, "patient_id": pid,
                    "staff_id": staff_id, "service": service,
                    "face_to_face": 0.03 <= roll < 0.05, "activity": "call with patient",
                    "note": "", "state": "stopped", "source": "import", "created_at": end,
                })  # fmt: skip
                segment_rows.append({"entry_id": next_id, "started_at": cursor, "ended_at": end})
                next_id += 1
                cursor = end + dt.timedelta(seconds=30)
        session.execute(insert(TimeEntry), entry_rows)
        session.execute(insert(TimeSegment), segment_rows)
        months = []
        for pid in patient_ids:
            roll = rng.random()
            if roll < 0.25:
                months.append({
                    "patient_id": pid, "month": BILLING_MONTH,
                    "complexity": "moderate" if roll < 0.1 else "none",
                    "other_services": "G0181" if roll < 0.01 else "",
                    "billed_elsewhere": 0.01 <= roll < 0.02,
                })  # fmt: skip
        session.execute(insert(PatientMonth), months)
        month_ids = dict(
            session.execute(
                select(PatientMonth.patient_id, PatientMonth.id).where(
                    PatientMonth.month == BILLING_MONTH
                )
            ).all()
        )
        stays = [
            {"patient_month_id": mid, "admitted_on": dt.date(2026, 10, 10),
             "discharged_on": dt.date(2026, 10, 14)}
            for pid, mid in month_ids.items() if pid % 20 == 0
        ]  # fmt: skip
        session.execute(insert(InpatientStay), stays)
        signed_at = dt.datetime(2026, 11, 3, 15, tzinfo=dt.UTC)
        session.execute(
            insert(MonthlyReview),
            [
                {"patient_id": pid, "month": BILLING_MONTH, "signed_by_id": bp,
                 "signed_at": signed_at, "attestation": "benchmark"}
                for pid, bp in patients_of.items() if bp is not None and pid % 3 == 0
            ],
        )  # fmt: skip
    db.dispose()
    shutil.rmtree(folder, ignore_errors=True)
    building.rename(folder)
    print(f"built {folder} ({next_id - 1:,} entries) in {time.perf_counter() - started:.1f} s")
    return folder


def _programs(session: Any, patient_ids: list[int], rng: random.Random) -> dict[int, float]:
    """Put issue #18's facts on the billing database's patients: the practice's APCM
    attestation, program periods, last visits and G0506 flags. Returns the patients with
    general BHI time and the share of their entries tagged `bhi`."""
    from sqlalchemy import bindparam, insert, select, update

    from ccmdesk.models import Enrollment, Patient, PatientCondition, Practice, ProgramPeriod, Staff

    first_practitioner = session.scalars(
        select(Staff.id).where(Staff.role == "practitioner").order_by(Staff.id).limit(1)
    ).one()
    session.execute(
        update(Practice).values(
            apcm_attested_by_id=first_practitioner,
            apcm_attested_at=dt.datetime(2026, 1, 2, 15, tzinfo=dt.UTC),
        )
    )
    conditions: dict[int, list[str]] = {}
    for pid, code in session.execute(
        select(PatientCondition.patient_id, PatientCondition.code).order_by(
            PatientCondition.patient_id, PatientCondition.position
        )
    ):
        conditions.setdefault(pid, []).append(code)
    recorded = dt.datetime(2026, 1, 5, 14, tzinfo=dt.UTC)
    periods = []
    bhi_share: dict[int, float] = {}
    last_visits = []
    g0506 = []
    for pid in patient_ids:
        roll = rng.random()
        codes = conditions.get(pid, [])
        if roll < 0.05:  # APCM, some from the start, some switched from CCM this year
            start = rng.choice(("", "2026-01", "2026-07"))
            if start:
                periods.append((pid, "", "ccm", None))
            periods.append((pid, start, "apcm", None))
        elif roll < 0.07 and codes:  # PCM by focus condition, usually its first one
            periods.append((pid, rng.choice(("", "2026-04")), "pcm_focus", codes[0]))
        behavioural = any(code.startswith("F") for code in codes)
        # About 10 % of the patients have general BHI time: nearly all with a BH condition
        # (the demo gives one to about a third), a few without (NO_BH_CONDITION).
        if (behavioural and rng.random() < 0.26) or (not behavioural and rng.random() < 0.005):
            bhi_share[pid] = rng.uniform(0.05, 0.35)
        if rng.random() < 2 / 3:
            last_visits.append(
                {"pid": pid, "day": dt.date(2024, 1, 1) + dt.timedelta(days=rng.randrange(1030))}
            )
        if rng.random() < 0.3:
            g0506.append({"pid": pid})
    session.execute(
        insert(ProgramPeriod),
        [
            {"patient_id": pid, "from_month": start, "program": program,
             "focus_condition": focus, "recorded_at": recorded, "recorded_by": "benchmark"}
            for pid, start, program, focus in periods
        ],
    )  # fmt: skip
    session.connection().execute(
        update(Patient)
        .where(Patient.id == bindparam("pid"))
        .values(last_visit_date=bindparam("day")),
        last_visits,
    )
    session.connection().execute(
        update(Enrollment)
        .where(Enrollment.patient_id == bindparam("pid"))
        .values(initiating_visit_g0506=True),
        g0506,
    )
    return bhi_share


def working_copy(folder: Path, target: Path) -> Path:
    """A private copy of a cached database for a benchmark that writes, so the cache stays as
    built and every run starts from the same rows."""
    import sqlite3

    target.mkdir(parents=True, exist_ok=True)
    src = sqlite3.connect(folder / "ccmdesk.sqlite3")
    dst = sqlite3.connect(target / "ccmdesk.sqlite3")
    src.backup(dst)
    src.close()
    dst.close()
    return target


if __name__ == "__main__":
    patients_database(10_000)
