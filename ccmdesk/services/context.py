"""Who is acting, what each role may do, and the injectable clock."""

from __future__ import annotations

import datetime as dt
import getpass
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from ccmdesk.models.staff import ROLE_LABELS, Role
from ccmdesk.services.errors import PermissionDenied

Clock = Callable[[], dt.datetime]


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


# The command line acts as a data-migration tool with every permission (see formats.md).
SYSTEM_ROLE = "system"


@dataclass(frozen=True)
class Actor:
    """The person (or the command line) on whose behalf a service acts."""

    key: str  # staff_id, or "cli:<os user>"
    name: str
    role: str

    @classmethod
    def command_line(cls) -> Actor:
        try:
            user = getpass.getuser()
        except (KeyError, OSError):  # no passwd entry in some containers
            user = "unknown"
        return cls(key=f"cli:{user}", name=f"command line ({user})", role=SYSTEM_ROLE)


class Permission(StrEnum):
    VIEW_PATIENTS = "view patients"
    EDIT_PATIENTS = "add or edit patients"
    MANAGE_STAFF = "add or edit staff"
    MANAGE_PRACTICE = "change the practice settings"
    MANAGE_FEES = "change the fee schedules"
    MANAGE_PAYERS = "change the payer list"
    MANAGE_WAIVERS = "record, change or list hardship waivers"
    SET_PROGRAM = "change a patient's program"
    ATTEST_APCM = "attest the practice's APCM prerequisites"
    IMPORT_DATA = "import data files"
    RECORD_TIME = "record care-management time"
    VIEW_WORKLIST = "view the worklist"
    VIEW_DASHBOARD = "view the dashboard"
    LOG_CALLS = "log calls and schedule callbacks"
    EDIT_CARE_PLAN = "write or revise a care plan"
    SIGN_CARE_PLAN = "sign a care plan"
    GIVE_CARE_PLAN = "record a care plan copy given to the patient"
    MANAGE_CARE_PLAN_TEMPLATES = "change the care plan templates"
    VIEW_BILLING = "view the billing panel"
    SET_MONTH_FACTS = "set a patient-month's other services, stays or billing elsewhere"
    ATTEST_COMPLEXITY = "attest complexity"
    CHOOSE_FAMILY = "switch a month's code family"
    SIGN_MONTH = "sign a patient's month"
    UNLOCK_MONTH = "unlock a signed month"
    CLOSE_MONTH = "close a month for billing"
    REOPEN_MONTH = "reopen a closed month"
    VIEW_AUDIT = "view the audit trail"
    EXPORT = "export a month for billing"
    BACKUP = "back up or restore the database"


_ALL = frozenset(Role)
# One table, read by the services (which refuse) and by the GUI (which hides what is refused).
PERMISSIONS: dict[Permission, frozenset[str]] = {
    Permission.VIEW_PATIENTS: _ALL,
    Permission.EDIT_PATIENTS: frozenset({Role.CLINICAL, Role.PRACTITIONER, Role.ADMIN}),
    Permission.MANAGE_STAFF: frozenset({Role.ADMIN}),
    Permission.MANAGE_PRACTICE: frozenset({Role.ADMIN}),
    Permission.MANAGE_FEES: frozenset({Role.ADMIN}),
    Permission.MANAGE_PAYERS: frozenset({Role.BILLING, Role.ADMIN}),
    Permission.MANAGE_WAIVERS: frozenset({Role.BILLING, Role.ADMIN}),
    # Which program a patient is billed under is the practitioner's or the biller's decision
    # (docs/billing-rules.md, "Programs"); the care team records minutes, not programs.
    Permission.SET_PROGRAM: frozenset({Role.PRACTITIONER, Role.BILLING, Role.ADMIN}),
    # A billing practitioner attests, in their own name; an administrator may withdraw it
    # (MANAGE_PRACTICE), e.g. when the practice can no longer offer 24/7 access.
    Permission.ATTEST_APCM: frozenset({Role.PRACTITIONER}),
    Permission.IMPORT_DATA: frozenset({Role.ADMIN}),
    Permission.RECORD_TIME: frozenset({Role.CLINICAL, Role.PRACTITIONER}),
    # Schedulers (non-clinical) see whom to call next, practice-wide; they record no time.
    Permission.VIEW_WORKLIST: frozenset({Role.CLINICAL, Role.PRACTITIONER, Role.NON_CLINICAL}),
    # The month at a glance: care managers see how the team stands; it shows no patient names.
    Permission.VIEW_DASHBOARD: frozenset(
        {Role.CLINICAL, Role.PRACTITIONER, Role.BILLING, Role.ADMIN}
    ),
    # Whoever phones patients logs what came of the call: the care team and the schedulers.
    Permission.LOG_CALLS: frozenset({Role.CLINICAL, Role.PRACTITIONER, Role.NON_CLINICAL}),
    # RN/LPN staff write and revise the plan; the billing practitioner signs it, only for their
    # own patients (checked in the service; docs/billing-rules.md, "Care plan").
    Permission.EDIT_CARE_PLAN: frozenset({Role.CLINICAL, Role.PRACTITIONER}),
    Permission.SIGN_CARE_PLAN: frozenset({Role.PRACTITIONER}),
    # Whoever hands or mails the copy records it, the front desk included.
    Permission.GIVE_CARE_PLAN: frozenset({Role.CLINICAL, Role.PRACTITIONER, Role.NON_CLINICAL}),
    # The templates are clinical words: practitioners keep them, administrators set them up.
    Permission.MANAGE_CARE_PLAN_TEMPLATES: frozenset({Role.PRACTITIONER, Role.ADMIN}),
    Permission.VIEW_BILLING: frozenset({Role.PRACTITIONER, Role.BILLING, Role.ADMIN}),
    Permission.SET_MONTH_FACTS: frozenset({Role.BILLING, Role.ADMIN}),
    Permission.ATTEST_COMPLEXITY: frozenset({Role.PRACTITIONER}),
    Permission.CHOOSE_FAMILY: frozenset({Role.BILLING, Role.ADMIN}),
    # A practitioner signs and unlocks only their own patients' months (checked in the service).
    Permission.SIGN_MONTH: frozenset({Role.PRACTITIONER}),
    Permission.UNLOCK_MONTH: frozenset({Role.PRACTITIONER, Role.ADMIN}),
    Permission.CLOSE_MONTH: frozenset({Role.BILLING, Role.ADMIN}),
    Permission.REOPEN_MONTH: frozenset({Role.ADMIN}),
    Permission.VIEW_AUDIT: frozenset({Role.PRACTITIONER, Role.BILLING, Role.ADMIN}),
    Permission.EXPORT: frozenset({Role.BILLING, Role.ADMIN}),
    Permission.BACKUP: frozenset({Role.ADMIN}),
}


