"""The built package carries its data files, so an installed ccmdesk works outside this folder."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.slow
def test_the_wheel_ships_resources_and_migrations(tmp_path: Path) -> None:
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path), str(ROOT)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    wheel = next(tmp_path.glob("ccmdesk-*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    for required in (
        "ccmdesk/resources/icd10cm/codes.tsv.gz",
        "ccmdesk/resources/fonts/DejaVuSans.ttf",
        "ccmdesk/resources/style.qss",
        "ccmdesk/migrations/env.py",
        "ccmdesk/migrations/versions/0001_initial_schema.py",
        "ccmdesk/migrations/versions/0002_default_fee_schedules.py",
        "ccmdesk/cli.py",
        "ccmdesk/ui/app.py",
    ):
        assert required in names, required
