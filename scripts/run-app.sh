#!/usr/bin/env bash
# Set up (first time) and open ccmdesk on its embedded SQLite database. Extra arguments go to ccmdesk.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/ccmdesk "$@"
