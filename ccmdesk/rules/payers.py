"""Payers and coverage: payer ids, kinds, covers lists and a patient's primary coverage."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

# One home for the kinds and programs: rules/catalog.py (re-exported for the payer code).
from ccmdesk.rules.catalog import CLAIM_DIAGNOSES, DEFAULT_COINSURANCE_PERCENT
from ccmdesk.rules.catalog import PAYER_KINDS as PAYER_KINDS
from ccmdesk.rules.catalog import PROGRAMS as PROGRAMS
from ccmdesk.rules.catalog import UNKNOWN_COVERAGE as UNKNOWN
from ccmdesk.rules.records import FieldError
from ccmdesk.rules.validation import text_error

MEDICARE_PART_B = "Medicare Part B"
MEDICARE_PART_B_ID = "mcr-b"
ALL_PROGRAMS = ";".join(PROGRAMS)
PAYER_ID_LIMIT = 20
PAYER_TEXT_LIMITS = {"name": 100, "edi_payer_id": 80, "notes": 2_000}
MIN_DIAGNOSES_LIMIT = CLAIM_DIAGNOSES  # a claim carries no more (docs/payers.md)
_PAYER_ID = re.compile(r"[a-z0-9-]{1,20}")
_OTHER = re.compile(r"[^a-z0-9]+")


@dataclass(frozen=True)
class PayerRecord:
    """Every field of payers.csv, plus whether the payer is retired (kept, offered no more)."""

    payer_id: str
    name: str
    kind: str
    edi_payer_id: str = ""
    covers: str = UNKNOWN
    coinsurance_percent: int = DEFAULT_COINSURANCE_PERCENT
    min_diagnoses: int | None = None
    notes: str = ""
    retired: bool = False


PAYER_COLUMNS = (
    "payer_id",
    "name",
    "kind",
    "edi_payer_id",
    "covers",
    "coinsurance_percent",
    "min_diagnoses",
    "notes",
)

MEDICARE_PART_B_RECORD = PayerRecord(
    MEDICARE_PART_B_ID, MEDICARE_PART_B, "medicare", covers=ALL_PROGRAMS, coinsurance_percent=20
)


def slug(name: str) -> str:
    """A payer_id made from a name: lower-case, runs of other characters as '-', at most 20."""
    text = _OTHER.sub("-", name.strip().lower()).strip("-")
    return text[:PAYER_ID_LIMIT].rstrip("-") or "payer"


def unique_payer_id(name: str, taken: Iterable[str]) -> str:
    """slug(name), with -2, -3... (still at most 20 characters) when another payer has it."""
    used = set(taken)
    base = slug(name)
    if base not in used:
        return base
    number = 2
    while True:
        suffix = f"-{number}"
        candidate = base[: PAYER_ID_LIMIT - len(suffix)].rstrip("-") + suffix
        if candidate not in used:
            return candidate
        number += 1


def kind_for_legacy_type(payer_type: str) -> str:
    """The kind of a payer made from a patient's old payer_type text (blank: commercial)."""
    kind = payer_type.strip().lower()
    return kind if kind in PAYER_KINDS else "commercial"


def covers_for_kind(kind: str) -> str:
    """What a payer made from old patient data covers: Medicare pays every program."""
    return ALL_PROGRAMS if kind == "medicare" else UNKNOWN


def normalize_covers(text: str) -> str:
    """A covers list as stored: lower-case, trimmed, in the order of PROGRAMS."""
    items = {item.strip().lower() for item in text.split(";") if item.strip()}
    if items == {UNKNOWN}:
        return UNKNOWN
    known = [program for program in PROGRAMS if program in items]
    unknown = sorted(items - set(PROGRAMS))
    return ";".join(known + unknown)


def covers_error(covers: str) -> str | None:
    items = [item.strip().lower() for item in covers.split(";") if item.strip()]
    if not items:
        return f"is empty; list programs from {', '.join(PROGRAMS)} separated by ';', or unknown"
    if UNKNOWN in items:
        return None if items == [UNKNOWN] else "'unknown' cannot be listed with programs"
    wrong = [item for item in items if item not in PROGRAMS]
    if wrong:
        return f"'{wrong[0]}' is not a program; use {', '.join(PROGRAMS)} or unknown"
    return None


