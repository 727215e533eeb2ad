#!/usr/bin/env bash
# Make a PostgreSQL server reachable for the multi-tablet tests and print its URL on stdout.
#   1. KIOSK_TEST_DATABASE_URL already set: use it.
#   2. A server answers on 127.0.0.1:5432 (trust auth, user postgres): use it.
#   3. Otherwise, as root, start a private throw-away server (initdb, trust auth, port 55432,
#      run as the postgres user), installing Debian's postgresql package first if needed.
#   4. Otherwise print nothing: the PostgreSQL tests skip, and under CI=true they fail.
set -euo pipefail
python=${PYTHON:-python3}

reachable() {  # host port
  "$python" - "$1" "$2" <<'PY'
import socket, sys
try:
    socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=2).close()
except OSError:
    sys.exit(1)
PY
}

if [ -n "${KIOSK_TEST_DATABASE_URL:-}" ]; then
  echo "$KIOSK_TEST_DATABASE_URL"
  exit 0
fi
if reachable 127.0.0.1 5432; then
  echo "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
  exit 0
fi
port=55432
url="postgresql+psycopg://postgres@127.0.0.1:${port}/postgres"
if reachable 127.0.0.1 "$port"; then
  echo "$url"
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "test-postgres: no PostgreSQL server on 127.0.0.1:5432; its tests will be skipped." >&2
  echo "  (run as root to start a private one, or set KIOSK_TEST_DATABASE_URL)" >&2
  exit 0
fi
bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
if [ -z "$bindir" ]; then
  echo "test-postgres: installing postgresql" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq --no-install-recommends postgresql >&2
  bindir=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
fi
data=/tmp/kiosk-test-postgres
if [ ! -f "$data/PG_VERSION" ]; then
  rm -rf "$data"
  install -d -o postgres -g postgres "$data"
  su postgres -s /bin/sh -c "$bindir/initdb -D $data -A trust -U postgres" >&2
fi
su postgres -s /bin/sh -c \
  "$bindir/pg_ctl -D $data -l $data/server.log -w -o '-p $port -k /tmp -c listen_addresses=127.0.0.1' start" >&2
echo "$url"
