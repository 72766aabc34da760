"""Every row of the permission table, through the services: the roles it names pass, the
others are refused (the GUI hides what a role may not do, but the services decide)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

import pytest

from ccmdesk.models.staff import Role
from ccmdesk.rules.care_plan import PlanContent
from ccmdesk.rules.records import StaffRecord
from ccmdesk.services import (
    Actor,
    AuditFilter,
    MonthFactsRecord,
    Permission,
    PermissionDenied,
    ServiceError,
    Services,
)
from ccmdesk.services.care_plans import CopyTexts
from ccmdesk.services.context import PERMISSIONS
from tests.helpers.common import CLI, SCHEDULER, patient_text

MONTH = "2026-03"
# One active person per role, as the staffed fixture makes them.
PEOPLE = {
    Role.ADMIN: Actor("admin-a", "Ann Admin", "admin"),
    Role.PRACTITIONER: Actor("dr-a", "Dr. A", "practitioner"),
    Role.CLINICAL: Actor("rn-lee", "Grace Lee", "clinical"),
    Role.NON_CLINICAL: SCHEDULER,
    Role.BILLING: Actor("bill-b", "Bo Biller", "billing"),
}

Call = Callable[[Services, Actor, Path], object]


def latest_plan(services: Services) -> int | None:
    """P1's newest care plan version, read once as the command line (whoever tries to save)."""
    latest = services.care_plans.plan(CLI, "P1").latest
    return latest.number if latest else None


def changed(services: Services, *, billed_elsewhere: bool = False, complexity: bool = False):
    """P1's month facts with one of them flipped: a save that changes nothing is not asked
    for a permission, so each role's try must change something."""
    now = services.month_facts.get(CLI, "P1", MONTH)
    return MonthFactsRecord(
        ("high" if now.complexity == "moderate" else "moderate") if complexity else now.complexity,
        now.other_services,
        not now.billed_elsewhere if billed_elsewhere else now.billed_elsewhere,
        now.inpatient_stays,
    )


