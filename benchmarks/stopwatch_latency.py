"""Start and stop latency of the stopwatch with 300,000 entries in the database.

Run: python -m benchmarks.stopwatch_latency [ROUNDS] [--entries N]. Each start and each stop is a
committed, durable transaction (SQLite WAL, synchronous=FULL) through the real StopwatchService,
with its permission check, overlap check, audit event and (stop) the patient's month progress.
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.dataset import entries_database, working_copy


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * fraction))]


def arguments(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.stopwatch_latency",
        description="Time ROUNDS stopwatch starts and stops (one after the other, each a few "
        "seconds long on another patient) on a private copy of the cached benchmark database.",
    )
    parser.add_argument(
        "rounds", nargs="?", type=int, default=500, metavar="ROUNDS", help="calls of each (500)"
    )
    parser.add_argument(
        "--entries",
        type=int,
        default=300_000,
        help="time entries in the database, 10,000 patients (300,000, issue #3's target size; "
        "another size builds and caches its own database first)",
    )
    return parser.parse_args(argv)


def main(argv: list[str]) -> int:
    from sqlalchemy import func, select

    from ccmdesk.db import open_database
    from ccmdesk.models import TimeEntry
    from ccmdesk.services import Services

    options = arguments(argv)
    scratch = tempfile.TemporaryDirectory()
    folder = working_copy(entries_database(options.entries), Path(scratch.name))
    db = open_database(f"sqlite:///{folder / 'ccmdesk.sqlite3'}")
    with db.session() as session:
        count = session.scalar(select(func.count()).select_from(TimeEntry))
    # A clock one second ahead per call keeps every stopwatch a few seconds long, after the
    # bulk-loaded entries, and in the past relative to the real clock the end check uses.
    now = [dt.datetime.now(dt.UTC) - dt.timedelta(days=1)]

    def clock() -> dt.datetime:
        now[0] += dt.timedelta(seconds=1)
        return now[0]

    services = Services(db, clock=clock)
    nurse = services.staff.actor_for("rn-lee")
    mrns = [f"RB{100001 + i}" for i in range(options.rounds)]
    # Wall time is what the user waits; the process's CPU time leaves out waiting for the disk
    # and for the cores, so on a shared machine it tells the code's cost from the load's.
    timed: dict[str, tuple[list[float], list[float]]] = {"start": ([], []), "stop": ([], [])}
    for mrn in mrns:
        wall, cpu = time.perf_counter(), time.process_time()
        timer = services.stopwatch.start(nurse, mrn)
        timed["start"][0].append((time.perf_counter() - wall) * 1000)
        timed["start"][1].append((time.process_time() - cpu) * 1000)
        wall, cpu = time.perf_counter(), time.process_time()
        services.stopwatch.stop(nurse, timer.entry_id, activity="education")
        timed["stop"][0].append((time.perf_counter() - wall) * 1000)
        timed["stop"][1].append((time.process_time() - cpu) * 1000)
    db.dispose()
    scratch.cleanup()
    for name, (values, cpu_times) in timed.items():
        print(
            f"{name}: {len(values)} calls with {count:,} entries in the database: median "
            f"{statistics.median(values):.1f} ms, 99th percentile {percentile(values, 0.99):.1f} "
            f"ms, worst {max(values):.1f} ms; CPU time median "
            f"{statistics.median(cpu_times):.1f} ms, 99th percentile "
            f"{percentile(cpu_times, 0.99):.1f} ms"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
