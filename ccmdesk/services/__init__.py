"""Use cases called by the GUI and the command line; they own sessions and check permissions."""

from __future__ import annotations

import datetime as dt
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from ccmdesk.db import Database
from ccmdesk.services.audit import AuditFilter, AuditRow, AuditService, ChainCheck
from ccmdesk.services.billing.cache import EvaluationCache
from ccmdesk.services.billing.closing import ClosingService, MonthState
from ccmdesk.services.billing.evaluation import BillingMonth, BillingRow, BillingService
from ccmdesk.services.billing.family import FamilyService
from ccmdesk.services.billing.month_facts import (
    MonthFactsEdit,
    MonthFactsRecord,
    MonthFactsService,
)
from ccmdesk.services.calls import CallbackRow, CallLog, CallRow, CallService
from ccmdesk.services.care_plans import CarePlan, CarePlanService, CopyGiven, CopyTexts, PlanVersion
from ccmdesk.services.context import Actor, Clock, Permission, allowed, utc_now
from ccmdesk.services.dashboard import Dashboard, DashboardService
from ccmdesk.services.enrolment import Enrolment, EnrolmentService, EnrolmentStep
from ccmdesk.services.errors import (
    ImportFailed,
    NotFound,
    PermissionDenied,
    ServiceError,
    ValidationFailed,
)
from ccmdesk.services.minutes import MinutesService, MonthProgress, WorklistRow
from ccmdesk.services.notifications import Activity, Inbox, NotificationRow, NotificationService
from ccmdesk.services.patients import PatientRow, PatientService
from ccmdesk.services.payers import PayerService
from ccmdesk.services.practice import PracticeService
from ccmdesk.services.programs import ProgramPeriodRow, ProgramService
from ccmdesk.services.results import ImportSummary
from ccmdesk.services.review import MonthlySummary, ReviewQueue, ReviewService, Signature
from ccmdesk.services.staff import StaffService
from ccmdesk.services.time.corrections import CorrectionService
from ccmdesk.services.time.entries import EntryService
from ccmdesk.services.time.log import TimeLogService
from ccmdesk.services.time.records import EntryRow, Stopped, TimerRunning, TimerState
from ccmdesk.services.time.stopwatch import StopwatchService
from ccmdesk.services.waivers import Approver, WaiverRow, WaiverService

if TYPE_CHECKING:
    from argon2 import PasswordHasher

    from ccmdesk.services.auth import AuthService
    from ccmdesk.services.backup import BackupService
    from ccmdesk.services.billing.fees import FeeService
    from ccmdesk.services.demo import DemoService
    from ccmdesk.services.export import ExportService
    from ccmdesk.services.importing.service import ImportService


