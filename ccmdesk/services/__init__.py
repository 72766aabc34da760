"""Use cases called by the GUI and the command line; they own sessions and check permissions."""

from __future__ import annotations

from ccmdesk.db import Database
from ccmdesk.services.context import Actor, Clock, Permission, allowed, utc_now
from ccmdesk.services.demo import DemoService
from ccmdesk.services.errors import NotFound, PermissionDenied, ServiceError, ValidationFailed
from ccmdesk.services.importer import ImportFailed, ImportService, ImportSummary
from ccmdesk.services.patients import PatientRow, PatientService
from ccmdesk.services.practice import PracticeService
from ccmdesk.services.staff import StaffService


class Services:
    """Every use case over one database and one clock, handed to the GUI and the CLI."""

    def __init__(self, db: Database, clock: Clock = utc_now) -> None:
        self.practice = PracticeService(db, clock)
        self.staff = StaffService(db, clock)
        self.patients = PatientService(db, clock)
        self.imports = ImportService(db, clock)
        self.demo = DemoService(db, clock)


__all__ = [
    "Actor",
    "ImportFailed",
    "ImportSummary",
    "NotFound",
    "PatientRow",
    "Permission",
    "PermissionDenied",
    "ServiceError",
    "Services",
    "ValidationFailed",
    "allowed",
]