def allowed(actor: Actor, permission: Permission) -> bool:
    return actor.role == SYSTEM_ROLE or actor.role in PERMISSIONS[permission]


def require(actor: Actor, permission: Permission) -> None:
    """Refuse, with a sentence naming the person and the action, unless the role allows it."""
    if not allowed(actor, permission):
        label = ROLE_LABELS.get(actor.role, actor.role)  # type: ignore[call-overload]
        raise PermissionDenied(f"{actor.name} ({label}) may not {permission.value}.")


# What each permission covers in the words of docs/permissions.md (the table is generated from
# PERMISSIONS, and a test keeps the document in step with the code).
NOTES: dict[Permission, str] = {
    Permission.VIEW_PATIENTS: "the patient list and each patient's record and minutes",
    Permission.EDIT_PATIENTS: "enrolment, consent, conditions, the date of a care plan kept "
    "elsewhere (care managers record consent)",
    Permission.MANAGE_STAFF: "add and edit staff, retire them, set their passwords",
    Permission.MANAGE_PRACTICE: "practice details, stopwatch and sign-off settings, screen "
    "lock, withdrawing the APCM attestation",
    Permission.MANAGE_FEES: "the amount charged for each code, year by year",
    Permission.MANAGE_PAYERS: "add, edit, retire payers (everyone who sees patients reads them)",
    Permission.MANAGE_WAIVERS: "a patient's financial-hardship waivers of the coinsurance",
    Permission.SET_PROGRAM: "CCM, PCM on a focus condition or APCM, from a month on; never "
    "inside a signed or closed month",
    Permission.ATTEST_APCM: "in one's own name, once for the practice (administrators withdraw it)",
    Permission.IMPORT_DATA: "CSV import of staff, payers, patients, waivers, minutes and month "
    "facts; the demo",
    Permission.RECORD_TIME: "one's own stopwatch, entries by hand, corrections of one's own time",
    Permission.VIEW_WORKLIST: "who needs minutes next (one's own patients; schedulers: everyone)",
    Permission.VIEW_DASHBOARD: (
        "the month at a glance: counts, minutes, amounts, enrolment (no patient names)"
    ),
    Permission.LOG_CALLS: "a patient's call log and callbacks (an attempt is a record, never time)",
    Permission.EDIT_CARE_PLAN: "each save is a new version; a draft may leave elements empty",
    Permission.SIGN_CARE_PLAN: "only the patient's billing practitioner; the newest version, "
    "complete",
    Permission.GIVE_CARE_PLAN: "the day and how (in person, mail, portal) a signed copy was given",
    Permission.MANAGE_CARE_PLAN_TEMPLATES: "condition templates and the patient copy's words "
    "(English, Spanish)",
    Permission.VIEW_BILLING: "the billing panel, a month's figures and monthly summaries",
    Permission.SET_MONTH_FACTS: "other services, inpatient stays, billed elsewhere",
    Permission.ATTEST_COMPLEXITY: "complex CCM: only the patient's billing practitioner",
    Permission.CHOOSE_FAMILY: "bill a month under another compliant code family",
    Permission.SIGN_MONTH: "only the patient's billing practitioner",
    Permission.UNLOCK_MONTH: "practitioners their own patients' months; administrators anyone's",
    Permission.CLOSE_MONTH: "a finished month, for the whole practice",
    Permission.REOPEN_MONTH: "with a reason",
    Permission.VIEW_AUDIT: "the audit trail and its chain check",
    Permission.EXPORT: "superbills, handoff report, CSV files",
    Permission.BACKUP: "back up now, restore a backup",
}


def permissions_markdown() -> str:
    """The permission table as docs/permissions.md shows it."""
    roles = list(ROLE_LABELS)
    lines = [
        "| may … | " + " | ".join(ROLE_LABELS[r] for r in roles) + " | what it covers |",
        "|---|" + "---|" * len(roles) + "---|",
    ]
    for permission, allowed_roles in PERMISSIONS.items():
        marks = " | ".join("yes" if r in allowed_roles else "—" for r in roles)
        lines.append(f"| {permission.value} | {marks} | {NOTES[permission]} |")
    return "\n".join(lines) + "\n"
