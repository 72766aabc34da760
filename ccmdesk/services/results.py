"""What a use case reports back: plain records, cheap to import (the GUI needs them at start-up)."""

from __future__ import annotations

from dataclasses import dataclass, field

ORDER = ("staff", "payers", "patients", "waivers", "time entries", "patient months")


@dataclass
class Counts:
    created: int = 0
    updated: int = 0
    unchanged: int = 0


@dataclass
class ImportSummary:
    """What one import did, by kind of record."""

    counts: dict[str, Counts] = field(default_factory=lambda: {k: Counts() for k in ORDER})

    def lines(self) -> list[str]:
        return [
            f"{kind}: {c.created} added, {c.updated} updated, {c.unchanged} unchanged"
            for kind, c in self.counts.items()
            if c.created or c.updated or c.unchanged
        ]
