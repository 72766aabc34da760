"""Importing the payers file."""

from __future__ import annotations

import dataclasses

from sqlalchemy import select

from ccmdesk.models import Payer
from ccmdesk.rules.payers import PAYER_COLUMNS, payer_from_text
from ccmdesk.services.importing.core import Check, FileKind, Importer, Write
from ccmdesk.services.payers import apply_payer, payer_patient_changes, payer_record

PAYERS = "payers"


class PayersImporter(Importer):
    """Payer rows, updated by payer_id: checked before patients, which name them."""

    kind = FileKind(PAYERS, ("payer_id", "kind"), PAYER_COLUMNS, ("payer_id", "name", "kind"))

    def check(self, c: Check) -> None:
        seen: dict[str, tuple[str, int]] = {}
        stored = {p.payer_id: p for p in c.session.scalars(select(Payer))}
        for row in c.rows(PAYERS):
            record, errors = payer_from_text(row.values)
            payer = stored.get(record.payer_id)
            if payer is not None and not errors:
                errors = payer_patient_changes(c.session, payer, record)
            for error in errors:
                c.problems.add(row.file, row.line, error.field, error.message)
            if record.payer_id and c.duplicate(
                seen, record.payer_id, row, "payer_id", f"'{record.payer_id}'"
            ):
                continue
            if record.payer_id and record.kind:
                # Known to the patients rows even when wrong, so they don't pile up errors.
                retired = payer.retired if payer is not None else False
                c.payers.add(dataclasses.replace(record, retired=retired))

    def write(self, w: Write) -> None:
        counts = w.summary.counts[PAYERS]
        session = w.session
        existing = {p.payer_id: p for p in session.scalars(select(Payer))}
        for csv_file, batch in w.rows(PAYERS):
            for row in batch:
                record, errors = payer_from_text(row.values)
                if errors:
                    csv_file.changed()
                payer = existing.get(record.payer_id)
                before = payer_record(payer) if payer else None
                if before is not None:
                    # The file has no "retired" column: importing never retires nor restores.
                    record = dataclasses.replace(record, retired=before.retired)
                if before == record:
                    counts.unchanged += 1
                    continue
                payer = w.saved(counts, payer, Payer)
                apply_payer(payer, record)
                existing[record.payer_id] = payer
                change = (dataclasses.asdict(before) if before else None,
                          dataclasses.asdict(record))  # fmt: skip
                w.record_saved("payer", record.payer_id, change)
        session.flush()
