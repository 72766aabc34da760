"""How long SQLite's full integrity check and quick check take on ccmdesk databases of growing size.

The start-up check runs the full check on files up to ccmdesk.db.FULL_CHECK_BYTES (it must
finish within about a second) and the quick check above that. Run:

    python -m benchmarks.integrity_check [REPEATS]
"""

from __future__ import annotations

import sqlite3
import statistics
import sys
import time

from benchmarks.dataset import billing_database, patients_database
from ccmdesk.db import FULL_CHECK_BYTES


def timed(path: str, pragma: str, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        connection = sqlite3.connect(path)
        started = time.perf_counter()
        result = connection.execute(f"PRAGMA {pragma}").fetchall()
        times.append(time.perf_counter() - started)
        connection.close()
        assert result == [("ok",)], result
    return statistics.median(times)


def main(repeats: int) -> None:
    print(f"FULL_CHECK_BYTES = {FULL_CHECK_BYTES / 2**20:.0f} MiB")
    for folder in (patients_database(1_000), patients_database(10_000), billing_database()):
        path = folder / "ccmdesk.sqlite3"
        size = path.stat().st_size
        full = timed(str(path), "integrity_check", repeats)
        quick = timed(str(path), "quick_check", repeats)
        print(
            f"{folder.name}: {size / 2**20:7.1f} MiB  integrity_check {full:6.3f} s "
            f"({size / 2**20 / full:6.1f} MiB/s)  quick_check {quick:6.3f} s"
        )


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 3)
