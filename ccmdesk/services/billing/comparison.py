"""Which program pays more: the months another program would bill more, summed by program."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from ccmdesk.rules.billing import MonthResult, codes_text, dollars
from ccmdesk.rules.catalog import PROGRAM_LABELS


@dataclass(frozen=True)
class SwitchGain:
    """The months that another program (`program`) would bill more, and how much more."""

    program: str  # "ccm", "pcm_focus" or "apcm"
    patients: int
    extra_cents: int  # the sum of the better program's amount less what each month bills

    @property
    def label(self) -> str:
        return PROGRAM_LABELS[self.program]

    @property
    def sentence(self) -> str:
        """ "Switching these 37 patients to APCM would add $1,243.10 a month."."""
        these = "this patient" if self.patients == 1 else f"these {self.patients:,} patients"
        return f"Switching {these} to {self.label} would add {dollars(self.extra_cents)} a month."


def switch_gains(results: Iterable[MonthResult]) -> list[SwitchGain]:
    """Per program that pays more for some months (docs/billing-rules.md, "Which program pays
    more"): how many months and the cents it would add; the largest gain first. A month counts
    under the program that pays it most, once."""
    counts: dict[str, int] = {}
    extra: dict[str, int] = {}
    for result in results:
        better = result.pays_more
        if better is None:
            continue
        counts[better.program] = counts.get(better.program, 0) + 1
        extra[better.program] = (
            extra.get(better.program, 0) + better.amount_cents - result.total_cents
        )
    return sorted(
        (SwitchGain(program, counts[program], extra[program]) for program in counts),
        key=lambda gain: (-gain.extra_cents, gain.program),
    )


def gains_text(gains: Iterable[SwitchGain]) -> str:
    """One sentence per program, or "" when no other program pays more."""
    return " ".join(gain.sentence for gain in gains)


def program_name(result: MonthResult) -> str:
    """The month's program as the screens name it: "CCM/PCM", "APCM", "PCM (focus I10)"."""
    if result.program == "pcm_focus":
        focus = result.inputs[1].focus_condition
        return f"PCM (focus {focus})" if focus else "PCM (no focus condition)"
    return result.program_label


@dataclass(frozen=True)
class Compared:
    """One program's price for the month, in the comparison the panel and summary show."""

    program: str  # "ccm", "pcm_focus" or "apcm"
    name: str  # program_name for the program billed, its label for the others
    codes: str  # "99490x1;99484x1": the program's lines and the general BHI it allows
    amount_cents: int
    billed: bool  # the patient's own program: what the month bills now
    best: bool  # another program that pays more than the month bills


def comparison(result: MonthResult) -> list[Compared]:
    """The program billed, then each other program it was priced under (best paying first);
    empty when nothing else was priced (docs/billing-rules.md, "Which program pays more")."""
    if not result.others:
        return []
    better = result.pays_more
    own = Compared(
        result.program,
        program_name(result),
        codes_text(result.all_lines),
        result.total_cents,
        billed=True,
        best=False,
    )
    return [own] + [
        Compared(
            price.program,
            price.label,
            price.codes,
            price.amount_cents,
            billed=False,
            best=price is better,
        )
        for price in result.others
    ]
