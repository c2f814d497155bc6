#!/bin/sh
# Makes sure the PostgreSQL server the store tests use answers (tests/store/conftest.py):
# 127.0.0.1:5432, trust auth for 127.0.0.1, a database `test`. One that answers is
# left alone; Debian's cluster is started when it is installed but stopped; Debian's
# server is installed otherwise. Quiet on success; on failure it says why, with the
# server's own output. TOKUDEN_PG_CLUSTER and TOKUDEN_PG_PORT (default main, 5432)
# name another Debian cluster, to try this script without touching the main one.
set -eu
CLUSTER=${TOKUDEN_PG_CLUSTER:-main}
PORT=${TOKUDEN_PG_PORT:-5432}
HBA_LINE="host all all 127.0.0.1/32 trust"
LOG=$(mktemp)
trap 'rm -f "$LOG"' EXIT

fail() {
    echo "start-postgres: $*" >&2
    [ -s "$LOG" ] && sed 's/^/    /' "$LOG" >&2
    exit 1
}
ready() { command -v pg_isready >/dev/null 2>&1 && pg_isready -q -h 127.0.0.1 -p "$PORT"; }
run() { "$@" >>"$LOG" 2>&1 || fail "failed: $*"; }

ready && exit 0

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
version=$(ls /etc/postgresql 2>/dev/null | sort -n | tail -n 1)
if [ -z "$version" ] || [ ! -d "/etc/postgresql/$version/$CLUSTER" ]; then
    if [ -z "$version" ]; then
        run $SUDO apt-get update -qq
        run $SUDO env DEBIAN_FRONTEND=noninteractive \
            apt-get install -y -qq --no-install-recommends postgresql
        version=$(ls /usr/lib/postgresql | sort -n | tail -n 1)
    fi
    # The package creates "main" unless createcluster.conf says not to.
    [ -d "/etc/postgresql/$version/$CLUSTER" ] \
        || run $SUDO pg_createcluster "$version" "$CLUSTER" -p "$PORT"
fi

# Trust for 127.0.0.1 must come before Debian's password line for the same address.
hba="/etc/postgresql/$version/$CLUSTER/pg_hba.conf"
grep -qx "$HBA_LINE" "$hba" || run $SUDO sed -i "1i $HBA_LINE" "$hba"

# A cluster the package started already runs with the old pg_hba.conf: reload it.
if $SUDO pg_ctlcluster "$version" "$CLUSTER" status >/dev/null 2>&1; then
    run $SUDO pg_ctlcluster --skip-systemctl-redirect "$version" "$CLUSTER" reload
else
    run $SUDO pg_ctlcluster --skip-systemctl-redirect "$version" "$CLUSTER" start
fi
ready || fail "PostgreSQL $version/$CLUSTER started but does not answer on 127.0.0.1:$PORT"

psql() { command psql -h 127.0.0.1 -p "$PORT" -U postgres -d postgres -tAq "$@"; }
[ "$(psql -c "SELECT 1 FROM pg_database WHERE datname = 'test'")" = 1 ] \
    || run psql -c "CREATE DATABASE test"
