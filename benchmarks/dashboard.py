"""Time the dashboard and the worklist cold and warm on a month of 300,000 entries.

    python -m benchmarks.dashboard [RUNS]

The billing benchmark's database (`benchmarks/dataset.py: billing_database`: 10,000 patients,
300,000 entries in October 2026). First the cold dashboard (nothing evaluated yet: the month
and the eleven before it), then RUNS rounds of the warm dashboard and of each care manager's
worklist (about 3,300 patients each, each loaded once before) with nothing written between
them: what the screens load once the month's evaluation is cached (docs/dashboard.md, "The
evaluation cache").

Then, in a private copy of the database with the eleven months before the month closed for
billing (the other figures are measured on the cache as built): the cold dashboard, then the
dashboard after one write, each round a stopwatch started and stopped at now and, every other
round, a manual entry added into the month on screen: the closed months keep their figures
across time writes (docs/dashboard.md, "Closed months"), so only the month on screen is
evaluated again.
"""

from __future__ import annotations

import datetime as dt
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.dataset import BILLING_MONTH, NOW, billing_database, working_copy
from ccmdesk.db import open_database
from ccmdesk.services import Actor, Services
from ccmdesk.services.dashboard import previous_months

CARE_MANAGERS = ("rn-lee", "lpn-garcia", "ma-brooks")
VIEWER = Actor("cli:benchmark", "benchmark", "system")


def timed(call: object) -> tuple[float, object]:
    started = time.perf_counter()
    result = call()  # type: ignore[operator]
    return time.perf_counter() - started, result


def main(runs: int) -> None:
    folder = billing_database()
    db = open_database(f"sqlite:///{folder / 'ccmdesk.sqlite3'}")
    services = Services(db, clock=lambda: NOW)
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    cold, dashboard = timed(lambda: services.dashboard.month(VIEWER, BILLING_MONTH))
    print(f"cold dashboard (12 months evaluated): {cold:.3f} s")
    actors = {key: Actor(key, key, "clinical") for key in CARE_MANAGERS}
    for key, actor in actors.items():
        # The month's segments are cached by then; each care manager's patients' seconds not.
        first, rows = timed(lambda actor=actor: services.minutes.worklist(actor, BILLING_MONTH))  # type: ignore[misc]
        print(f"first worklist of {key} after it: {first:.3f} s ({len(rows)} rows)")
    dashboards: list[float] = []
    lists: list[float] = []
    for n in range(runs):
        seconds, again = timed(lambda: services.dashboard.month(VIEWER, BILLING_MONTH))
        assert again == dashboard
        dashboards.append(seconds)
        for key, actor in actors.items():
            seconds, rows = timed(
                lambda actor=actor: services.minutes.worklist(actor, BILLING_MONTH)  # type: ignore[misc]
            )
            lists.append(seconds)
            print(f"{n + 1:>4} dashboard {dashboards[-1]:.3f} s  {key:>10} {len(rows):>5} rows "
                  f"{seconds:.3f} s")  # fmt: skip
    print(
        f"warm dashboard: median {statistics.median(dashboards):.3f} s "
        f"(worst {max(dashboards):.3f} s) of {len(dashboards)}; "
        f"warm worklist: median {statistics.median(lists):.3f} s "
        f"(worst {max(lists):.3f} s) of {len(lists)}"
    )
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    db.dispose()
    with tempfile.TemporaryDirectory(prefix="ccmdesk-closed-") as tmp:
        after_one_write(working_copy(folder, Path(tmp)), runs)


def after_one_write(folder: Path, runs: int) -> None:
    """The dashboard after one time write, with the eleven months before the month closed."""
    db = open_database(f"sqlite:///{folder / 'ccmdesk.sqlite3'}")
    clock = [NOW]
    services = Services(db, clock=lambda: clock[0])
    started = time.perf_counter()
    for month in previous_months(BILLING_MONTH)[:-1]:
        services.closing.close(VIEWER, month)
    print(f"closed the 11 months before {BILLING_MONTH} in {time.perf_counter() - started:.1f} s")
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    cold, dashboard = timed(lambda: services.dashboard.month(VIEWER, BILLING_MONTH))
    print(f"cold dashboard, 11 months closed: {cold:.3f} s")
    nurse = Actor(CARE_MANAGERS[0], CARE_MANAGERS[0], "clinical")
    mrn = services.minutes.worklist(nurse, BILLING_MONTH)[0].mrn
    # Late on the month's 30th (UTC): before any time the dataset put in that month's days.
    day = dt.datetime(2026, 10, 30, 23, 0, tzinfo=dt.UTC)
    after: list[float] = []
    for n in range(runs):
        timer = services.stopwatch.start(nurse, mrn)
        clock[0] += dt.timedelta(minutes=7)
        services.stopwatch.stop(nurse, timer.entry_id, activity="Call")
        what = "stopwatch stop"
        if n % 2:
            start = day + dt.timedelta(minutes=10 * n)
            services.entries.add_manual(
                nurse, mrn, start, start + dt.timedelta(minutes=5), reason="benchmark"
            )
            what += f" and an entry on {BILLING_MONTH}"
        computed = services.evaluations.computed
        seconds, again = timed(lambda: services.dashboard.month(VIEWER, BILLING_MONTH))
        assert again.months[:-1] == dashboard.months[:-1]  # the closed months did not move
        after.append(seconds)
        # The month on screen's segments, rows and amounts, and the dashboard itself.
        parts = services.evaluations.computed - computed
        print(f"{n + 1:>4} dashboard after a {what}: {seconds:.3f} s ({parts} parts computed)")
    print(
        f"dashboard after one write, 11 months closed: median {statistics.median(after):.3f} s "
        f"(worst {max(after):.3f} s) of {len(after)}"
    )
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    db.dispose()


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 5)
