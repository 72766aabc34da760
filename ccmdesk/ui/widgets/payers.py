"""Payers as people read them: kind and program names, and a payer's line in a choice list."""

from __future__ import annotations

from ccmdesk.rules.catalog import PAYER_KINDS, PROGRAMS, UNKNOWN_COVERAGE
from ccmdesk.rules.payers import PayerRecord

KIND_LABELS: dict[str, str] = {
    "medicare": "Medicare (Part B)",
    "medicare_advantage": "Medicare Advantage",
    "medicaid": "Medicaid",
    "commercial": "Commercial",
    "self": "Self-pay",
}
assert tuple(KIND_LABELS) == PAYER_KINDS
PROGRAM_LABELS: dict[str, str] = {
    "ccm": "CCM",
    "pcm": "PCM",
    "apcm": "APCM",
    "bhi": "BHI",
}
assert tuple(PROGRAM_LABELS) == PROGRAMS


def kind_label(kind: str) -> str:
    """The kind's label, or the kind itself for one ccmdesk does not know."""
    return KIND_LABELS.get(kind, kind)


def covers_label(covers: str) -> str:
    """'CCM, PCM, APCM, BHI', or 'not known yet' for a payer no one has asked."""
    if covers == UNKNOWN_COVERAGE:
        return "not known yet"
    return ", ".join(PROGRAM_LABELS.get(item, item) for item in covers.split(";") if item)


def payer_choice(payer: PayerRecord) -> str:
    """A payer as a choice list offers it: its name, and its id when the name hides it."""
    label = f"{payer.name} ({payer.payer_id})"
    return f"{label} — retired" if payer.retired else label
