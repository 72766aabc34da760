"""A program change from a month never alters a signed month (Hypothesis, through the services,
a fresh database per example)."""

from __future__ import annotations

import datetime as dt
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from ccmdesk.db import Database, open_database
from ccmdesk.rules.billing import MonthResult
from ccmdesk.rules.records import PracticeRecord, StaffRecord
from ccmdesk.services import Services
from tests.helpers.billing import csv_bytes
from tests.helpers.common import BILLER, CLI, DOCTOR, FAST_HASHER, NOW, VALID_NPIS, patient_text
from tests.helpers.programs import attest_apcm, set_program
from tests.helpers.scenario_cases import NY

MONTHS = ("2026-01", "2026-02", "2026-03")
MRN = "H1"


@contextmanager
def practice() -> Iterator[tuple[Services, Database]]:
    """A practice with Dr. A, a nurse and a biller in a database of its own."""
    with tempfile.TemporaryDirectory() as tmp:
        db = open_database(f"sqlite:///{Path(tmp) / 'ccmdesk.sqlite3'}", Path(tmp) / "backups")
        try:
            services = Services(db, clock=lambda: NOW, hasher=FAST_HASHER)
            services.practice.save(
                CLI,
                PracticeRecord(name="Test Practice", address="1 Main St, Portland, ME 04101",
                               phone="207-555-0100", group_npi=VALID_NPIS[1], tin="123456789",
                               timezone="America/New_York"),
            )  # fmt: skip
            for record in (
                StaffRecord("dr-a", "Dr. A", "practitioner", "MD", VALID_NPIS[0]),
                StaffRecord("rn-lee", "Grace Lee", "clinical", "RN"),
                StaffRecord("bill-b", "Bo Biller", "billing"),
            ):
                services.staff.save(CLI, record, is_new=True)
            yield services, db
        finally:
            db.dispose()


def seen(r: MonthResult) -> tuple[object, ...]:
    """What a signed month bills and says."""
    bhi = r.bhi
    return (r.program, r.codes, r.status, r.blocks, r.warnings, r.amount_cents,
            r.countable_seconds, bhi.codes if bhi else None, r.total_cents)  # fmt: skip


def time_rows(minutes: dict[str, tuple[int, int]]) -> list[dict[str, str]]:
    rows = []
    for month, (ccm, bhi) in minutes.items():
        year, number = (int(p) for p in month.split("-"))
        for day, length, service in ((5, ccm, "ccm"), (12, bhi, "bhi")):
            if length:
                start = dt.datetime(year, number, day, 10, tzinfo=NY)
                end = start + dt.timedelta(minutes=length)
                rows.append({"mrn": MRN, "staff_id": "rn-lee", "start": start.isoformat(),
                             "end": end.isoformat(), "service": service,
                             "face_to_face": "no"})  # fmt: skip
    return rows


@st.composite
def history(draw: st.DrawFn):  # type: ignore[no-untyped-def]
    """Months with billable CCM time (and some BHI), the months signed, the program periods
    recorded afterwards (each from a month after every signed one) and the attestation."""
    conditions = draw(st.sampled_from([("E11.9", "I10"), ("I50.22",), ("F32.A", "I10")]))
    minutes = {m: (draw(st.integers(30, 70)), draw(st.sampled_from([0, 10, 25]))) for m in MONTHS}
    signed = draw(st.lists(st.sampled_from(MONTHS), unique=True, max_size=3))
    later = [m for m in ("", *MONTHS, "2026-04") if not signed or m > max(signed)]
    periods = draw(
        st.lists(
            st.tuples(st.sampled_from(later), st.sampled_from(["ccm", "pcm_focus", "apcm"])),
            min_size=1,
            max_size=2,
            unique_by=lambda p: p[0],
        )
    )
    return conditions, minutes, sorted(signed), periods, draw(st.booleans())


@settings(max_examples=15, deadline=None)
@given(history())
def test_a_program_change_from_a_month_never_alters_a_signed_month(story) -> None:  # type: ignore[no-untyped-def]
    conditions, minutes, signed, periods, attested = story
    with practice() as (team, db):
        patient = patient_text(mrn=MRN, conditions=";".join(conditions))
        team.imports.import_data(
            CLI,
            [("patients.csv", csv_bytes([patient])),
             ("time_entries.csv", csv_bytes(time_rows(minutes)))],
        )  # fmt: skip
        if attested:
            attest_apcm(db)
        for month in signed:
            team.review.sign(DOCTOR, MRN, month)
        before = {m: seen(team.billing.patient_month(BILLER, MRN, m).result) for m in signed}
        for from_month, program in periods:
            focus = conditions[0] if program == "pcm_focus" else None
            set_program(db, MRN, program, from_month=from_month, focus=focus)
        for month in MONTHS:
            result = team.billing.patient_month(BILLER, MRN, month).result
            if month in signed:
                assert result.signed and seen(result) == before[month], month
            else:
                # The change did reach the months it was made for: the period in force.
                starts = [p for p in sorted(periods) if p[0] <= month]
                assert result.program == (starts[-1][1] if starts else "ccm"), month
