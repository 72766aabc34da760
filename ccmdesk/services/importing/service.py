"""CSV import of every kind of ccmdesk file (staff to month facts): all or nothing, streamed."""

from __future__ import annotations

import functools
import io
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import BinaryIO

from sqlalchemy import select

from ccmdesk.db import Database
from ccmdesk.models import Practice
from ccmdesk.rules.records import PracticeRecord
from ccmdesk.services.base import ServiceBase, practice_zone
from ccmdesk.services.billing.evaluation import BillingService
from ccmdesk.services.context import Actor, Clock, Permission
from ccmdesk.services.coverage import PayerBook
from ccmdesk.services.importing.core import (
    Check,
    Importer,
    Locks,
    Problems,
    Source,
    Write,
    open_csv,
)
from ccmdesk.services.importing.patient_months import PatientMonthsImporter
from ccmdesk.services.importing.patients import PatientsImporter
from ccmdesk.services.importing.payers import PayersImporter
from ccmdesk.services.importing.staff import StaffImporter
from ccmdesk.services.importing.time_entries import TimeEntriesImporter
from ccmdesk.services.importing.waivers import WaiversImporter
from ccmdesk.services.locks import LockTable
from ccmdesk.services.patients import staff_refs
from ccmdesk.services.practice import add_practice
from ccmdesk.services.results import ImportSummary

# Checked and written in this order: patients name staff and payers; waivers, entries and
# months name patients.
IMPORTERS: tuple[Importer, ...] = (
    StaffImporter(),
    PayersImporter(),
    PatientsImporter(),
    WaiversImporter(),
    TimeEntriesImporter(),
    PatientMonthsImporter(),
)
KINDS = tuple(importer.kind for importer in IMPORTERS)


class ImportService(ServiceBase):
    """Bring a practice's spreadsheets in, in one transaction."""

    def __init__(self, db: Database, clock: Clock, billing: BillingService) -> None:
        super().__init__(db, clock)
        self._billing = billing  # a patient's change must flag the billed months it reaches

    def import_paths(self, actor: Actor, paths: Sequence[Path]) -> ImportSummary:
        problems = Problems()
        sources: list[Source] = []
        for path in paths:
            try:
                with open(path, "rb"):
                    pass
            except OSError as exc:
                problems.add(str(path), 1, "(file)", f"cannot be read: {exc.strerror or exc}")
            else:
                # Read from the disk on each pass, never held whole.
                sources.append(Source(str(path), _opener(path)))
        if problems:
            problems.fail()
        return self._import(actor, sources)

    def import_data(
        self,
        actor: Actor,
        files: Sequence[tuple[str, bytes]],
        practice: PracticeRecord | None = None,
    ) -> ImportSummary:
        """Import (name, bytes) files; raise ImportFailed listing every problem, writing nothing.

        `practice` (used by the demo) describes the practice in the same transaction when the
        database has none yet, so a refused import leaves no practice behind either.
        """
        sources = [Source(name, functools.partial(io.BytesIO, data)) for name, data in files]
        return self._import(actor, sources, practice)

    def _import(
        self, actor: Actor, sources: Sequence[Source], practice: PracticeRecord | None = None
    ) -> ImportSummary:
        """Two passes over the files in one transaction: the first checks every row and keeps
        only keys and spans; the second reads the rows again and writes them in batches. Any
        problem in either pass raises ImportFailed, and the transaction writes nothing."""
        actor = self._authorize(actor, Permission.IMPORT_DATA)
        problems = Problems()
        problems.expect([source.name for source in sources])
        files = [
            csv_file
            for index, source in enumerate(sources)
            if (csv_file := open_csv(source, index, problems, KINDS))
        ]
        summary = ImportSummary()
        now = self._now()
        with self._db.session() as session:
            check = Check(session, problems, files, self._today(session), now)
            check.refs, _ = staff_refs(session)
            check.payers = PayerBook.read(session)
            for importer in IMPORTERS:
                importer.check(check)
            for importer in IMPORTERS:
                importer.settle(check)
            if problems:
                problems.fail()
            reason = "imported from " + ", ".join(sorted({f.name for f in files}))
            if practice is not None and session.scalars(select(Practice.id)).first() is None:
                add_practice(session, now, actor, practice)
            # Each row that would change time or facts is checked against the signed and
            # closed months; the import itself changes none of them.
            locks = Locks(LockTable.read(session), practice_zone(session), problems)
            write = Write(
                session, actor, now, reason, summary, files, check.today, self._billing, locks,
                check.staff_in,
            )  # fmt: skip
            for importer in IMPORTERS:
                importer.write(write)
            if problems:
                # Time or facts of a signed or closed month would change: nothing is written.
                problems.fail()
        return summary


def _opener(path: Path) -> Callable[[], BinaryIO]:
    """Opens the file afresh for each pass."""

    def open_file() -> BinaryIO:
        return open(path, "rb")

    return open_file
