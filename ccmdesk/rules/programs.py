"""A patient's program from a month onward: what a change must say, and which is in force."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from ccmdesk.rules import icd10
from ccmdesk.rules.catalog import PATIENT_PROGRAMS
from ccmdesk.rules.intervals import month_label
from ccmdesk.rules.records import FieldError
from ccmdesk.rules.validation import ParseError, parse_month

# A patient with no program period is billed as before: CCM, or PCM by the conditions
# (docs/billing-rules.md, "Programs").
DEFAULT_PROGRAM = "ccm"
FROM_THE_START = ""
# The patients.csv columns that set a program (docs/formats.md).
PROGRAM_COLUMNS = ("program", "focus_condition", "program_from")


@dataclass(frozen=True)
class ProgramChoice:
    """A program from a month onward, as a person or a file gives it, checked."""

    from_month: str  # YYYY-MM, or "" from the start
    program: str
    focus_condition: str | None = None  # pcm_focus only


def from_text(from_month: str) -> str:
    """A period's first month label: "from the start" or "from March 2026"."""
    return "from the start" if not from_month else f"from {month_label(from_month)}"


def program_choice(
    program: str, from_month: str, focus_condition: str | None, conditions: Sequence[str]
) -> tuple[ProgramChoice, list[FieldError]]:
    """Read a program change; `conditions` are the patient's (the focus must be one of them).
    Field names are patients.csv's columns, so a file's problem names its column."""
    errors: list[FieldError] = []
    program = program.strip().lower()
    month = from_month.strip()
    focus = (
        icd10.normalize(focus_condition) if focus_condition and focus_condition.strip() else None
    )
    if program not in PATIENT_PROGRAMS:
        errors.append(
            FieldError("program", f"'{program}' is not a program; use one of "
                       f"{', '.join(PATIENT_PROGRAMS)}")
        )  # fmt: skip
    if month:
        try:
            month = parse_month(month)
        except ParseError as exc:
            errors.append(FieldError("program_from", str(exc)))
    if program == "pcm_focus":
        if focus is None:
            errors.append(
                FieldError("focus_condition", "is required for pcm_focus: the condition PCM "
                           "is billed for")
            )  # fmt: skip
        elif focus not in conditions:
            errors.append(
                FieldError("focus_condition", f"{focus} is not on the patient's list of "
                           "conditions; add it there first or choose one that is")
            )  # fmt: skip
    elif focus is not None and program in PATIENT_PROGRAMS:
        errors.append(
            FieldError("focus_condition", f"is only for pcm_focus, not {program}; leave it blank")
        )
    return ProgramChoice(month, program, focus if program == "pcm_focus" else None), errors


def in_force(periods: Iterable[ProgramChoice], month: str) -> ProgramChoice:
    """The period in force in a month: the latest `from_month` not after it (""
    is the start); none: the default program from the start."""
    started = [period for period in periods if period.from_month <= month]
    if not started:
        return ProgramChoice(FROM_THE_START, DEFAULT_PROGRAM)
    return max(started, key=lambda period: period.from_month)


def same_program(a: ProgramChoice, b: ProgramChoice) -> bool:
    return (a.program, a.focus_condition) == (b.program, b.focus_condition)
