"""The month's export for billing: the handoff and claim-line CSV files, written atomically."""

from __future__ import annotations

import datetime as dt
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from sqlalchemy import select

from ccmdesk.db import Database
from ccmdesk.models import Patient, Practice
from ccmdesk.reports.csv_files import ClaimLine, HandoffLine, claim_lines_csv, handoff_csv
from ccmdesk.services.base import ServiceBase, checked_month
from ccmdesk.services.billing import BillingRow, BillingService, _collector_paused
from ccmdesk.services.context import Actor, Clock, Permission
from ccmdesk.services.errors import ServiceError

Progress = Callable[[int, int], None]  # (done, total)


class ExportCancelled(ServiceError):
    """The person stopped the export; nothing was written."""


@dataclass
class ExportResult:
    month: str
    folder: Path
    files: list[Path] = field(default_factory=list)
    patients: int = 0
    billable: int = 0
    claim_lines: int = 0


def handoff_line(row: BillingRow) -> HandoffLine:
    r = row.result
    return HandoffLine(
        month=r.month,
        mrn=row.mrn,
        last_name=row.last_name,
        first_name=row.first_name,
        practitioner_npi=row.practitioner_npi,
        countable_seconds=r.countable_seconds,
        practitioner_seconds=r.practitioner_seconds,
        excluded_seconds=r.excluded_seconds,
        codes=r.codes if r.billable else "",
        status="billable" if r.billable else "not_billable",
        blocks=";".join(sorted(r.blocks)),
        warnings=";".join(sorted(r.warnings)),
        signed_off="yes" if r.signed else "no",
        amount_cents=r.amount_cents if r.billable else 0,
    )


def generation_time(now: dt.datetime) -> dt.datetime:
    """Now, or SOURCE_DATE_EPOCH when set: the same data then exports to the same bytes."""
    fixed = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    if fixed.isdigit():
        return dt.datetime.fromtimestamp(int(fixed), dt.UTC)
    return now


def write_atomically(folder: Path, files: dict[str, bytes]) -> list[Path]:
    """Write every file under a temporary name in the folder, then rename them all: a failure
    leaves neither half files nor temporary ones behind."""
    written: list[tuple[Path, Path]] = []
    try:
        for name, data in files.items():
            target = folder / name
            target.parent.mkdir(parents=True, exist_ok=True)
            handle, temporary = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
            written.append((Path(temporary), target))
            with os.fdopen(handle, "wb") as out:
                _write_all(out, data)
        for temporary, target in written:
            os.replace(temporary, target)
    except OSError as error:
        for temporary, _ in written:
            temporary.unlink(missing_ok=True)
        raise ServiceError(
            f"The export could not be written to {folder}: {error.strerror or error}. "
            "Nothing was left there; choose a folder you may write to."
        ) from error
    return [target for _, target in written]


def _write_all(out: BinaryIO, data: bytes) -> None:
    """Write and flush to the disk, so a rename never publishes a file still in a cache."""
    out.write(data)
    out.flush()
    os.fsync(out.fileno())


class ExportService(ServiceBase):
    """Billing staff export a month: what the billing system imports without retyping."""

    def __init__(self, db: Database, clock: Clock, billing: BillingService) -> None:
        super().__init__(db, clock)
        self._billing = billing

    def export(
        self,
        actor: Actor,
        month: str,
        folder: Path,
        *,
        signed_only: bool = False,
        progress: Progress | None = None,
        cancelled: Callable[[], bool] | None = None,
    ) -> ExportResult:
        actor = self._authorize(actor, Permission.EXPORT)
        month = checked_month(month)
        folder = Path(folder)
        if folder.exists() and not folder.is_dir():
            raise ServiceError(f"{folder} is a file, not a folder; choose a folder to export to.")
        with _collector_paused(), self._db.session() as session:
            practice = session.scalars(select(Practice).limit(1)).first()
            if practice is None:
                raise ServiceError(
                    "Describe the practice first (Practice settings, or `ccmdesk practice`): "
                    "claims need its name, NPI and place of service."
                )
            rows = self._billing.evaluate_in(session, month)
            claimed = [
                r for r in rows if r.result.billable and (r.result.signed or not signed_only)
            ]
            payers = {
                mrn: (payer, member_id)
                for mrn, payer, member_id in session.execute(
                    select(Patient.mrn, Patient.payer, Patient.member_id).where(
                        Patient.mrn.in_([r.mrn for r in claimed])
                    )
                )
            }
            place = practice.place_of_service
            group_npi = practice.group_npi or ""
        lines = []
        for n, row in enumerate(claimed):
            if cancelled is not None and cancelled():
                raise ExportCancelled("The export was stopped; nothing was written.")
            r = row.result
            payer, member_id = payers[row.mrn]
            diagnoses = ";".join(r.inputs[1].conditions)
            for line in r.lines:
                lines.append(
                    ClaimLine(
                        month=month,
                        mrn=row.mrn,
                        date_of_service=r.date_of_service.isoformat(),
                        place_of_service=place,
                        code=line.code,
                        units=line.units,
                        charge_cents=line.charge_cents,
                        diagnosis_codes=diagnoses,
                        rendering_npi=row.practitioner_npi,
                        billing_npi=group_npi or row.practitioner_npi,
                        payer=payer,
                        member_id=member_id,
                    )
                )
            if progress is not None:
                progress(n + 1, len(claimed))
        files = {
            f"handoff-{month}.csv": handoff_csv(handoff_line(r) for r in rows),
            f"claim-lines-{month}.csv": claim_lines_csv(lines),
        }
        written = write_atomically(folder, files)
        return ExportResult(
            month,
            folder,
            written,
            patients=len(rows),
            billable=sum(1 for r in rows if r.result.billable),
            claim_lines=len(lines),
        )
