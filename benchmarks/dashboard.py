"""Time the dashboard and the worklist cold and warm on a month of 300,000 entries.

    python -m benchmarks.dashboard [RUNS]

The billing benchmark's database (`benchmarks/dataset.py: billing_database`: 10,000 patients,
300,000 entries in October 2026). First the cold dashboard (nothing evaluated yet: the month
and the eleven before it), then RUNS rounds of the warm dashboard and of each care manager's
worklist (about 3,300 patients each, each loaded once before) with nothing written between
them: what the screens load once the month's evaluation is cached (docs/dashboard.md, "The
evaluation cache").
"""

from __future__ import annotations

import os
import statistics
import sys
import time

from benchmarks.dataset import BILLING_MONTH, NOW, billing_database
from ccmdesk.db import open_database
from ccmdesk.services import Actor, Services

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


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 5)
