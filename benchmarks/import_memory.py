"""Peak memory (RSS) of `ccmdesk import` for a big minutes file and a big patients file.

Run: python -m benchmarks.import_memory [ROWS]. Each import is the real command line in a child
process, reading the CSV file from the disk as a practice would; the child's peak resident set
size comes from the operating system (ru_maxrss of the child), so it counts everything: Python,
SQLAlchemy, the ICD-10-CM table and the import itself. A 1-row import gives the floor.

The child runs the ccmdesk found first on PYTHONPATH (this checkout by default), so the same
script measures an older version: PYTHONPATH=/path/to/old/checkout python -m benchmarks...
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NURSES = ("rn-1", "rn-2", "rn-3", "rn-4")
PATIENTS_FOR_ENTRIES = 500
STAFF = (
    "staff_id,name,role,credentials,npi\n"
    "dr-a,Dr. Ada Park,practitioner,MD,1234567893\n"
    + "".join(f"{nurse},Nurse {nurse[-1]},clinical,RN,\n" for nurse in NURSES)
)
PATIENT_HEADER = (
    "mrn,last_name,first_name,dob,sex,payer_type,billing_practitioner,care_manager,conditions,"
    "consent_date,consent_method\n"
)


def patients_csv(path: Path, rows: int) -> Path:
    with path.open("w", encoding="utf-8", newline="") as out:
        out.write(PATIENT_HEADER)
        for n in range(rows):
            nurse = NURSES[n % len(NURSES)]
            out.write(f"M{n:06d},Lastname{n},Firstname{n},{1930 + n % 60}-0{1 + n % 9}-1{n % 9},"
                      f"F,commercial,dr-a,{nurse},E11.9;I10;I50.22,2025-01-0{1 + n % 9},"
                      "verbal\n")  # fmt: skip
    return path


def entries_csv(path: Path, rows: int, days_ago: int = 1) -> Path:
    """Back-to-back entries of four nurses (9 minutes every 10), ending `days_ago` days ago."""
    per_nurse = -(-rows // len(NURSES))
    first = dt.datetime.now(dt.UTC).replace(microsecond=0) - dt.timedelta(
        days=days_ago, minutes=10 * per_nurse
    )
    with path.open("w", encoding="utf-8", newline="") as out:
        out.write("mrn,staff_id,start,end,service,activity,note\n")
        for n in range(rows):
            nurse = NURSES[n % len(NURSES)]
            start = first + dt.timedelta(minutes=10 * (n // len(NURSES)))
            end = start + dt.timedelta(minutes=9)
            mrn = f"M{n % PATIENTS_FOR_ENTRIES:06d}"
            note = f"Reviewed blood sugars; call {n}"
            out.write(f"{mrn},{nurse},{start.isoformat()},{end.isoformat()},ccm,"
                      f"Call with patient or caregiver,{note}\n")  # fmt: skip
    return path


def ccmdesk(data_dir: Path, *args: str) -> tuple[float, int]:
    """Run the command line; (seconds, peak RSS in MB) of that process."""
    env = dict(os.environ)
    env["PYTHONPATH"] = env.get("PYTHONPATH") or str(ROOT)
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-m", "ccmdesk", "--data-dir", str(data_dir), *args],
        cwd=data_dir.parent,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - started
    out, err = process.communicate()
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"ccmdesk {' '.join(args)} failed:\n{err.decode()}{out.decode()}")
    kilobytes = usage.ru_maxrss if sys.platform != "darwin" else usage.ru_maxrss // 1024
    return seconds, kilobytes // 1024


def main(argv: list[str]) -> int:
    rows = int(argv[1]) if len(argv) > 1 else 100_000
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        staff = folder / "staff.csv"
        staff.write_text(STAFF, encoding="utf-8")

        data = folder / "entries-data"
        ccmdesk(data, "practice", "--name", "Benchmark Clinic", "--timezone", "America/New_York")
        ccmdesk(data, "import", str(staff), str(patients_csv(folder / "few.csv", 500)))
        one = entries_csv(folder / "one-entry.csv", 1, days_ago=1_000)
        seconds, floor = ccmdesk(data, "import", str(one))
        print(f"time entries: 1 row: peak RSS {floor} MB ({seconds:.1f} s)")
        big = entries_csv(folder / "entries.csv", rows)
        size = big.stat().st_size / 1e6
        seconds, peak = ccmdesk(data, "import", str(big))
        print(f"time entries: {rows:,} rows ({size:.1f} MB file): peak RSS {peak} MB "
              f"({seconds:.1f} s, {rows / seconds:,.0f} rows/s)")  # fmt: skip

        data = folder / "patients-data"
        ccmdesk(data, "practice", "--name", "Benchmark Clinic", "--timezone", "America/New_York")
        one = patients_csv(folder / "one-patient.csv", 1)
        seconds, floor = ccmdesk(data, "import", str(staff), str(one))
        print(f"patients: 1 row: peak RSS {floor} MB ({seconds:.1f} s)")
        data = folder / "patients-data-2"
        ccmdesk(data, "practice", "--name", "Benchmark Clinic", "--timezone", "America/New_York")
        big = patients_csv(folder / "patients.csv", rows)
        size = big.stat().st_size / 1e6
        seconds, peak = ccmdesk(data, "import", str(staff), str(big))
        print(f"patients: {rows:,} rows ({size:.1f} MB file): peak RSS {peak} MB "
              f"({seconds:.1f} s, {rows / seconds:,.0f} rows/s)")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
