"""Cold start to a shown main window with 10,000 patients: python -m benchmarks.startup [RUNS].

Each run is a new Python process running `ccmdesk --data-dir DIR --user admin-patel` (the real
command line, so the database check, the sign-in's password check (typed at once), the patient
query and the window are all in it); the clock
starts before the process is spawned and stops when the main window has been shown and painted.
An installed ccmdesk starts from compiled bytecode, so children write theirs into a temporary
cache and one unmeasured run fills it; --no-bytecode measures compiling from source every time.
Needs a display: run under `xvfb-run -a`, or it uses the offscreen platform.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time

from benchmarks.dataset import patients_database

CHILD = r"""
import sys, time
started = float(sys.argv[1])
from ccmdesk.ui import main_window
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

shown_event = main_window.MainWindow.showEvent


def report(window):
    rows = window.pages["patients"].model.rowCount()
    print(f"{time.time() - started:.3f} {rows}", flush=True)
    QApplication.instance().quit()


def on_show(self, event):
    shown_event(self, event)
    # A zero timer fires once the events queued by show(), the first paint among them, ran.
    QTimer.singleShot(0, lambda: report(self))


main_window.MainWindow.showEvent = on_show

# The person types the demo password at the sign-in at once (checking it, Argon2id, counts).
from PySide6.QtWidgets import QDialog
from ccmdesk.services.demo import DEMO_PASSWORD
from ccmdesk.ui import sign_in


def type_password(self):
    self.password.setText(DEMO_PASSWORD)
    self.confirm.setText(DEMO_PASSWORD)  # an older copy without passwords: set it up
    self.accept()
    return QDialog.DialogCode.Accepted if self.actor else QDialog.DialogCode.Rejected


sign_in.SignInDialog.exec = type_password
from ccmdesk.cli import main
sys.exit(main(["--data-dir", sys.argv[2], "--user", "admin-patel"]))
"""


def start_once(data_dir: str, env: dict[str, str]) -> tuple[float, int]:
    started = time.time()
    out = subprocess.run(
        [sys.executable, "-c", CHILD, repr(started), data_dir],
        check=True,
        capture_output=True,
        text=True,
        env=env,
    ).stdout.split()
    return float(out[0]), int(out[1])


def main(argv: list[str]) -> int:
    no_bytecode = "--no-bytecode" in argv
    args = [a for a in argv[1:] if a != "--no-bytecode"]
    runs = int(args[0]) if args else 11
    data_dir = str(patients_database(10_000))
    env = dict(os.environ)
    if "DISPLAY" not in env:
        env.setdefault("QT_QPA_PLATFORM", "offscreen")
    with tempfile.TemporaryDirectory() as cache:
        if no_bytecode:
            env["PYTHONDONTWRITEBYTECODE"] = "1"
        else:
            env.pop("PYTHONDONTWRITEBYTECODE", None)
            env["PYTHONPYCACHEPREFIX"] = cache
            start_once(data_dir, env)  # fill the bytecode cache; not measured
        times = []
        for _ in range(runs):
            seconds, rows = start_once(data_dir, env)
            times.append(seconds)
            print(f"main window with {rows:,} patients shown after {seconds:.3f} s")
    times.sort()
    print(
        f"cold start ({'no bytecode' if no_bytecode else 'bytecode cached'}), {runs} runs: "
        f"median {statistics.median(times):.3f} s, best {times[0]:.3f} s, worst {times[-1]:.3f} s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