# For each permission, one service call that needs it (and, where a row says "their own",
# one where the acting practitioner is the patient's: P1 is Dr. A's patient).
CALLS: dict[Permission, Call] = {
    Permission.VIEW_PATIENTS: lambda s, a, _: s.patients.list_rows(a),
    Permission.EDIT_PATIENTS: lambda s, a, _: s.patients.save_text(
        a, patient_text(mrn="P2", last_name="Two")
    ),
    Permission.MANAGE_STAFF: lambda s, a, _: s.staff.save(
        a, StaffRecord(f"new-{a.key}", "New Person", "clinical"), is_new=True
    ),
    Permission.MANAGE_PRACTICE: lambda s, a, _: s.practice.save_auto_lock_minutes(a, 7),
    Permission.MANAGE_FEES: lambda s, a, _: s.fees.save(a, 2027, {"99490": 7000 + len(a.key)}),
    Permission.MANAGE_PAYERS: lambda s, a, _: s.payers.save_text(
        a, {"payer_id": f"p-{a.key}"[:20].lower(), "name": "Payer", "kind": "commercial"}
    ),
    Permission.MANAGE_WAIVERS: lambda s, a, _: s.waivers.list(a, "P1"),
    Permission.SET_PROGRAM: lambda s, a, _: s.programs.set(a, "P1", "apcm", "2026-05"),
    Permission.ATTEST_APCM: lambda s, a, _: s.practice.attest_apcm(a),
    Permission.IMPORT_DATA: lambda s, a, _: s.imports.import_data(a, []),
    Permission.RECORD_TIME: lambda s, a, _: s.stopwatch.open_timers(a),
    Permission.VIEW_WORKLIST: lambda s, a, _: s.minutes.worklist(a, MONTH),
    Permission.VIEW_DASHBOARD: lambda s, a, _: s.dashboard.month(a, MONTH),
    Permission.LOG_CALLS: lambda s, a, _: s.calls.record_attempt(a, "P1", "reached"),
    Permission.EDIT_CARE_PLAN: lambda s, a, _: s.care_plans.save(
        a,
        "P1",
        PlanContent(goals=f"walk daily ({a.key})"),
        latest_plan(s),
    ),
    Permission.SIGN_CARE_PLAN: lambda s, a, _: s.care_plans.sign(a, "P1", 1, ""),
    Permission.GIVE_CARE_PLAN: lambda s, a, _: s.care_plans.record_copy(
        a, "P1", 1, dt.date(2026, 3, 1), "mail"
    ),
    Permission.MANAGE_CARE_PLAN_TEMPLATES: lambda s, a, _: s.care_plans.save_copy_texts(
        a, CopyTexts("en", title=f"Your plan ({a.key})")
    ),
    Permission.VIEW_BILLING: lambda s, a, _: s.billing.month(a, MONTH),
    Permission.SET_MONTH_FACTS: lambda s, a, _: s.month_facts.save(
        a, "P1", MONTH, changed(s, billed_elsewhere=True)
    ),
    Permission.ATTEST_COMPLEXITY: lambda s, a, _: s.month_facts.save(
        a, "P1", MONTH, changed(s, complexity=True)
    ),
    Permission.CHOOSE_FAMILY: lambda s, a, _: s.families.choose(
        a, "P1", MONTH, None, "back to the rules' choice"
    ),
    Permission.SIGN_MONTH: lambda s, a, _: s.review.sign(a, "P1", MONTH),
    Permission.UNLOCK_MONTH: lambda s, a, _: s.review.unlock(a, "P1", MONTH, "a left-out call"),
    Permission.CLOSE_MONTH: lambda s, a, _: s.closing.close(a, MONTH),
    Permission.REOPEN_MONTH: lambda s, a, _: s.closing.reopen(a, MONTH, "a late correction"),
    Permission.VIEW_AUDIT: lambda s, a, _: s.audit.events(a, AuditFilter()),
    Permission.EXPORT: lambda s, a, folder: s.export.export(a, MONTH, folder / a.key),
    Permission.BACKUP: lambda s, a, folder: s.backups.take(a, folder / f"{a.key}.sqlite3"),
}


def test_every_permission_has_a_call() -> None:
    assert set(CALLS) == set(PERMISSIONS)


@pytest.fixture
def practice_with_a_patient(staffed: Services) -> Services:
    staffed.patients.save_text(CLI, patient_text(mrn="P1", last_name="One"))
    return staffed


@pytest.mark.parametrize("permission", list(PERMISSIONS), ids=lambda p: p.name.lower())
def test_each_role_is_allowed_or_refused_as_the_table_says(
    practice_with_a_patient: Services, permission: Permission, tmp_path: Path
) -> None:
    services = practice_with_a_patient
    for role, actor in PEOPLE.items():
        allowed = role in PERMISSIONS[permission]
        try:
            CALLS[permission](services, actor, tmp_path)
        except PermissionDenied as refusal:
            assert not allowed, f"{role} refused {permission.value}: {refusal}"
            continue
        except ServiceError:
            pass  # allowed, then refused for something else (nothing to sign, say)
        assert allowed, f"{role} was let {permission.value}"


def test_a_refusal_names_the_person_and_the_action(practice_with_a_patient: Services) -> None:
    with pytest.raises(PermissionDenied) as refused:
        practice_with_a_patient.closing.close(PEOPLE[Role.CLINICAL], MONTH)
    assert str(refused.value) == "Grace Lee (Clinical staff) may not close a month for billing."


def test_a_role_taken_away_since_sign_in_is_refused_at_once(
    practice_with_a_patient: Services,
) -> None:
    services = practice_with_a_patient
    biller = PEOPLE[Role.BILLING]
    services.staff.save(CLI, StaffRecord("bill-b", "Bo Biller", "non_clinical"), is_new=False)
    with pytest.raises(PermissionDenied, match="may not view the billing panel"):
        services.billing.month(biller, MONTH)  # the Actor still says billing


