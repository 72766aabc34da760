"""A complete care plan, and one signed by the billing practitioner, for the tests."""

from __future__ import annotations

import dataclasses
import datetime as dt

from ccmdesk.rules.care_plan import PlanContent
from ccmdesk.services import PlanVersion, Services
from tests.helpers.common import DOCTOR, NURSE

COMPLETE = PlanContent(
    problems="E11.9 Type 2 diabetes\nI10 Hypertension",
    outcomes="Stable with monthly follow-up; good prognosis.",
    goals="HbA1c below 7.0% by October.",
    symptoms="Low sugar: 15 g fast sugar, recheck in 15 minutes.",
    interventions="RN Lee: monthly call. Dr. A: adjust metformin.",
    medications="Metformin 500 mg twice daily; reconcile at each call.",
    community="Diabetes self-management class at the library.",
    coordination="Ophthalmology yearly; podiatry referral.",
    review_on=dt.date(2026, 10, 15),
)


def signed_plan(services: Services, mrn: str, **changes: object) -> PlanVersion:
    """Save a complete plan (with `changes`) as the nurse and sign it as Dr. A."""
    plan = services.care_plans.plan(NURSE, mrn)
    latest = plan.latest
    version = services.care_plans.save(
        NURSE,
        mrn,
        dataclasses.replace(COMPLETE, **changes),  # type: ignore[arg-type]
        latest.number if latest else None,
    )
    _, sha = services.care_plans.document(DOCTOR, mrn, version.number)
    return services.care_plans.sign(DOCTOR, mrn, version.number, sha)
