#!/usr/bin/env bash
# Run the PostgreSQL tests against a throwaway local server (Debian, as root). Not part of CI.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --test
if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
fi
.venv/bin/python -m pip install -q "psycopg[binary]"
bin=$(dirname "$(ls /usr/lib/postgresql/*/bin/initdb | tail -n 1)")
data=$(mktemp -d)
chown postgres "$data"
port=54329
su postgres -c "$bin/initdb -D $data -A trust -U ccm" >/dev/null
su postgres -c "$bin/pg_ctl -D $data -o '-p $port -k /tmp -c listen_addresses=127.0.0.1' -l $data/log -w start" >/dev/null
trap 'su postgres -c "$bin/pg_ctl -D $data -m fast stop" >/dev/null; rm -rf "$data"' EXIT
su postgres -c "$bin/createdb -h 127.0.0.1 -p $port -U ccm ccmtest"
CCMDESK_TEST_POSTGRES_URL="postgresql+psycopg://ccm@127.0.0.1:$port/ccmtest" QT_QPA_PLATFORM=offscreen \
  .venv/bin/python -m pytest tests/test_postgres.py "$@"
