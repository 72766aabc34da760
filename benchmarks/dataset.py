"""Build (once) and cache benchmark databases: the demo practice scaled to N patients."""

from __future__ import annotations

import datetime as dt
import shutil
import time
from pathlib import Path

from ccmdesk.db import open_database
from ccmdesk.services import Actor, Services
from ccmdesk.services.demo import DEMO_PRACTICE, build_demo

CACHE = Path(__file__).resolve().parent / ".cache"
# A fixed clock keeps the cached database identical from run to run.
NOW = dt.datetime(2026, 11, 20, 17, 0, tzinfo=dt.UTC)


def patients_database(patients: int) -> Path:
    """A data folder holding the demo staff and `patients` patients (no time entries)."""
    folder = CACHE / f"patients-{patients}"
    if (folder / "ccmdesk.sqlite3").exists():
        return folder
    shutil.rmtree(folder, ignore_errors=True)
    started = time.perf_counter()
    db = open_database(f"sqlite:///{folder / 'ccmdesk.sqlite3'}", folder / "backups")
    services = Services(db, clock=lambda: NOW)
    actor = Actor.command_line()
    services.practice.save(actor, DEMO_PRACTICE)
    files = dict(build_demo(NOW, patients=patients).files)
    services.imports.import_data(
        actor, [("staff.csv", files["staff.csv"]), ("patients.csv", files["patients.csv"])]
    )
    db.dispose()
    print(f"built {folder} in {time.perf_counter() - started:.1f} s")
    return folder


if __name__ == "__main__":
    patients_database(10_000)
