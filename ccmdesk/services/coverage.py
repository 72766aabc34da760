"""A patient's coverage against the payer list: naming payers either way, and Medicare's rules."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from ccmdesk.models import Patient, Payer
from ccmdesk.rules.payers import (
    MEDICARE_PART_B_ID,
    PayerRecord,
    coverage_errors,
    is_medicare_part_b,
    legacy_key,
    legacy_payer,
)
from ccmdesk.rules.records import (
    COVERAGE_COLUMNS,
    FieldError,
    PatientRecord,
)
from ccmdesk.rules.validation import mbi_error, normalize_mbi
from ccmdesk.services.payers import apply_payer


@dataclass(frozen=True)
class PayerRef:
    """What a patient's coverage needs to know of a payer."""

    name: str
    kind: str
    retired: bool = False


@dataclass
class PayerBook:
    """The payers by payer_id, and the ones an old-style patient row made (not yet stored)."""

    payers: dict[str, PayerRef] = field(default_factory=dict)
    made: dict[str, PayerRecord] = field(default_factory=dict)

    @classmethod
    def read(cls, session: Session) -> PayerBook:
        return cls(
            {
                payer_id: PayerRef(name, kind, retired)
                for payer_id, name, kind, retired in session.execute(
                    select(Payer.payer_id, Payer.name, Payer.kind, Payer.retired).order_by(Payer.id)
                )
            }
        )

    def add(self, record: PayerRecord) -> None:
        self.payers[record.payer_id] = PayerRef(record.name, record.kind, record.retired)

    def named(self, name: str, payer_type: str, current: str = "") -> str:
        """The payer_id the old payer/payer_type text names, making the payer when none has
        that name and kind (docs/payers.md); '' for neither. The patient's current payer wins
        a tie, so saving a record unchanged never moves the patient to another payer."""
        if is_medicare_part_b(name, payer_type):
            return MEDICARE_PART_B_ID
        key = legacy_key(name, payer_type)
        if key is None:
            return ""
        wanted = (key[0].casefold(), key[1])

        def same(payer_id: str) -> bool:
            ref = self.payers.get(payer_id)
            return ref is not None and (ref.name.casefold(), ref.kind) == wanted

        if current and same(current):
            return current
        for payer_id in self.payers:
            if same(payer_id):
                return payer_id
        record = legacy_payer(key[0], key[1], self.payers)
        self.add(record)
        self.made[record.payer_id] = record
        return record.payer_id


@dataclass(frozen=True)
class StoredCoverage:
    """A stored patient's coverage, payers by payer_id (the coverage columns of patients.csv)."""

    primary_payer: str = ""
    relationship: str = "self"
    insured_last_name: str = ""
    insured_first_name: str = ""
    secondary_payer: str = ""
    secondary_member_id: str = ""
    signature_on_file: str = ""

    @classmethod
    def of(cls, record: PatientRecord) -> StoredCoverage:
        return cls(**{name: getattr(record, name) for name in cls.__dataclass_fields__})


def stored_coverage(session: Session, mrns: Iterable[str]) -> dict[str, StoredCoverage]:
    """The coverage of the stored patients with these MRNs, in one query."""
    primary, secondary = aliased(Payer), aliased(Payer)
    rows = session.execute(
        select(
            Patient.mrn, primary.payer_id, Patient.insured_relationship,
            Patient.insured_last_name, Patient.insured_first_name, secondary.payer_id,
            Patient.secondary_member_id, Patient.signature_on_file,
        )
        .outerjoin(primary, Patient.primary_payer_id == primary.id)
        .outerjoin(secondary, Patient.secondary_payer_id == secondary.id)
        .where(Patient.mrn.in_(sorted(set(mrns))))
    )  # fmt: skip
    return {
        mrn: StoredCoverage(first or "", relation, last, given, second or "", member, signature)
        for mrn, first, relation, last, given, second, member, signature in rows
    }


