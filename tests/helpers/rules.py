"""Building the rules engine's inputs for the worked cases: staff ids, patients, segments."""

from __future__ import annotations

import dataclasses
import datetime as dt

from ccmdesk.rules.billing import Month, PatientFacts, Segment, epoch
from ccmdesk.rules.catalog import DEFAULT_FEES
from tests.helpers.scenario_cases import MONTH, NY, Work

# The worked cases' people by the names scenarios use: (staff id, role).
STAFF = {"MD": (1, "practitioner"), "RN": (2, "clinical"), "LPN": (3, "clinical"),
         "MA": (4, "clinical"), "SCHED": (5, "non_clinical"), "DRB": (6, "practitioner")}  # fmt: skip
MARCH = Month.of(MONTH, NY, DEFAULT_FEES)


def patient(**overrides: object) -> PatientFacts:
    """A patient every rule passes (two conditions, consent, visit and care plan on file)."""
    base = PatientFacts(
        conditions=("E11.9", "I10"),
        billing_practitioner_id=1,
        billing_practitioner_name="Dr. A",
        consent_date=dt.date(2025, 11, 4),
        initiating_visit_date=dt.date(2025, 11, 4),
        care_plan_date=dt.date(2025, 11, 4),
    )
    return dataclasses.replace(base, **overrides)  # type: ignore[arg-type]


def entry(work: Work) -> Segment:
    staff_id, role = STAFF[work.who]
    return Segment.of(epoch(work.start), epoch(work.end), staff_id, role, work.service,
                      work.face_to_face)  # fmt: skip
