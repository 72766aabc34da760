"""Evaluate a month of 10,000 patients and 300,000 entries, against one raw SQL aggregate.

    python -m benchmarks.billing_month [RUNS] [--plain]

Each run times, on the same database and one after the other, (a) one raw SQL aggregate of
the month's seconds per patient over the same rows (sqlite3, no ORM), and (b) the billing
service evaluating the whole month (every query, every rule, every explanation). Targets
(issue #4): (b) ≤ 2 s, and (b) ≤ 3 × (a) in the same run. Beside the wall-clock times, the
process's CPU time of each (all threads): on a VM shared with other work it moves less.

The month has issue #18's programs (APCM attested, APCM and PCM-by-focus patients, general
BHI time); `--plain` measures issue #4's data instead, without them (a database of its own).
"""

from __future__ import annotations

import sqlite3
import statistics
import sys
import time
from collections import Counter

from benchmarks.dataset import BILLING_MONTH, NOW, billing_database
from ccmdesk.db import open_database
from ccmdesk.services import Actor, Services

RAW_AGGREGATE = """
SELECT e.patient_id, SUM(unixepoch(s.ended_at) - unixepoch(s.started_at))
FROM time_segment s JOIN time_entry e ON e.id = s.entry_id
WHERE s.started_at < ? AND s.ended_at > ? AND e.deleted_at IS NULL
GROUP BY e.patient_id
"""


def main(runs: int, programs: bool = True) -> None:
    folder = billing_database(programs=programs)
    path = folder / "ccmdesk.sqlite3"
    db = open_database(f"sqlite:///{path}")
    services = Services(db, clock=lambda: NOW)
    actor = Actor.command_line()
    raw = sqlite3.connect(path)
    # Month bounds of October 2026 in the demo practice's zone (America/New_York), as stored.
    bounds = ("2026-11-01 04:00:00", "2026-10-01 04:00:00")
    services.billing.month(actor, BILLING_MONTH)  # warm the caches once, as a second look would
    raw.execute(RAW_AGGREGATE, bounds).fetchall()
    aggregate: list[float] = []
    evaluate: list[float] = []
    aggregate_cpu: list[float] = []
    evaluate_cpu: list[float] = []
    print(
        f"{'run':>4} {'raw aggregate':>14} {'evaluate month':>15} {'ratio':>6}   "
        f"{'CPU: raw':>9} {'evaluate':>9} {'ratio':>6}"
    )
    for n in range(runs):
        started, cpu = time.perf_counter(), time.process_time()
        sums = raw.execute(RAW_AGGREGATE, bounds).fetchall()
        aggregate.append(time.perf_counter() - started)
        aggregate_cpu.append(time.process_time() - cpu)
        started, cpu = time.perf_counter(), time.process_time()
        month = services.billing.month(actor, BILLING_MONTH)
        evaluate.append(time.perf_counter() - started)
        evaluate_cpu.append(time.process_time() - cpu)
        print(
            f"{n + 1:>4} {aggregate[-1]:>12.3f} s {evaluate[-1]:>13.3f} s "
            f"{evaluate[-1] / aggregate[-1]:>6.2f}   {aggregate_cpu[-1]:>7.3f} s "
            f"{evaluate_cpu[-1]:>7.3f} s {evaluate_cpu[-1] / aggregate_cpu[-1]:>6.2f}"
        )
    print(
        f"rows {len(month.rows):,} (patients with time: {len(sums):,}); "
        f"billable {month.billable:,}; amount ${month.amount_cents / 100:,.2f}"
    )
    print(
        f"median: raw {statistics.median(aggregate):.3f} s, evaluate "
        f"{statistics.median(evaluate):.3f} s, ratio of medians "
        f"{statistics.median(evaluate) / statistics.median(aggregate):.2f}; "
        f"worst evaluate {max(evaluate):.3f} s"
    )
    print(
        f"CPU median: raw {statistics.median(aggregate_cpu):.3f} s, evaluate "
        f"{statistics.median(evaluate_cpu):.3f} s, ratio of medians "
        f"{statistics.median(evaluate_cpu) / statistics.median(aggregate_cpu):.2f}"
    )
    results = [row.result for row in month.rows]
    by_program = Counter(r.program for r in results)
    print(
        "programs "
        + ", ".join(f"{program} {count:,}" for program, count in sorted(by_program.items()))
        + f"; BHI results {sum(r.bhi is not None for r in results):,} "
        f"(billing {sum(r.bhi is not None and r.bhi.billable for r in results):,}); "
        f"priced under another program {sum(bool(r.others) for r in results):,}; "
        f"another pays more {sum(r.pays_more is not None for r in results):,}"
    )
    raw.close()
    db.dispose()


if __name__ == "__main__":
    arguments = [a for a in sys.argv[1:] if a != "--plain"]
    main(int(arguments[0]) if arguments else 7, programs="--plain" not in sys.argv[1:])
