#!/usr/bin/env bash
# Run only the PostgreSQL tests, against a throwaway local server (scripts/with-postgres.sh).
# scripts/test.sh runs them too, with the whole suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --test
QT_QPA_PLATFORM=offscreen bash scripts/with-postgres.sh \
  .venv/bin/python -m pytest -m postgresql tests/test_postgres.py tests/test_concurrency.py "$@"
