"""Export the demo practice's previous month and keep sample PDFs and page images (not a test).

    python tests/reports/make_samples.py

Writes docs/samples/: the superbill with the longest time log, an unsigned one, and the
handoff report, as PDFs and as PNG pages (pdftoppm from poppler-utils).
"""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from ccmdesk.db import open_database
from ccmdesk.services import Services
from ccmdesk.ui.first_start import setup_actor

REPO = Path(__file__).resolve().parents[2]


def main(out: Path) -> int:
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as temporary:
        folder = Path(temporary)
        services = Services(open_database(f"sqlite:///{folder / 'ccmdesk.sqlite3'}"))
        services.demo.create(setup_actor())
        today = services.now().astimezone(services.practice_zone()).date()
        month = (today.replace(day=1) - dt.timedelta(days=1)).strftime("%Y-%m")
        doctor = services.staff.actor_for("dr-okafor")
        queue = services.review.queue(doctor, month)
        ready = [row for row, status in queue.rows if status == "ready to sign"]
        longest = max(ready, key=lambda row: row.result.countable_seconds)
        services.review.sign(doctor, longest.mrn, month)
        biller = services.staff.actor_for("bill-chen")
        result = services.export.export(biller, month, folder / "export")
        bills = folder / "export" / "superbills"
        unsigned = next(p for p in sorted(bills.iterdir()) if longest.mrn not in p.name)
        samples = {
            "superbill-long-log.pdf": bills / f"{month}-{longest.mrn}.pdf",
            "superbill-unsigned.pdf": unsigned,
            "handoff.pdf": folder / "export" / f"handoff-{month}.pdf",
        }
        for name, source in samples.items():
            # A shorter document than last time must not leave its old last pages behind.
            for stale in out.glob(f"{name.removesuffix('.pdf')}-*.png"):
                stale.unlink()
            shutil.copyfile(source, out / name)
            subprocess.run(
                [
                    "pdftoppm",
                    "-png",
                    "-r",
                    "80",
                    str(out / name),
                    str(out / name.removesuffix(".pdf")),
                ],
                check=True,
            )
            print(f"wrote {out / name} and its pages")
        print(f"{len(result.files)} files exported for {month}")
    return 0


if __name__ == "__main__":
    sys.exit(main(REPO / "docs" / "samples"))
