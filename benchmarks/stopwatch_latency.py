"""Start and stop latency of the stopwatch with 300,000 entries in the database.

Run: python -m benchmarks.stopwatch_latency [ROUNDS]. Each start and each stop is a committed,
durable transaction (SQLite WAL, synchronous=FULL) through the real StopwatchService, with its
permission check, overlap check and audit event.
"""

from __future__ import annotations

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


def main(argv: list[str]) -> int:
    from sqlalchemy import func, select

    from ccmdesk.db import open_database
    from ccmdesk.models import TimeEntry
    from ccmdesk.services import Services

    rounds = int(argv[1]) if len(argv) > 1 else 500
    scratch = tempfile.TemporaryDirectory()
    folder = working_copy(entries_database(), Path(scratch.name))
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
    mrns = [f"RB{100001 + i}" for i in range(rounds)]
    starts: list[float] = []
    stops: list[float] = []
    for mrn in mrns:
        began = time.perf_counter()
        timer = services.stopwatch.start(nurse, mrn)
        starts.append((time.perf_counter() - began) * 1000)
        began = time.perf_counter()
        services.stopwatch.stop(nurse, timer.entry_id, activity="education")
        stops.append((time.perf_counter() - began) * 1000)
    db.dispose()
    scratch.cleanup()
    for name, values in (("start", starts), ("stop", stops)):
        print(
            f"{name}: {len(values)} calls with {count:,} entries in the database: median "
            f"{statistics.median(values):.1f} ms, 99th percentile {percentile(values, 0.99):.1f} "
            f"ms, worst {max(values):.1f} ms"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
