#!/usr/bin/env bash
# Set up (first time) and run the whole test suite offscreen, plus the lint and type checks. The
# PostgreSQL tests run against a throwaway server started (and removed) around the one pytest run.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --test
export QT_QPA_PLATFORM=offscreen
.venv/bin/ruff check .
.venv/bin/ruff format --check .
# Types before tests: strict on ccmdesk/rules and ccmdesk/services (pyproject.toml [tool.mypy]).
.venv/bin/python -m mypy ccmdesk
bash scripts/with-postgres.sh .venv/bin/python -m pytest "$@"
