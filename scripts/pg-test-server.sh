#!/bin/sh
# A throw-away PostgreSQL for the test suite: `start DIR` makes a cluster under DIR (default
# test-output/pg), serves it on 127.0.0.1 on a free port with its socket inside DIR, creates the
# database `goedgesprek` and writes its URL to DIR/url; `stop DIR` ends it. Run as root, the
# cluster belongs to the `postgres` user (PostgreSQL refuses to run as root).
# Every wait is bounded: pg_ctl -t, and start fails loudly when the server does not come up.
set -eu

action=${1:-}
dir=${2:-test-output/pg}
timeout=${PG_TEST_TIMEOUT:-60}

bindir() {
  if command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1; then
    dirname "$(readlink -f "$(command -v pg_ctl)")"
    return
  fi
  found=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
  if [ -z "$found" ]; then
    echo "pg-test-server: PostgreSQL is not installed (Debian: apt-get install postgresql)" >&2
    exit 1
  fi
  echo "$found"
}

as_owner() {
  if [ "$(id -u)" = 0 ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

case "$action" in
start)
  bin=$(bindir)
  if [ -f "$dir/data/postmaster.pid" ]; then
    as_owner "$bin/pg_ctl" -D "$dir/data" -m immediate -w -t "$timeout" stop >/dev/null 2>&1 || true
  fi
  rm -rf "$dir"
  mkdir -p "$dir/socket"
  dir=$(cd "$dir" && pwd)
  if [ "$(id -u)" = 0 ]; then
    chown -R postgres:postgres "$dir"
  fi
  port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
  as_owner "$bin/initdb" -D "$dir/data" -U goedgesprek -A trust -E UTF8 --locale=C.UTF-8 \
    --no-sync >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; exit 1; }
  # Durability is not what tests check: no fsync makes every CREATE DATABASE cheap.
  as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t "$timeout" \
    -o "-c listen_addresses=127.0.0.1 -p $port -k $dir/socket -c fsync=off \
        -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" \
    start >/dev/null || { cat "$dir/server.log" >&2; exit 1; }
  as_owner "$bin/createdb" -h 127.0.0.1 -p "$port" -U goedgesprek goedgesprek
  url="postgresql+psycopg://goedgesprek@127.0.0.1:$port/goedgesprek"
  echo "$url" >"$dir/url"
  echo "$url"
  ;;
stop)
  [ -f "$dir/data/postmaster.pid" ] || exit 0
  as_owner "$(bindir)/pg_ctl" -D "$dir/data" -m fast -w -t "$timeout" stop >/dev/null
  ;;
*)
  echo "usage: $0 start|stop [DIR]" >&2
  exit 2
  ;;
esac
