"""The practice's payer list: read by everyone who sees patients, kept by billing staff."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from ccmdesk.models import Patient, Payer
from ccmdesk.rules.payers import (
    MEDICARE_PART_B_ID,
    PayerRecord,
    payer_from_text,
    validate_payer,
)
from ccmdesk.rules.records import FieldError
from ccmdesk.services import audit
from ccmdesk.services.base import ServiceBase
from ccmdesk.services.context import Actor, Permission
from ccmdesk.services.errors import NotFound, ServiceError, ValidationFailed


def payer_record(payer: Payer) -> PayerRecord:
    return PayerRecord(
        payer_id=payer.payer_id,
        name=payer.name,
        kind=payer.kind,
        edi_payer_id=payer.edi_payer_id,
        covers=payer.covers,
        coinsurance_percent=payer.coinsurance_percent,
        min_diagnoses=payer.min_diagnoses,
        notes=payer.notes,
        retired=payer.retired,
    )


def apply_payer(payer: Payer, record: PayerRecord) -> None:
    payer.payer_id = record.payer_id
    payer.name = record.name
    payer.kind = record.kind
    payer.edi_payer_id = record.edi_payer_id
    payer.covers = record.covers
    payer.coinsurance_percent = record.coinsurance_percent
    payer.min_diagnoses = record.min_diagnoses
    payer.notes = record.notes
    payer.retired = record.retired


def payer_patient_changes(session: Session, payer: Payer, record: PayerRecord) -> list[FieldError]:
    """A kind change that the patients who have the payer as primary could not keep."""
    if record.kind != "medicare" or payer.kind == "medicare":
        return []
    others = session.execute(
        select(func.count())
        .select_from(Patient)
        .where(Patient.primary_payer_id == payer.id, Patient.insured_relationship != "self")
    ).scalar_one()
    if not others:
        return []
    return [
        FieldError(
            "kind",
            f"{others} patient(s) with this primary payer are not the insured; a Medicare "
            "patient always is: correct their relationship first",
        )
    ]


def _patients_using(session: Session, payer: Payer) -> int:
    return session.execute(
        select(func.count())
        .select_from(Patient)
        .where(or_(Patient.primary_payer_id == payer.id, Patient.secondary_payer_id == payer.id))
    ).scalar_one()


def _event(record: PayerRecord | None) -> dict[str, object] | None:
    return dataclasses.asdict(record) if record else None


class PayerService(ServiceBase):
    """List, save, retire and delete payers; each change is an audit event."""

    def list(self, actor: Actor, include_retired: bool = True) -> list[PayerRecord]:
        actor = self._authorize(actor, Permission.VIEW_PATIENTS)
        with self._db.read() as session:
            query = select(Payer).order_by(Payer.name, Payer.payer_id)
            if not include_retired:
                query = query.where(Payer.retired.is_(False))
            return [payer_record(p) for p in session.scalars(query)]

    def get(self, actor: Actor, payer_id: str) -> PayerRecord:
        actor = self._authorize(actor, Permission.VIEW_PATIENTS)
        with self._db.read() as session:
            return payer_record(self._find(session, payer_id))

    def save_text(self, actor: Actor, raw: Mapping[str, str]) -> PayerRecord:
        """Add the payer, or update the one with its payer_id, from column -> typed text.

        Saving a retired payer brings it back: the editor saves only what it offers.
        """
        actor = self._authorize(actor, Permission.MANAGE_PAYERS)
        record, errors = payer_from_text(raw)
        if errors:
            raise ValidationFailed(errors)
        return self.save(actor, record)

    def save(self, actor: Actor, record: PayerRecord) -> PayerRecord:
        actor = self._authorize(actor, Permission.MANAGE_PAYERS)
        if errors := validate_payer(record):
            raise ValidationFailed(errors)
        with self._db.session() as session:
            payer = session.scalars(select(Payer).where(Payer.payer_id == record.payer_id)).first()
            before = payer_record(payer) if payer else None
            if payer is None:
                payer = Payer()
                session.add(payer)
            elif errors := payer_patient_changes(session, payer, record):
                raise ValidationFailed(errors)
            apply_payer(payer, record)
            change = (_event(before), dataclasses.asdict(record))
            audit.record_saved(session, self._now(), actor, "payer", record.payer_id, change)
        return record

    def retire(self, actor: Actor, payer_id: str) -> PayerRecord:
        """Keep the payer for the patients and months that name it, and offer it no more."""
        actor = self._authorize(actor, Permission.MANAGE_PAYERS)
        with self._db.session() as session:
            payer = self._find(session, payer_id)
            before = payer_record(payer)
            if payer.retired:
                return before
            payer.retired = True
            after = payer_record(payer)
            audit.record(
                session, at=self._now(), actor=actor, action="payer.retire", entity="payer",
                entity_key=payer_id, before=_event(before), after=_event(after),
            )  # fmt: skip
            return after

    def delete(self, actor: Actor, payer_id: str) -> None:
        """Remove a payer entered by mistake; one that patients use can only be retired."""
        actor = self._authorize(actor, Permission.MANAGE_PAYERS)
        with self._db.session() as session:
            payer = self._find(session, payer_id)
            if payer.payer_id == MEDICARE_PART_B_ID:
                raise ServiceError(
                    "Medicare Part B is on every practice's payer list and cannot be deleted."
                )
            if used := _patients_using(session, payer):
                raise ServiceError(
                    f"{used} patient(s) have {payer.name} as a payer, so it cannot be deleted; "
                    "retire it instead (it stays for them and is offered no more)."
                )
            before = payer_record(payer)
            session.delete(payer)
            audit.record(
                session, at=self._now(), actor=actor, action="payer.delete", entity="payer",
                entity_key=payer_id, before=_event(before),
            )  # fmt: skip

    def _find(self, session: Session, payer_id: str) -> Payer:
        payer = session.scalars(select(Payer).where(Payer.payer_id == payer_id)).first()
        if payer is None:
            raise NotFound(f"There is no payer '{payer_id}'.")
        return payer
