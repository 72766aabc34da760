"""Care plan versions, drafts, signing, copies given and the practice's templates."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from ccmdesk.rules.care_plan import ConditionTemplate, PlanContent
from ccmdesk.services import (
    Actor,
    AuditFilter,
    CopyTexts,
    PermissionDenied,
    ServiceError,
    Services,
    ValidationFailed,
)
from ccmdesk.services.care_plans import ATTESTATION
from tests.helpers.care_plans import COMPLETE, signed_plan
from tests.helpers.common import ADMIN, CLI, DOCTOR, NURSE, SCHEDULER, patient_text

TODAY = dt.date(2026, 4, 15)  # NOW in the practice (America/New_York)


@pytest.fixture
def clinic(staffed: Services) -> Services:
    staffed.patients.save_text(CLI, patient_text(mrn="P1", last_name="One"))
    return staffed


def events(services: Services, action: str) -> list:
    rows, _ = services.audit.events(ADMIN, AuditFilter(action=action))
    return rows


def test_every_save_is_a_new_version_with_its_changes_in_the_audit_trail(
    clinic: Services,
) -> None:
    first = clinic.care_plans.save(NURSE, "P1", PlanContent(goals="Walk daily"), None)
    second = clinic.care_plans.save(
        NURSE, "P1", PlanContent(goals="Walk 20 minutes daily", medications="Metformin"), 1
    )
    assert (first.number, second.number) == (1, 2)
    plan = clinic.care_plans.plan(NURSE, "P1")
    assert [v.number for v in plan.versions] == [1, 2]
    assert plan.version(1).content.goals == "Walk daily"  # the old version is kept as it was
    assert plan.latest.saved_by == "Grace Lee"
    saved = events(clinic, "care_plan.save")
    newest = saved[0]
    assert newest.entity_key == "P1 v2"
    assert newest.before == {"goals": "Walk daily", "medications": ""}
    assert newest.after == {"goals": "Walk 20 minutes daily", "medications": "Metformin"}
    assert saved[1].before is None and saved[1].after == {"goals": "Walk daily"}


def test_a_save_from_an_older_version_is_refused_and_names_who_saved(clinic: Services) -> None:
    clinic.care_plans.save(NURSE, "P1", PlanContent(goals="a"), None)
    clinic.care_plans.save(DOCTOR, "P1", PlanContent(goals="b"), 1)
    with pytest.raises(ServiceError, match=r"Dr\. A saved version 2 .* while you were editing"):
        clinic.care_plans.save(NURSE, "P1", PlanContent(goals="c"), 1)
    with pytest.raises(ServiceError, match="while you were writing it"):
        clinic.care_plans.save(NURSE, "P1", PlanContent(goals="c"), None)
    assert [v.number for v in clinic.care_plans.plan(NURSE, "P1").versions] == [1, 2]


def test_saving_what_the_newest_version_says_is_refused(clinic: Services) -> None:
    clinic.care_plans.save(NURSE, "P1", PlanContent(goals="Walk daily"), None)
    with pytest.raises(ServiceError, match="Nothing changed: version 1"):
        clinic.care_plans.save(NURSE, "P1", PlanContent(goals="  Walk daily  \n"), 1)


def test_a_review_date_in_the_past_is_refused(clinic: Services) -> None:
    content = dataclasses.replace(COMPLETE, review_on=TODAY - dt.timedelta(days=1))
    with pytest.raises(ValidationFailed, match=r"review_on.*in the past"):
        clinic.care_plans.save(NURSE, "P1", content, None)


def test_a_draft_with_empty_elements_saves_but_does_not_sign_and_names_them(
    clinic: Services,
) -> None:
    draft = clinic.care_plans.save(
        NURSE, "P1", dataclasses.replace(COMPLETE, community=" ", review_on=None), None
    )
    assert draft.status == "Draft"
    assert draft.missing == ("Community and social services", "Next review date")
    _, sha = clinic.care_plans.document(DOCTOR, "P1", 1)
    with pytest.raises(ServiceError, match="no community and social services; next review date"):
        clinic.care_plans.sign(DOCTOR, "P1", 1, sha)
    assert not clinic.care_plans.plan(DOCTOR, "P1").version(1).signed


def test_the_billing_practitioner_signs_the_document_shown(clinic: Services) -> None:
    version = signed_plan(clinic, "P1")
    assert version.signed and version.signed_on == TODAY
    assert version.signed_by == "Dr. A, MD"
    assert version.attestation == ATTESTATION
    text, sha = clinic.care_plans.document(NURSE, "P1", 1)
    assert version.document_hash == sha and '"goals":"HbA1c below 7.0% by October."' in text
    signed = events(clinic, "care_plan.sign")[0]
    assert signed.after["document_sha256"] == sha and signed.after["signed_on"] == "2026-04-15"
    plan = clinic.care_plans.plan(NURSE, "P1")
    assert plan.in_force is not None and plan.in_force.number == 1


def test_signing_is_refused_for_another_practitioner_a_stale_hash_or_an_old_version(
    clinic: Services,
) -> None:
    from ccmdesk.rules.records import StaffRecord
    from tests.helpers.common import VALID_NPIS

    clinic.staff.save(
        CLI, StaffRecord("dr-b", "Dr. B", "practitioner", "DO", VALID_NPIS[2]), is_new=True
    )
    clinic.care_plans.save(NURSE, "P1", COMPLETE, None)
    _, sha = clinic.care_plans.document(DOCTOR, "P1", 1)
    with pytest.raises(PermissionDenied, match="only that practitioner signs"):
        clinic.care_plans.sign(Actor("dr-b", "Dr. B", "practitioner"), "P1", 1, sha)
    with pytest.raises(ServiceError, match="changed since it was shown"):
        clinic.care_plans.sign(DOCTOR, "P1", 1, "0" * 64)
    clinic.care_plans.save(NURSE, "P1", dataclasses.replace(COMPLETE, goals="new"), 1)
    with pytest.raises(ServiceError, match="not the newest: version 2"):
        clinic.care_plans.sign(DOCTOR, "P1", 1, sha)
    _, sha2 = clinic.care_plans.document(DOCTOR, "P1", 2)
    clinic.care_plans.sign(DOCTOR, "P1", 2, sha2)
    with pytest.raises(ServiceError, match="signed already"):
        clinic.care_plans.sign(DOCTOR, "P1", 2, sha2)


def test_a_copy_given_is_recorded_for_a_signed_version_only(clinic: Services) -> None:
    clinic.care_plans.save(NURSE, "P1", COMPLETE, None)
    with pytest.raises(ServiceError, match="not signed yet"):
        clinic.care_plans.record_copy(NURSE, "P1", 1, TODAY, "in_person")
    signed_plan(clinic, "P1", goals="changed")
    with pytest.raises(ValidationFailed, match="given_on: is in the future"):
        clinic.care_plans.record_copy(NURSE, "P1", 2, TODAY + dt.timedelta(days=1), "mail")
    with pytest.raises(ValidationFailed, match="given_on: is before the version was signed"):
        clinic.care_plans.record_copy(NURSE, "P1", 2, TODAY - dt.timedelta(days=1), "mail")
    with pytest.raises(ValidationFailed, match="method: must be one of"):
        clinic.care_plans.record_copy(NURSE, "P1", 2, TODAY, "fax")
    copy = clinic.care_plans.record_copy(SCHEDULER, "P1", 2, TODAY, "mail", note="to daughter")
    assert (copy.method_label, copy.language, copy.recorded_by) == (
        "By mail",
        "en",
        "Sam Scheduler",
    )
    version = clinic.care_plans.plan(NURSE, "P1").version(2)
    assert version.given and version.status == "Signed, given"
    assert events(clinic, "care_plan.give")[0].after == {
        "given_on": "2026-04-15",
        "method": "mail",
        "language": "en",
        "note": "to daughter",
    }


def test_the_plan_starts_from_the_conditions_and_the_matching_templates(
    clinic: Services,
) -> None:
    plan = clinic.care_plans.plan(NURSE, "P1")  # E11.9 and I10
    assert plan.problems.splitlines()[0].startswith("E11.9 Type 2 diabetes mellitus")
    assert [t.key for t in plan.templates] == ["diabetes", "hypertension"]
    assert plan.latest is None and plan.in_force is not None and plan.in_force.external
    assert plan.billing_practitioner == "Dr. A, MD" and plan.can_sign is False
    assert clinic.care_plans.plan(DOCTOR, "P1").can_sign is True


def test_the_practice_edits_its_templates_and_copy_texts(clinic: Services) -> None:
    keys = [t.key for t in clinic.care_plans.templates(NURSE)]
    assert keys == ["diabetes", "hypertension", "heart_failure", "copd", "ckd", "depression"]
    asthma = ConditionTemplate("asthma", "Asthma", ("J45",), goals="No night waking")
    clinic.care_plans.save_template(DOCTOR, asthma, is_new=True)
    with pytest.raises(ValidationFailed, match="already a template's key"):
        clinic.care_plans.save_template(DOCTOR, asthma, is_new=True)
    with pytest.raises(ValidationFailed, match="'9X' is not an ICD-10-CM code"):
        clinic.care_plans.save_template(
            DOCTOR, dataclasses.replace(asthma, prefixes=("9X",)), is_new=False
        )
    clinic.care_plans.save_template(
        DOCTOR, dataclasses.replace(asthma, goals="Uses controller daily"), is_new=False
    )
    clinic.care_plans.delete_template(ADMIN, "copd")
    templates = {t.key: t for t in clinic.care_plans.templates(NURSE)}
    assert "copd" not in templates and templates["asthma"].goals == "Uses controller daily"
    with pytest.raises(PermissionDenied):
        clinic.care_plans.delete_template(NURSE, "ckd")
    clinic.care_plans.save_copy_texts(ADMIN, CopyTexts("es", title="Su plan", intro="Hola"))
    assert clinic.care_plans.copy_texts(NURSE)["es"].intro == "Hola"
    assert clinic.care_plans.copy_texts(NURSE)["en"].title == "Your care plan"
    with pytest.raises(ValidationFailed, match="title: is required"):
        clinic.care_plans.save_copy_texts(ADMIN, CopyTexts("en", title=" "))
    actions = {e.action for e in events(clinic, "care_plan_template.")}
    assert actions == {"care_plan_template.create", "care_plan_template.update",
                       "care_plan_template.delete"}  # fmt: skip
    assert events(clinic, "patient_copy_text.update")[0].after["intro"] == "Hola"
