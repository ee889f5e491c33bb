#!/usr/bin/env bash
# A throw-away PostgreSQL for the central server's tests (tests marked @pytest.mark.postgres).
#
# Run as root; safe to run again (it reuses a running instance). It installs Debian's
# `postgresql` if missing, creates a cluster of its own in $PGDIR (default /tmp/doorstep-pg)
# owned by the `postgres` user, starts it on 127.0.0.1:$PGPORT (default 55432), creates the
# role `doorstep` and the database `doorstep_test`, and prints the URL the tests read:
#
#   eval "$(bash scripts/ci-postgres.sh)"        # exports KIOSK_TEST_POSTGRES_URL
#   .venv/bin/pytest tests/central tests/sync -q
#
# Everything but the final `export` line goes to stderr, so `eval` sees only that.
# Stop it with:  su postgres -c "pg_ctl -D /tmp/doorstep-pg/data stop"
set -euo pipefail

PGDIR="${PGDIR:-/tmp/doorstep-pg}"
PGPORT="${PGPORT:-55432}"
PGUSER_NAME="doorstep"
PGPASSWORD_VALUE="doorstep-test"
PGDATABASE_NAME="doorstep_test"
RUN_AS="${PG_RUN_AS:-postgres}"

say() { echo "ci-postgres: $*" >&2; }

if [ "$(id -u)" -ne 0 ]; then
    say "run me as root (I install packages and switch to the '$RUN_AS' user)"
    exit 1
fi

bindir() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1; }

if [ -z "$(bindir)" ] || [ ! -x "$(bindir)/initdb" ]; then
    say "installing PostgreSQL (Debian's postgresql package)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2
    apt-get install -y -qq postgresql >&2
fi
BIN="$(bindir)"
say "using $BIN"

if ! id "$RUN_AS" >/dev/null 2>&1; then
    say "creating system user $RUN_AS"
    useradd --system --home-dir "$PGDIR" --shell /usr/sbin/nologin "$RUN_AS"
fi

as_pg() { su -s /bin/sh "$RUN_AS" -c "$*"; }

mkdir -p "$PGDIR"
chown "$RUN_AS" "$PGDIR"
chmod 700 "$PGDIR"

if [ ! -f "$PGDIR/data/PG_VERSION" ]; then
    say "initialising a cluster in $PGDIR/data"
    as_pg "'$BIN/initdb' -D '$PGDIR/data' -U postgres --auth-local=trust --auth-host=scram-sha-256 --encoding=UTF8 --locale=C.UTF-8" >&2
    cat >>"$PGDIR/data/postgresql.conf" <<EOF
# doorstep test instance
listen_addresses = '127.0.0.1'
port = $PGPORT
unix_socket_directories = '$PGDIR'
fsync = off
synchronous_commit = off
full_page_writes = off
max_connections = 200
EOF
fi

if as_pg "'$BIN/pg_ctl' -D '$PGDIR/data' status" >/dev/null 2>&1; then
    say "already running on 127.0.0.1:$PGPORT"
else
    say "starting on 127.0.0.1:$PGPORT"
    as_pg "'$BIN/pg_ctl' -D '$PGDIR/data' -l '$PGDIR/server.log' -w -t 60 start" >&2
fi

psql_pg() { as_pg "'$BIN/psql' -h '$PGDIR' -p $PGPORT -U postgres -d postgres -v ON_ERROR_STOP=1 -qtA -c \"$1\""; }

if [ "$(psql_pg "SELECT 1 FROM pg_roles WHERE rolname = '$PGUSER_NAME'")" != "1" ]; then
    psql_pg "CREATE ROLE $PGUSER_NAME LOGIN PASSWORD '$PGPASSWORD_VALUE'" >&2
fi
if [ "$(psql_pg "SELECT 1 FROM pg_database WHERE datname = '$PGDATABASE_NAME'")" != "1" ]; then
    psql_pg "CREATE DATABASE $PGDATABASE_NAME OWNER $PGUSER_NAME" >&2
fi

URL="postgresql://$PGUSER_NAME:$PGPASSWORD_VALUE@127.0.0.1:$PGPORT/$PGDATABASE_NAME"
say "ready: $URL"
echo "export KIOSK_TEST_POSTGRES_URL='$URL'"