def test_a_practitioner_signs_and_attests_only_for_their_own_patients(
    practice_with_a_patient: Services,
) -> None:
    services = practice_with_a_patient
    services.staff.save(
        CLI, StaffRecord("dr-b", "Dr. B", "practitioner", "MD", "1245319599"), is_new=True
    )
    other = Actor("dr-b", "Dr. B", "practitioner")
    with pytest.raises(PermissionDenied):
        services.month_facts.save(other, "P1", MONTH, MonthFactsRecord("moderate"))
    start = dt.datetime(2026, 3, 3, 14, 0, tzinfo=dt.UTC)
    services.entries.add_manual(
        PEOPLE[Role.CLINICAL], "P1", start, start + dt.timedelta(minutes=25), reason="call"
    )
    with pytest.raises(ServiceError, match="only the patient's billing practitioner signs"):
        services.review.sign(other, "P1", MONTH)


# The words, role by role: a change to the table in code must be a change here too.
CLINICAL, PRACTITIONER = {Role.CLINICAL}, {Role.PRACTITIONER}
SCHEDULER, BILLING, ADMIN = {Role.NON_CLINICAL}, {Role.BILLING}, {Role.ADMIN}
EVERYONE = set(Role)
SPEC = {
    Permission.VIEW_PATIENTS: EVERYONE,
    Permission.EDIT_PATIENTS: CLINICAL | PRACTITIONER | ADMIN,
    Permission.MANAGE_STAFF: ADMIN,
    Permission.MANAGE_PRACTICE: ADMIN,
    Permission.MANAGE_FEES: ADMIN,
    Permission.MANAGE_PAYERS: BILLING | ADMIN,
    Permission.MANAGE_WAIVERS: BILLING | ADMIN,
    Permission.SET_PROGRAM: PRACTITIONER | BILLING | ADMIN,
    Permission.ATTEST_APCM: PRACTITIONER,
    Permission.IMPORT_DATA: ADMIN,
    Permission.RECORD_TIME: CLINICAL | PRACTITIONER,
    Permission.VIEW_WORKLIST: CLINICAL | PRACTITIONER | SCHEDULER,
    Permission.VIEW_DASHBOARD: CLINICAL | PRACTITIONER | BILLING | ADMIN,
    Permission.LOG_CALLS: CLINICAL | PRACTITIONER | SCHEDULER,
    Permission.EDIT_CARE_PLAN: CLINICAL | PRACTITIONER,
    Permission.SIGN_CARE_PLAN: PRACTITIONER,
    Permission.GIVE_CARE_PLAN: CLINICAL | PRACTITIONER | SCHEDULER,
    Permission.MANAGE_CARE_PLAN_TEMPLATES: PRACTITIONER | ADMIN,
    Permission.VIEW_BILLING: PRACTITIONER | BILLING | ADMIN,
    Permission.SET_MONTH_FACTS: BILLING | ADMIN,
    Permission.ATTEST_COMPLEXITY: PRACTITIONER,
    Permission.CHOOSE_FAMILY: BILLING | ADMIN,
    Permission.SIGN_MONTH: PRACTITIONER,
    Permission.UNLOCK_MONTH: PRACTITIONER | ADMIN,
    Permission.CLOSE_MONTH: BILLING | ADMIN,
    Permission.REOPEN_MONTH: ADMIN,
    Permission.VIEW_AUDIT: PRACTITIONER | BILLING | ADMIN,
    Permission.EXPORT: BILLING | ADMIN,
    Permission.BACKUP: ADMIN,
}


def test_the_table_is_the_one_the_practice_was_promised() -> None:
    assert {p: set(roles) for p, roles in PERMISSIONS.items()} == SPEC
    # Non-clinical staff view the worklist and patients, log the calls they make, and record
    # the care plan copies they hand out or mail.
    assert {p for p, roles in SPEC.items() if Role.NON_CLINICAL in roles} == {
        Permission.VIEW_PATIENTS,
        Permission.VIEW_WORKLIST,
        Permission.LOG_CALLS,
        Permission.GIVE_CARE_PLAN,
    }
