#!/usr/bin/env bash
# A throwaway PostgreSQL server for the `postgres` tests (tests/bi/test_postgres.py).
#
#   scripts/postgres.sh install      install the server binaries when missing (Debian's `postgresql`; needs root)
#   scripts/postgres.sh start DIR    init a cluster in DIR on a free localhost port as the postgres user, create
#                                    role and database `warehouse`; prints the DSN (postgresql://...) on stdout
#   scripts/postgres.sh stop DIR     stop that server
#
# `make test` runs `install`; the tests' fixture runs `start` and `stop` (or uses TEST_POSTGRES_DSN when set).
set -euo pipefail

pg_bin() {
    local found
    found=$(ls -d /usr/lib/postgresql/*/bin/initdb 2>/dev/null | sort -V | tail -1 || true)
    found=${found:-$(command -v initdb 2>/dev/null || true)}
    [ -n "$found" ] && dirname "$(readlink -f "$found")"
}

install() {
    if [ -n "$(pg_bin)" ]; then
        return 0
    fi
    if [ "$(id -u)" != 0 ]; then
        echo "postgres.sh: PostgreSQL is not installed and we are not root; the postgres tests will be skipped" >&2
        return 0
    fi
    echo "postgres.sh: installing PostgreSQL (apt-get)" >&2
    export DEBIAN_FRONTEND=noninteractive
    if ! apt-get install -y -q postgresql >/dev/null; then
        apt-get update -q >/dev/null
        apt-get install -y -q postgresql >/dev/null || echo "postgres.sh: apt-get install postgresql failed" >&2
    fi
}

as_owner() {  # run a server binary as the cluster owner: the postgres user when we are root
    if [ "$(id -u)" = 0 ]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

start() {
    local dir=$1 bin port
    bin=$(pg_bin) || true
    if [ -z "$bin" ]; then
        echo "PostgreSQL server binaries not found (run scripts/postgres.sh install as root)" >&2
        return 1
    fi
    mkdir -p "$dir"
    if [ "$(id -u)" = 0 ]; then
        chown postgres: "$dir"
    fi
    port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    as_owner "$bin/initdb" -D "$dir/data" -U postgres -A trust -E UTF8 --no-locale >"$dir/initdb.log" 2>&1 \
        || { cat "$dir/initdb.log" >&2; return 1; }
    as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 start \
        -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off" >/dev/null \
        || { cat "$dir/server.log" >&2; return 1; }
    "$bin/psql" -X -q -h 127.0.0.1 -p "$port" -U postgres -d postgres -v ON_ERROR_STOP=1 \
        -c "CREATE ROLE warehouse LOGIN CREATEDB PASSWORD 'warehouse'" \
        -c "CREATE DATABASE warehouse OWNER warehouse" >&2
    echo "postgresql://warehouse:warehouse@127.0.0.1:$port/warehouse"
}

stop() {
    local dir=$1 bin
    bin=$(pg_bin) || true
    if [ -n "$bin" ] && [ -f "$dir/data/postmaster.pid" ]; then
        as_owner "$bin/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
    fi
}

case "${1:-}" in
    install) install ;;
    start) start "${2:?usage: postgres.sh start DIR}" ;;
    stop) stop "${2:?usage: postgres.sh stop DIR}" ;;
    *) echo "usage: $0 install | start DIR | stop DIR" >&2; exit 2 ;;
esac