def kept_coverage(raw: Mapping[str, str], stored: StoredCoverage | None) -> dict[str, str]:
    """`raw` with the coverage columns it leaves out filled from the stored patient, so a file
    or editor without them keeps the patient's secondary payer, insured and signature."""
    filled = dict(raw)
    if stored is not None:
        for column in COVERAGE_COLUMNS:
            if column not in filled:
                filled[column] = str(getattr(stored, column))
    return filled


def named_new_way(raw: Mapping[str, str]) -> bool:
    """Whether the row names its primary payer by payer_id: a patients.csv with the
    primary_payer column, or a record turned into text with its primary_payer set."""
    return "primary_payer" in raw and (
        bool(raw["primary_payer"].strip())
        or not any(raw.get(c, "").strip() for c in ("payer", "payer_type"))
    )


def resolve(
    record: PatientRecord,
    book: PayerBook,
    stored: StoredCoverage | None = None,
    new_way: bool = False,
) -> tuple[PatientRecord, list[FieldError]]:
    """The record with both its payer_id and its payer name/kind filled in, and what is wrong
    with the payers it names. `new_way`: the row named its primary payer by primary_payer."""
    errors: list[FieldError] = []
    current = stored.primary_payer if stored else ""
    if new_way or record.primary_payer:
        primary = record.primary_payer
    else:
        primary = book.named(record.payer, record.payer_type, current)
    payer_field = "primary_payer" if new_way or record.primary_payer else "payer"
    member_field = "primary_member_id" if payer_field == "primary_payer" else "member_id"

    def known(column: str, payer_id: str, kept: str) -> PayerRef | None:
        ref = book.payers.get(payer_id)
        if ref is None:
            errors.append(FieldError(column, f"no payer has payer_id '{payer_id}'"))
            return None
        if ref.retired and payer_id != kept:
            errors.append(FieldError(column, f"'{payer_id}' is retired; choose another payer"))
        return ref

    ref = known(payer_field, primary, current) if primary else None
    secondary = record.secondary_payer
    if secondary:
        known("secondary_payer", secondary, stored.secondary_payer if stored else "")
        if secondary == primary and not record.primary_payer:  # else the record's rules said
            errors.append(FieldError("secondary_payer", "is the primary payer too"))
    member_id = record.member_id
    if ref is not None and ref.kind == "medicare":
        member_id = normalize_mbi(member_id)
    kind = ref.kind if ref is not None else None
    if record.payer_type != "medicare":  # the old way checks a Medicare type's MBI already
        errors += coverage_errors(
            kind, member_id, record.relationship, mbi_error(member_id) if member_id else None,
            member_field,
        )  # fmt: skip
    elif record.relationship != "self":
        errors += coverage_errors("medicare", "", record.relationship, None, member_field)
    resolved = dataclasses.replace(record, primary_payer=primary, member_id=member_id)
    if ref is not None and payer_field == "primary_payer":
        # Kept in step for the superbill and handoff, which print the payer's name.
        resolved = dataclasses.replace(resolved, payer=ref.name, payer_type=ref.kind)
    elif ref is None and payer_field == "primary_payer":
        resolved = dataclasses.replace(resolved, payer="", payer_type="")
    return resolved, errors


def payer_keys(session: Session) -> dict[int, str]:
    return {pid: key for pid, key in session.execute(select(Payer.id, Payer.payer_id))}


def store_made(session: Session, book: PayerBook) -> list[PayerRecord]:
    """Store the payers old-style rows made; returns them for the audit trail."""
    made = list(book.made.values())
    for record in made:
        payer = Payer()
        apply_payer(payer, record)
        session.add(payer)
    book.made.clear()
    if made:
        session.flush()
    return made


def apply_coverage(patient: Patient, record: PatientRecord, ids: Mapping[str, int]) -> None:
    """Copy a resolved record's coverage onto the patient (payers by database id)."""
    patient.primary_payer_id = ids.get(record.primary_payer) if record.primary_payer else None
    patient.insured_relationship = record.relationship
    patient.insured_last_name = record.insured_last_name
    patient.insured_first_name = record.insured_first_name
    patient.secondary_payer_id = ids.get(record.secondary_payer) if record.secondary_payer else None
    patient.secondary_member_id = record.secondary_member_id
    patient.signature_on_file = record.signature_on_file
