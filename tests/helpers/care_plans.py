"""A complete care plan, and one signed by the billing practitioner, for the tests."""

from __future__ import annotations

import dataclasses
import datetime as dt

from sqlalchemy import select

from ccmdesk.models import Patient
from ccmdesk.rules.care_plan import PlanContent
from ccmdesk.services import Actor, PlanVersion, Services
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


def saved_plan(
    services: Services,
    mrn: str,
    *,
    author: Actor = NURSE,
    base: PlanContent = COMPLETE,
    **changes: object,
) -> PlanVersion:
    """Save `base` (with `changes`) as `author`, based on the latest version if there is one."""
    latest = services.care_plans.plan(author, mrn).latest
    content = dataclasses.replace(base, **changes)  # type: ignore[arg-type]
    return services.care_plans.save(author, mrn, content, latest.number if latest else None)


def signed_plan(
    services: Services,
    mrn: str,
    *,
    author: Actor = NURSE,
    signer: Actor = DOCTOR,
    base: PlanContent = COMPLETE,
    **changes: object,
) -> PlanVersion:
    """Save `base` (with `changes`) as `author` (the nurse) and sign it as `signer` (Dr. A)."""
    version = saved_plan(services, mrn, author=author, base=base, **changes)
    _, sha = services.care_plans.document(signer, mrn, version.number)
    return services.care_plans.sign(signer, mrn, version.number, sha)


def set_language(services: Services, mrn: str, language: str) -> None:
    """Write the patient's preferred language straight to the row: no service sets it alone,
    and the tests need a language the service would refuse ("fr") too."""
    with services._db.session() as session:
        patient = session.scalars(select(Patient).where(Patient.mrn == mrn)).one()
        patient.preferred_language = language