def validate_payer(record: PayerRecord) -> list[FieldError]:
    """Rules that need only the payer itself; whether its id is taken is the service's."""
    errors: list[FieldError] = []
    if not record.payer_id:
        errors.append(FieldError("payer_id", "is required"))
    elif not _PAYER_ID.fullmatch(record.payer_id):
        errors.append(
            FieldError(
                "payer_id",
                f"'{record.payer_id}' is not a payer id: lower-case letters, digits and '-', "
                f"at most {PAYER_ID_LIMIT}",
            )
        )
    if not record.name.strip():
        errors.append(FieldError("name", "is required"))
    for name, limit in PAYER_TEXT_LIMITS.items():
        if message := text_error(getattr(record, name), limit, multiline=name == "notes"):
            errors.append(FieldError(name, message))
    if not record.kind:
        errors.append(FieldError("kind", "is required"))
    elif record.kind not in PAYER_KINDS:
        errors.append(
            FieldError("kind", f"'{record.kind}' is not a payer kind; use one of "
                       f"{', '.join(PAYER_KINDS)}")
        )  # fmt: skip
    if message := covers_error(record.covers):
        errors.append(FieldError("covers", message))
    if not 0 <= record.coinsurance_percent <= 100:
        errors.append(
            FieldError("coinsurance_percent", f"{record.coinsurance_percent} is not 0 to 100")
        )
    if record.min_diagnoses is not None and not 1 <= record.min_diagnoses <= MIN_DIAGNOSES_LIMIT:
        errors.append(
            FieldError(
                "min_diagnoses",
                f"{record.min_diagnoses} is not 1 to {MIN_DIAGNOSES_LIMIT} (blank: no rule)",
            )
        )
    return errors


def _whole_number(raw: Mapping[str, str], name: str, errors: list[FieldError]) -> int | None:
    text = raw.get(name, "").strip()
    if not text:
        return None
    if not re.fullmatch(r"[0-9]{1,4}", text):
        errors.append(FieldError(name, f"'{text}' is not a whole number"))
        return None
    return int(text)


def payer_from_text(raw: Mapping[str, str]) -> tuple[PayerRecord, list[FieldError]]:
    """Read a payer from column -> text (a payers.csv row or the editor) and check it."""
    errors: list[FieldError] = []

    def text(name: str) -> str:
        return raw.get(name, "").strip()

    kind = text("kind").lower()
    coinsurance = _whole_number(raw, "coinsurance_percent", errors)
    if coinsurance is None:
        # A self-pay patient pays it all; every other payer starts at Medicare's 20 %.
        coinsurance = 100 if kind == "self" else DEFAULT_COINSURANCE_PERCENT
    covers = text("covers")
    record = PayerRecord(
        payer_id=text("payer_id").lower(),
        name=text("name"),
        kind=kind,
        edi_payer_id=text("edi_payer_id"),
        covers=normalize_covers(covers) if covers else UNKNOWN,
        coinsurance_percent=coinsurance,
        min_diagnoses=_whole_number(raw, "min_diagnoses", errors),
        notes=raw.get("notes", "").strip(),
    )
    errors += validate_payer(record)
    return record, errors


def coverage_errors(
    kind: str | None,
    member_id: str,
    relationship: str,
    mbi_error: str | None,
    member_field: str = "primary_member_id",
) -> list[FieldError]:
    """A patient's primary coverage against its payer's kind (None: no primary payer).

    For Medicare the patient is always the insured and the member id is the MBI
    (docs/payers.md); `mbi_error` is what the MBI check said of the member id.
    """
    errors: list[FieldError] = []
    if kind == "medicare":
        if relationship != "self":
            errors.append(
                FieldError("relationship", f"is '{relationship}', but a Medicare patient is "
                           "always the insured; use self")
            )  # fmt: skip
        if member_id and mbi_error:
            errors.append(FieldError(member_field, mbi_error))
    return errors


# A payer made from a patient's payer_type alone (no payer name) is named after its kind.
KIND_NAMES = {
    "medicare": "Medicare",
    "medicare_advantage": "Medicare Advantage",
    "medicaid": "Medicaid",
    "commercial": "Commercial",
    "self": "Self-pay",
}


def legacy_key(name: str, payer_type: str) -> tuple[str, str] | None:
    """Which payer a patient's old payer and payer_type text names: (name, kind), or None.

    Names are trimmed and compared case-insensitively by the callers (the first spelling met
    is kept); a blank name takes the kind's name; neither name nor type: no payer.
    """
    name, payer_type = name.strip(), payer_type.strip()
    if not name and not payer_type:
        return None
    kind = kind_for_legacy_type(payer_type)
    return (name or KIND_NAMES[kind], kind)


def is_medicare_part_b(name: str, payer_type: str) -> bool:
    """The old text 'Medicare Part B' (type medicare or blank) is the seeded payer mcr-b."""
    return name.strip().casefold() == MEDICARE_PART_B.casefold() and payer_type.strip().lower() in (
        "",
        "medicare",
    )


def legacy_payer(name: str, kind: str, taken: Iterable[str]) -> PayerRecord:
    """The payer made for old (name, kind) text, as docs/payers.md says: coinsurance 20 so
    every estimate stays what it was, covers everything for Medicare, else unknown."""
    return PayerRecord(
        payer_id=unique_payer_id(name, taken),
        name=name[: PAYER_TEXT_LIMITS["name"]],
        kind=kind,
        covers=covers_for_kind(kind),
        coinsurance_percent=20,
    )
