#!/usr/bin/env bash
# Run a command with CCMDESK_TEST_POSTGRES_URL naming a throwaway PostgreSQL database: a new
# cluster in a temporary folder, listening on a free loopback port, stopped and deleted when the
# command ends (however it ends). The command's exit status is this script's.
# Usage: scripts/with-postgres.sh COMMAND [ARGS...]
# A URL already set in CCMDESK_TEST_POSTGRES_URL (a scratch database of your own) is used as is.
# PostgreSQL itself comes from Debian's `postgresql` package (scripts/setup.sh --test installs it).
set -euo pipefail

if [ -n "${CCMDESK_TEST_POSTGRES_URL:-}" ]; then
  exec "$@"
fi

initdb=$(ls /usr/lib/postgresql/*/bin/initdb 2>/dev/null | sort -V | tail -n 1 || true)
if [ -z "$initdb" ]; then
  echo "PostgreSQL is not installed. Please install this Debian package first (as root):" >&2
  echo "  apt-get install postgresql" >&2
  exit 1
fi
bin=$(dirname "$initdb")

# The server refuses to run as root: as root it runs as the package's `postgres` user.
as_server() {
  if [ "$(id -u)" = 0 ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

data=$(mktemp -d "${TMPDIR:-/tmp}/ccmdesk-pg.XXXXXX")
cleanup() {
  as_server "$bin/pg_ctl" -D "$data" -m fast stop >/dev/null 2>&1 || true
  rm -rf "$data"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
if [ "$(id -u)" = 0 ]; then
  chown postgres "$data"
fi
as_server "$bin/initdb" -D "$data" -A trust -U ccm --no-sync >/dev/null

# A free port, not a fixed one: two runs on one machine (two worktrees, say) must not collide.
# The socket goes in the cluster's own folder for the same reason. fsync is off: the cluster is
# thrown away, and the tests check what concurrent transactions see, not what survives a crash.
started=0
for _ in 1 2 3; do
  port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  options="-p $port -k $data -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off"
  if as_server "$bin/pg_ctl" -D "$data" -l "$data/server.log" -o "$options" -w start >/dev/null; then
    started=1
    break
  fi
done
if [ "$started" != 1 ]; then
  echo "The throwaway PostgreSQL server did not start; its log:" >&2
  cat "$data/server.log" >&2 || true
  exit 1
fi
"$bin/createdb" -h 127.0.0.1 -p "$port" -U ccm ccmtest
export CCMDESK_TEST_POSTGRES_URL="postgresql+psycopg://ccm@127.0.0.1:$port/ccmtest"
"$@"
