"""`audit verify --deep` on the demo practice, and on the demo scaled up.

Run: python -m benchmarks.deep_check [PATIENTS ...] (default: 200 2000)

Each size is the demo made through the real import (staff, patients, time entries, month
facts, all audited), cached in benchmarks/.cache/; the deep check is then timed five times.
"""

from __future__ import annotations

import shutil
import statistics
import sys
import time
from pathlib import Path

from benchmarks.dataset import CACHE, NOW
from ccmdesk.db import head_revision, open_database
from ccmdesk.services import Actor, Services
from ccmdesk.services.demo import DEMO_PRACTICE, build_demo

RUNS = 5


def demo_database(patients: int) -> Path:
    """A data folder holding the demo practice with `patients` patients and their time."""
    folder = CACHE / f"demo-{patients}-{head_revision()}"
    if (folder / "ccmdesk.sqlite3").exists():
        return folder
    shutil.rmtree(folder, ignore_errors=True)
    started = time.perf_counter()
    db = open_database(f"sqlite:///{folder / 'ccmdesk.sqlite3'}", folder / "backups")
    files = build_demo(NOW, patients=patients).files
    Services(db, clock=lambda: NOW).imports.import_data(
        Actor.command_line(), files, practice=DEMO_PRACTICE
    )
    db.dispose()
    print(f"built {folder} in {time.perf_counter() - started:.1f} s")
    return folder


def main(sizes: list[int]) -> int:
    for patients in sizes:
        folder = demo_database(patients)
        db = open_database(f"sqlite:///{folder / 'ccmdesk.sqlite3'}")
        services = Services(db, clock=lambda: NOW)
        seconds = []
        for _ in range(RUNS):
            started = time.perf_counter()
            check = services.audit.deep_check(Actor.command_line())
            seconds.append(time.perf_counter() - started)
        db.dispose()
        rows = sum(c.rows for c in check.coverage)
        print(
            f"{patients:,} patients: {rows:,} rows, {check.events:,} events, "
            f"{len(check.differences)} differences; deep check median "
            f"{statistics.median(seconds):.2f} s (best {min(seconds):.2f}, worst "
            f"{max(seconds):.2f}, {RUNS} runs)"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main([int(arg) for arg in sys.argv[1:]] or [200, 2000]))
