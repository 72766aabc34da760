"""Time the worklist and one patient's progress on a month of 300,000 entries.

    python -m benchmarks.worklist [RUNS]

The billing benchmark's database (`benchmarks/dataset.py: billing_database`: 10,000 patients,
300,000 entries in October 2026). Each run times, for each of the three care managers (about
3,333 patients each), `MinutesService.worklist` for the month, then `month_progress` for one of
their patients (what the patient panel shows on every selection).
"""

from __future__ import annotations

import statistics
import sys
import time

from sqlalchemy import select

from benchmarks.dataset import BILLING_MONTH, NOW, billing_database
from ccmdesk.db import open_database
from ccmdesk.models import Patient, Staff
from ccmdesk.services import Actor, Services

CARE_MANAGERS = ("rn-lee", "lpn-garcia", "ma-brooks")


def main(runs: int) -> None:
    folder = billing_database()
    db = open_database(f"sqlite:///{folder / 'ccmdesk.sqlite3'}")
    services = Services(db, clock=lambda: NOW)
    with db.read() as session:
        mrns = {
            key: session.scalars(
                select(Patient.mrn)
                .join(Staff, Staff.id == Patient.care_manager_id)
                .where(Staff.staff_id == key)
                .order_by(Patient.mrn)
            ).first()
            for key in CARE_MANAGERS
        }
    actors = {key: Actor(key, key, "clinical") for key in CARE_MANAGERS}
    services.minutes.worklist(actors["rn-lee"], BILLING_MONTH)  # warm the caches once
    lists: list[float] = []
    panels: list[float] = []
    print(f"{'run':>4} {'care manager':>12} {'rows':>6} {'worklist':>10} {'patient panel':>14}")
    for n in range(runs):
        for key, actor in actors.items():
            started = time.perf_counter()
            rows = services.minutes.worklist(actor, BILLING_MONTH)
            lists.append(time.perf_counter() - started)
            started = time.perf_counter()
            services.minutes.month_progress(actor, mrns[key] or "", BILLING_MONTH)
            panels.append(time.perf_counter() - started)
            print(
                f"{n + 1:>4} {key:>12} {len(rows):>6} {lists[-1]:>8.3f} s "
                f"{panels[-1] * 1000:>11.1f} ms"
            )
    print(
        f"median: worklist {statistics.median(lists):.3f} s (worst {max(lists):.3f} s), "
        f"patient panel {statistics.median(panels) * 1000:.1f} ms "
        f"(worst {max(panels) * 1000:.1f} ms)"
    )
    db.dispose()


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 5)
