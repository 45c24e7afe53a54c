#!/usr/bin/env bash
# Make sure the Postgres and Redis that the tests use answer; start throwaway ones when only binaries exist.
set -euo pipefail
cd "$(dirname "$0")/.."

PG_URL="${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/ecomforecast}"
REDIS_URL="${CELERY_BROKER_URL:-redis://127.0.0.1:6379/0}"
PG_HOST=$(python3 -c "import sys,urllib.parse as u; p=u.urlparse(sys.argv[1]); print(p.hostname or '127.0.0.1')" "$PG_URL")
PG_PORT=$(python3 -c "import sys,urllib.parse as u; p=u.urlparse(sys.argv[1]); print(p.port or 5432)" "$PG_URL")
REDIS_PORT=$(python3 -c "import sys,urllib.parse as u; p=u.urlparse(sys.argv[1]); print(p.port or 6379)" "$REDIS_URL")

pg_up() { python3 - "$PG_HOST" "$PG_PORT" <<'PY'
import socket, sys
s = socket.socket(); s.settimeout(1)
try:
    s.connect((sys.argv[1], int(sys.argv[2]))); print("up")
except OSError:
    print("down")
PY
}

redis_up() { python3 - "$REDIS_PORT" <<'PY'
import socket, sys
s = socket.socket(); s.settimeout(1)
try:
    s.connect(("127.0.0.1", int(sys.argv[1]))); s.sendall(b"PING\r\n"); print("up" if s.recv(16).startswith(b"+PONG") else "down")
except OSError:
    print("down")
PY
}

if [ "$(pg_up)" != "up" ]; then
  if ls /etc/postgresql/*/main >/dev/null 2>&1 && command -v pg_ctlcluster >/dev/null; then
    echo "Postgres is not answering; starting the installed cluster"
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start || true
  fi
fi
if [ "$(pg_up)" != "up" ]; then
  PG_BIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)
  if [ -n "$PG_BIN" ] && [ -x "$PG_BIN/initdb" ]; then
    echo "Starting a throwaway Postgres in var/pgdata on port $PG_PORT"
    mkdir -p var
    RUNAS=""; [ "$(id -u)" = 0 ] && { id postgres >/dev/null 2>&1 && RUNAS="runuser -u postgres --"; chown -R postgres var 2>/dev/null || true; }
    [ -d var/pgdata ] || $RUNAS "$PG_BIN/initdb" -D var/pgdata -U postgres --auth=trust >/dev/null
    $RUNAS "$PG_BIN/pg_ctl" -D var/pgdata -o "-p $PG_PORT -k /tmp -c listen_addresses=127.0.0.1" -l var/pgdata.log -w start
  else
    echo "Postgres is not running on $PG_HOST:$PG_PORT and no server binaries were found."
    echo "Install it (Debian: apt-get install postgresql) or set DATABASE_URL to a reachable server."
    exit 1
  fi
fi

if [ "$(redis_up)" != "up" ]; then
  if command -v redis-server >/dev/null; then
    echo "Starting a throwaway Redis on port $REDIS_PORT"
    redis-server --daemonize yes --bind 127.0.0.1 --port "$REDIS_PORT" --save "" --appendonly no
    sleep 1
  else
    echo "Redis is not running on 127.0.0.1:$REDIS_PORT and redis-server is not installed."
    echo "Install it (Debian: apt-get install redis-server) or set CELERY_BROKER_URL to a reachable server."
    exit 1
  fi
fi
[ "$(redis_up)" = "up" ] || { echo "Redis did not come up on port $REDIS_PORT"; exit 1; }
[ "$(pg_up)" = "up" ] || { echo "Postgres did not come up on $PG_HOST:$PG_PORT"; exit 1; }
echo "Postgres ($PG_HOST:$PG_PORT) and Redis (127.0.0.1:$REDIS_PORT) are up"

# The database itself: the test runner makes its own, but the benchmarks and a local server migrate into this one.
if [ -x .venv/bin/python ]; then
  .venv/bin/python - "$PG_URL" <<'PY'
import sys
import urllib.parse

import psycopg

url = urllib.parse.urlparse(sys.argv[1])
name = url.path.lstrip("/")
with psycopg.connect(url._replace(path="/postgres").geturl(), autocommit=True) as connection:
    if name and not connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
        connection.execute(f'CREATE DATABASE "{name}"')
        print(f"Created database {name}")
PY
fi