class Services:
    """Every use case over one database and one clock, handed to the GUI and the CLI."""

    def __init__(
        self, db: Database, clock: Clock = utc_now, hasher: PasswordHasher | None = None
    ) -> None:
        self._db = db
        self._clock = clock
        self._hasher = hasher  # None: Argon2id's defaults (tests pass a cheaper one)
        self.practice = PracticeService(db, clock)
        self.staff = StaffService(db, clock)
        self.payers = PayerService(db, clock)
        # One cache of month evaluations for the dashboard, the worklist and the billing
        # service (docs/dashboard.md, "The evaluation cache").
        self.evaluations = EvaluationCache()
        self.billing = BillingService(db, clock, self.evaluations)
        self.patients = PatientService(db, clock, self.billing)
        self.minutes = MinutesService(db, clock, self.evaluations)
        self.dashboard = DashboardService(db, clock, self.billing)
        # Patients' time, a service per use case (ccmdesk.services.time).
        self.stopwatch = StopwatchService(db, clock, self.minutes)
        self.entries = EntryService(db, clock)
        self.corrections = CorrectionService(db, clock)
        self.time_log = TimeLogService(db, clock)
        self.review = ReviewService(db, clock, self.billing)
        self.closing = ClosingService(db, clock, self.billing)
        self.month_facts = MonthFactsService(db, clock, self.billing)
        self.families = FamilyService(db, clock, self.billing)
        self.audit = AuditService(db, clock)
        self.enrolment = EnrolmentService(db, clock)
        self.waivers = WaiverService(db, clock)
        self.programs = ProgramService(db, clock)
        self.notifications = NotificationService(db, clock, self.minutes, self.review)
        self.calls = CallService(db, clock)
        self.care_plans = CarePlanService(db, clock)
        # The data folder's exports-under-way (ccmdesk.services.staging), where exports note
        # the folders they write into, for the next start's sweep; None: nowhere (tests).
        self.export_notes: Path | None = None

    def now(self) -> dt.datetime:
        """The services' clock (UTC): the GUI shows and judges time by the same clock.

        Whole seconds, as stored instants are: an idle start or a stop time the GUI takes from
        it must not carry a fraction that later edits would refuse.
        """
        return self._clock().replace(microsecond=0)

    def practice_zone(self) -> dt.tzinfo:
        """The practice's time zone, for showing instants as local times."""
        record = self.practice.get()
        return ZoneInfo(record.timezone) if record else dt.UTC

    def today(self) -> dt.date:
        """Today on the practice's calendar, by the services' clock."""
        return self.now().astimezone(self.practice_zone()).date()

    # Import and demo are built on first use: their modules are not needed to open the window.
    @cached_property
    def imports(self) -> ImportService:
        from ccmdesk.services.importing.service import ImportService

        return ImportService(self._db, self._clock, self.billing)

    @cached_property
    def auth(self) -> AuthService:
        from ccmdesk.services.auth import AuthService

        return AuthService(self._db, self._clock, self._hasher)

    @cached_property
    def backups(self) -> BackupService:
        from ccmdesk.db import BACKUP_DIR_NAME
        from ccmdesk.services.backup import BackupService

        # Beside the database file, as the copies taken before a migration are.
        path = self._db.sqlite_path
        return BackupService(self._db, self._clock, path.parent / BACKUP_DIR_NAME if path else None)

    @cached_property
    def fees(self) -> FeeService:
        from ccmdesk.services.billing.fees import FeeService

        return FeeService(self._db, self._clock)

    @cached_property
    def export(self) -> ExportService:
        from ccmdesk.services.export import ExportService

        service = ExportService(self._db, self._clock, self.billing, dashboard=self.dashboard)
        service.notes = self.export_notes
        return service

    @cached_property
    def demo(self) -> DemoService:
        from ccmdesk.services.demo import DemoService

        return DemoService(
            self._db,
            self._clock,
            self.imports,
            self.auth.hash_password,
            self.practice.attest_apcm,
        )


__all__ = [
    "Activity",
    "Actor",
    "Approver",
    "AuditFilter",
    "AuditRow",
    "BillingMonth",
    "BillingRow",
    "CallLog",
    "CallRow",
    "CallbackRow",
    "CarePlan",
    "CarePlanService",
    "ChainCheck",
    "CopyGiven",
    "CopyTexts",
    "Dashboard",
    "Enrolment",
    "EnrolmentStep",
    "EntryRow",
    "ImportFailed",
    "ImportSummary",
    "Inbox",
    "MonthFactsEdit",
    "MonthFactsRecord",
    "MonthProgress",
    "MonthState",
    "MonthlySummary",
    "NotFound",
    "NotificationRow",
    "PatientRow",
    "Permission",
    "PermissionDenied",
    "PlanVersion",
    "ProgramPeriodRow",
    "ReviewQueue",
    "ServiceError",
    "Services",
    "Signature",
    "Stopped",
    "TimerRunning",
    "TimerState",
    "ValidationFailed",
    "WaiverRow",
    "WorklistRow",
    "allowed",
]
