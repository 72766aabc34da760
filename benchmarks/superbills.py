"""Export a month with about 1,000 billable patients: superbills, handoff and CSV files.

    python -m benchmarks.superbills [RUNS]

The dataset is the demo practice grown to 1,150 patients with 33,000 entries in October 2026
(`billing_database`); about nine in ten months are billable. Each run exports the month into
a fresh folder through the export service (the same call as `ccmdesk export` and the GUI's
export dialog), with a progress callback as the dialog uses. Target (issue #6): 1,000
superbills in 30 s or less.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.dataset import BILLING_MONTH, NOW, billing_database
from ccmdesk.db import open_database
from ccmdesk.services import Actor, Services

ENTRIES, PATIENTS = 33_000, 1_150


def main(runs: int) -> None:
    folder = billing_database(ENTRIES, PATIENTS)
    db = open_database(f"sqlite:///{folder / 'ccmdesk.sqlite3'}")
    services = Services(db, clock=lambda: NOW)
    actor = Actor.command_line()
    times: list[float] = []
    shown: list[tuple[int, ...]] = []
    for n in range(runs):
        shown.clear()
        with tempfile.TemporaryDirectory() as out:
            started = time.perf_counter()
            result = services.export.export(
                actor, BILLING_MONTH, Path(out), progress=lambda *step: shown.append(step)
            )
            times.append(time.perf_counter() - started)
            bills = len(list((Path(out) / "superbills").iterdir()))
        print(
            f"run {n + 1}: {times[-1]:.1f} s for {bills:,} superbills "
            f"({times[-1] / bills * 1000:.0f} ms each), {len(result.files):,} files, "
            f"{len(shown):,} progress updates"
        )
    print(f"median {statistics.median(times):.1f} s, worst {max(times):.1f} s")
    db.dispose()


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 3)
