"""The test set-up itself: the type check runs before the tests, and the PostgreSQL tests run on
a real throwaway server and in CI fail rather than skip when there is none."""

from __future__ import annotations

import glob
import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from tests.helpers.database import postgres_url

ROOT = Path(__file__).resolve().parent.parent
URL = "postgresql+psycopg://ccm@127.0.0.1:5432/scratch"


def commands(script: Path) -> list[str]:
    """The script's command lines, without comments and blank lines."""
    lines = (line.strip() for line in script.read_text(encoding="utf-8").splitlines())
    return [line for line in lines if line and not line.startswith("#")]


def test_the_test_script_stops_on_a_type_error_before_running_the_tests() -> None:
    steps = commands(ROOT / "scripts" / "test.sh")
    assert "set -euo pipefail" in steps  # a failing step ends the run with its status
    mypy = steps.index(".venv/bin/python -m mypy ccmdesk")
    pytest_run = next(n for n, step in enumerate(steps) if "-m pytest" in step)
    assert mypy < pytest_run
    assert commands(ROOT / ".ci" / "run")[-1].startswith("bash scripts/test.sh")


def test_mypy_is_strict_on_the_rules_and_services_and_installed_with_the_tests() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    strict = [o for o in project["tool"]["mypy"]["overrides"] if o.get("strict")]
    assert [sorted(o["module"]) for o in strict] == [["ccmdesk.rules.*", "ccmdesk.services.*"]]
    needs = {
        d.split(">")[0].split("=")[0] for d in project["project"]["optional-dependencies"]["test"]
    }
    assert {"mypy", "types-reportlab"} <= needs


def test_the_postgresql_tests_skip_without_a_server_but_fail_in_ci() -> None:
    with pytest.raises(pytest.skip.Exception):
        postgres_url({})
    with pytest.raises(pytest.fail.Exception, match="CI=true but CCMDESK_TEST_POSTGRES_URL"):
        postgres_url({"CI": "true"})
    assert postgres_url({"CI": "true", "CCMDESK_TEST_POSTGRES_URL": URL}) == URL
    assert postgres_url({"CCMDESK_TEST_POSTGRES_URL": URL}) == URL


@pytest.mark.slow
def test_with_postgres_runs_a_command_on_a_throwaway_server_then_removes_it() -> None:
    if not glob.glob("/usr/lib/postgresql/*/bin/initdb"):
        postgres_url({"CI": os.environ.get("CI", "")})  # fails in CI, skips elsewhere
    # The command reads the server's data folder, checks it can write, and ends with status 3.
    code = (
        "import os, psycopg\n"
        "url = os.environ['CCMDESK_TEST_POSTGRES_URL'].replace('+psycopg', '')\n"
        "with psycopg.connect(url) as c:\n"
        "    c.execute('CREATE TABLE t (n int)')\n"
        "    print(c.execute('SHOW data_directory').fetchone()[0])\n"
        "raise SystemExit(3)\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "CCMDESK_TEST_POSTGRES_URL"}
    done = subprocess.run(
        ["bash", str(ROOT / "scripts" / "with-postgres.sh"), sys.executable, "-c", code],
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 3, done.stderr
    data = Path(done.stdout.strip())
    assert data.name.startswith("ccmdesk-pg.")
    assert not data.exists()  # stopped and removed
