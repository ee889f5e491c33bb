#!/usr/bin/env bash
# schemathesis against the central server's own OpenAPI description (/openapi.json).
#
#   bash scripts/ci-schemathesis.sh                 # ST_MAX_EXAMPLES (default 100) per operation
#   ST_MAX_EXAMPLES=500 ST_SEED=7 bash scripts/ci-schemathesis.sh
#
# Starts a real server (kiosk-central serve) on a free loopback port over a throw-away SQLite
# database (or KIOSK_SCHEMATHESIS_DB, e.g. a PostgreSQL URL), enrols a device and runs every
# check (no 5xx, documented status codes and content types, responses matching their schemas,
# schema-valid input accepted, invalid input refused, no access without the token) with the
# device's bearer token, through schemathesis's coverage and fuzzing phases. Per-operation
# settings: tests/hardening/schemathesis.toml. Prints schemathesis's counts; exits non-zero on
# any failure or if the server logged a traceback. Needs: pip install schemathesis.
set -euo pipefail
cd "$(dirname "$0")/.." || exit 2
ROOT="$PWD"

PY="${PYTHON:-.venv/bin/python}"
[ -x "$PY" ] || PY=python3
case "$PY" in */*) PY="$(cd "$(dirname "$PY")" && pwd)/$(basename "$PY")" ;; esac
BIN="$(dirname "$PY")"
CENTRAL=("$PY" -m central.cli)
[ -x "$BIN/kiosk-central" ] && CENTRAL=("$BIN/kiosk-central")
ST=("$PY" -m schemathesis.cli)
[ -x "$BIN/schemathesis" ] && ST=("$BIN/schemathesis")
say() { echo "ci-schemathesis: $*" >&2; }

if ! "$PY" -c "import schemathesis" 2>/dev/null; then
    say "schemathesis is not installed for $PY: pip install schemathesis"
    exit 1
fi

WORK="$(mktemp -d)"
SERVER_PID=""
# shellcheck disable=SC2317  # called by the trap
cleanup() {
    if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
        kill "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
    fi
    rm -rf "$WORK"
}
trap cleanup EXIT

DB="${KIOSK_SCHEMATHESIS_DB:-sqlite:///$WORK/central.sqlite3}"
PORT="$("$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
URL="http://127.0.0.1:$PORT"
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"

"${CENTRAL[@]}" --db "$DB" org add st-org 2>/dev/null
"${CENTRAL[@]}" --db "$DB" site add st-org st-site 2>/dev/null
TOKEN="$("${CENTRAL[@]}" --db "$DB" device add st-org st-site st-kiosk 2>/dev/null)"

"${CENTRAL[@]}" --db "$DB" serve --host 127.0.0.1 --port "$PORT" --log-level warning \
    >"$WORK/server.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 1 100); do
    if "$PY" -c "import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=1)" \
        "$URL/healthz" 2>/dev/null; then
        break
    fi
    kill -0 "$SERVER_PID" 2>/dev/null || { cat "$WORK/server.log" >&2; exit 1; }
    sleep 0.2
done
say "server at $URL (database ${DB%%\?*}), pid $SERVER_PID"

status=0
# From the scratch folder: schemathesis leaves a .schemathesis/ cache where it runs.
(cd "$WORK" && "${ST[@]}" --config-file "$ROOT/tests/hardening/schemathesis.toml" run "$URL/openapi.json" \
    --checks all \
    --header "Authorization: Bearer $TOKEN" \
    --max-examples "${ST_MAX_EXAMPLES:-100}" \
    --seed "${ST_SEED:-$RANDOM}" \
    --request-timeout 30 \
    --report junit --report-junit-path "$WORK/junit.xml") || status=$?

if [ -f "$WORK/junit.xml" ]; then
    "$PY" - "$WORK/junit.xml" <<'EOF'
import sys
import xml.etree.ElementTree as ET

root = ET.parse(sys.argv[1]).getroot()
suites = [root] if root.tag == "testsuite" else list(root.iter("testsuite"))
keys = ("tests", "failures", "errors", "skipped")
totals = {k: sum(int(s.get(k, 0) or 0) for s in suites) for k in keys}
print("ci-schemathesis: operations " + " ".join(f"{k}={v}" for k, v in totals.items()))
EOF
fi
if grep -q "Traceback" "$WORK/server.log"; then
    say "the server logged a traceback:"
    grep -B 2 -A 30 "Traceback" "$WORK/server.log" | head -n 60 >&2
    status=1
fi
if [ "$status" -eq 0 ]; then say "ok: no failures"; else say "FAILED (exit $status)"; fi
exit "$status"
