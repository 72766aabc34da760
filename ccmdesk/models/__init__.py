"""SQLAlchemy 2.0 typed ORM models; no Qt here."""

from ccmdesk.models.audit import AuditEvent
from ccmdesk.models.base import Base
from ccmdesk.models.care_plan import (
    CarePlanCopy,
    CarePlanTemplate,
    CarePlanVersion,
    PatientCopyText,
)
from ccmdesk.models.claim import SentClaim
from ccmdesk.models.fee import FeeScheduleAmount
from ccmdesk.models.month import (
    InpatientStay,
    MonthClose,
    MonthFlag,
    MonthlyReview,
    PatientMonth,
)
from ccmdesk.models.notification import Notification
from ccmdesk.models.patient import (
    CallAttempt,
    Callback,
    Enrollment,
    EnrolmentEvent,
    Patient,
    PatientCondition,
    ProgramPeriod,
    Waiver,
)
from ccmdesk.models.payer import Payer
from ccmdesk.models.practice import Practice
from ccmdesk.models.staff import Role, Staff
from ccmdesk.models.time_entry import TimeEntry, TimeSegment

__all__ = [
    "AuditEvent",
    "Base",
    "CallAttempt",
    "Callback",
    "CarePlanCopy",
    "CarePlanTemplate",
    "CarePlanVersion",
    "Enrollment",
    "EnrolmentEvent",
    "FeeScheduleAmount",
    "InpatientStay",
    "MonthClose",
    "MonthFlag",
    "MonthlyReview",
    "Notification",
    "Patient",
    "PatientCondition",
    "PatientCopyText",
    "PatientMonth",
    "Payer",
    "Practice",
    "ProgramPeriod",
    "Role",
    "SentClaim",
    "Staff",
    "TimeEntry",
    "TimeSegment",
    "Waiver",
]
